"""Plain-Python references for :mod:`lowbit.hwsim.units.fp8` and :mod:`lowbit.hwsim.units.mx`.

Slow, scalar, and written for reading: every value is an exact dyadic rational held as Python
integers (sign, significand, exponent), every rounding is done on those integers, and no
floating-point hardware is involved anywhere. The contracts are the docstrings of fp8.py and
mx.py; these functions take and return Python ints (codes and float32 bit patterns).
"""
from __future__ import annotations

# name -> (exponent bits, mantissa bits, specials); specials: "fn" = only S.1...1 is NaN,
# "ieee" = all-ones exponent is inf (mantissa 0) or NaN, "none" = every code is finite.
FORMATS = {
    "float8_e4m3fn": (4, 3, "fn"),
    "float8_e5m2": (5, 2, "ieee"),
    "float6_e3m2fn": (3, 2, "none"),
    "float6_e2m3fn": (2, 3, "none"),
    "float4_e2m1fn": (2, 1, "none"),
}
FP8_NAN = {"float8_e4m3fn": 0x7F, "float8_e5m2": 0x7E}
F32_NAN = 0x7FC00000
F32_MBITS = 23


class Num:
    """A decoded value: kind "nan", "inf" or "finite"; finite value = (-1)^neg * sig * 2^exp."""

    def __init__(self, kind: str, neg: int, sig: int = 0, exp: int = 0):
        self.kind, self.neg, self.sig, self.exp = kind, neg, sig, exp


def _fields(ebits: int, mbits: int):
    bias = (1 << (ebits - 1)) - 1
    return bias, 1 - bias          # bias and the smallest normal exponent


def decode(code: int, fmt: str) -> Num:
    """Decode a code of an element format by its bit fields."""
    ebits, mbits, specials = FORMATS[fmt]
    bits = 1 + ebits + mbits
    code = int(code)
    neg = code >> (bits - 1)
    e = (code >> mbits) & ((1 << ebits) - 1)
    m = code & ((1 << mbits) - 1)
    all_ones = e == (1 << ebits) - 1
    if specials == "fn" and all_ones and m == (1 << mbits) - 1:
        return Num("nan", neg)
    if specials == "ieee" and all_ones:
        return Num("inf", neg) if m == 0 else Num("nan", neg)
    bias, _ = _fields(ebits, mbits)
    if e == 0:
        return Num("finite", neg, m, 1 - bias - mbits)
    return Num("finite", neg, (1 << mbits) + m, e - bias - mbits)


def decode_f32(bits: int) -> Num:
    """Decode float32 bits."""
    neg = bits >> 31
    e = (bits >> 23) & 0xFF
    m = bits & 0x7FFFFF
    if e == 0xFF:
        return Num("inf", neg) if m == 0 else Num("nan", neg)
    if e == 0:
        return Num("finite", neg, m, -149)
    return Num("finite", neg, m | 0x800000, e - 150)


def round_nearest_even(sig: int, exp: int, mbits: int, emin: int) -> tuple[int, int]:
    """Round sig * 2^exp (sig > 0) to mbits + 1 significant bits, subnormal below 2^emin,
    unbounded above: returns (r, q) with result r * 2^q and r < 2^(mbits + 1)."""
    top = sig.bit_length() - 1 + exp              # exponent of the leading bit
    q = max(top, emin) - mbits                    # exponent of the result's last place
    if q <= exp:
        return sig << (exp - q), q
    shift = q - exp
    r, rest = sig >> shift, sig & ((1 << shift) - 1)
    half = 1 << (shift - 1)
    if rest > half or (rest == half and r % 2 == 1):
        r += 1
    if r == 1 << (mbits + 1):
        r, q = r >> 1, q + 1
    return r, q


