"""XnorPE: binary x binary dot products, the XnorPopcount unit's logic (its ``xnor_dot``) on
the beat's ``lanes`` codes feeding one accumulator. Golden model: :class:`lowbit.hwsim.pe.XnorPE`."""
from __future__ import annotations

from amaranth import Module

from lowbit.hwsim.pe.configs import XnorPEConfig
from lowbit.rtl.pe.common import Accumulator, ProtocolPE
from lowbit.rtl.units.xnor_popcount import xnor_dot


class XnorPE(ProtocolPE):
    """XNOR-popcount processing element (occupancy 1 cycle per beat, latency 1).

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits):
      in_valid  In 1                  a beat is offered
      in_ready  Out 1                 always 1: every beat takes one cycle
      in_last   In 1                  the beat ends a dot product
      in_act    In lanes              binary codes, lane i at bit i (0: +1, 1: -1)
      in_wgt    In lanes              binary codes, same packing
      out_valid Out 1                 out_data holds a finished dot product (one cycle)
      out_data  Out acc_bits          the sum over beats of 2 * popcount(XNOR) - lanes, wrapped
                                      to acc_bits two's complement

    The codes go to XnorPopcount as they are: it takes bit 1 as +1, the codes take bit 1 as -1,
    and the XNOR of two bits equals the XNOR of their complements, so the dot product is the
    same.
    """

    config_class = XnorPEConfig

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.in_ready.eq(1)
        acc = Accumulator(m, self, self.config.acc_bits)
        with m.If(self.in_valid):
            acc.finish(m, xnor_dot(self.in_act, self.in_wgt), self.in_last)
        return m
