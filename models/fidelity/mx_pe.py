"""MX fidelity through the native MX PE's arithmetic, and its gap to fake-quant.

The fidelity models (lowbit.models.fidelity.quantized) compute every GEMM as fake-quant: the
dequantized float32 operands multiplied by a torch float32 GEMM. The mx_mac PE
(lowbit.hwsim.pe.mx_mac) computes an MX dot product differently: exact products, an exact
fixed-point sum per block of 32, one float32 rounding per block (scaled by its two E8M0
exponents), float32 accumulation of the blocks in order. Both see the same codes, so the
only difference is where float32 rounds; :func:`pe_gemm` computes a QuantGemm layer's GEMM the
PE's way (the layer's PE-arithmetic GEMM with ``MX_MAC``: lowbit.hwsim.gemm_mx, bit for bit the
mx_dot unit MxMacPE is built from, then the layer's bias added in float32 as torch adds it), and
:func:`digits_cnn_gap` measures on the digits CNN (its 540 test images) the top-1 accuracy both
ways and, per layer, the largest output difference relative to the layer's largest fake-quant
output.

    python -P -m lowbit.models.fidelity.mx_pe        # the table for mxfp8, mxfp6, mxfp4

The evaluator runs the same arithmetic for any fidelity model (an MX or FP8 scheme on mx_mac with
a PE-arithmetic key, lowbit.models.evaluator).
"""
from __future__ import annotations

import torch

from lowbit.hwsim import gemm

MX_SCHEMES = ("mxfp8", "mxfp6", "mxfp4")
MX_MAC = gemm.PEArithmetic(float_pe="mx_mac")   # mx_mac's arithmetic (lowbit.hwsim.gemm_mx)


def pe_gemm(layer, x2d: torch.Tensor) -> torch.Tensor:
    """``layer`` (a QuantGemm of an MX scheme)'s GEMM on x2d [M, K] the mx_mac way (module
    docstring): float32 [M, N]."""
    scheme = layer.scheme
    if scheme.weight_spec.granularity != "mx" or scheme.act_spec.granularity != "mx":
        raise ValueError(f"layer must be quantized by an MX scheme, got {scheme.label}")
    return layer.pe_gemm(x2d, MX_MAC)


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
