"""``Fp8MacPE``: the FP8 baseline, built from :func:`lowbit.hwsim.units.fp8.fp8_mac`.

Per beat, lane i's activation and weight (both ``fmt`` codes) are multiplied exactly and the
products are added to the float32 accumulator one at a time, lane 0 .. lanes-1, with float32 RNE
after every addition (the fp8_mac contract: IEEE specials, subnormals kept, canonical NaN
0x7FC00000). The accumulator starts at +0.0 and restarts at +0.0 after every ``last`` beat.
out_data is the float32 *bit pattern*, an unsigned integer 0 .. 2^32 - 1 (not two's complement:
this PE's output is a float, not an integer).

Cycles: occupancy c = 1 for every beat, so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + 1),    out_valid for a last beat at accept[i] + 1.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.configs import Fp8MacPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat
from lowbit.hwsim.units.fp8 import fp8_mac
from lowbit.hwsim.units.integer import check_int_codes


class Fp8MacPE(PEModel):
    config_class = Fp8MacPEConfig

    def check_act(self, act, argname: str) -> np.ndarray:
        return check_int_codes(act, 8, argname, self.config.fmt)

    def cycles(self, beat: Beat) -> int:
        return 1

    def accumulate(self, acc: int, beat: Beat) -> int:
        fmt = self.config.fmt
        acc32 = np.uint32(acc).view(np.float32)
        return int(fp8_mac(beat.act, beat.wgt, fmt, fmt, acc=acc32))
