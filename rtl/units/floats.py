"""Combinational floating-point building blocks shared by the FP8 units and the FP16 PEs.

Nothing here is a component: each function adds combinational logic to an Amaranth
``Module`` and returns the signals it made. They work on bit fields, never on Python floats.

Float layouts (sign | exponent field | mantissa field): the FP8 formats' parameters are read
from lowbit.hwsim.formats (float8_e4m3fn, float8_e5m2: see lowbit.hwsim.formats.floats for the encodings);
float32 is IEEE 754 binary32 (ebits 8, mbits 23, bias 127), which lowbit.hwsim.formats does not hold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth import Cat, Const, Module, Mux, Signal, signed

from lowbit.hwsim import formats
from lowbit.hwsim.formats.floats import FP8_FORMATS


@dataclass(frozen=True)
class FloatLayout:
    """Bit layout of a binary float format, the magnitude code of its largest finite value and
    the code of its canonical NaN (the one hwsim writes)."""
    name: str
    ebits: int
    mbits: int
    bias: int
    max_magnitude: int   # exponent|mantissa bits of the largest finite value
    has_inf: bool        # IEEE-like: all-ones exponent with mantissa 0 is +-inf
    nan_code: int | None  # None: the format has no NaN (the MX FP6 / FP4 formats)
    has_nan: bool = True  # E4M3 style when not has_inf: only S.1..1.1..1 is NaN

    @property
    def inf_magnitude(self) -> int:
        """exponent|mantissa bits of inf (all-ones exponent, mantissa 0); only if has_inf."""
        return ((1 << self.ebits) - 1) << self.mbits

    @property
    def emin(self) -> int:
        """Unbiased exponent of the smallest normal."""
        return 1 - self.bias

    @property
    def bits(self) -> int:
        return 1 + self.ebits + self.mbits


def minifloat_layout(name: str) -> FloatLayout:
    """The layout of lowbit.hwsim.formats' minifloat ``name``, read from the format itself so the
    hardware cannot drift from the oracle: its field widths and bias, and the codes its encoder
    writes for max and NaN (if it has one)."""
    fmt = formats.get(name)
    max_code, *nan = (int(code) for code in
                      fmt.encode(np.array([fmt.max] + [np.nan] * fmt.has_nan)))
    return FloatLayout(name, fmt.ebits, fmt.mbits, fmt.bias, max_code, fmt.has_inf,
                       nan[0] if nan else None, fmt.has_nan)


# NaN: the canonical quiet NaN lowbit.hwsim.units.fp8 returns.
FLOAT32 = FloatLayout("float32", 8, 23, 127, 0x7F7FFFFF, has_inf=True, nan_code=0x7FC00000)
LAYOUTS = {**{name: minifloat_layout(name) for name in FP8_FORMATS}, "float32": FLOAT32}
# IEEE binary16 (the FP16 PEs' operands); NaN: the quiet NaN numpy writes for float16.
FLOAT16 = FloatLayout("float16", 5, 10, 15, 0x7BFF, has_inf=True, nan_code=0x7E00)


@dataclass
class Unpacked:
    """A decoded float: value = (-1)^sign * sig * 2^exp unless nan / inf."""
    sign: Signal
    sig: Signal       # significand with the hidden bit (0 for zero and subnormals)
    exp: Signal       # signed exponent of the significand's LSB
    nan: Signal
    inf: Signal


def unpack(m: Module, code, layout: FloatLayout, name: str) -> Unpacked:
    """Split ``code`` into sign, significand and LSB exponent; flag NaN and inf."""
    mant = code[:layout.mbits]
    efield = code[layout.mbits:layout.mbits + layout.ebits]
    sign = code[-1]
    all_ones = (1 << layout.ebits) - 1
    out = Unpacked(
        sign=Signal(name=f"{name}_sign"),
        sig=Signal(layout.mbits + 1, name=f"{name}_sig"),
        exp=Signal(signed(layout.ebits + 2), name=f"{name}_exp"),
        nan=Signal(name=f"{name}_nan"),
        inf=Signal(name=f"{name}_inf"),
    )
    m.d.comb += [
        out.sign.eq(sign),
        out.sig.eq(Cat(mant, efield != 0)),
        # Subnormals share the exponent of the smallest normal: field 0 acts as field 1.
        out.exp.eq(Mux(efield == 0, 1, efield) - layout.bias - layout.mbits),
    ]
    if layout.has_inf:
        m.d.comb += [out.nan.eq((efield == all_ones) & (mant != 0)),
                     out.inf.eq((efield == all_ones) & (mant == 0))]
    elif layout.has_nan:  # E4M3: only S.1111.111 is special, and it is NaN
        m.d.comb += out.nan.eq((efield == all_ones) & (mant == (1 << layout.mbits) - 1))
    # else (MX FP6 / FP4): every code is finite; nan and inf stay 0
    return out


def leading_one(m: Module, value, name: str) -> Signal:
    """Index of the highest set bit of ``value`` (0 when value is 0)."""
    lead = Signal(range(max(len(value), 2)), name=name)
    for i in range(len(value)):
        with m.If(value[i]):   # later (higher) bits override: highest set bit wins
            m.d.comb += lead.eq(i)
    return lead


def low_mask_nonzero(m: Module, value, n, name: str) -> Signal:
    """1 when any of the ``n`` lowest bits of ``value`` is set (n is a signal, 0 allowed)."""
    width = len(value)
    ones = Const((1 << width) - 1, width)
    count = Signal(range(width + 2), name=f"{name}_count")   # the shift must be unsigned
    below = Signal(name=name)
    m.d.comb += [count.eq(n), below.eq((value & ~(ones << count)[:width]) != 0)]
    return below


def round_to_layout(m: Module, *, sign, sig, exp, sticky, layout: FloatLayout, name: str):
    """Round the exact value (-1)^sign * (sig + f) * 2^exp to ``layout``, RNE.

    ``sticky`` says a fraction 0 < f < 1 of an LSB lies below ``sig`` (0: f = 0); callers
    guarantee that sticky is 0 unless the value's rounding point lies above sig's LSB.
    Rounding happens as if the exponent range were unbounded above (OCP: RNE first, then
    overflow), with gradual underflow below the smallest normal.

    Returns (code, overflow): ``code`` is sign|exponent|mantissa of the rounded value (for
    sig = 0 and sticky = 0 that is a signed zero); ``overflow`` is 1 when the rounded value
    exceeds the layout's largest finite value (code is then meaningless).
    """
    width = len(sig)
    mbits = layout.mbits
    ewidth = len(exp) + 3
    lead = leading_one(m, sig, f"{name}_lead")
    # pos: bit index (within sig) of the most significant kept bit. Below emin the
    # quantum is fixed at 2^(emin - mbits), so the kept window starts higher.
    pos = Signal(signed(ewidth), name=f"{name}_pos")
    tiny = Signal(signed(ewidth), name=f"{name}_tiny")
    m.d.comb += [tiny.eq(layout.emin - exp),
                 pos.eq(Mux(tiny > lead, tiny, lead))]
    shift = Signal(signed(ewidth), name=f"{name}_shift")   # >0: drop bits; <=0: widen
    m.d.comb += shift.eq(pos - mbits)
    rshift = Signal(range(width + 2), name=f"{name}_rshift")
    lshift = Signal(range(mbits + 1), name=f"{name}_lshift")
    m.d.comb += [
        rshift.eq(Mux(shift > width + 1, width + 1, Mux(shift > 0, shift, 0))),
        lshift.eq(Mux(shift < 0, -shift, 0)),
    ]
    kept = Signal(mbits + 2, name=f"{name}_kept")
    round_bit = Signal(name=f"{name}_round")
    m.d.comb += [
        kept.eq(Mux(shift > 0, sig >> rshift, sig << lshift)),
        round_bit.eq((shift > 0) & (Cat(Const(0, 1), sig) >> rshift)[0]),
    ]
    rest = Signal(name=f"{name}_rest")
    below = low_mask_nonzero(m, sig, Mux(rshift > 0, rshift - 1, 0), f"{name}_below")
    m.d.comb += rest.eq(below | sticky)
    rounded = Signal(mbits + 2, name=f"{name}_rounded")
    m.d.comb += rounded.eq(kept + (round_bit & (rest | kept[0])))
    # The rounded value is rounded * 2^(exp + shift); its leading bit sits at unbiased
    # exponent exp + pos (+1 when rounding carried into bit mbits+1).
    normal = rounded[mbits:] != 0
    efield = Signal(ewidth + 1, name=f"{name}_efield")
    m.d.comb += efield.eq(Mux(normal, exp + pos + layout.bias + rounded[mbits + 1], 0))
    mant = Mux(rounded[mbits + 1], 0, rounded[:mbits])
    magnitude = Signal(len(efield) + mbits, name=f"{name}_magnitude")
    m.d.comb += magnitude.eq(Cat(mant, efield))
    overflow = Signal(name=f"{name}_overflow")
    code = Signal(layout.bits, name=f"{name}_code")
    m.d.comb += [overflow.eq(magnitude > layout.max_magnitude),
                 code.eq(Cat(magnitude[:layout.bits - 1], sign))]
    return code, overflow


@dataclass
class Product:
    """The exact product of two FP8 codes: (-1)^sign * sig * 2^exp unless nan / inf."""
    sign: Signal
    sig: Signal
    exp: Signal
    nan: Signal
    inf: Signal


def exact_product(m: Module, a, b, layout_a: FloatLayout, layout_b: FloatLayout,
                  name: str) -> Product:
    """IEEE multiplication without rounding (an 8-bit integer significand times a power of 2).
    NaN if either is NaN or for inf * 0; inf * nonzero = inf; the sign is always the XOR."""
    ua, ub = unpack(m, a, layout_a, f"{name}_a"), unpack(m, b, layout_b, f"{name}_b")
    prod = Product(
        sign=Signal(name=f"{name}_sign"),
        sig=Signal(len(ua.sig) + len(ub.sig), name=f"{name}_sig"),
        exp=Signal(signed(max(len(ua.exp), len(ub.exp)) + 1), name=f"{name}_exp"),
        nan=Signal(name=f"{name}_nan"),
        inf=Signal(name=f"{name}_inf"),
    )
    a_zero, b_zero = ua.sig == 0, ub.sig == 0
    m.d.comb += [
        prod.sign.eq(ua.sign ^ ub.sign),
        prod.sig.eq(ua.sig * ub.sig),
        prod.exp.eq(ua.exp + ub.exp),
        prod.nan.eq(ua.nan | ub.nan | (ua.inf & b_zero) | (ub.inf & a_zero)),
        prod.inf.eq((ua.inf | ub.inf) & ~prod.nan),
    ]
    return prod




def float32_code(m: Module, prod: Product, name: str) -> Signal:
    """float32 bits of an exact product (every FP8 x FP8 product is a float32 exactly)."""
    code, _ = round_to_layout(m, sign=prod.sign, sig=prod.sig, exp=prod.exp, sticky=0,
                              layout=FLOAT32, name=name)
    out = Signal(32, name=f"{name}_f32")
    m.d.comb += out.eq(Mux(prod.nan, FLOAT32.nan_code, Mux(prod.inf, Cat(Const(FLOAT32.inf_magnitude, 31), prod.sign),
                                                  code)))
    return out


GUARD_BITS = 3   # guard, round and sticky positions: enough for one correctly rounded add


def float32_add(m: Module, x, y, name: str) -> Signal:
    """float32 bits of RNE(x + y) for float32 codes x, y (IEEE 754: subnormals kept, overflow
    to +-inf, NaN -> 0x7FC00000, inf + -inf = NaN, exact zero sum +0 unless both are -0).

    The smaller operand is aligned to the larger with GUARD_BITS extra bits and a sticky bit
    for everything shifted further out. Sticky bits only arise when the exponents differ by
    more than GUARD_BITS, and then the sum keeps at least 24 + GUARD_BITS - 2 bits above the
    sticky position, so the rounding point lies above it, as round_to_layout requires.
    """
    ux, uy = unpack(m, x, FLOAT32, f"{name}_x"), unpack(m, y, FLOAT32, f"{name}_y")
    swap = Signal(name=f"{name}_swap")   # y has the larger magnitude
    m.d.comb += swap.eq((uy.exp > ux.exp) | ((uy.exp == ux.exp) & (uy.sig > ux.sig)))
    big_sig, small_sig = Mux(swap, uy.sig, ux.sig), Mux(swap, ux.sig, uy.sig)
    big_exp, small_exp = Mux(swap, uy.exp, ux.exp), Mux(swap, ux.exp, uy.exp)
    big_sign = Mux(swap, uy.sign, ux.sign)
    width = 24 + GUARD_BITS
    distance = Signal(range(width + 2), name=f"{name}_distance")
    diff = big_exp - small_exp
    m.d.comb += distance.eq(Mux(diff > width + 1, width + 1, diff))
    small_wide = Signal(width, name=f"{name}_small_wide")
    m.d.comb += small_wide.eq(small_sig << GUARD_BITS)
    aligned = Signal(width, name=f"{name}_aligned")
    m.d.comb += aligned.eq(small_wide >> distance)
    sticky = low_mask_nonzero(m, small_wide, distance, f"{name}_sticky")
    subtract = ux.sign ^ uy.sign
    total = Signal(width + 1, name=f"{name}_total")
    # Subtracting a value with a nonzero sticky fraction f: B - (S + f) = (B - S - 1) + (1 - f).
    m.d.comb += total.eq(Mux(subtract, (big_sig << GUARD_BITS) - aligned - sticky,
                             (big_sig << GUARD_BITS) + aligned))
    exp = Signal(signed(len(big_exp) + 1), name=f"{name}_exp")
    m.d.comb += exp.eq(big_exp - GUARD_BITS)
    code, overflow = round_to_layout(m, sign=big_sign, sig=total, exp=exp, sticky=sticky,
                                     layout=FLOAT32, name=f"{name}_round")
    exact_zero = (total == 0) & ~sticky
    out = Signal(32, name=f"{name}_sum")
    with m.If(ux.nan | uy.nan | (ux.inf & uy.inf & subtract)):
        m.d.comb += out.eq(FLOAT32.nan_code)
    with m.Elif(ux.inf | uy.inf):
        m.d.comb += out.eq(Cat(Const(FLOAT32.inf_magnitude, 31), Mux(ux.inf, ux.sign, uy.sign)))
    with m.Elif(exact_zero):
        m.d.comb += out.eq(Cat(Const(0, 31), ux.sign & uy.sign))
    with m.Elif(overflow):
        m.d.comb += out.eq(Cat(Const(FLOAT32.inf_magnitude, 31), big_sign))
    with m.Else():
        m.d.comb += out.eq(code)
    return out
