"""lowbit.models.fidelity.mx_pe: a QuantGemm's GEMM computed the mx_mac way equals the MxMacPE
model run beat by beat on the layer's codes and scales (plus the bias in float32)."""
import numpy as np
import pytest
import torch

from lowbit.hwsim import formats, quant
from lowbit.hwsim.pe import Beat, MxMacPE, MxMacPEConfig
from lowbit.models.fidelity.mx_pe import pe_gemm
from lowbit.models.fidelity.quantized import QuantGemm, pad

SEED = 20261207


def _pe_outputs(layer, x: np.ndarray, lanes: int = 16) -> np.ndarray:
    """Every output of the layer by MxMacPE: one dot product of K / lanes beats per output."""
    spec = layer.scheme.act_spec
    act = quant.quantize(pad(x, layer.qweight.codes.shape[1]), spec, axis=-1)
    e8m0 = formats.get("float8_e8m0fnu")
    sa, sw = e8m0.encode(act.scales.astype(np.float64)), e8m0.encode(
        layer.qweight.scales.astype(np.float64))
    pe = MxMacPE(MxMacPEConfig(lanes=lanes, fmt=spec.element_format.name))
    out = np.empty((len(x), layer.qweight.codes.shape[0]), np.uint32)
    for m in range(out.shape[0]):
        for n in range(out.shape[1]):
            k = act.codes.shape[1]
            beats = [Beat(act=act.codes[m, i:i + lanes], wgt=layer.qweight.codes[n, i:i + lanes],
                          last=i + lanes >= k, act_scale=int(sa[m, i // 32]),
                          wgt_scale=int(sw[n, i // 32])) for i in range(0, k, lanes)]
            (out[m, n],) = pe.run(beats).values
    return out.view(np.float32)


@pytest.mark.parametrize("scheme", ["mxfp8", "mxfp6", "mxfp4"])
def test_pe_gemm_is_the_mx_mac_model(scheme):
    rng = np.random.default_rng(SEED)
    weight = torch.from_numpy(rng.standard_t(3, (3, 40)).astype(np.float32))
    bias = torch.from_numpy(rng.standard_normal(3).astype(np.float32))
    layer = QuantGemm(weight, bias, quant.preset(scheme))
    x = rng.standard_t(3, (4, 40)).astype(np.float32)
    got = pe_gemm(layer, torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, _pe_outputs(layer, x) + bias.numpy())


def test_pe_gemm_refuses_a_scheme_that_is_not_mx():
    layer = QuantGemm(torch.ones(2, 32), None, quant.preset("int8"))
    with pytest.raises(ValueError, match="layer must be quantized by an MX scheme, got"):
        pe_gemm(layer, torch.ones(1, 32))
