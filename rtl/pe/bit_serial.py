"""BitSerialPE: weights consumed ``bits_per_cycle`` bits a cycle, LSB first, at a precision
chosen per beat; AND gates + an adder tree per weight bit, each step's partial sum shifted
left by step * bits_per_cycle into the accumulator.
Golden model: :class:`lowbit.hwsim.pe.BitSerialPE`; arithmetic contract: :mod:`lowbit.hwsim.units.bitserial`.

Why not a right-shifting accumulator (shift right each step, LSB first): the accumulator holds
the dot product across beats, and each beat has its own precision, so a beat's sum would come
out scaled by 2^-(steps * bits_per_cycle) with a step count known only at run time; putting it
back in place takes a shifter of the same depth (ceil(W / bits_per_cycle) positions) as the
one it would remove."""
from __future__ import annotations

from amaranth import Module, Mux

from lowbit.hwsim.pe.configs import BitSerialPEConfig
from lowbit.rtl.pe.common import (Accumulator, OperandLatch, ProtocolPE, Sequencer, adder_tree,
                           lane_fields)


class BitSerialPE(ProtocolPE):
    """Bit-serial processing element: occupancy ceil(w_bits / bits_per_cycle), latency 1.

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits; W = max_weight_bits):
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

    config_class = BitSerialPEConfig

    def elaborate(self, platform):
        cfg = self.config
        k, wmax = cfg.bits_per_cycle, cfg.max_weight_bits
        m = Module()
        occupancy = (self.in_wbits + (k - 1)) // k if k > 1 else self.in_wbits
        seq = Sequencer(m, self, occupancy, max_occupancy=-(-wmax // k))

        ops = OperandLatch(m, self, seq, digit_bits=k, latch_act=True)
        acts = [a.as_signed() for a in lane_fields(ops.act, cfg.lanes, cfg.act_bits)]
        wgts = lane_fields(ops.wgt, cfg.lanes, wmax)
        base = seq.step * k                    # weight bit index of digit bit 0
        partial = 0
        for t in range(min(k, wmax)):
            plane = adder_tree([Mux(w[t], a, 0) for a, w in zip(acts, wgts)])
            bit = base + t
            signed_plane = Mux(bit == ops.w_bits - 1, -plane, Mux(bit < ops.w_bits, plane, 0))
            partial = partial + (signed_plane << t)
        partial = partial << base

        Accumulator(m, self, cfg.acc_bits).step(m, seq, partial, ops.last)
        return m
