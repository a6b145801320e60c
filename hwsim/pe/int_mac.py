"""``IntMacPE``: the bit-parallel integer baseline, built from :func:`lowbit.hwsim.units.integer.int_dot`.

Per beat, ``lanes`` multipliers form act_i * w_i (act: signed act_bits integer, w: the intN or
uintN value of the w_bits code) and an adder tree sums them; the accumulator adds the sum and wraps
to acc_bits two's complement. Which lane is added first does not matter: wrapping addition is
exact modular arithmetic.

Cycles: occupancy c = 1 for every beat, so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + 1),    out_valid for a last beat at accept[i] + 1.
"""
from __future__ import annotations

from lowbit.hwsim.pe.configs import IntMacPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat, wrap
from lowbit.hwsim.units.integer import decode_int_codes, int_dot


class IntMacPE(PEModel):
    config_class = IntMacPEConfig

    def cycles(self, beat: Beat) -> int:
        return 1

    def accumulate(self, acc: int, beat: Beat) -> int:
        c = self.config
        weights = decode_int_codes(beat.wgt, c.w_bits, c.signed)
        lane_sum = int_dot(beat.act, weights, a_bits=c.act_bits, b_bits=c.w_bits,
                           b_signed=c.signed, acc_bits=c.acc_bits, overflow="wrap")
        return wrap(acc + lane_sum, c.acc_bits)