def _fp8_code(neg: int, sig: int, exp: int, fmt: str, saturate: bool) -> int:
    """Round (-1)^neg * sig * 2^exp to an FP8 code (RNE, then OCP overflow handling)."""
    ebits, mbits, specials = FORMATS[fmt]
    bias, emin = _fields(ebits, mbits)
    sign = neg << 7
    if sig == 0:
        return sign
    r, q = round_nearest_even(sig, exp, mbits, emin)
    if r == 0:
        return sign
    if r < (1 << mbits):
        code = r                                           # subnormal (or zero) exponent field
    else:
        code = ((q + mbits + bias) << mbits) | (r - (1 << mbits))
    largest = 0x7E if specials == "fn" else 0x7B
    if code > largest:
        return _fp8_overflow(neg, fmt, saturate)
    return sign | code


def _fp8_overflow(neg: int, fmt: str, saturate: bool) -> int:
    if saturate:
        return (neg << 7) | (0x7E if fmt == "float8_e4m3fn" else 0x7B)
    return FP8_NAN[fmt] if fmt == "float8_e4m3fn" else (neg << 7) | 0x7C


def _check_fp8(fmt: str, argname: str):
    if fmt not in FP8_NAN:
        raise ValueError(f"{argname} must be one of {', '.join(FP8_NAN)}; got {fmt!r}")


def _product(x: Num, y: Num) -> Num:
    """Exact IEEE product of two decoded values."""
    neg = x.neg ^ y.neg
    if x.kind == "nan" or y.kind == "nan":
        return Num("nan", 0)
    if x.kind == "inf" or y.kind == "inf":
        if (x.kind == "finite" and x.sig == 0) or (y.kind == "finite" and y.sig == 0):
            return Num("nan", 0)
        return Num("inf", neg)
    return Num("finite", neg, x.sig * y.sig, x.exp + y.exp)


def _exact_sum(x: Num, y: Num) -> Num:
    """Exact IEEE sum of two decoded values (exact zero: +0 unless both are -0)."""
    if x.kind == "nan" or y.kind == "nan":
        return Num("nan", 0)
    if x.kind == "inf" and y.kind == "inf":
        return Num("inf", x.neg) if x.neg == y.neg else Num("nan", 0)
    if x.kind == "inf" or y.kind == "inf":
        return x if x.kind == "inf" else y
    exp = min(x.exp, y.exp)
    total = ((-1) ** x.neg * x.sig << (x.exp - exp)) + ((-1) ** y.neg * y.sig << (y.exp - exp))
    if total == 0:
        return Num("finite", x.neg & y.neg if x.sig == 0 and y.sig == 0 else 0, 0, 0)
    return Num("finite", int(total < 0), abs(total), exp)


def to_f32(x: Num) -> int:
    """Round a decoded value to float32 bits (RNE, overflow to inf, canonical NaN)."""
    if x.kind == "nan":
        return F32_NAN
    if x.kind == "inf":
        return (x.neg << 31) | 0x7F800000
    sign = x.neg << 31
    if x.sig == 0:
        return sign
    r, q = round_nearest_even(x.sig, x.exp, F32_MBITS, -126)
    if r < (1 << F32_MBITS):
        return sign | r                             # subnormal or zero
    biased = q + F32_MBITS + 127
    if biased >= 0xFF:
        return sign | 0x7F800000
    return sign | (biased << 23) | (r - (1 << F32_MBITS))


def fp8_mul_exact(a: int, b: int, fmt_a: str, fmt_b: str) -> int:
    """float32 bits of the exact product of FP8 codes a and b."""
    _check_fp8(fmt_a, "fmt_a")
    _check_fp8(fmt_b, "fmt_b")
    return to_f32(_product(decode(a, fmt_a), decode(b, fmt_b)))


def _fp8_result(x: Num, fmt: str, saturate: bool) -> int:
    if x.kind == "nan":
        return FP8_NAN[fmt]
    if x.kind == "inf":
        return _fp8_overflow(x.neg, fmt, saturate)
    return _fp8_code(x.neg, x.sig, x.exp, fmt, saturate)


def _rounded_formats(fmt: str, fmt_b, fmt_out) -> tuple[str, str, str]:
    """(format of a, of b, of the result): fmt_b and fmt_out default to fmt."""
    fmt_b = fmt if fmt_b is None else fmt_b
    fmt_out = fmt if fmt_out is None else fmt_out
    for name, arg in ((fmt, "fmt"), (fmt_b, "fmt_b"), (fmt_out, "fmt_out")):
        _check_fp8(name, arg)
    return fmt, fmt_b, fmt_out


