"""Scales from clipping ranges, and scaled encode/decode of grouped tensors.

Arrays here are grouped (see ``lowbit.hwsim.quant.granularity``): data ``(rows, groups, length)``,
per-group scales and zero points ``(rows, groups)``.

Symmetric (every format):  s = roundup(clip / fmt.max),  code = encode(x / s, saturate=True)
Asymmetric (intN only):    s = roundup((hi - lo) / (2^N - 1)),  z = rint(-lo / s) clipped to
                           0 .. 2^N - 1,  code = uintN.encode(x / s + z)  (round half to even
                           in the code domain, then saturate to the uintN range)
MX:                        s = 2^(floor(log2(amax)) - emax_elem), emax_elem = floor(log2(fmt.max)),
                           the exponent clamped below to -127 (OCP MX v1.0)
Dequantize:                x_hat = float32((decode(code) - z) * s), the product formed in float64
                           and converted once to float32. It is exact in float64 for every format
                           but logsqrt2_4, whose levels are irrational: its float64 level (decode
                           gives float64 there, never a float32-rounded level) times s is rounded
                           in float64, then converted to float32.

roundup is ``scales.round_up`` to the spec's scale format (why up: see ``lowbit.hwsim.quant.scales``);
after it, s * fmt.max >= clip holds exactly (see ``_scales_covering``).
x / s (and x / s + z) is computed in float64: for float32 x and every scale format the
quotient's one rounding never moves it across a dyadic rounding boundary (those of the int,
float and log2 formats), so their codes are those of the exact quotient; logsqrt2_4's
irrational boundaries are compared with the float64 quotient. A group whose clip is 0 gets
``zero_group_scale(spec)`` and zero point 0. A scale beyond the scale format's range raises
ValueError naming x.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.quant import scales
from lowbit.hwsim.quant.spec import QuantSpec


def symmetric_scales(clip: np.ndarray, spec: QuantSpec) -> np.ndarray:
    """float32 scales with s * fmt.max >= clip, from per-group clips >= 0."""
    return _scales_covering(clip, spec.element_format.max, spec)


def asymmetric_scales(lo: np.ndarray, hi: np.ndarray, spec: QuantSpec):
    """(float32 scales, uint8 zero points) from per-group ranges lo <= 0 <= hi."""
    top = spec.element_format.max  # 2^N - 1 of the uintN code grid
    s = _scales_covering(hi - lo, top, spec)
    z = np.clip(np.rint(-lo / s.astype(np.float64)), 0, top).astype(np.uint8)
    return s, z


def mx_scales(amax: np.ndarray, spec: QuantSpec) -> np.ndarray:
    """float32 MX shared scales 2^shared_exp from per-block amax (OCP MX v1.0)."""
    zero = amax == 0
    emax_elem = int(scales.floor_log2(np.float64(spec.element_format.max)))
    shared_exp = scales.floor_log2(np.where(zero, 1.0, amax)) - emax_elem
    s = scales.power_of_two(np.maximum(shared_exp, scales.E8M0_MIN_EXP))
    s = np.where(zero, zero_group_scale(spec), s)
    return checked_finite(s, spec, amax)


def rounded_up_scales(s: np.ndarray, spec: QuantSpec) -> np.ndarray:
    """Positive float64 scales rounded up to the scale format; 0 -> ``zero_group_scale(spec)``."""
    zero = s == 0
    rounded = scales.round_up(np.where(zero, 1.0, s), spec.scale_format)
    return checked_finite(np.where(zero, zero_group_scale(spec), rounded), spec, s)


def zero_group_scale(spec: QuantSpec) -> np.float32:
    """The scale of an all-zero group.

    ``scales.ZERO_GROUP_SCALE`` (1.0) when the element format has a zero code: the codes are all 0
    and x_hat = 0 exactly. binary has no zero code, so its codes are +1 and x_hat = +s: s is then
    ``scales.SMALLEST_SCALE`` of the scale format (2^-24 for float16, 2^-133 bfloat16, 2^-149
    float32, 2^-127 float8_e8m0fnu), the least error any scale gives. Hardware that flushes that
    subnormal scale to zero yields x_hat = 0, which is exact.
    """
    if (spec.element_format.values() == 0).any():
        return np.float32(scales.ZERO_GROUP_SCALE)
    return np.float32(scales.SMALLEST_SCALE[spec.scale_format])


def checked_finite(s: np.ndarray, spec: QuantSpec, wanted: np.ndarray) -> np.ndarray:
    if not np.isfinite(s).all():
        worst = float(np.max(wanted))
        raise ValueError(f"x needs a scale of about {worst:.6g}, beyond the largest "
                         f"{spec.scale_format} value; use a wider scale_format "
                         f"(float32 or bfloat16)")
    return s.astype(np.float32)


def encode_groups(xg: np.ndarray, s: np.ndarray, z, spec: QuantSpec) -> np.ndarray:
    """Codes of grouped x with per-group scales s and zero points z (None if symmetric)."""
    scaled = xg.astype(np.float64) / s.astype(np.float64)[..., None]
    if z is not None:
        scaled += z[..., None]
    return spec.element_format.encode(scaled, saturate=True)


def decode_groups(codes: np.ndarray, s: np.ndarray, z, spec: QuantSpec) -> np.ndarray:
    """(decode(code) - z) * s per element as float64: exact, but for logsqrt2_4 (see above)."""
    values = spec.element_format.decode(codes).astype(np.float64)
    if z is not None:
        values -= z[..., None]
    return values * s.astype(np.float64)[..., None]


def _scales_covering(span: np.ndarray, top: float, spec: QuantSpec) -> np.ndarray:
    # span / top is rounded once in float64, yet s * top >= span holds exactly: top is a power
    # of two (exact quotient) or not, and then a scale-format value u below the exact quotient
    # is more than half a float64 ulp below it (span - u*top is a multiple of ulp(span), and
    # 2^ceil(log2 top) / top > 1), so the float64 quotient never rounds down onto u.
    return rounded_up_scales(span / top, spec)
