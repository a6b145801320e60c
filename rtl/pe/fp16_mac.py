"""Fp16MacPE: the W16A16 baseline. ``lanes`` exact fp16 x fp16 multipliers, each feeding its own
float32 adder and lane accumulator; after a dot product's last beat the lane adders reduce the
lane sums pairwise, one level per cycle, and lane 0's sum is emitted.
Golden model: :class:`lowbit.hwsim.pe.fp16_mac.Fp16MacPE`; arithmetic contract:
:mod:`lowbit.hwsim.units.fp16` (exact products, float32 RNE per addition, pairwise reduction)."""
from __future__ import annotations

from amaranth import Module, Mux, Signal

from lowbit.hwsim.pe.configs import Fp16MacPEConfig
from lowbit.hwsim.pe.fp16_mac import reduction_levels
from lowbit.rtl.pe.common import ProtocolPE, Sequencer, lane_fields
from lowbit.rtl.units.floats import FLOAT16, exact_product, float32_add, float32_code


class Fp16MacPE(ProtocolPE):
    """FP16 MAC processing element: occupancy 1 (1 + ceil(log2(lanes)) for a last beat),
    latency 1.

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits):
      in_valid  In 1            a beat is offered
      in_ready  Out 1           1 when idle; 0 during a last beat's reduction levels
      in_last   In 1            the beat ends a dot product
      in_act    In lanes*16     float16 activation codes, lane i at [16i, 16i + 16)
      in_wgt    In lanes*16     float16 weight codes, lane i at [16i, 16i + 16)
      out_valid Out 1           out_data holds a finished dot product (one cycle)
      out_data  Out 32          the dot product's float32 bits

    Lane i's adder adds its product to its accumulator at the transfer; at reduction level l
    (step l + 1) lane i (i a multiple of 2^(l+1), i + 2^l < lanes) adds lane i + 2^l's sum to
    its own instead, the other lanes hold.
    """

    config_class = Fp16MacPEConfig

    def elaborate(self, platform):
        lanes = self.config.lanes
        levels = reduction_levels(lanes)
        m = Module()
        seq = Sequencer(m, self, Mux(self.in_last, 1 + levels, 1), max_occupancy=1 + levels)
        m.d.sync += self.out_valid.eq(0)
        accs = [Signal(32, name=f"acc{i}") for i in range(lanes)]
        acts = lane_fields(self.in_act, lanes, 16)
        wgts = lane_fields(self.in_wgt, lanes, 16)
        sums = []
        for i in range(lanes):
            product = float32_code(m, exact_product(m, acts[i], wgts[i], FLOAT16, FLOAT16,
                                                    f"mul{i}"), f"prod{i}")
            addend, receives = product, 0
            for level in range(levels):
                stride = 1 << level
                if i % (2 * stride) == 0 and i + stride < lanes:
                    at_level = ~seq.idle & (seq.step == level + 1)
                    addend = Mux(at_level, accs[i + stride], addend)
                    receives = receives | at_level
            sums.append(float32_add(m, accs[i], addend, f"add{i}"))
            with m.If(seq.transfer | receives):
                m.d.sync += accs[i].eq(sums[i])
        # The dot product is done at the final step of a last beat: the transfer itself when
        # there is no reduction (lanes = 1), else the last reduction level.
        done = seq.final & (seq.transfer & self.in_last if levels == 0 else ~seq.idle)
        with m.If(done):
            m.d.sync += [self.out_data.eq(sums[0]), self.out_valid.eq(1)]
            m.d.sync += [acc.eq(0) for acc in accs]
        return m
