"""LutPE: T-MAC / LUT Tensor Core style. Each group of ``group_size`` activations fills a table
of partial sums once per beat; every weight bit-plane (one a cycle) indexes the tables; planes
are combined by shift-and-add with the sign plane subtracted. Golden model:
:class:`lowbit.hwsim.pe.LutPE`; arithmetic contract (both table kinds): :mod:`lowbit.hwsim.units.lut`."""
from __future__ import annotations

from amaranth import Array, Cat, Module, Mux, Signal, signed

from lowbit.hwsim.pe.configs import LutPEConfig
from lowbit.rtl.pe.common import (Accumulator, OperandLatch, ProtocolPE, Sequencer, adder_tree,
                           lane_fields)


def table_entries(acts: list, kind: str) -> list:
    """The table of one group as Amaranth values.
    "full":      T[idx] = sum of acts[j] over the bits j set in idx          (2^g entries)
    "symmetric": H[idx] = sum of (+acts[j] if bit j of idx else -acts[j])   (2^(g-1) entries)
    """
    g = len(acts)
    if kind == "full":
        return [adder_tree([0] + [acts[j] for j in range(g) if idx >> j & 1])
                for idx in range(1 << g)]
    return [adder_tree([acts[j] if idx >> j & 1 else -acts[j] for j in range(g)])
            for idx in range(1 << (g - 1))]


class LutPE(ProtocolPE):
    """Table-lookup processing element: occupancy w_bits cycles (one bit-plane each), latency 1.

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits; W = max_weight_bits <= 4):
      in_valid  In 1                  a beat is offered
      in_ready  Out 1                 1 when idle; 0 for the planes after a transfer
      in_last   In 1                  the beat ends a dot product
      in_act    In lanes*act_bits     signed activations, lane i at [i*act_bits, (i+1)*act_bits)
      in_wgt    In lanes*W            w_bits-bit two's-complement codes in the low bits of each
                                      lane (bits above w_bits are ignored)
      in_wbits  In 4                  the beat's weight precision, 1 .. W
      out_valid Out 1                 out_data holds a finished dot product (one cycle)
      out_data  Out acc_bits          the dot product wrapped to acc_bits two's complement

    In the transfer cycle the tables are built from in_act (and registered for the later
    planes) and plane 0 looks them up; plane p (p >= 1) looks up the registered tables.
    """

    config_class = LutPEConfig

    def elaborate(self, platform):
        cfg = self.config
        g, wmax = cfg.group_size, cfg.max_weight_bits
        groups = cfg.lanes // g
        m = Module()
        seq = Sequencer(m, self, self.in_wbits, max_occupancy=wmax)

        # the activations are not latched: the tables built from them are (below)
        ops = OperandLatch(m, self, seq, digit_bits=1, latch_act=False)
        acts = [a.as_signed() for a in lane_fields(self.in_act, cfg.lanes, cfg.act_bits)]
        wgts = lane_fields(ops.wgt, cfg.lanes, wmax)
        entry_shape = signed(cfg.act_bits + g.bit_length())
        looked_up, zero_entries = [], []
        for k in range(groups):
            fresh = table_entries(acts[k * g:(k + 1) * g], cfg.table)
            table = []
            for idx, value in enumerate(fresh):
                reg = Signal(entry_shape, name=f"table{k}_{idx}")
                with m.If(seq.transfer):
                    m.d.sync += reg.eq(value)
                entry = Signal(entry_shape, name=f"entry{k}_{idx}")
                m.d.comb += entry.eq(Mux(seq.idle, value, reg))
                table.append(entry)
            index = Cat(*[w[0] for w in wgts[k * g:(k + 1) * g]])
            looked_up.append(self._lookup(m, table, index, g, k))
            zero_entries.append(table[0])
        plane = adder_tree(looked_up)
        if cfg.table == "symmetric":
            # plane = sum_k (H_sel + A_k) / 2 with A_k = sum of the group's acts = -H_k[0];
            # H_sel + A_k is even, so the halving is exact.
            plane = (plane - adder_tree(zero_entries)) >> 1
        p = seq.step
        partial = Mux(p == ops.w_bits - 1, -plane, plane) << p
        Accumulator(m, self, cfg.acc_bits).step(m, seq, partial, ops.last)
        return m

    def _lookup(self, m: Module, table: list, index, g: int, k: int):
        if self.config.table == "full":
            return Array(table)[index]
        # symmetric: an index with the top bit set reads -H[index XOR (2^g - 1)]
        top = index[g - 1]
        folded = Mux(top, ~index, index)[:g - 1]
        value = Signal(signed(len(table[0]) + 1), name=f"lookup{k}")
        m.d.comb += value.eq(Mux(top, -Array(table)[folded], Array(table)[folded]))
        return value
