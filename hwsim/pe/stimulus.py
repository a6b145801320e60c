"""Seeded random stimulus for any PE config: the same streams drive the hwsim model tests and the
cocotb testbenches, so both see identical beats, bubbles and runtime precisions.

Streams cover what the protocol allows: every activation in the signed act_bits range, every weight
code of the lane width (with runtime precision, random garbage above the beat's w_bits, which the
PE must ignore), a random w_bits per beat, dot products of random length, and offers with random
bubbles (gaps) between beats, including offers that arrive while the PE is still busy.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.configs import XnorPEConfig
from lowbit.hwsim.pe.protocol import Beat, wgt_shape


def random_beats(config, rng: np.random.Generator, n_beats: int,
                 last_probability: float = 0.3) -> list[Beat]:
    """``n_beats`` valid beats for ``config``; the final beat always has last = 1 so that every
    accumulation is emitted."""
    lo, hi = -(1 << (config.act_bits - 1)), (1 << (config.act_bits - 1)) - 1
    # FP8 and binary activations are codes, like the weights
    codes = hasattr(config, "fmt") or isinstance(config, XnorPEConfig)
    beats = []
    for i in range(n_beats):
        if codes:
            act = rng.integers(0, 1 << config.act_bits, config.lanes)
        else:
            act = rng.integers(lo, hi, config.lanes, endpoint=True)
        wgt = rng.integers(0, 1 << config.wgt_bits, wgt_shape(config))
        w_bits = int(rng.integers(1, config.max_weight_bits, endpoint=True)) \
            if config.runtime_w_bits else None
        last = i == n_beats - 1 or bool(rng.random() < last_probability)
        beats.append(Beat(act=act, wgt=wgt, last=last, w_bits=w_bits))
    return beats


def random_offers(rng: np.random.Generator, n_beats: int, max_gap: int = 6) -> list[int]:
    """Non-decreasing offer cycles: each beat offered 0 .. max_gap cycles after the previous
    one's offer (0 offers a beat while the PE may still be busy with the one before)."""
    return np.cumsum(rng.integers(0, max_gap, n_beats, endpoint=True)).tolist()
