"""Fp16BitSerialPE: float16 activations x low-bit weights, one weight bit-plane per cycle at a
precision and weight format (int, uint, FP4 E2M1, FP6 E3M2/E2M3) chosen per beat. Each lane
aligns its activation to an exact fixed-point value (units of 2^-28) shifted by its weight's
exponent and negated by its weight's sign; step j adds the lanes whose weight significand bit j
is set in an adder tree (for int weights the sign plane is subtracted), shifts that plane by j
into a ``fixed_bits`` accumulator; the last beat's final step rounds the accumulator once to
float32 (RNE).
Golden model: :class:`lowbit.hwsim.pe.fp16_bit_serial.Fp16BitSerialPE`; arithmetic contract:
:mod:`lowbit.hwsim.units.fp16`."""
from __future__ import annotations

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Signal, signed

from lowbit.hwsim import formats
from lowbit.hwsim.pe.configs import Fp16BitSerialPEConfig
from lowbit.hwsim.units.fp16 import (FIXED_ACT_BITS, FIXED_SHIFT, LANE_BITS, NAN, NEG_INF,
                                     POS_INF, WEIGHT_FORMATS, WEIGHT_SHIFT)
from lowbit.rtl.pe.common import ProtocolPE, Sequencer, adder_tree, lane_fields
from lowbit.rtl.units.floats import FLOAT16, FLOAT32, round_to_layout, unpack

INT, UINT = WEIGHT_FORMATS.index("int"), WEIGHT_FORMATS.index("uint")


def fixed_point(m: Module, code, name: str) -> Signal:
    """The float16 ``code``'s magnitude as an integer A, |value| = A * 2^-24 (0 for inf and
    NaN): the 11-bit significand shifted left by max(E, 1) - 1."""
    efield, mant = code[10:15], code[:10]
    magnitude = Signal(FIXED_ACT_BITS - 1, name=f"{name}_mag")
    shift = Signal(5, name=f"{name}_shift")
    m.d.comb += [shift.eq(Mux(efield == 0, 0, efield - 1)),
                 magnitude.eq(Mux(efield == 0x1F, 0, Cat(mant, efield != 0) << shift))]
    return magnitude


@dataclass
class Weight:
    """A decoded weight lane: value = (-1)^negative * significand * 2^(shift - WEIGHT_SHIFT)
    (for int, significand is the two's complement code and negative its sign bit, the sign
    plane being subtracted by the caller)."""
    negative: Signal
    significand: Signal
    shift: Signal


def decode_weight(m: Module, code, w_bits, w_format, max_bits: int, name: str) -> Weight:
    """The fields of one weight lane under the beat's runtime format (the hwsim contract)."""
    out = Weight(Signal(name=f"{name}_neg"), Signal(max_bits, name=f"{name}_sig"),
                 Signal(range(8), name=f"{name}_shift"))
    masked = Signal(max_bits, name=f"{name}_masked")
    sign_bit = Signal(range(16), name=f"{name}_sign_bit")
    m.d.comb += [masked.eq(code & ((Const(1, max_bits + 1) << w_bits) - 1)),
                 sign_bit.eq(w_bits - 1)]
    with m.Switch(w_format):
        with m.Case(INT):
            m.d.comb += [out.negative.eq(masked.bit_select(sign_bit, 1)),
                         out.significand.eq(masked), out.shift.eq(WEIGHT_SHIFT)]
        with m.Case(UINT):
            m.d.comb += [out.significand.eq(masked), out.shift.eq(WEIGHT_SHIFT)]
        for index, fmt_name in enumerate(WEIGHT_FORMATS):
            fmt = formats.get(fmt_name) if fmt_name not in ("int", "uint") else None
            if fmt is None or fmt.bits > max_bits:
                continue
            efield = code[fmt.mbits:fmt.mbits + fmt.ebits]
            with m.Case(index):
                m.d.comb += [
                    out.negative.eq(code[fmt.bits - 1]),
                    out.significand.eq(Cat(code[:fmt.mbits], efield != 0)),
                    out.shift.eq(Mux(efield == 0, 1, efield) - fmt.bias - fmt.mbits
                                 + WEIGHT_SHIFT)]
    return out


def weight_planes(w_bits, w_format, max_bits: int):
    """The beat's occupancy: w_bits for int/uint, the significand's width for FP formats."""
    planes = w_bits
    for index, fmt_name in enumerate(WEIGHT_FORMATS):
        if fmt_name not in ("int", "uint") and formats.get(fmt_name).bits <= max_bits:
            planes = Mux(w_format == index, formats.get(fmt_name).mbits + 1, planes)
    return planes


def special_flags(m: Module, acts, weights) -> Signal:
    """The NAN / POS_INF / NEG_INF flags (lowbit.hwsim.units.fp16) of a beat: NaN activation or
    inf x 0 is NaN, inf x nonzero an inf of sign XOR."""
    nan, pos, neg = [], [], []
    for i, (act, weight) in enumerate(zip(acts, weights)):
        u = unpack(m, act, FLOAT16, f"flag{i}")
        zero = weight.significand == 0
        negative = u.sign ^ weight.negative
        nan.append(u.nan | (u.inf & zero))
        pos.append(u.inf & ~zero & ~negative)
        neg.append(u.inf & ~zero & negative)
    flags = Signal(3, name="beat_flags")
    any_of = [Cat(*bits).any() for bits in (nan, pos, neg)]
    m.d.comb += flags.eq(Cat(*(any_of[(NAN, POS_INF, NEG_INF).index(1 << bit)]
                               for bit in range(3))))
    return flags


