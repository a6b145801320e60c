"""binary and ternary weights: a sign (and zero) per element, one scale alpha per group.

binary   XNOR-Net (Rastegari et al., ECCV 2016): code = binary.encode(x) (sign, sign(0) = +1),
         alpha = mean |x| over the group, so x_hat = alpha * (±1).
ternary  TWN (Li et al., "Ternary Weight Networks", 2016): threshold delta = 0.7 * mean |x|;
         elements with |x| > delta become sign(x), the rest 0, encoded with the ternary format's
         encode of those exact values {-1, 0, +1}; alpha = mean of |x| over the elements above
         delta, so x_hat = alpha * {-1, 0, +1}. The comparison |x| > delta is made on x itself
         (not on x / (2 delta) against the format's 0.5 threshold) so no division rounding can
         move an element across the threshold.

alpha is rounded up to the spec's scale format like every scale. An all-zero group gets
alpha = ``scaling.zero_group_scale(spec)``: ternary codes it as zeros with alpha 1.0 (x_hat = 0);
binary, which has no zero, codes it as +1 with alpha = the scale format's smallest positive value
(2^-24 for float16 scales), so x_hat = +alpha is off by that much instead of by 1.
Statistics are accumulated in float64.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.quant.scaling import rounded_up_scales
from lowbit.hwsim.quant.spec import QuantSpec

TWN_THRESHOLD_FACTOR = 0.7


def xnor_quantize(xg: np.ndarray, spec: QuantSpec):
    """(codes, alpha) for grouped x (rows, groups, length) with a binary spec."""
    alpha = np.abs(xg).mean(axis=-1, dtype=np.float64)
    return spec.element_format.encode(xg), rounded_up_scales(alpha, spec)


def twn_quantize(xg: np.ndarray, spec: QuantSpec):
    """(codes, alpha) for grouped x (rows, groups, length) with a ternary spec."""
    magnitude = np.abs(xg)
    delta = TWN_THRESHOLD_FACTOR * magnitude.mean(axis=-1, dtype=np.float64, keepdims=True)
    above = magnitude > delta  # compared in float64: numpy promotes x's float32 exactly
    count = np.count_nonzero(above, axis=-1)
    total = np.sum(magnitude, axis=-1, where=above, dtype=np.float64)
    # A group with nothing above delta is all zeros (max|x| >= mean|x| > 0.7 mean|x| otherwise).
    alpha = total / np.maximum(count, 1)
    ternary_values = np.sign(xg) * above
    return spec.element_format.encode(ternary_values), rounded_up_scales(alpha, spec)
