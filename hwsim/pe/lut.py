"""``LutPE``: table-lookup dot products, built from :func:`lowbit.hwsim.units.lut.lut_dot`.

Per beat, each group of group_size lanes builds the table of partial sums of its activations
("full" or "symmetric", as in :mod:`lowbit.hwsim.units.lut`); cycle p of the beat indexes every table with
weight bit-plane p (w_bits sampled with the beat, codes two's complement in the low w_bits bits),
and the plane sums are combined by shift-and-add with the sign plane subtracted. The beat's exact
lane sum is added to the accumulator, which wraps to acc_bits two's complement.

Cycles: occupancy c_i = w_bits_i (one bit-plane a cycle), so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + c_{i-1}),   out_valid for a last beat at accept[i] + c_i.
"""
from __future__ import annotations

from lowbit.hwsim.pe.configs import LutPEConfig, SharedLutPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat, wrap
from lowbit.hwsim.units.lut import lut_dot


class LutPE(PEModel):
    config_class = LutPEConfig

    def cycles(self, beat: Beat) -> int:
        return beat.w_bits

    def accumulate(self, acc: int, beat: Beat) -> int:
        c = self.config
        lane_sum = lut_dot(beat.act, beat.wgt, w_bits=beat.w_bits, act_bits=c.act_bits,
                           group_size=c.group_size, table=c.table)
        return wrap(acc + lane_sum, c.acc_bits)


class SharedLutPE(LutPE):
    """``SharedLutPE``: the tables of a LutPE shared by ``columns`` weight columns (T-MAC, LUT
    Tensor Core), built from the same :func:`lowbit.hwsim.units.lut.lut_dot` (activations of
    shape (lanes,) against weights of shape (columns, lanes): one set of tables per beat).

    Per beat, each group of group_size lanes builds its table once; cycle p of the beat indexes
    it with bit-plane p of every column's weights, and column c's plane sums are combined as in
    LutPE. Column c's exact lane sum is added to its own accumulator, which wraps to acc_bits
    two's complement; an output is the tuple of the columns' accumulators, column 0 first.

    Cycles: as LutPE, occupancy c_i = w_bits_i whatever ``columns`` is (the columns look up in
    parallel).
    """
    config_class = SharedLutPEConfig

    def reset_value(self) -> tuple[int, ...]:
        return (0,) * self.config.columns

    def accumulate(self, acc: tuple[int, ...], beat: Beat) -> tuple[int, ...]:
        c = self.config
        column_sums = lut_dot(beat.act, beat.wgt, w_bits=beat.w_bits, act_bits=c.act_bits,
                              group_size=c.group_size, table=c.table)
        return tuple(wrap(a + int(s), c.acc_bits) for a, s in zip(acc, column_sums, strict=True))
