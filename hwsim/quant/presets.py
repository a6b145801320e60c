"""Named schemes: the cost model and the sweeps enumerate these by name (the names are binding).

Unless a description says otherwise: weight scales float16, activation scales float32, weights
min-max calibrated, activations calibrated on each call (dynamic min-max). Integer activations
are quantized per token (one scale per row along K, act_granularity "channel"), as W8A8 LLM
inference does: on all-MiniLM-L6-v2 per-tensor int8 activations cost 0.014 of embedding cosine
(0.984 vs 0.998) through activation outliers, which per-token scales avoid.

W8A8 is "int8" (its SmoothQuant variant "w8a8-smoothquant"), W4A8 g128 is "int4-g128", FP8
W8A8 is "fp8-e4m3": the LLM families below reuse those rather than repeat a scheme under two
names.
"""
from __future__ import annotations

from lowbit.hwsim.quant.scheme import Scheme


def _llm_family(name: str, description: str, methods: tuple[str, ...], **fields) -> dict:
    """Presets ``name`` (rtn) and ``name-<method>`` for each of ``methods``: one format."""
    return {name if method == "rtn" else f"{name}-{method}":
            (description if method == "rtn" else f"{description}; {method} codes",
             Scheme(**fields, method=method))
            for method in methods}


# name -> (one-line description, scheme)
_PRESETS = {
    "fp16": ("W16A16 baseline: weights and activations rounded to float16, unscaled",
             Scheme(weight="float16", act="float16")),
    "int8": ("W8A8: int8 weights per output channel, int8 activations per token",
             Scheme(weight="int8", act="int8", granularity="channel", act_granularity="channel")),
    "int4-pc": ("W4A8: int4 weights per output channel, int8 activations per token",
                Scheme(weight="int4", act="int8", granularity="channel", act_granularity="channel")),
    "int4-g128": ("W4A8: int4 weights in groups of 128 along K, int8 activations per token",
                  Scheme(weight="int4", act="int8", granularity="group", group_size=128,
                         act_granularity="channel")),
    "int4-g128-a16": ("W4A16 weight-only: int4 weights in groups of 128, float16 activations",
                      Scheme(weight="int4", act="float16", granularity="group", group_size=128)),
    "int2-g64": ("W2A8: asymmetric 2-bit weights (uint2 codes, zero point) in groups of 64, "
                 "int8 activations per token",
                 Scheme(weight="int2", act="int8", granularity="group", group_size=64,
                        symmetric=False, act_granularity="channel")),
    "fp8-e4m3": ("FP8 E4M3 weights per output channel and activations per tensor",
                 Scheme(weight="float8_e4m3fn", act="float8_e4m3fn", granularity="channel")),
    "fp8-e5m2": ("FP8 E5M2 weights per output channel and activations per tensor",
                 Scheme(weight="float8_e5m2", act="float8_e5m2", granularity="channel")),
    "mxfp8": ("MXFP8: E4M3 weights and activations in MX blocks of 32 with E8M0 scales",
              Scheme(weight="float8_e4m3fn", act="float8_e4m3fn", granularity="mx",
                     act_granularity="mx")),
    "mxfp6": ("MXFP6: E2M3 weights and activations in MX blocks of 32 with E8M0 scales",
              Scheme(weight="float6_e2m3fn", act="float6_e2m3fn", granularity="mx",
                     act_granularity="mx")),
    "mxfp4": ("MXFP4: E2M1 weights and activations in MX blocks of 32 with E8M0 scales",
              Scheme(weight="float4_e2m1fn", act="float4_e2m1fn", granularity="mx",
                     act_granularity="mx")),
    "log2_4": ("4-bit power-of-two (log2_4) weights per output channel, int8 activations per token",
               Scheme(weight="log2_4", act="int8", granularity="channel", act_granularity="channel")),
    "binary": ("binary weights (XNOR-Net, alpha = mean |w| per output channel), int8 activations per token",
               Scheme(weight="binary", act="int8", granularity="channel", act_granularity="channel")),
    "binary-a1": ("W1A1 (XNOR-Net): binary weights (alpha = mean |w| per output channel) and "
                  "binary activations (beta = mean |x| per token)",
                  Scheme(weight="binary", act="binary", granularity="channel",
                         act_granularity="channel")),
    "ternary": ("ternary weights (TWN, delta = 0.7 mean |w|, per output channel), int8 "
                "activations per token",
                Scheme(weight="ternary", act="int8", granularity="channel", act_granularity="channel")),
    # The LLM schemes that PTQ papers compare (GPTQ, AWQ, SmoothQuant, QuaRot). Weight-only
    # ones use asymmetric weights (zero points), as those papers' W4/W3/W2 results do; the
    # method suffix names how the codes were chosen (lowbit.models.ptq), the codes' format
    # is the same.
    **_llm_family("w4a16-g128", "W4A16: asymmetric int4 weights in groups of 128, float16 "
                  "activations", ("rtn", "gptq", "awq"),
                  weight="int4", act="float16", granularity="group", group_size=128,
                  symmetric=False),
    **_llm_family("w3a16-g128", "W3A16: asymmetric int3 weights in groups of 128, float16 "
                  "activations", ("rtn", "gptq", "awq"),
                  weight="int3", act="float16", granularity="group", group_size=128,
                  symmetric=False),
    **_llm_family("w2a16-g64", "W2A16: asymmetric int2 weights in groups of 64, float16 "
                  "activations", ("rtn", "gptq"),
                  weight="int2", act="float16", granularity="group", group_size=64,
                  symmetric=False),
    **_llm_family("w8a8", "W8A8: int8 weights per output channel, int8 activations per token",
                  ("smoothquant",), weight="int8", act="int8", granularity="channel",
                  act_granularity="channel"),
    **_llm_family("w4a4", "W4A4: int4 weights per output channel, int4 activations per token",
                  ("rtn", "rotation"), weight="int4", act="int4", granularity="channel",
                  act_granularity="channel"),
    "w8a8-kv8": ("W8A8 (as int8) with the KV cache in int8, one scale per token and head",
                 Scheme(weight="int8", act="int8", granularity="channel",
                        act_granularity="channel", kv="int8")),
    "w8a8-kv4": ("W8A8 (as int8) with the KV cache in int4, one scale per token and head",
                 Scheme(weight="int8", act="int8", granularity="channel",
                        act_granularity="channel", kv="int4")),
}


def preset_names() -> list[str]:
    """Every preset name, in a stable order (baseline first, then by weight bits, roughly)."""
    return list(_PRESETS)


def preset(name) -> Scheme:
    """The Scheme of preset ``name``; ValueError listing the presets otherwise."""
    return _PRESETS[_checked(name)][1]


def preset_description(name) -> str:
    """The one-line description of preset ``name``."""
    return _PRESETS[_checked(name)][0]


def _checked(name) -> str:
    if not isinstance(name, str) or name not in _PRESETS:
        raise ValueError(f"name must be one of the presets {', '.join(_PRESETS)}; got {name!r}")
    return name
