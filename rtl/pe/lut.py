"""LutPE: T-MAC / LUT Tensor Core style. Each group of ``group_size`` activations fills a table
of partial sums once per beat; every weight bit-plane (one a cycle) indexes the tables; planes
are combined by shift-and-add with the sign plane subtracted. Golden model:
:class:`lowbit.hwsim.pe.LutPE`; arithmetic contract (both table kinds): :mod:`lowbit.hwsim.units.lut`."""
from __future__ import annotations

from amaranth import Array, Cat, Module, Mux, Signal, signed

from lowbit.hwsim.pe.configs import LutPEConfig, SharedLutPEConfig
from lowbit.hwsim.pe.protocol import columns
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
    The same design is SharedLutPE's: a config with ``columns`` > 1 gives every column its own
    lookups and accumulator on the one set of tables (one column here).
    """

    config_class = LutPEConfig

    def elaborate(self, platform):
        cfg = self.config
        g, wmax, n_columns = cfg.group_size, cfg.max_weight_bits, columns(cfg)
        m = Module()
        seq = Sequencer(m, self, self.in_wbits, max_occupancy=wmax)

        # the activations are not latched: the tables built from them are (below)
        ops = OperandLatch(m, self, seq, digit_bits=1, latch_act=False)
        acts = [a.as_signed() for a in lane_fields(self.in_act, cfg.lanes, cfg.act_bits)]
        tables = [self._table(m, seq, acts[k * g:(k + 1) * g], k)
                  for k in range(cfg.lanes // g)]
        if cfg.table == "symmetric":   # sum of the A_k = -H_k[0], the same for every column
            group_sums = adder_tree([table[0] for table in tables])
        wgts = lane_fields(ops.wgt, n_columns * cfg.lanes, wmax)
        p = seq.step
        for c in range(n_columns):
            column = wgts[c * cfg.lanes:(c + 1) * cfg.lanes]
            looked_up = [self._lookup(m, table, Cat(*[w[0] for w in column[k * g:(k + 1) * g]]),
                                      g, f"{c}_{k}")
                         for k, table in enumerate(tables)]
            plane = adder_tree(looked_up)
            if cfg.table == "symmetric":
                # plane = sum_k (H_sel + A_k) / 2; H_sel + A_k is even, so the halving is exact
                plane = (plane - group_sums) >> 1
            partial = Mux(p == ops.w_bits - 1, -plane, plane) << p
            out_data = self.out_data[c * cfg.acc_bits:(c + 1) * cfg.acc_bits]
            Accumulator(m, self, cfg.acc_bits, out_data).step(m, seq, partial, ops.last)
        return m

    def _table(self, m: Module, seq: Sequencer, acts: list, k: int) -> list:
        """Group k's table entries as each plane sees them: built from in_act in the transfer
        cycle, from the registers latched then in the later planes."""
        entry_shape = signed(self.config.act_bits + self.config.group_size.bit_length())
        table = []
        for idx, value in enumerate(table_entries(acts, self.config.table)):
            reg = Signal(entry_shape, name=f"table{k}_{idx}")
            with m.If(seq.transfer):
                m.d.sync += reg.eq(value)
            entry = Signal(entry_shape, name=f"entry{k}_{idx}")
            m.d.comb += entry.eq(Mux(seq.idle, value, reg))
            table.append(entry)
        return table

    def _lookup(self, m: Module, table: list, index, g: int, tag: str):
        if self.config.table == "full":
            return Array(table)[index]
        # symmetric: an index with the top bit set reads -H[index XOR (2^g - 1)]
        top = index[g - 1]
        folded = Mux(top, ~index, index)[:g - 1]
        value = Signal(signed(len(table[0]) + 1), name=f"lookup{tag}")
        m.d.comb += value.eq(Mux(top, -Array(table)[folded], Array(table)[folded]))
        return value


class SharedLutPE(LutPE):
    """Shared-table LUT processing element (T-MAC, LUT Tensor Core): the LutPE's tables, built
    once per beat, indexed by ``columns`` weight columns in parallel, each with its own
    accumulator. Occupancy w_bits cycles (one bit-plane each), latency 1. Golden model:
    :class:`lowbit.hwsim.pe.SharedLutPE`.

    Ports (protocol of lowbit.hwsim.pe.protocol, "Columns"; W = max_weight_bits <= 4,
    C = columns): as LutPE, except
      in_wgt    In C*lanes*W          column c, lane i at field c*lanes + i: w_bits-bit two's
                                      complement codes in the low bits (bits above ignored)
      out_data  Out C*acc_bits        column c's dot product at [c*acc_bits, (c+1)*acc_bits),
                                      each wrapped to acc_bits two's complement
    """

    config_class = SharedLutPEConfig
