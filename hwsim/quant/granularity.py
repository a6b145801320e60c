"""Granularity: which elements share a scale.

``axis`` is the reduction axis (K of a weight W[N, K], the feature axis of activations X[M, K]);
groups run along it.

  "tensor"   one scale for the whole tensor; scales shape: all dims 1
  "channel"  one scale per slice along ``axis`` (per output row of W[N, K], per token of X):
             scales shape = x.shape with the axis length replaced by 1
  "group"    ``group_size`` consecutive elements along ``axis`` (ValueError if it does not
             divide the axis length): the axis length becomes K // group_size
  "mx"       OCP MX v1.0 blocks of 32 consecutive elements along ``axis`` (like "group")

Internally every tensor is viewed as ``(rows, groups, group_length)``: the statistics of a group
reduce the last dimension, and scales are ``(rows, groups)`` until reshaped back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lowbit.hwsim.quant.spec import QuantSpec


@dataclass(frozen=True)
class Grouping:
    """How a tensor of ``shape`` splits into groups along ``axis`` (normalized, >= 0)."""
    shape: tuple[int, ...]
    axis: int
    group_length: int
    whole_tensor: bool

    @property
    def axis_length(self) -> int:
        return self.shape[self.axis]

    @property
    def groups_per_row(self) -> int:
        return 1 if self.whole_tensor else self.axis_length // self.group_length

    @property
    def scales_shape(self) -> tuple[int, ...]:
        if self.whole_tensor:
            return (1,) * len(self.shape)
        shape = list(self.shape)
        shape[self.axis] = self.groups_per_row
        return tuple(shape)

    def to_groups(self, a: np.ndarray) -> np.ndarray:
        """A tensor of ``shape`` as (rows, groups, group_length), a view where possible."""
        if self.whole_tensor:
            return a.reshape(1, 1, -1)
        return np.moveaxis(a, self.axis, -1).reshape(-1, self.groups_per_row, self.group_length)

    def from_groups(self, g: np.ndarray) -> np.ndarray:
        """Inverse of ``to_groups``: a contiguous array of ``shape``."""
        if self.whole_tensor:
            return g.reshape(self.shape)
        return self._from_moved(g, self.axis_length)

    def scales_from_groups(self, per_group: np.ndarray) -> np.ndarray:
        """(rows, groups) per-group values laid out in ``scales_shape``."""
        if self.whole_tensor:
            return per_group.reshape(self.scales_shape)
        return self._from_moved(per_group, self.groups_per_row)

    def _from_moved(self, a: np.ndarray, last_length: int) -> np.ndarray:
        # a holds, row-major, an array whose axis was moved last (with length last_length).
        moved = [n for i, n in enumerate(self.shape) if i != self.axis] + [last_length]
        return np.ascontiguousarray(np.moveaxis(a.reshape(moved), -1, self.axis))

    def scales_to_groups(self, scales: np.ndarray) -> np.ndarray:
        """Inverse of ``scales_from_groups``: (rows, groups)."""
        if self.whole_tensor:
            return scales.reshape(1, 1)
        return np.moveaxis(scales, self.axis, -1).reshape(-1, self.groups_per_row)


def grouping(shape: tuple[int, ...], spec: QuantSpec, axis) -> Grouping:
    """The grouping of a tensor of ``shape`` under ``spec``; ValueError for a bad axis/size."""
    if len(shape) == 0 or 0 in shape:
        raise ValueError(f"shape must have at least 1 dimension and no zero-length dimension, "
                         f"got {shape}")
    axis = normalize_axis(axis, len(shape))
    if spec.granularity == "tensor":
        return Grouping(shape, axis, math.prod(shape), whole_tensor=True)
    length = shape[axis]
    group_length = length if spec.granularity == "channel" else spec.group_size
    if length % group_length:
        raise ValueError(f"group_size {group_length} ({spec.granularity}) must divide the length "
                         f"{length} of axis {axis} of x (shape {shape})")
    return Grouping(shape, axis, group_length, whole_tensor=False)


def normalize_axis(axis, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -ndim <= axis < ndim:
        raise ValueError(f"axis must be an int in {-ndim}..{ndim - 1} for a {ndim}-d array, "
                         f"got {axis!r}")
    return int(axis) % ndim
