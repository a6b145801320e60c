"""ShiftAddPE: power-of-two (log2_b) weights; each lane is a barrel shifter and a conditional
negate, no multiplier. Golden model: :class:`lowbit.hwsim.pe.ShiftAddPE`; arithmetic contract:
:mod:`lowbit.hwsim.units.log` (the accumulator counts units of the smallest weight magnitude, so a
product is ``(-1)^s * (act << (f - 1))`` and nothing is ever rounded)."""
from __future__ import annotations

from amaranth import Module, Mux

from lowbit.hwsim.pe.configs import ShiftAddPEConfig
from lowbit.rtl.pe.common import Accumulator, ProtocolPE, adder_tree, lane_fields


def log_product(act, code, w_bits: int):
    """(-1)^sign * (act << (f - 1)) for a log2_<w_bits> code = sign | f; 0 when f = 0."""
    field = code[:w_bits - 1]
    magnitude = Mux(field == 0, 0, act << (field - 1)[:w_bits - 1])
    return Mux(code[w_bits - 1], -magnitude, magnitude)


class ShiftAddPE(ProtocolPE):
    """Shift-add processing element (occupancy 1 cycle per beat, latency 1).

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits; b = bits of the log2_b format):
      in_valid  In 1                  a beat is offered
      in_ready  Out 1                 always 1: every beat takes one cycle
      in_last   In 1                  the beat ends a dot product
      in_act    In lanes*act_bits     signed activations, lane i at [i*act_bits, (i+1)*act_bits)
      in_wgt    In lanes*b            log2_b weight codes: sign (MSB) | exponent field f
      out_valid Out 1                 out_data holds a finished dot product (one cycle)
      out_data  Out acc_bits          the dot product in units of 2^-(fmax-1), wrapped
    """

    config_class = ShiftAddPEConfig

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        acts = [a.as_signed() for a in lane_fields(self.in_act, cfg.lanes, cfg.act_bits)]
        codes = lane_fields(self.in_wgt, cfg.lanes, cfg.wgt_bits)
        partial = adder_tree([log_product(a, c, cfg.wgt_bits) for a, c in zip(acts, codes)])
        acc = Accumulator(m, self, cfg.acc_bits)
        m.d.comb += self.in_ready.eq(1)
        with m.If(self.in_valid):
            acc.finish(m, partial, self.in_last)
        return m
