"""IntMacPE: the bit-parallel baseline, ``lanes`` act_bits x w_bits multipliers and an adder
tree feeding one accumulator. Golden model: :class:`lowbit.hwsim.pe.IntMacPE`."""
from __future__ import annotations

from amaranth import Module

from lowbit.hwsim.pe.configs import IntMacPEConfig
from lowbit.rtl.pe.common import Accumulator, ProtocolPE, adder_tree, lane_fields


class IntMacPE(ProtocolPE):
    """Bit-parallel integer MAC processing element (occupancy 1 cycle per beat, latency 1).

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits):
      in_valid  In 1                  a beat is offered
      in_ready  Out 1                 always 1: every beat takes one cycle
      in_last   In 1                  the beat ends a dot product
      in_act    In lanes*act_bits     signed activations, lane i at [i*act_bits, (i+1)*act_bits)
      in_wgt    In lanes*w_bits       weights: intN two's complement (signed=True) or uintN
      out_valid Out 1                 out_data holds a finished dot product (one cycle)
      out_data  Out acc_bits          the dot product wrapped to acc_bits two's complement
    """

    config_class = IntMacPEConfig

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        acts = [a.as_signed() for a in lane_fields(self.in_act, cfg.lanes, cfg.act_bits)]
        wgts = lane_fields(self.in_wgt, cfg.lanes, cfg.w_bits)
        if cfg.signed:
            wgts = [w.as_signed() for w in wgts]
        partial = adder_tree([a * w for a, w in zip(acts, wgts)])
        acc = Accumulator(m, self, cfg.acc_bits)
        m.d.comb += self.in_ready.eq(1)
        with m.If(self.in_valid):
            acc.finish(m, partial, self.in_last)
        return m
