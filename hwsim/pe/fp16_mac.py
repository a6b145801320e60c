"""``Fp16MacPE``: the FP16 (W16A16) baseline, built from :mod:`lowbit.hwsim.units.fp16`.

Per beat, lane i multiplies its activation and weight (both float16 codes) exactly and adds the
product to its own float32 lane accumulator (RNE, fp16_lane_mac). After a beat with ``last`` the
lane adders reduce the lane sums pairwise (fp32_pairwise_sum), one level per cycle, and the
result is emitted; every lane accumulator restarts at +0.0. out_data is the float32 *bit
pattern*, an unsigned integer 0 .. 2^32 - 1.

Cycles: occupancy c = 1 for a beat without last and 1 + ceil(log2(lanes)) for a last beat (the
reduction levels hold in_ready low), so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + c_{i-1}),   out_valid for a last beat at accept[i] + c_i.
"""
from __future__ import annotations

import math

import numpy as np

from lowbit.hwsim.pe.configs import Fp16MacPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat
from lowbit.hwsim.units.fp16 import check_fp16_codes, fp16_lane_mac, fp32_pairwise_sum


def reduction_levels(lanes: int) -> int:
    """ceil(log2(lanes)): the pairwise reduction's levels, one cycle each."""
    return math.ceil(math.log2(lanes)) if lanes > 1 else 0


class Fp16MacPE(PEModel):
    config_class = Fp16MacPEConfig

    def check_act(self, act, argname: str) -> np.ndarray:
        return check_fp16_codes(act, argname)

    def cycles(self, beat: Beat) -> int:
        return 1 + (reduction_levels(self.config.lanes) if beat.last else 0)

    def dot_value(self, beats: list[Beat]) -> int:
        """The lane accumulators (from +0.0) over the beats, then their pairwise reduction."""
        lanes = np.zeros(self.config.lanes, np.uint32)
        for beat in beats:
            lanes = fp16_lane_mac(lanes, beat.act, beat.wgt)
        return fp32_pairwise_sum(lanes)
