"""MX fidelity through the native MX PE's arithmetic, and its gap to fake-quant.

The fidelity models (lowbit.models.fidelity.quantized) compute every GEMM as fake-quant: the
dequantized float32 operands multiplied by a torch float32 GEMM. The mx_mac PE
(lowbit.hwsim.pe.mx_mac) computes an MX dot product differently: exact products, an exact
fixed-point sum per block of 32, one float32 rounding per block (scaled by its two E8M0
exponents), float32 accumulation of the blocks in order. Both see the same codes, so the
only difference is where float32 rounds; :func:`pe_gemm` computes a QuantGemm layer's GEMM the
PE's way (lowbit.hwsim.units.mx.mx_dot, the unit MxMacPE is built from, then the layer's bias
added in float32 as torch adds it), and :func:`digits_cnn_gap` measures on the digits CNN (its
540 test images) the top-1 accuracy both ways and, per layer, the largest output difference
relative to the layer's largest fake-quant output.

    python -P -m lowbit.models.fidelity.mx_pe        # the table for mxfp8, mxfp6, mxfp4

SmolLM2 is not run through the PE arithmetic: its ~10^12 MACs per evaluation in the exact
block kernel would take hours; the digits CNN's gap says how far fake-quant is from it.
"""
from __future__ import annotations

import numpy as np
import torch

from lowbit.hwsim import formats
from lowbit.hwsim.units.mx import mx_dot

ROWS_PER_CHUNK = 1024   # output rows per mx_dot call (bounds the broadcast operands' memory)
MX_SCHEMES = ("mxfp8", "mxfp6", "mxfp4")


def _e8m0(scales: np.ndarray) -> np.ndarray:
    """E8M0 codes of MX scales (float32 powers of two)."""
    return formats.get("float8_e8m0fnu").encode(np.asarray(scales, np.float64))


def pe_gemm(layer, x2d: torch.Tensor) -> torch.Tensor:
    """``layer`` (a QuantGemm of an MX scheme)'s GEMM on x2d [M, K] the mx_mac way (module
    docstring): float32 [M, N]."""
    from lowbit.hwsim import quant
    from lowbit.models.fidelity.quantized import pad
    scheme = layer.scheme
    if scheme.weight_spec.granularity != "mx" or scheme.act_spec.granularity != "mx":
        raise ValueError(f"layer must be quantized by an MX scheme, got {scheme.label}")
    weight = layer.qweight
    act = quant.quantize(pad(x2d.detach().to(torch.float32).numpy(), weight.codes.shape[1]),
                         scheme.act_spec, axis=-1)
    fmt_a, fmt_w = scheme.act_spec.element_format.name, scheme.weight_spec.element_format.name
    w_codes, w_scales = weight.codes, _e8m0(weight.scales)
    a_scales = _e8m0(act.scales)
    n = w_codes.shape[0]
    out = np.empty((act.codes.shape[0], n), np.uint32)
    for first in range(0, len(out), ROWS_PER_CHUNK):
        rows = slice(first, first + ROWS_PER_CHUNK)
        count = len(act.codes[rows])
        out[rows] = mx_dot(np.repeat(act.codes[rows], n, axis=0),
                           np.repeat(a_scales[rows], n, axis=0),
                           np.tile(w_codes, (count, 1)), np.tile(w_scales, (count, 1)),
                           fmt_a, fmt_w).reshape(count, n)
    y = torch.from_numpy(out.view(np.float32))
    return y if layer.bias is None else y + layer.bias


def _with_pe_arithmetic(model):
    """``model`` with every QuantGemm's gemm replaced by :func:`pe_gemm` (in place)."""
    from lowbit.models.fidelity.quantized import quantized_layers
    for layer in quantized_layers(model):
        layer.gemm = lambda x2d, layer=layer: pe_gemm(layer, x2d)
    return model


def digits_cnn_gap(scheme_name: str) -> dict:
    """{"scheme", "fake_top1", "pe_top1", "layer_gaps"} of the digits CNN under MX preset
    ``scheme_name``: top-1 with fake-quant and with the PE arithmetic, and per quantized layer
    max |pe - fake| / max |fake| over its outputs on the test images (the layer's inputs are the
    fake-quant network's, so each gap is that layer's alone)."""
    from lowbit.hwsim import quant
    from lowbit.models.fidelity import digits_cnn
    from lowbit.models.fidelity.quantized import quantized_layers
    scheme = quant.preset(scheme_name)
    fake = digits_cnn.quantized_model(scheme)
    gaps = []
    for layer in quantized_layers(fake):
        def measured(x2d, layer=layer, gemm=layer.gemm):
            want = gemm(x2d)
            got = pe_gemm(layer, x2d)
            gaps.append(float((got - want).abs().max() / want.abs().max()))
            return want
        layer.gemm = measured
    fake_top1 = digits_cnn.accuracy(fake)
    pe_top1 = digits_cnn.accuracy(_with_pe_arithmetic(digits_cnn.quantized_model(scheme)))
    return {"scheme": scheme_name, "fake_top1": fake_top1, "pe_top1": pe_top1,
            "layer_gaps": gaps}


def main() -> int:
    from lowbit.hwsim.bench.table import format_table
    records = []
    for name in MX_SCHEMES:
        result = digits_cnn_gap(name)
        records.append({"scheme": name, "top1 fake-quant": result["fake_top1"],
                        "top1 mx_mac": result["pe_top1"],
                        "max gap per layer": " ".join(f"{gap:.2e}"
                                                      for gap in result["layer_gaps"])})
    print(format_table(records, ("scheme", "top1 fake-quant", "top1 mx_mac",
                                 "max gap per layer")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
