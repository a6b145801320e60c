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

from lowbit.hwsim.pe.configs import XnorPEConfig
from lowbit.hwsim.pe.protocol import Beat, wgt_shape


def random_beats(config, rng: np.random.Generator, n_beats: int,
                 last_probability: float = 0.3) -> list[Beat]:
    """``n_beats`` valid beats for ``config``; the final beat always has last = 1 so that every
    accumulation is emitted."""
    if getattr(config, "block_scales", False):
        return _mx_beats(config, rng, n_beats, last_probability)
    lo, hi = -(1 << (config.act_bits - 1)), (1 << (config.act_bits - 1)) - 1
    # FP8 and binary activations are codes, like the weights
    codes = hasattr(config, "fmt") or isinstance(config, XnorPEConfig)
    beats = []
    for i in range(n_beats):
        if config.act_bits == 16:   # float16 activations (the FP16 PEs) are codes
            act = fp16_codes(rng, config.lanes)
        elif codes:
            act = rng.integers(0, 1 << config.act_bits, config.lanes)
        else:
            act = rng.integers(lo, hi, config.lanes, endpoint=True)
        if config.wgt_bits == 16:
            wgt = fp16_codes(rng, config.lanes)
        else:
            wgt = rng.integers(0, 1 << config.wgt_bits, wgt_shape(config))
        w_bits = int(rng.integers(1, config.max_weight_bits, endpoint=True)) \
            if config.runtime_w_bits else None
        w_format = None
        if getattr(config, "runtime_w_format", False):
            w_format, w_bits = _random_weight_format(config, rng, w_bits)
        last = i == n_beats - 1 or bool(rng.random() < last_probability)
        beats.append(Beat(act=act, wgt=wgt, last=last, w_bits=w_bits, w_format=w_format))
    return beats


# MX element codes and scales worth hitting more often than uniform sampling would (beyond the
# codes of each format's zeros, smallest subnormals, ones and max, found from its values).
MX_SPECIAL_PROBABILITY = 0.004   # per element: NaN/inf kept (a block holds 32 elements)
MX_CORNER_PROBABILITY = 0.1
MX_SCALE_CORNERS = (0, 1, 126, 127, 128, 253, 254, 255)


def _mx_corner_codes(fmt: str) -> np.ndarray:
    """Codes of +-0, +-smallest subnormal, +-1 and +-max of element format ``fmt``."""
    from lowbit.hwsim import formats
    f = formats.get(fmt)
    return f.encode(np.array([0.0, -0.0, f.min_subnormal, -f.min_subnormal, 1.0, -1.0,
                              f.max, -f.max])).astype(np.int64)


def _mx_codes(config, rng, shape) -> np.ndarray:
    """Uniform ``config.fmt`` codes, 10 % corners; NaN/inf codes kept with a small probability
    and otherwise replaced by random finite codes, so that most blocks stay finite."""
    from lowbit.hwsim import formats
    f = formats.get(config.fmt)
    finite = np.flatnonzero(np.isfinite(f.values()))
    codes = rng.integers(0, 1 << f.bits, shape)
    corner = rng.random(shape) < MX_CORNER_PROBABILITY
    codes[corner] = rng.choice(_mx_corner_codes(config.fmt), int(corner.sum()))
    special = ~np.isin(codes, finite) & (rng.random(shape) >= MX_SPECIAL_PROBABILITY)
    codes[special] = rng.choice(finite, int(special.sum()))
    return codes


def _mx_scales(rng, n: int) -> np.ndarray:
    """E8M0 codes: mostly 2^-8 .. 2^8 around 127, 10 % corners (0, 254, NaN 255, ...)."""
    scales = rng.integers(119, 136, n)
    corner = rng.random(n) < MX_CORNER_PROBABILITY
    scales[corner] = rng.choice(MX_SCALE_CORNERS, int(corner.sum()))
    return scales


def _mx_beats(config, rng, n_beats: int, last_probability: float) -> list[Beat]:
    """MxMacPE beats (element codes and two E8M0 scales per beat). The dot product ends with
    ``last_probability`` only at a block's closing beat, and with the same probability at any
    other beat (a short final block)."""
    act = _mx_codes(config, rng, (n_beats, config.lanes))
    wgt = _mx_codes(config, rng, (n_beats, config.lanes))
    act_scale, wgt_scale = _mx_scales(rng, n_beats), _mx_scales(rng, n_beats)
    beats, in_block = [], 0
    for i in range(n_beats):
        in_block += 1
        closes = in_block == config.beats_per_block
        last = i == n_beats - 1 or bool(rng.random() < last_probability * (1 if closes else 0.3))
        beats.append(Beat(act=act[i], wgt=wgt[i], last=last, act_scale=int(act_scale[i]),
                          wgt_scale=int(wgt_scale[i])))
        in_block = 0 if closes or last else in_block
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
