"""Scheme: the weight and activation quantization of a layer — the unit the cost model ranks
and the sweeps enumerate.

    scheme = Scheme(weight="int4", act="int8", granularity="group", group_size=128)
    q = quantize(w, scheme.weight_spec, axis=-1)     # W[N, K]: groups along K
    qa = quantize_act(x, scheme, axis=-1)            # dynamic: calibrated on each call
    scheme.label                                     # "w4g128-a8"

Weights take the unprefixed fields, activations the ``act_`` ones; ``percentile`` serves both.
Defaults: weights per-channel with float16 scales, activations per-tensor with float32 scales;
granularity "mx" defaults (and is limited) to float8_e8m0fnu scales and blocks of 32. An IEEE
``act`` ("float16", "bfloat16", "float32") keeps activations in that format, rounded once and
unscaled (weight-only schemes such as W4A16); an IEEE ``weight`` likewise (the W16A16 baseline).

``method`` names the post-training quantization method that produced the weight codes (see
METHODS); hwsim only records the name: every method emits ordinary codes and scales of the
spec, computed by lowbit.models.ptq. ``kv`` is the element format of the key and value
activations stored in an attention layer's KV cache (None: kept as the projections output them).
"""
from __future__ import annotations

from dataclasses import dataclass

from lowbit.hwsim import formats
from lowbit.hwsim.quant.qtensor import QTensor, quantize
from lowbit.hwsim.quant.scales import MX_SCALE_FORMAT
from lowbit.hwsim.quant.spec import DEFAULT_PERCENTILE, QuantSpec, normalized_fields

WEIGHT_SCALE_FORMAT = "float16"
ACT_SCALE_FORMAT = "float32"

# Short tags that make up labels. Element formats: intN -> "N", a minifloat by its layout
# ("e4m3"), IEEE by width ("16", "bf16", "32"), log/binary/ternary by name ("log2_4", "bin",
# "tern").
_FORMAT_TAGS = {"binary": "bin", "ternary": "tern", "float16": "16", "bfloat16": "bf16",
                "float32": "32", MX_SCALE_FORMAT: "e8m0"}
_GRANULARITY_TAGS = {"tensor": "", "channel": "c", "mx": "mx"}
# Post-training quantization methods (lowbit.models.ptq implements them): round to nearest, GPTQ
# (Frantar et al. 2022), AWQ (Lin et al. 2023), SmoothQuant (Xiao et al. 2022), QuaRot-style
# randomized Hadamard rotation (Ashkboos et al. 2024).
METHODS = ("rtn", "gptq", "awq", "smoothquant", "rotation")
# KV-cache element formats: integer formats, one scale per token and head.
KV_FORMATS = ("int8", "int4")


@dataclass(frozen=True, kw_only=True)
class Scheme:
    """Weight and activation quantization; validated on construction (ValueError naming the
    field and its allowed values). Field meanings: see ``QuantSpec``. Keyword-only: a positional
    call raises TypeError (DESIGN.md: no positional config lists)."""
    weight: str
    act: str
    granularity: str = "channel"
    group_size: int | None = None
    scale_format: str | None = None      # None: float16 (float8_e8m0fnu for "mx")
    symmetric: bool = True
    calibration: str = "minmax"
    act_granularity: str = "tensor"
    act_group_size: int | None = None
    act_scale_format: str | None = None  # None: float32 (float8_e8m0fnu for "mx")
    act_symmetric: bool = True
    act_calibration: str = "minmax"
    percentile: float = DEFAULT_PERCENTILE
    method: str = "rtn"
    kv: str | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.kv is not None and self.kv not in KV_FORMATS:
            raise ValueError(f"kv must be None or one of {', '.join(KV_FORMATS)}, got {self.kv!r}")
        weight = normalized_fields(**self._spec_fields(""), names=self._names(""))
        act = normalized_fields(**self._spec_fields("act_"), names=self._names("act_"))
        for prefix, fields in (("", weight), ("act_", act)):
            for field in ("granularity", "group_size", "scale_format", "symmetric", "calibration"):
                object.__setattr__(self, prefix + field, fields[field])
        object.__setattr__(self, "percentile", weight["percentile"])

    @property
    def weight_spec(self) -> QuantSpec:
        return QuantSpec(**self._spec_fields(""))

    @property
    def act_spec(self) -> QuantSpec:
        return QuantSpec(**self._spec_fields("act_"))

    @property
    def kv_spec(self) -> QuantSpec | None:
        """The KV cache's spec: ``kv`` per row (one scale per token and head), or None."""
        if self.kv is None:
            return None
        return QuantSpec(format=self.kv, granularity="channel", scale_format=ACT_SCALE_FORMAT)

    @property
    def label(self) -> str:
        """Short, stable, unique id, e.g. "w4g128-a8", "we2m1mx-ae2m1mx", "w2g64z-a8",
        "w4g128-a16-gptq", "w8c-a8c-kv4".

        Per side: format tag, granularity tag (c, gN, mx; nothing for tensor and IEEE), "z" if
        asymmetric, "s" + scale format tag if not the default, "mse" or "pP" if not minmax
        calibration.
        """
        label = f"w{self._side_label(self.weight_spec, WEIGHT_SCALE_FORMAT)}" \
                f"-a{self._side_label(self.act_spec, ACT_SCALE_FORMAT)}"
        if self.kv is not None:
            label += f"-kv{format_tag(self.kv)}"
        return label if self.method == "rtn" else f"{label}-{self.method}"

    def _spec_fields(self, prefix: str) -> dict:
        fields = {"format": self.weight if prefix == "" else self.act,
                  "percentile": self.percentile}
        for field in ("granularity", "group_size", "scale_format", "symmetric", "calibration"):
            fields[field] = getattr(self, prefix + field)
        default_scale = ACT_SCALE_FORMAT if prefix else WEIGHT_SCALE_FORMAT
        if fields["scale_format"] is None and fields["granularity"] != "mx":
            fields["scale_format"] = default_scale
        return fields

    @staticmethod
    def _names(prefix: str) -> dict:
        names = {field: prefix + field for field in
                 ("granularity", "group_size", "scale_format", "symmetric", "calibration")}
        names["format"] = "act" if prefix else "weight"
        return names

    @staticmethod
    def _side_label(spec: QuantSpec, default_scale_format: str) -> str:
        tag = format_tag(spec.format)
        if spec.is_ieee:
            return tag
        if spec.granularity == "group":
            tag += f"g{spec.group_size}"
        else:
            tag += _GRANULARITY_TAGS[spec.granularity]
        if not spec.symmetric:
            tag += "z"
        if spec.granularity != "mx" and spec.scale_format != default_scale_format:
            tag += "s" + format_tag(spec.scale_format)
        if spec.calibration == "mse":
            tag += "mse"
        elif spec.calibration == "percentile":
            tag += f"p{spec.percentile:g}"
        return tag


def format_tag(name: str) -> str:
    """The short label tag of a format name (see ``Scheme.label``)."""
    if name in _FORMAT_TAGS:
        return _FORMAT_TAGS[name]
    fmt = formats.get(name)
    if fmt.kind == "int":
        return str(fmt.bits)
    if fmt.kind == "float":
        return name.split("_")[1].removesuffix("fn")
    return name


def quantize_act(x, scheme: Scheme, axis=-1) -> QTensor:
    """Quantize activations ``x`` under ``scheme.act_spec``, calibrated on ``x`` itself."""
    if not isinstance(scheme, Scheme):
        raise ValueError(f"scheme must be a Scheme, got {type(scheme).__name__}")
    return quantize(x, scheme.act_spec, axis=axis)
