"""``ShiftAddPE``: power-of-two weights, built from :func:`lowbit.hwsim.units.log.log_dot`.

Per beat, each lane shifts its signed act_bits activation left by f - 1 (f: the exponent field of
its log2_b weight code) and negates it when the sign bit is set; the accumulator counts units of
the smallest weight magnitude 2^-(fmax-1), so no product is ever rounded, and wraps to acc_bits
two's complement. out_data is therefore the dot product times 2^(fmax-1). log2_b only (see
:class:`~lowbit.hwsim.pe.configs.ShiftAddPEConfig`): logsqrt2_4 is a unit, not a PE, so far.

Cycles: occupancy c = 1 for every beat, so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + 1),    out_valid for a last beat at accept[i] + 1.
"""
from __future__ import annotations

from lowbit.hwsim.pe.configs import ShiftAddPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat, wrap
from lowbit.hwsim.units.log import log_dot


class ShiftAddPE(PEModel):
    config_class = ShiftAddPEConfig

    def cycles(self, beat: Beat) -> int:
        return 1

    def accumulate(self, acc: int, beat: Beat) -> int:
        c = self.config
        lane_sum = log_dot(beat.act, beat.wgt, weight_format=c.weight_format,
                           act_bits=c.act_bits, acc_bits=c.acc_bits, overflow="wrap")
        return wrap(acc + lane_sum, c.acc_bits)
