"""Calibrators: the clipping range of each group, from which ``scaling`` makes its scale.

Symmetric formats get a per-group clip c >= 0 (the range [-c, c]); asymmetric intN gets a range
lo <= 0 <= hi (zero stays exactly representable).

  "minmax"      c = max|x|;                    lo = min(min x, 0), hi = max(max x, 0)
  "percentile"  c = the spec.percentile-th percentile of |x| (numpy's default "linear"
                interpolation, in float64); lo, hi = percentiles 100 - p and p of x (clamped
                to 0 as above)
  "mse"         the minmax range times the ratio r from MSE_CLIP_RATIOS that minimizes
                sum((x - x_hat)^2) over the group, x_hat computed with the very scales,
                codes and decode that quantize uses; the first (largest) r wins a tie

Statistics are per group: every ``(row, group)`` of the grouped array is calibrated separately.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.quant.scaling import asymmetric_scales, decode_groups, encode_groups, symmetric_scales
from lowbit.hwsim.quant.spec import QuantSpec

# Clipping ratios the "mse" calibrator tries: 1.00, 0.98, ..., 0.20 (41 candidates). The low end
# reaches the optimum of 2-bit grids on Gaussian data over long (per-channel) rows, ~0.3.
MSE_CLIP_RATIOS = tuple(round(1 - 0.02 * i, 2) for i in range(41))


def symmetric_clip(xg: np.ndarray, spec: QuantSpec) -> np.ndarray:
    """Per-group clip c >= 0 (float64, shape (rows, groups))."""
    magnitude = np.abs(xg)
    amax = magnitude.max(axis=-1).astype(np.float64)
    if spec.calibration == "minmax":
        return amax
    if spec.calibration == "percentile":
        return np.percentile(magnitude.astype(np.float64), spec.percentile, axis=-1)
    ratio = _mse_ratio(xg, spec, lambda r: (symmetric_scales(r * amax, spec), None))
    return ratio * amax


def asymmetric_range(xg: np.ndarray, spec: QuantSpec):
    """Per-group (lo, hi) with lo <= 0 <= hi (float64, shape (rows, groups))."""
    if spec.calibration == "percentile":
        x = xg.astype(np.float64)
        lo = np.percentile(x, 100 - spec.percentile, axis=-1)
        hi = np.percentile(x, spec.percentile, axis=-1)
    else:
        lo, hi = xg.min(axis=-1), xg.max(axis=-1)
    lo = np.minimum(lo.astype(np.float64), 0.0)
    hi = np.maximum(hi.astype(np.float64), 0.0)
    if spec.calibration == "mse":
        ratio = _mse_ratio(xg, spec, lambda r: asymmetric_scales(r * lo, r * hi, spec))
        lo, hi = ratio * lo, ratio * hi
    return lo, hi


def _mse_ratio(xg: np.ndarray, spec: QuantSpec, scales_for_ratio) -> np.ndarray:
    """Per group, the ratio of MSE_CLIP_RATIOS with the least squared error."""
    x = xg.astype(np.float64)
    best_error = np.full(xg.shape[:-1], np.inf)
    best_ratio = np.ones(xg.shape[:-1])
    for ratio in MSE_CLIP_RATIOS:
        s, z = scales_for_ratio(ratio)
        x_hat = decode_groups(encode_groups(xg, s, z, spec), s, z, spec)
        error = np.square(x - x_hat).sum(axis=-1)
        better = error < best_error
        best_error = np.where(better, error, best_error)
        best_ratio = np.where(better, ratio, best_ratio)
    return best_ratio
