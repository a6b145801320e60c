"""Fp16BitSerialPE: float16 activations x low-bit two's complement weights, one weight bit-plane
per cycle at a precision chosen per beat. Each lane aligns its activation to an exact 41-bit
fixed-point value (units of 2^-24); step j adds the lanes whose weight bit j is set in an adder
tree, subtracts that plane for the sign bit, shifts it by j into a ``fixed_bits`` accumulator;
the last beat's final step rounds the accumulator once to float32 (RNE).
Golden model: :class:`lowbit.hwsim.pe.fp16_bit_serial.Fp16BitSerialPE`; arithmetic contract:
:mod:`lowbit.hwsim.units.fp16`."""
from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed

from lowbit.hwsim.pe.configs import Fp16BitSerialPEConfig
from lowbit.hwsim.units.fp16 import FIXED_ACT_BITS, FIXED_SHIFT, NAN, NEG_INF, POS_INF
from lowbit.rtl.pe.common import OperandLatch, ProtocolPE, Sequencer, adder_tree, lane_fields
from lowbit.rtl.units.floats import FLOAT16, FLOAT32, round_to_layout, unpack


def fixed_point(m: Module, code, name: str) -> Signal:
    """The float16 ``code`` as a signed integer A, value = A * 2^-24 (0 for inf and NaN): the
    11-bit significand shifted left by max(E, 1) - 1."""
    efield, mant = code[10:15], code[:10]
    magnitude = Signal(FIXED_ACT_BITS - 1, name=f"{name}_mag")
    shift = Signal(5, name=f"{name}_shift")
    fixed = Signal(signed(FIXED_ACT_BITS), name=name)
    m.d.comb += [shift.eq(Mux(efield == 0, 0, efield - 1)),
                 magnitude.eq(Mux(efield == 0x1F, 0, Cat(mant, efield != 0) << shift)),
                 fixed.eq(Mux(code[15], -magnitude, magnitude))]
    return fixed


def special_flags(m: Module, component) -> Signal:
    """The NAN / POS_INF / NEG_INF flags (lowbit.hwsim.units.fp16) of the beat on the input
    ports: NaN activation or inf x 0 is NaN, inf x nonzero an inf of sign XOR."""
    cfg = component.config
    wmax = cfg.max_weight_bits
    mask = Signal(wmax, name="wbits_mask")
    sign_bit = Signal(range(16), name="wbits_sign_bit")     # in_wbits - 1 (in_wbits >= 1)
    m.d.comb += [mask.eq((Const(1, wmax + 1) << component.in_wbits) - 1),
                 sign_bit.eq(component.in_wbits - 1)]
    nan, pos, neg = [], [], []
    for i, (act, wgt) in enumerate(zip(lane_fields(component.in_act, cfg.lanes, 16),
                                       lane_fields(component.in_wgt, cfg.lanes, wmax))):
        u = unpack(m, act, FLOAT16, f"flag{i}")
        zero = (wgt & mask) == 0
        negative = u.sign ^ wgt.bit_select(sign_bit, 1)
        nan.append(u.nan | (u.inf & zero))
        pos.append(u.inf & ~zero & ~negative)
        neg.append(u.inf & ~zero & negative)
    flags = Signal(3, name="beat_flags")
    any_of = [Cat(*bits).any() for bits in (nan, pos, neg)]
    m.d.comb += flags.eq(sum(bit << (flag.bit_length() - 1)
                             for bit, flag in zip(any_of, (NAN, POS_INF, NEG_INF))))
    return flags


def float32_result(m: Module, total, flags) -> Signal:
    """float32 bits of total * 2^-24 (RNE), or the NaN / inf the flags call for."""
    sign = total[-1]
    magnitude = Signal(len(total), name="out_mag")
    exp = Signal(signed(8), name="out_exp")
    m.d.comb += [magnitude.eq(Mux(sign, -total, total)), exp.eq(-FIXED_SHIFT)]
    code, _ = round_to_layout(m, sign=sign, sig=magnitude, exp=exp, sticky=0, layout=FLOAT32,
                              name="out_round")   # |total| < 2^63: never overflows
    inf = Const(FLOAT32.inf_magnitude, 31)
    nan_flag, pos_flag, neg_flag = flags[0], flags[1], flags[2]
    out = Signal(32, name="result")
    m.d.comb += out.eq(Mux(nan_flag | (pos_flag & neg_flag), FLOAT32.nan_code,
                           Mux(pos_flag, Cat(inf, 0), Mux(neg_flag, Cat(inf, 1), code))))
    return out


class Fp16BitSerialPE(ProtocolPE):
    """FP16 x intN bit-serial processing element: occupancy w_bits, latency 1.

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits; W = max_weight_bits):
      in_valid  In 1            a beat is offered
      in_ready  Out 1           1 when idle; 0 for the steps after a transfer
      in_last   In 1            the beat ends a dot product
      in_act    In lanes*16     float16 activation codes, lane i at [16i, 16i + 16)
      in_wgt    In lanes*W      w_bits-bit two's-complement codes in the low bits of each lane
                                (bits above w_bits are ignored)
      in_wbits  In 4            the beat's weight precision, 1 .. W
      out_valid Out 1           out_data holds a finished dot product (one cycle)
      out_data  Out 32          the dot product's float32 bits

    Step 0 reads the ports (and takes the beat's NaN/inf flags from them); later steps read
    registers latched at the transfer, the weights shifted down one bit per step.
    """

    config_class = Fp16BitSerialPEConfig

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        seq = Sequencer(m, self, self.in_wbits, max_occupancy=cfg.max_weight_bits)
        ops = OperandLatch(m, self, seq, digit_bits=1, latch_act=True)
        acts = lane_fields(ops.act, cfg.lanes, 16)
        wgts = lane_fields(ops.wgt, cfg.lanes, cfg.max_weight_bits)
        plane = adder_tree([Mux(w[0], fixed_point(m, a, f"fixed{i}"), 0)
                            for i, (a, w) in enumerate(zip(acts, wgts))])
        signed_plane = Mux(seq.step == ops.w_bits - 1, -plane, plane)

        acc = Signal(signed(cfg.fixed_bits), name="acc")
        total = Signal(signed(cfg.fixed_bits), name="total")     # wraps, like the model
        flags_reg = Signal(3, name="flags")
        flags = Signal(3, name="flags_now")
        m.d.comb += [total.eq(acc + (signed_plane << seq.step)),
                     flags.eq(flags_reg | Mux(seq.transfer, special_flags(m, self), 0))]
        result = float32_result(m, total, flags)
        m.d.sync += self.out_valid.eq(0)
        with m.If(seq.active):
            m.d.sync += [acc.eq(total), flags_reg.eq(flags)]
            with m.If(seq.final & ops.last):
                m.d.sync += [self.out_data.eq(result), self.out_valid.eq(1), acc.eq(0),
                             flags_reg.eq(0)]
        return m
