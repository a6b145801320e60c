"""``MxMacPE``: the native MX processing element (OCP Microscaling v1.0, section 6.2 dot product),
built from :func:`lowbit.hwsim.units.mx.mx_dot`.

Contract (``MxMacPEConfig(lanes, fmt)``; ``fmt`` one of MX_FORMATS for activations and weights):
  beats     lane i carries an activation and a weight code of ``fmt`` (in_act / in_wgt lanes are
            fmt's width) and each beat carries two E8M0 scale codes (act_scale, wgt_scale;
            0..255, 255 = NaN). A dot product (the beats up to a last beat) is cut into
            blocks of 32 / lanes beats = 32 elements, counted from its first beat; its final
            block may be shorter (it ends at the last beat) and acts as if zero-padded to 32.
            A block's scales are the ones of the beat that closes it (the others are ignored).
  products  every element product is exact: the significand product (at most 8 bits) shifted
            left by both exponents, an integer in units of 2^(2 lsb), lsb the exponent of fmt's
            smallest subnormal; |product| < 2^product_bits(fmt).
  block sum the products of a block are summed exactly in block_sum_bits(fmt)-bit two's
            complement (product_bits + 5 bits for 32 terms + sign): 14 bits for float4_e2m1fn,
            18 for float6_e2m3fn, 24 for float6_e3m2fn, 42 for float8_e4m3fn, 70 for
            float8_e5m2. No rounding, no overflow.
  rounding  one per block: B = float32_RNE(sum * 2^(2 lsb + sa + sb - 254)) (subnormals kept,
            overflow -> +-inf; an exact zero sum is +0.0, a nonzero one that rounds to zero keeps
            its sign); then acc = float32_RNE(acc + B), blocks in order, from acc = +0.0 at the
            start of each dot product. That is mx_dot's contract, whose docstring also states the
            special values (NaN scale, NaN element, inf * 0, infs of both signs -> NaN block,
            canonical NaN 0x7FC00000; only float8_e5m2 has inf, only the FP8 formats NaN).
  out_data  the float32 bit pattern as an unsigned integer, like Fp8MacPE.

Cycles: occupancy c = 1 for every beat (the PE is pipelined, in_ready is always 1), latency L = 3:
the RTL registers (1) the beat's adder-tree sum, (2) the block's float32 value after the
block-sum addition and the conversion, (3) the float32 accumulator / out_data. With ``offers``
o_i: accept[i] = max(o_i, accept[i-1] + 1), and out_valid for a last beat at accept[i] + 3.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from lowbit.hwsim import formats
from lowbit.hwsim.pe.configs import MX_BLOCK, MxMacPEConfig
from lowbit.hwsim.pe.model import PEModel
from lowbit.hwsim.pe.protocol import Beat
from lowbit.hwsim.units.integer import check_int_codes
from lowbit.hwsim.units.mx import mx_dot

MX_LATENCY = 3
SCALE_CODES = range(256)


def element_lsb(fmt: str) -> int:
    """Exponent of the smallest subnormal of element format ``fmt`` (its fixed-point unit)."""
    f = formats.get(fmt)
    return f.emin - f.mbits


def product_bits(fmt: str) -> int:
    """Bits of the largest product magnitude of two ``fmt`` values, in units of 2^(2 lsb)."""
    largest = int(formats.get(fmt).max * 2.0 ** -element_lsb(fmt))
    return (largest * largest).bit_length()


def block_sum_bits(fmt: str) -> int:
    """Two's-complement width of an exact sum of 32 products (the adder tree's output)."""
    return product_bits(fmt) + (MX_BLOCK - 1).bit_length() + 1


def _check_scale(value, argname: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value not in SCALE_CODES:
        raise ValueError(f"{argname} must be an E8M0 code in 0..255, got {value!r}")
    return int(value)


class MxMacPE(PEModel):
    config_class = MxMacPEConfig
    latency = MX_LATENCY

    def check_act(self, act, argname: str) -> np.ndarray:
        return check_int_codes(act, self.config.act_bits, argname, self.config.fmt)

    def check_beat(self, beat: Beat, index: int = 0) -> Beat:
        checked = super().check_beat(beat, index)
        return dataclasses.replace(
            checked, act_scale=_check_scale(beat.act_scale, f"beats[{index}].act_scale"),
            wgt_scale=_check_scale(beat.wgt_scale, f"beats[{index}].wgt_scale"))

    def cycles(self, beat: Beat) -> int:
        return 1

    def dot_value(self, beats: list[Beat]) -> int:
        per_block = self.config.beats_per_block
        blocks = [beats[i:i + per_block] for i in range(0, len(beats), per_block)]
        act = np.zeros((len(blocks), MX_BLOCK), np.uint8)   # code 0 is +0 in every fmt
        wgt = np.zeros((len(blocks), MX_BLOCK), np.uint8)
        for j, block in enumerate(blocks):
            used = len(block) * self.config.lanes
            act[j, :used] = np.concatenate([beat.act for beat in block])
            wgt[j, :used] = np.concatenate([beat.wgt for beat in block])
        act_scales = [block[-1].act_scale for block in blocks]
        wgt_scales = [block[-1].wgt_scale for block in blocks]
        fmt = self.config.fmt
        return int(mx_dot(act.ravel(), act_scales, wgt.ravel(), wgt_scales, fmt, fmt))
