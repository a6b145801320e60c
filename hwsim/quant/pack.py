"""Packing sub-byte codes into bytes, and back.

Layout (binding for the GPU kernels and the RTL): along ``axis``, the codes form a little-endian
bit stream. Element j occupies stream bits [j*bits, (j+1)*bits), its least significant bit
first; stream bit k is bit (k mod 8) of byte k // 8. The axis is padded with zero codes to a
whole byte, so it holds ceil(n * bits / 8) bytes. For 4-bit codes the first element is the low
nibble of byte 0; read as little-endian uint32 words, element j of a word sits at bit j*bits.
Codes may straddle bytes (bits 3, 5, 6, 7). Every other axis is untouched.
"""
from __future__ import annotations

import numbers

import numpy as np

from lowbit.hwsim.quant.granularity import normalize_axis


def packed_length(n: int, bits: int) -> int:
    """Bytes that ``n`` codes of ``bits`` bits take along the axis: ceil(n * bits / 8).

    ``n`` is an int >= 0 and ``bits`` an int in 1..8; anything else is a ValueError."""
    return -(-_checked_count(n) * _checked_bits(bits) // 8)


def pack(codes, bits, axis=-1) -> np.ndarray:
    """uint8 array: ``codes`` (unsigned ints < 2^bits) packed along ``axis`` (layout above)."""
    bits = _checked_bits(bits)
    codes = np.asarray(codes)
    if codes.dtype.kind not in "ui" or codes.ndim == 0:
        raise ValueError(f"codes must be an integer array with at least 1 dimension, "
                         f"got dtype {codes.dtype}, shape {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() >= 1 << bits):
        raise ValueError(f"codes must be in 0..{(1 << bits) - 1} for bits={bits}, got values in "
                         f"{codes.min()}..{codes.max()}")
    axis = normalize_axis(axis, codes.ndim)
    moved = np.moveaxis(codes, axis, -1).astype(np.uint8)
    # (..., n, bits) with the least significant bit first: the stream order of one element.
    bit_planes = (moved[..., None] >> np.arange(bits, dtype=np.uint8)) & np.uint8(1)
    stream = bit_planes.reshape(*moved.shape[:-1], moved.shape[-1] * bits)
    # packbits pads the last byte with zero bits, i.e. zero codes.
    packed = np.packbits(stream, axis=-1, bitorder="little")
    return np.ascontiguousarray(np.moveaxis(packed, -1, axis))


def unpack(packed, bits, n, axis=-1) -> np.ndarray:
    """uint8 codes: the first ``n`` codes of ``bits`` bits along ``axis`` of ``packed``."""
    bits = _checked_bits(bits)
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim == 0:
        raise ValueError(f"packed must be a uint8 array with at least 1 dimension, "
                         f"got dtype {packed.dtype}, shape {packed.shape}")
    n = _checked_count(n)
    axis = normalize_axis(axis, packed.ndim)
    if packed.shape[axis] != packed_length(n, bits):
        raise ValueError(f"packed must hold ceil(n*bits/8) = {packed_length(n, bits)} bytes along "
                         f"axis {axis} for n={n}, bits={bits}; got {packed.shape[axis]}")
    moved = np.moveaxis(packed, axis, -1)
    stream = np.unpackbits(moved, axis=-1, count=n * bits, bitorder="little")
    bit_planes = stream.reshape(*moved.shape[:-1], n, bits)
    weights = (np.uint8(1) << np.arange(bits, dtype=np.uint8))
    codes = (bit_planes * weights).sum(axis=-1, dtype=np.uint8)
    return np.ascontiguousarray(np.moveaxis(codes, -1, axis))


def _checked_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    return int(n)


def _checked_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an int in 1..8, got {bits!r}")
    return int(bits)
