"""QuantSpec: how one tensor is quantized (format, granularity, scale format, calibration).

A ``Scheme`` holds two of them, ``weight_spec`` and ``act_spec``. The checks live here as
functions taking the user-facing field names, so ``Scheme`` reports ``act_granularity`` where
``QuantSpec`` reports ``granularity``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from lowbit.hwsim import formats
from lowbit.hwsim.quant import ieee
from lowbit.hwsim.quant.scales import MX_SCALE_FORMAT, check_scale_format

GRANULARITIES = ("tensor", "channel", "group", "mx")
CALIBRATIONS = ("minmax", "percentile", "mse")
MX_BLOCK_SIZE = 32  # OCP MX v1.0: every MX format shares one scale over 32 elements
DEFAULT_PERCENTILE = 99.99

# Element formats a tensor may be quantized to: the signed formats of the registry (unsigned
# intN is the code grid of asymmetric quantization, chosen by symmetric=False; int1 holds only
# {-1, 0}, so amax / max has no meaning) plus the IEEE formats, which mean "unscaled".
_ELEMENT_KINDS = ("float", "int", "log", "binary", "ternary")


def element_format_names() -> tuple[str, ...]:
    registered = [formats.get(name) for name in formats.names()]
    signed = [fmt.name for fmt in registered
              if fmt.kind in _ELEMENT_KINDS and fmt.lowest < 0 and fmt.max >= 1]
    return tuple(signed) + ieee.IEEE_FORMATS


@dataclass(frozen=True, kw_only=True)
class QuantSpec:
    """How to quantize one tensor. Keyword-only, e.g. ``QuantSpec(format="int4",
    granularity="group", group_size=128)``; a positional call raises TypeError.

    format       element format name (``element_format_names()``); an IEEE name ("float16",
                 "bfloat16", "float32") means: round once to it, no scale (granularity,
                 group_size, scale_format and calibration are then normalized to "tensor",
                 None, "float32", "minmax")
    granularity  "tensor" | "channel" | "group" | "mx" (see ``lowbit.hwsim.quant.granularity``)
    group_size   "group": elements per group along the axis; "mx": 32 (None means 32);
                 "tensor"/"channel": None
    scale_format "float16" | "bfloat16" | "float32" | "float8_e8m0fnu"; None means
                 "float8_e8m0fnu" for "mx" (the only one allowed there), "float32" otherwise
    symmetric    False only for int formats: codes on the uintN grid with a zero point
    calibration  "minmax" | "percentile" | "mse" (see ``lowbit.hwsim.quant.calibrate``); "mx",
                 binary and ternary take "minmax" only (their scale rule is fixed)
    percentile   the percentile of |x| that "percentile" clips at, in [50, 100]
    """
    format: str
    granularity: str = "tensor"
    group_size: int | None = None
    scale_format: str | None = None
    symmetric: bool = True
    calibration: str = "minmax"
    percentile: float = DEFAULT_PERCENTILE

    def __post_init__(self):
        for name, value in normalized_fields(**self.__dict__).items():
            object.__setattr__(self, name, value)

    @property
    def is_ieee(self) -> bool:
        return self.format in ieee.IEEE_FORMATS

    @property
    def element_format(self) -> formats.Format:
        """The registry format of the codes: uintN for asymmetric intN. Not for IEEE specs."""
        if self.is_ieee:
            raise ValueError(f"spec format {self.format!r} is IEEE and has no registry format")
        fmt = formats.get(self.format)
        return fmt if self.symmetric else formats.get(f"uint{fmt.bits}")

    @property
    def bits(self) -> int:
        if self.is_ieee:
            return 16 if self.format in ("float16", "bfloat16") else 32
        return formats.get(self.format).bits


def normalized_fields(format, granularity="tensor", group_size=None, scale_format=None,
                      symmetric=True, calibration="minmax", percentile=DEFAULT_PERCENTILE,
                      names=None) -> dict:
    """Validate one spec's fields; return them normalized (defaults resolved).

    ``names`` maps a field to the name used in error messages (default: the field's own).
    """
    names = {field: (names or {}).get(field, field)
             for field in ("format", "granularity", "group_size", "scale_format", "symmetric",
                           "calibration", "percentile")}
    _check_choice(format, element_format_names(), names["format"])
    _check_choice(granularity, GRANULARITIES, names["granularity"])
    _check_choice(calibration, CALIBRATIONS, names["calibration"])
    if not isinstance(symmetric, bool):
        raise ValueError(f"{names['symmetric']} must be True or False, got {symmetric!r}")
    _check_percentile(percentile, names["percentile"])
    if format in ieee.IEEE_FORMATS:
        if not symmetric:
            raise ValueError(f"{names['symmetric']}=False needs an int format; {names['format']} "
                             f"{format!r} is IEEE (unscaled)")
        return dict(format=format, granularity="tensor", group_size=None, scale_format="float32",
                    symmetric=True, calibration="minmax", percentile=float(percentile))
    kind = formats.get(format).kind
    group_size = _normalized_group_size(group_size, granularity, names["group_size"])
    scale_format = _normalized_scale_format(scale_format, granularity, names)
    if not symmetric and kind != "int":
        raise ValueError(f"{names['symmetric']}=False needs an int format (int2..int8); "
                         f"{names['format']} {format!r} is {kind} and symmetric only")
    if calibration != "minmax" and granularity == "mx":
        raise ValueError(f"{names['calibration']} must be 'minmax' with {names['granularity']} "
                         f"'mx' (OCP MX fixes the scale from amax), got {calibration!r}")
    if calibration != "minmax" and kind in ("binary", "ternary"):
        raise ValueError(f"{names['calibration']} must be 'minmax' for {kind} "
                         f"(alpha is the XNOR-Net / TWN formula), got {calibration!r}")
    if granularity == "mx" and kind not in ("float", "int", "log"):
        raise ValueError(f"{names['granularity']} 'mx' needs a float, int or log element format, "
                         f"got {names['format']} {format!r}")
    if granularity == "mx" and not symmetric:
        raise ValueError(f"{names['symmetric']} must be True with granularity 'mx' "
                         f"(MX has no zero point)")
    return dict(format=format, granularity=granularity, group_size=group_size,
                scale_format=scale_format, symmetric=symmetric, calibration=calibration,
                percentile=float(percentile))


def _check_choice(value, allowed, argname: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{argname} must be one of {', '.join(allowed)}; got {value!r}")


def _check_percentile(percentile, argname: str) -> None:
    if (isinstance(percentile, bool) or not isinstance(percentile, numbers.Real)
            or not 50 <= percentile <= 100):
        raise ValueError(f"{argname} must be a number in [50, 100], got {percentile!r}")


def _normalized_group_size(group_size, granularity: str, argname: str):
    if granularity == "group":
        if isinstance(group_size, bool) or not isinstance(group_size, numbers.Integral) \
                or group_size < 1:
            raise ValueError(f"{argname} must be a positive int for granularity 'group', "
                             f"got {group_size!r}")
        return int(group_size)
    if granularity == "mx":
        if group_size not in (None, MX_BLOCK_SIZE) or isinstance(group_size, bool):
            raise ValueError(f"{argname} must be None or {MX_BLOCK_SIZE} for granularity 'mx' "
                             f"(OCP MX v1.0 blocks), got {group_size!r}")
        return MX_BLOCK_SIZE
    if group_size is not None:
        raise ValueError(f"{argname} must be None for granularity {granularity!r}, "
                         f"got {group_size!r}")
    return None


def _normalized_scale_format(scale_format, granularity: str, names: dict) -> str:
    if scale_format is None:
        return MX_SCALE_FORMAT if granularity == "mx" else "float32"
    check_scale_format(scale_format, names["scale_format"])
    if granularity == "mx" and scale_format != MX_SCALE_FORMAT:
        raise ValueError(f"{names['scale_format']} must be {MX_SCALE_FORMAT!r} (or None) for "
                         f"{names['granularity']} 'mx', got {scale_format!r}")
    return scale_format
