"""``XnorPE``: binary x binary dot products by XNOR and popcount, built from
:func:`lowbit.hwsim.units.binary.xnor_dot`.

Per beat, activations and weights are ``lanes`` ``binary`` codes each (lowbit.hwsim.formats:
0 is +1, 1 is -1); the beat's lane sum is 2 * popcount(XNOR(act, wgt)) - lanes, exact, and the
accumulator adds it and wraps to acc_bits two's complement. Binary weights with integer
activations are not this PE's: they run on the integer PEs (lowbit.models.cost.cycles).

Cycles: occupancy c = 1 for every beat, so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + 1),    out_valid for a last beat at accept[i] + 1.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.configs import XnorPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat, wrap
from lowbit.hwsim.units.binary import pack_codes, xnor_dot
from lowbit.hwsim.units.integer import check_int_codes


class XnorPE(PEModel):
    config_class = XnorPEConfig

    def check_act(self, act, argname: str) -> np.ndarray:
        """Activations are binary codes (0 or 1), like the weights."""
        return check_int_codes(act, 1, argname, "binary")

    def cycles(self, beat: Beat) -> int:
        return 1

    def accumulate(self, acc: int, beat: Beat) -> int:
        lane_sum = xnor_dot(pack_codes(beat.act), pack_codes(beat.wgt), self.config.lanes)
        return wrap(acc + lane_sum, self.config.acc_bits)
