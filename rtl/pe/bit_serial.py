"""BitSerialPE: weights consumed ``bits_per_cycle`` bits a cycle, LSB first, at a precision
chosen per beat; AND gates + an adder tree per weight bit + a shifting accumulator.
Golden model: :class:`hwsim.pe.BitSerialPE`; arithmetic contract: :mod:`hwsim.units.bitserial`."""
from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring

from hwsim.pe.configs import BitSerialPEConfig
from rtl.pe.common import Accumulator, Sequencer, adder_tree, lane_fields, pe_ports


class BitSerialPE(wiring.Component):
    """Bit-serial processing element: occupancy ceil(w_bits / bits_per_cycle), latency 1.

    Ports (protocol of hwsim.pe.protocol; widths in bits; W = max_weight_bits):
      in_valid  In 1                  a beat is offered
      in_ready  Out 1                 1 when idle; 0 for the steps after a transfer
      in_last   In 1                  the beat ends a dot product
      in_act    In lanes*act_bits     signed activations, lane i at [i*act_bits, (i+1)*act_bits)
      in_wgt    In lanes*W            w_bits-bit two's-complement codes in the low bits of each
                                      lane (bits above w_bits are ignored)
      in_wbits  In 4                  the beat's weight precision, 1 .. W
      out_valid Out 1                 out_data holds a finished dot product (one cycle)
      out_data  Out acc_bits          the dot product wrapped to acc_bits two's complement

    Step c of a beat adds, for each bit t < k of the digit, (+/-) sum_i(act_i AND w_i[c*k+t])
    shifted by c*k+t; the bit w_bits-1 is the sign plane and is subtracted, bits >= w_bits are
    masked. Step 0 reads the ports; later steps read registers latched at the transfer.
    """

    def __init__(self, *, config: BitSerialPEConfig):
        if not isinstance(config, BitSerialPEConfig):
            raise ValueError(f"config must be a BitSerialPEConfig, got {type(config).__name__}")
        self.config = config
        super().__init__(pe_ports(config))

    def elaborate(self, platform):
        cfg = self.config
        k, wmax = cfg.bits_per_cycle, cfg.max_weight_bits
        m = Module()
        occupancy = (self.in_wbits + (k - 1)) // k if k > 1 else self.in_wbits
        seq = Sequencer(m, self, occupancy, max_occupancy=-(-wmax // k))

        act_reg = Signal.like(self.in_act, name="act_reg")
        wgt_reg = Signal.like(self.in_wgt, name="wgt_reg")     # remaining digits, shifted down
        wbits_reg = Signal.like(self.in_wbits, name="wbits_reg")
        last_reg = Signal(name="last_reg")
        act = Mux(seq.idle, self.in_act, act_reg)
        wgt = Mux(seq.idle, self.in_wgt, wgt_reg)
        w_bits = Mux(seq.idle, self.in_wbits, wbits_reg)
        last = Mux(seq.idle, self.in_last, last_reg)
        with m.If(seq.active):   # latch (or advance) the operands for the next step
            m.d.sync += [act_reg.eq(act), wbits_reg.eq(w_bits), last_reg.eq(last),
                         wgt_reg.eq(Cat(*[w >> k for w in lane_fields(wgt, cfg.lanes, wmax)]))]

        acts = [a.as_signed() for a in lane_fields(act, cfg.lanes, cfg.act_bits)]
        wgts = lane_fields(wgt, cfg.lanes, wmax)
        base = seq.step * k                    # weight bit index of digit bit 0
        partial = 0
        for t in range(min(k, wmax)):
            plane = adder_tree([Mux(w[t], a, 0) for a, w in zip(acts, wgts)])
            bit = base + t
            signed_plane = Mux(bit == w_bits - 1, -plane, Mux(bit < w_bits, plane, 0))
            partial = partial + (signed_plane << t)
        partial = partial << base

        acc = Accumulator(m, self, cfg.acc_bits)
        with m.If(seq.active):
            with m.If(seq.final):
                acc.finish(m, partial, last)
            with m.Else():
                acc.add(m, partial)
        return m
