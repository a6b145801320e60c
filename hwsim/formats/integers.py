"""Integer element formats: ``int1`` .. ``int8`` (two's complement) and ``uint1`` .. ``uint8``.

Encoding
  intN   code = the N-bit two's complement pattern of the value; values -2^(N-1) .. 2^(N-1)-1
         (int1 holds {0, -1}: code 1 is -1, as in ml_dtypes).
  uintN  code = the value; values 0 .. 2^N - 1.

Encode rounds to the nearest integer, ties to even, then saturates to the format's range. The
``saturate`` flag is accepted for a uniform API, but integer formats always saturate: they have
no inf or NaN code to overflow into, so ±inf saturates to the range ends too. NaN has no code:
``Format.encode`` rejects it with a ValueError naming ``x``.

``min_normal`` and ``min_subnormal`` are 1, the step between neighbouring values.
"""
from __future__ import annotations

import numba
import numpy as np

from lowbit.hwsim.formats.base import PARALLEL_MIN_SIZE, Format, register


@numba.njit(cache=True)
def _encode_one(value, lowest, highest, mask):
    # np.rint is exact round-half-to-even in the input's own precision, so a float64 input is
    # rounded once, directly; clipping after rounding saturates.
    return np.uint8(np.int64(min(max(np.rint(value), lowest), highest)) & mask)


@numba.njit(cache=True)
def _encode_serial(x, lowest, highest, mask):
    out = np.empty(x.size, dtype=np.uint8)
    for i in range(x.size):
        out[i] = _encode_one(x[i], lowest, highest, mask)
    return out


@numba.njit(cache=True, parallel=True)
def _encode_parallel(x, lowest, highest, mask):
    out = np.empty(x.size, dtype=np.uint8)
    for i in numba.prange(x.size):
        out[i] = _encode_one(x[i], lowest, highest, mask)
    return out


class IntegerFormat(Format):
    """Two's complement (signed) or plain binary (unsigned) integers of ``bits`` bits."""

    def __init__(self, bits: int, signed: bool):
        if not 1 <= bits <= 8:
            raise ValueError(f"bits must be in 1..8, got {bits}")
        self.signed = signed
        lowest = -(1 << (bits - 1)) if signed else 0
        highest = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        super().__init__(name=f"{'' if signed else 'u'}int{bits}", bits=bits, kind="int",
                         max=highest, lowest=lowest, min_normal=1, min_subnormal=1,
                         has_inf=False, has_nan=False)

    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        kernel = _encode_parallel if x.size >= PARALLEL_MIN_SIZE else _encode_serial
        codes = kernel(x.ravel(), self.lowest, self.max, self.n_codes - 1)
        return codes.reshape(x.shape)

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        values = codes.astype(np.int32)
        if self.signed:
            # Sign extension: patterns with the top bit set stand for value - 2^bits.
            values = np.where(values >= (1 << (self.bits - 1)), values - self.n_codes, values)
        return values.astype(np.float32)


for _bits in range(1, 9):
    register(IntegerFormat(_bits, signed=True))
    register(IntegerFormat(_bits, signed=False))
