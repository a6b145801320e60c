"""Seeded random stimulus for any PE config: the same streams drive the hwsim model tests and the
cocotb testbenches, so both see identical beats, bubbles and runtime precisions.

Streams cover what the protocol allows: every activation in the signed act_bits range, every weight
code of the lane width (with runtime precision, random garbage above the beat's w_bits, which the
PE must ignore), a random w_bits per beat, dot products of random length, and offers with random
bubbles (gaps) between beats, including offers that arrive while the PE is still busy.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.protocol import Beat


def random_beats(config, rng: np.random.Generator, n_beats: int,
                 last_probability: float = 0.3) -> list[Beat]:
    """``n_beats`` valid beats for ``config``; the final beat always has last = 1 so that every
    accumulation is emitted."""
    if getattr(config, "block_scales", False):
        return _mx_beats(config, rng, n_beats, last_probability)
    lo, hi = -(1 << (config.act_bits - 1)), (1 << (config.act_bits - 1)) - 1
    fp8 = hasattr(config, "fmt")
    beats = []
    for i in range(n_beats):
        if fp8:  # FP8 activations are codes, like the weights
            act = rng.integers(0, 256, config.lanes)
        else:
            act = rng.integers(lo, hi, config.lanes, endpoint=True)
        wgt = rng.integers(0, 1 << config.wgt_bits, config.lanes)
        w_bits = int(rng.integers(1, config.max_weight_bits, endpoint=True)) \
            if config.runtime_w_bits else None
        last = i == n_beats - 1 or bool(rng.random() < last_probability)
        beats.append(Beat(act=act, wgt=wgt, last=last, w_bits=w_bits))
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


def random_offers(rng: np.random.Generator, n_beats: int, max_gap: int = 6) -> list[int]:
    """Non-decreasing offer cycles: each beat offered 0 .. max_gap cycles after the previous
    one's offer (0 offers a beat while the PE may still be busy with the one before)."""
    return np.cumsum(rng.integers(0, max_gap, n_beats, endpoint=True)).tolist()
