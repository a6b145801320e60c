"""QTensor and the two entry points, ``quantize`` and ``dequantize``.

    q = quantize(x, spec, axis=-1)   # x: float32/float64 ndarray, finite, at least 1-d,
                                     # |x| <= the largest float32 (3.4028235e38)
    x_hat = dequantize(q)            # float32, x's shape

QTensor fields (the contract the GPU kernels and RTL code against):
  codes        unpacked codes of ``spec.element_format`` (uint8; the uintN grid for asymmetric
               intN), x's shape. IEEE specs: the float16/bfloat16 (uint16) or float32 (uint32)
               bit patterns of x rounded once to nearest-even.
  scales       float32, x's shape with the axis length replaced by the number of groups (1 for
               "channel"; all dims 1 for "tensor"); each one finite, positive and exactly a
               value of ``spec.scale_format``. IEEE specs: a single 1.0.
  zero_points  None when symmetric; else uint8 in 0 .. 2^N - 1, the shape of ``scales``
  spec         the QuantSpec used
  shape        x's shape
  axis         the reduction axis, normalized to 0 .. ndim - 1

x_hat = float32((decode(code) - z) * s), the product formed in float64 and converted once to
float32; it is exact before that conversion for every format but logsqrt2_4, whose float64 level
times s is rounded in float64 first (``scaling`` says why). How each format family gets its
scales: ``scaling`` (symmetric, asymmetric, MX; all-zero groups), ``sign_quant`` (binary,
ternary), ``calibrate`` (clipping ranges).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowbit.hwsim.formats import as_float_array
from lowbit.hwsim.quant import calibrate, ieee, scales
from lowbit.hwsim.quant.granularity import grouping, normalize_axis
from lowbit.hwsim.quant.scaling import (asymmetric_scales, decode_groups, encode_groups, mx_scales,
                                 symmetric_scales)
from lowbit.hwsim.quant.sign_quant import twn_quantize, xnor_quantize
from lowbit.hwsim.quant.spec import QuantSpec


@dataclass(frozen=True, eq=False)
class QTensor:
    """A quantized tensor; validated on construction (ValueError naming the field)."""
    codes: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray | None
    spec: QuantSpec
    shape: tuple[int, ...]
    axis: int = -1

    def __post_init__(self):
        if not isinstance(self.spec, QuantSpec):
            raise ValueError(f"spec must be a QuantSpec, got {type(self.spec).__name__}")
        shape = tuple(int(n) for n in self.shape)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "axis", normalize_axis(self.axis, len(shape)))
        _check_codes(self.codes, self.spec, shape)
        scales_shape = grouping(shape, self.spec, self.axis).scales_shape
        _check_scales(self.scales, self.spec, scales_shape)
        _check_zero_points(self.zero_points, self.spec, scales_shape)


def quantize(x, spec: QuantSpec, axis=-1) -> QTensor:
    """Quantize ``x`` under ``spec`` with groups along ``axis`` (see the module docstring).

    Range rule: float64 ``x`` beyond the float32 range is refused, not saturated (ValueError).
    Scales and ``dequantize``'s x_hat are float32, so such a value could come back only as inf
    or as a silently clipped number. IEEE specs refuse what rounds past their own largest value.
    """
    x = _checked_x(x)
    if not isinstance(spec, QuantSpec):
        raise ValueError(f"spec must be a QuantSpec (e.g. Scheme.weight_spec), "
                         f"got {type(spec).__name__}")
    if spec.is_ieee:
        return _quantize_ieee(x, spec, axis)
    _check_float32_range(x)
    layout = grouping(x.shape, spec, axis)
    xg = layout.to_groups(x)
    codes, s, z = _quantize_groups(xg, spec)
    return QTensor(codes=layout.from_groups(codes), scales=layout.scales_from_groups(s),
                   zero_points=None if z is None else layout.scales_from_groups(z),
                   spec=spec, shape=x.shape, axis=layout.axis)


def dequantize(q: QTensor) -> np.ndarray:
    """float32 x_hat = (decode(code) - z) * s, converted once to float32 (module docstring)."""
    if not isinstance(q, QTensor):
        raise ValueError(f"q must be a QTensor, got {type(q).__name__}")
    if q.spec.is_ieee:
        return ieee.decode(q.codes, q.spec.format)
    layout = grouping(q.shape, q.spec, q.axis)
    z = None if q.zero_points is None else layout.scales_to_groups(q.zero_points)
    x_hat = decode_groups(layout.to_groups(q.codes), layout.scales_to_groups(q.scales), z, q.spec)
    return layout.from_groups(x_hat.astype(np.float32))


def _quantize_groups(xg: np.ndarray, spec: QuantSpec):
    """(codes, scales, zero points or None) of grouped x."""
    kind = spec.element_format.kind
    if kind == "binary":
        return (*xnor_quantize(xg, spec), None)
    if kind == "ternary":
        return (*twn_quantize(xg, spec), None)
    if spec.granularity == "mx":
        s, z = mx_scales(np.abs(xg).max(axis=-1).astype(np.float64), spec), None
    elif spec.symmetric:
        s, z = symmetric_scales(calibrate.symmetric_clip(xg, spec), spec), None
    else:
        s, z = asymmetric_scales(*calibrate.asymmetric_range(xg, spec), spec)
    return encode_groups(xg, s, z, spec), s, z


def _quantize_ieee(x: np.ndarray, spec: QuantSpec, axis) -> QTensor:
    axis = normalize_axis(axis, x.ndim)
    codes = ieee.encode(x, spec.format)
    if not np.isfinite(ieee.decode(codes, spec.format)).all():
        raise ValueError(f"x has values beyond the largest {spec.format} value "
                         f"(max |x| = {float(np.max(np.abs(x))):.6g})")
    return QTensor(codes=codes, scales=np.ones((1,) * x.ndim, dtype=np.float32),
                   zero_points=None, spec=spec, shape=x.shape, axis=axis)


def _checked_x(x) -> np.ndarray:
    x = as_float_array(x, "x")
    if x.ndim == 0 or x.size == 0:
        raise ValueError(f"x must be a non-empty array with at least 1 dimension, "
                         f"got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x must be finite (it contains NaN or inf)")
    return x


def _check_float32_range(x: np.ndarray) -> None:
    largest = float(np.finfo(np.float32).max)
    peak = float(np.max(np.abs(x)))
    if peak > largest:
        raise ValueError(f"x must lie within the float32 range, |x| <= {largest:.8g} (scales "
                         f"and dequantized values are float32), got max |x| = {peak:.6g}")


def _check_codes(codes, spec: QuantSpec, shape) -> None:
    if not isinstance(codes, np.ndarray) or codes.shape != shape:
        raise ValueError(f"codes must be an ndarray of shape {shape}, "
                         f"got {getattr(codes, 'shape', type(codes).__name__)}")
    if spec.is_ieee:
        wanted = np.uint32 if spec.format == "float32" else np.uint16
        if codes.dtype != wanted:
            raise ValueError(f"codes must have dtype {np.dtype(wanted)} for {spec.format}, "
                             f"got {codes.dtype}")
        return
    spec.element_format.check_codes(codes, "codes")


def _check_scales(s, spec: QuantSpec, scales_shape) -> None:
    if not isinstance(s, np.ndarray) or s.dtype != np.float32 or s.shape != scales_shape:
        raise ValueError(f"scales must be a float32 ndarray of shape {scales_shape}, got "
                         f"{getattr(s, 'dtype', type(s).__name__)} "
                         f"{getattr(s, 'shape', '')}")
    if spec.is_ieee and not (s == 1).all():
        raise ValueError(f"scales must be 1.0 for the unscaled format {spec.format}")
    if not scales.representable(s, spec.scale_format).all():
        raise ValueError(f"scales must be finite, positive values of scale_format "
                         f"{spec.scale_format}")


def _check_zero_points(z, spec: QuantSpec, scales_shape) -> None:
    if spec.symmetric:
        if z is not None:
            raise ValueError("zero_points must be None for a symmetric spec")
        return
    top = spec.element_format.n_codes - 1
    if not isinstance(z, np.ndarray) or z.dtype != np.uint8 or z.shape != scales_shape:
        raise ValueError(f"zero_points must be a uint8 ndarray of shape {scales_shape} for an "
                         f"asymmetric spec, got {getattr(z, 'dtype', type(z).__name__)}")
    if z.size and z.max() > top:
        raise ValueError(f"zero_points must be in 0..{top}, got max {z.max()}")
