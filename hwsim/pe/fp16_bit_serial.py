"""``Fp16BitSerialPE``: float16 activations x low-bit weights, one weight bit-plane per cycle,
built from :func:`lowbit.hwsim.units.fp16.fp16_weight_beat` and ``fixed_to_float32``.

Per beat, the weight codes are of the beat's runtime w_format (None: "int"; "uint", or the
BitMoD-style FP formats float4_e2m1fn, float6_e3m2fn, float6_e2m3fn) with w_bits bits (both
sampled with the beat, code in the low w_bits bits of each lane, bits above ignored). Cycle j
adds plane j (the lanes' activations, aligned to fixed point in units of 2^-28 and by the
weight's exponent, where bit j of the weight's significand is set; for "int" the sign plane
subtracted) shifted by j, so the beat adds its exact dot product to a fixed_bits-bit two's
complement accumulator (wrapping, like the integer PEs'); NaN/inf activations set flags beside
it. After a last beat the accumulator is rounded once to float32 (RNE) and emitted as
its bit pattern (an unsigned integer 0 .. 2^32 - 1); accumulator and flags restart at 0.
Group scales are applied outside the PE to each dot product (one dot product per scale group).

Cycles: occupancy c_i = w_bits_i for int/uint, the significand's width (mbits + 1) for FP
weights, so with ``offers`` o_i
    accept[i] = max(o_i, accept[i-1] + c_{i-1}),   out_valid for a last beat at accept[i] + c_i.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.configs import Fp16BitSerialPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat, wrap
from lowbit.hwsim.units.fp16 import (check_fp16_codes, check_weight_format, fixed_to_float32,
                                     fp16_weight_beat, weight_cycles)


class Fp16BitSerialPE(PEModel):
    config_class = Fp16BitSerialPEConfig

    def check_act(self, act, argname: str) -> np.ndarray:
        return check_fp16_codes(act, argname)

    def check_beat(self, beat: Beat, index: int = 0) -> Beat:
        """The protocol's checks, then w_format (None becomes "int") against WEIGHT_FORMATS
        and w_bits."""
        beat = super().check_beat(beat, index)
        w_format = check_weight_format(beat.w_format or "int", beat.w_bits,
                                       f"beats[{index}].w_format")
        return Beat(act=beat.act, wgt=beat.wgt, last=beat.last, w_bits=beat.w_bits,
                    w_format=w_format)

    def cycles(self, beat: Beat) -> int:
        return weight_cycles(beat.w_format, beat.w_bits)

    def dot_value(self, beats: list[Beat]) -> int:
        """The wrapped fixed-point sum and the OR of the special flags over the beats, rounded
        once to float32 bits."""
        total, flags = 0, 0
        for beat in beats:
            part, part_flags = fp16_weight_beat(beat.act, beat.wgt, beat.w_bits, beat.w_format)
            total, flags = wrap(total + part, self.config.fixed_bits), flags | part_flags
        return fixed_to_float32(total, flags)
