"""``BitSerialPE``: weights consumed bits_per_cycle bits a cycle, built from
:func:`lowbit.hwsim.units.bitserial.bitserial_dot`.

Per beat, the weight codes are w_bits-bit two's complement (w_bits sampled with the beat, code in
the low w_bits bits of each lane). Cycle j of the beat adds the j-th k-bit digit of every weight
(LSB first, the digit holding the sign bit read as negative) times its activation, shifted by j*k;
the beat's exact lane sum is added to the accumulator, which wraps to acc_bits two's complement.

Cycles: occupancy c_i = ceil(w_bits_i / bits_per_cycle), so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + c_{i-1}),   out_valid for a last beat at accept[i] + c_i.
"""
from __future__ import annotations

from lowbit.hwsim.pe.configs import BitSerialPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat, wrap
from lowbit.hwsim.units.bitserial import bitserial_cycles, bitserial_dot


class BitSerialPE(PEModel):
    config_class = BitSerialPEConfig

    def cycles(self, beat: Beat) -> int:
        return bitserial_cycles(beat.w_bits, self.config.bits_per_cycle)

    def accumulate(self, acc: int, beat: Beat) -> int:
        c = self.config
        lane_sum, _ = bitserial_dot(beat.act, beat.wgt, w_bits=beat.w_bits,
                                    bits_per_cycle=c.bits_per_cycle, act_bits=c.act_bits)
        return wrap(acc + lane_sum, c.acc_bits)