def float32_result(m: Module, total, flags) -> Signal:
    """float32 bits of total * 2^-28 (RNE), or the NaN / inf the flags call for."""
    sign = total[-1]
    magnitude = Signal(len(total), name="out_mag")
    exp = Signal(signed(8), name="out_exp")
    m.d.comb += [magnitude.eq(Mux(sign, -total, total)), exp.eq(-FIXED_SHIFT - WEIGHT_SHIFT)]
    code, _ = round_to_layout(m, sign=sign, sig=magnitude, exp=exp, sticky=0, layout=FLOAT32,
                              name="out_round")   # |total| < 2^63: never overflows
    inf = Const(FLOAT32.inf_magnitude, 31)
    nan_flag, pos_flag, neg_flag = flags[0], flags[1], flags[2]
    out = Signal(32, name="result")
    m.d.comb += out.eq(Mux(nan_flag | (pos_flag & neg_flag), FLOAT32.nan_code,
                           Mux(pos_flag, Cat(inf, 0), Mux(neg_flag, Cat(inf, 1), code))))
    return out


class Fp16BitSerialPE(ProtocolPE):
    """FP16 x low-bit bit-serial processing element: occupancy w_bits (int, uint) or the
    significand width (FP weights), latency 1.

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits; W = max_weight_bits):
      in_valid  In 1            a beat is offered
      in_ready  Out 1           1 when idle; 0 for the steps after a transfer
      in_last   In 1            the beat ends a dot product
      in_act    In lanes*16     float16 activation codes, lane i at [16i, 16i + 16)
      in_wgt    In lanes*W      weight codes in the low w_bits bits of each lane (bits above
                                w_bits are ignored)
      in_wbits  In 4            the beat's weight precision, 1 .. W (an FP format's width)
      in_wfmt   In 3            the beat's weight format, its index in WEIGHT_FORMATS (int,
                                uint, float4_e2m1fn, float6_e3m2fn, float6_e2m3fn)
      out_valid Out 1           out_data holds a finished dot product (one cycle)
      out_data  Out 32          the dot product's float32 bits

    Step 0 reads the ports (and takes the beat's NaN/inf flags from them); later steps read
    registers latched at the transfer and select significand bit ``step`` of every lane.
    """

    config_class = Fp16BitSerialPEConfig

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        seq = Sequencer(m, self, weight_planes(self.in_wbits, self.in_wfmt, cfg.max_weight_bits),
                        max_occupancy=cfg.max_weight_bits)
        operands = {}
        for port in ("in_act", "in_wgt", "in_wbits", "in_wfmt", "in_last"):
            register = Signal.like(getattr(self, port), name=f"{port[3:]}_reg")
            operands[port] = Mux(seq.idle, getattr(self, port), register)
            with m.If(seq.transfer):
                m.d.sync += register.eq(getattr(self, port))
        acts = lane_fields(operands["in_act"], cfg.lanes, 16)
        weights = [decode_weight(m, code, operands["in_wbits"], operands["in_wfmt"],
                                 cfg.max_weight_bits, f"w{i}")
                   for i, code in enumerate(lane_fields(operands["in_wgt"], cfg.lanes,
                                                        cfg.max_weight_bits))]
        addends = []
        for i, (act, weight) in enumerate(zip(acts, weights)):
            magnitude = fixed_point(m, act, f"fixed{i}")
            lane = Signal(signed(LANE_BITS), name=f"lane{i}")
            m.d.comb += lane.eq(Mux(act[15] ^ (weight.negative & (operands["in_wfmt"] != INT)),
                                    -magnitude, magnitude) << weight.shift)
            addends.append(Mux(weight.significand.bit_select(seq.step, 1), lane, 0))
        plane = adder_tree(addends)
        sign_plane = (operands["in_wfmt"] == INT) & (seq.step == operands["in_wbits"] - 1)
        signed_plane = Mux(sign_plane, -plane, plane)

        acc = Signal(signed(cfg.fixed_bits), name="acc")
        total = Signal(signed(cfg.fixed_bits), name="total")     # wraps, like the model
        flags_reg = Signal(3, name="flags")
        flags = Signal(3, name="flags_now")
        m.d.comb += [total.eq(acc + (signed_plane << seq.step)),
                     flags.eq(flags_reg | Mux(seq.transfer, special_flags(m, acts, weights), 0))]
        result = float32_result(m, total, flags)
        m.d.sync += self.out_valid.eq(0)
        with m.If(seq.active):
            m.d.sync += [acc.eq(total), flags_reg.eq(flags)]
            with m.If(seq.final & operands["in_last"]):
                m.d.sync += [self.out_data.eq(result), self.out_valid.eq(1), acc.eq(0),
                             flags_reg.eq(0)]
        return m
