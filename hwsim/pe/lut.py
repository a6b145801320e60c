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

from lowbit.hwsim.pe.configs import LutPEConfig
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
