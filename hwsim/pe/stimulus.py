"""Seeded random stimulus for any PE config: the same streams drive the hwsim model tests and the
cocotb testbenches, so both see identical beats, bubbles and runtime precisions.

Streams cover what the protocol allows: every activation in the signed act_bits range, every weight
code of the lane width (with runtime precision, random garbage above the beat's w_bits, which the
PE must ignore), a random w_bits per beat, dot products of random length, and offers with random
bubbles (gaps) between beats, including offers that arrive while the PE is still busy.
float16 operands (the FP16 PEs: act_bits / wgt_bits 16) are codes, drawn by :func:`fp16_codes`.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.protocol import Beat


def random_beats(config, rng: np.random.Generator, n_beats: int,
                 last_probability: float = 0.3) -> list[Beat]:
    """``n_beats`` valid beats for ``config``; the final beat always has last = 1 so that every
    accumulation is emitted."""
    lo, hi = -(1 << (config.act_bits - 1)), (1 << (config.act_bits - 1)) - 1
    fp8 = hasattr(config, "fmt")
    beats = []
    for i in range(n_beats):
        if fp8:  # FP8 activations are codes, like the weights
            act = rng.integers(0, 256, config.lanes)
        elif config.act_bits == 16:
            act = fp16_codes(rng, config.lanes)
        else:
            act = rng.integers(lo, hi, config.lanes, endpoint=True)
        if config.wgt_bits == 16:
            wgt = fp16_codes(rng, config.lanes)
        else:
            wgt = rng.integers(0, 1 << config.wgt_bits, config.lanes)
        w_bits = int(rng.integers(1, config.max_weight_bits, endpoint=True)) \
            if config.runtime_w_bits else None
        w_format = None
        if getattr(config, "runtime_w_format", False):
            w_format, w_bits = _random_weight_format(config, rng, w_bits)
        last = i == n_beats - 1 or bool(rng.random() < last_probability)
        beats.append(Beat(act=act, wgt=wgt, last=last, w_bits=w_bits, w_format=w_format))
    return beats


def _random_weight_format(config, rng: np.random.Generator, w_bits: int) -> tuple[str, int]:
    """A runtime weight format (lowbit.hwsim.units.fp16.WEIGHT_FORMATS) that fits
    max_weight_bits and its w_bits: ``w_bits`` for int/uint, the format's width for FP."""
    from lowbit.hwsim import formats
    from lowbit.hwsim.units.fp16 import WEIGHT_FORMATS
    fitting = [name for name in WEIGHT_FORMATS if name in ("int", "uint")
               or formats.get(name).bits <= config.max_weight_bits]
    w_format = str(rng.choice(fitting))
    return w_format, w_bits if w_format in ("int", "uint") else formats.get(w_format).bits


# float16 codes worth hitting far more often than uniform sampling would: +-0, the smallest and
# largest subnormal, the smallest normal, 1, 1 + 1 ulp, max, +-inf, NaN.
FP16_CORNERS = (0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x3C01,
                0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00)
FP16_CORNER_PROBABILITY = 0.02
FP16_NARROW_PROBABILITY = 0.5


def fp16_codes(rng: np.random.Generator, shape) -> np.ndarray:
    """float16 codes: a corner (FP16_CORNERS) with probability 2 %, else half of them with an
    exponent field in 13..17 (values near 1, so sums round, tie and cancel), half any finite
    code (exponent field 0..30: subnormals and the full range)."""
    sign = rng.integers(0, 2, shape) << 15
    narrow = rng.random(shape) < FP16_NARROW_PROBABILITY
    exponent = np.where(narrow, rng.integers(13, 17, shape, endpoint=True),
                        rng.integers(0, 30, shape, endpoint=True))
    codes = sign | (exponent << 10) | rng.integers(0, 1 << 10, shape)
    corner = rng.random(shape) < FP16_CORNER_PROBABILITY
    codes[corner] = rng.choice(FP16_CORNERS, int(corner.sum()))
    return codes


def random_offers(rng: np.random.Generator, n_beats: int, max_gap: int = 6) -> list[int]:
    """Non-decreasing offer cycles: each beat offered 0 .. max_gap cycles after the previous
    one's offer (0 offers a beat while the PE may still be busy with the one before)."""
    return np.cumsum(rng.integers(0, max_gap, n_beats, endpoint=True)).tolist()