def fp8_mul(a: int, b: int, fmt: str, saturate: bool, *, fmt_b: str | None = None,
            fmt_out: str | None = None) -> int:
    """Code of a * b (a in fmt, b in fmt_b) rounded to fmt_out; both default to fmt."""
    fmt_a, fmt_b, fmt_out = _rounded_formats(fmt, fmt_b, fmt_out)
    return _fp8_result(_product(decode(a, fmt_a), decode(b, fmt_b)), fmt_out, saturate)


def fp8_add(a: int, b: int, fmt: str, saturate: bool, *, fmt_b: str | None = None,
            fmt_out: str | None = None) -> int:
    """Code of a + b (a in fmt, b in fmt_b) rounded to fmt_out; both default to fmt."""
    fmt_a, fmt_b, fmt_out = _rounded_formats(fmt, fmt_b, fmt_out)
    return _fp8_result(_exact_sum(decode(a, fmt_a), decode(b, fmt_b)), fmt_out, saturate)


def f32_add(acc_bits: int, x: Num) -> int:
    """float32 bits of float32(acc) + x, x exact, rounded once (RNE)."""
    return to_f32(_exact_sum(decode_f32(acc_bits), x))


def fp8_mac(a_codes, b_codes, fmt_a: str, fmt_b: str, acc_bits: int = 0) -> int:
    """float32 bits of acc + sum of exact products, rounded to float32 after every addition."""
    _check_fp8(fmt_a, "fmt_a")
    _check_fp8(fmt_b, "fmt_b")
    if len(a_codes) != len(b_codes):
        raise ValueError(f"a_codes and b_codes must have equal lengths, got {len(a_codes)} "
                         f"and {len(b_codes)}")
    for a, b in zip(a_codes, b_codes):
        acc_bits = f32_add(acc_bits, _product(decode(a, fmt_a), decode(b, fmt_b)))
    return acc_bits


def mx_block(a_codes, a_scale: int, b_codes, b_scale: int, fmt_a: str, fmt_b: str) -> Num:
    """One MX block's dot product, exact: the sum of exact products times both scales.

    A NaN scale (0xFF), a NaN product or inf products of both signs give NaN; otherwise any inf
    product gives that inf; an exact zero block is +0.
    """
    a_scale, b_scale = int(a_scale), int(b_scale)
    products = [_product(decode(a, fmt_a), decode(b, fmt_b)) for a, b in zip(a_codes, b_codes)]
    if a_scale == 0xFF or b_scale == 0xFF or any(p.kind == "nan" for p in products):
        return Num("nan", 0)
    infs = {p.neg for p in products if p.kind == "inf"}
    if infs:
        return Num("inf", infs.pop()) if len(infs) == 1 else Num("nan", 0)
    exp = min(p.exp for p in products)
    total = sum((-1) ** p.neg * p.sig << (p.exp - exp) for p in products)
    return Num("finite", int(total < 0), abs(total), exp + a_scale + b_scale - 254)


def mx_dot(a_codes, a_scales, b_codes, b_scales, fmt_a: str, fmt_b: str,
           acc_bits: int = 0) -> int:
    """float32 bits of the MX dot product (contract in :func:`lowbit.hwsim.units.mx.mx_dot`)."""
    for fmt, arg in ((fmt_a, "fmt_a"), (fmt_b, "fmt_b")):
        if fmt not in FORMATS:
            raise ValueError(f"{arg} must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if len(a_codes) != len(b_codes) or len(a_codes) != 32 * len(a_scales) \
            or len(a_scales) != len(b_scales):
        raise ValueError("a_codes and b_codes must have 32 elements per scale in a_scales and "
                         "b_scales")
    for j in range(len(a_scales)):
        block = slice(32 * j, 32 * j + 32)
        value = to_f32(mx_block(a_codes[block], a_scales[j], b_codes[block], b_scales[j],
                                fmt_a, fmt_b))
        acc_bits = f32_add(acc_bits, decode_f32(value))
    return acc_bits
