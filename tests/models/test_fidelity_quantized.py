import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lowbit.hwsim import formats, quant

from lowbit.models.fidelity import quantized

SEED = 1234


def _layer(in_features, out_features, seed=SEED):
    torch.manual_seed(seed)
    return nn.Linear(in_features, out_features)


def _by_hand(q) -> np.ndarray:
    """Dequantize a symmetric QTensor by decoding its codes with the element format."""
    values = formats.get(q.spec.format).decode(q.codes).astype(np.float64)
    scales = np.repeat(q.scales, q.codes.shape[-1] // q.scales.shape[-1], axis=-1)
    return values * scales


def test_linear_uses_the_decoded_codes():
    scheme = quant.preset("int8")
    layer = _layer(64, 8)
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(SEED))
    qlayer = quantized.QuantLinear(layer, scheme)
    w_hat = _by_hand(qlayer.qweight)
    x_q = quant.quantize(x.numpy(), scheme.act_spec, axis=-1)
    x_hat = _by_hand(x_q)
    expected = x_hat @ w_hat.T + layer.bias.detach().numpy().astype(np.float64)
    got = qlayer(x).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)   # float32 GEMM vs float64
    assert not np.allclose(got, layer(x).detach().numpy(), rtol=0, atol=1e-7)  # really quantized


def test_corrupting_one_code_changes_the_output():
    layer = _layer(32, 4)
    qlayer = quantized.QuantLinear(layer, quant.preset("int4-pc"))
    x = torch.ones(1, 32)
    before = qlayer(x).detach().numpy().copy()
    qlayer.qweight.codes[2, 7] ^= 0b0100   # flip one bit of one int4 code
    after = qlayer(x).detach().numpy()
    changed = np.flatnonzero(before != after)
    assert changed.tolist() == [2]         # exactly the output row of that weight


def test_short_groups_are_zero_padded():
    # K = 9 with groups of 128 and MX blocks of 32: padded, and the padding adds nothing.
    layer = _layer(9, 3)
    x = torch.randn(4, 9, generator=torch.Generator().manual_seed(SEED))
    for name in ("int4-g128", "mxfp4"):
        scheme = quant.preset(name)
        qlayer = quantized.QuantLinear(layer, scheme)
        assert qlayer.qweight.codes.shape[1] == scheme.weight_spec.group_size
        padded_w = np.pad(layer.weight.detach().numpy(), [(0, 0), (0, qlayer.qweight.codes.shape[1] - 9)])
        w_hat = quant.dequantize(quant.quantize(padded_w, scheme.weight_spec, axis=-1))[:, :9]
        np.testing.assert_array_equal(qlayer.dequantized_weight().numpy(), w_hat)
        assert qlayer(x).shape == (4, 3)


def test_conv_is_its_im2col_gemm():
    torch.manual_seed(SEED)
    conv = nn.Conv2d(3, 5, 3, padding=1, stride=2)
    x = torch.randn(2, 3, 9, 9)
    scheme = quant.Scheme(weight="int8", act="float32", granularity="channel")
    qconv = quantized.QuantConv2d(conv, scheme)
    # the weight decoded from the codes by hand, not by qconv.dequantized_weight (under test)
    w_hat = torch.from_numpy(_by_hand(qconv.qweight).astype(np.float32)).reshape(conv.weight.shape)
    assert not torch.equal(w_hat, conv.weight)   # really quantized
    expected = F.conv2d(x, w_hat, conv.bias, stride=2, padding=1)
    torch.testing.assert_close(qconv(x), expected, rtol=1e-5, atol=1e-5)


def test_quantize_model_replaces_every_gemm():
    torch.manual_seed(SEED)   # the layers' initial weights
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Flatten(),
                                                                       nn.Linear(2, 3)))
    quantized.quantize_model(model, quant.preset("int8"))
    assert [type(m).__name__ for m in quantized.quantized_layers(model)] == \
        ["QuantConv2d", "QuantLinear"]
    assert model(torch.randn(1, 1, 3, 3, generator=torch.Generator().manual_seed(SEED))).shape \
        == (1, 3)


def test_conv_with_groups_is_refused():
    with pytest.raises(ValueError, match="conv must have groups=1"):
        quantized.QuantConv2d(nn.Conv2d(4, 4, 3, groups=2), quant.preset("int8"))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_ieee_activation_fast_path_matches_hwsim_bit_for_bit(name):
    from lowbit.hwsim.quant import ieee
    rng = np.random.default_rng(SEED)
    x = np.concatenate([rng.standard_normal(4096) * 10.0 ** rng.integers(-9, 4, 4096),
                        [0.0, -0.0, 65504.0, 1e-8, 3.0e-5, 1 + 2 ** -11, 1 + 3 * 2 ** -11]])
    x = x.astype(np.float32).reshape(1, -1)
    got = quantized.quantize_dequantize(x, quant.QuantSpec(format=name))
    np.testing.assert_array_equal(got.view(np.uint32), ieee.round_to(x, name).view(np.uint32))


def test_digits_cnn_through_a_wide_pe_accumulator_is_fake_quant_bit_for_bit():
    """int8 x int8 into a 32-bit accumulator cannot overflow at the CNN's K (<= 512), and with
    power-of-two (E8M0) scales fake quantization is exact too: every logit agrees bit for bit.
    A 14-bit accumulator wraps and changes them."""
    from lowbit.hwsim import gemm
    from lowbit.models.fidelity import digits_cnn
    scheme = quant.Scheme(weight="int8", act="int8", granularity="channel",
                          act_granularity="channel", scale_format="float8_e8m0fnu",
                          act_scale_format="float8_e8m0fnu")
    model = digits_cnn.quantized_model(scheme)
    x = digits_cnn.dataset()[2][:64]
    with torch.no_grad():
        fake = model(x)
        with quantized.pe_arithmetic(gemm.PEArithmetic(acc_bits=32)):
            wide = model(x)
        with quantized.pe_arithmetic(gemm.PEArithmetic(acc_bits=14)):
            narrow = model(x)
    assert torch.equal(wide.view(torch.int32), fake.view(torch.int32))
    assert not torch.equal(narrow, fake)


def test_pe_gemm_adds_the_bias_after_the_pe_sum():
    from lowbit.hwsim import gemm
    scheme = quant.preset("int4-g128")
    layer = _layer(200, 6)          # K padded to 256 for groups of 128
    x = torch.randn(3, 200, generator=torch.Generator().manual_seed(SEED))
    qlayer = quantized.QuantLinear(layer, scheme)
    arithmetic = gemm.PEArithmetic(acc_bits=12, overflow="saturate")
    with quantized.pe_arithmetic(arithmetic):
        y = qlayer(x)
    xq = quant.quantize(quantized.pad(x.numpy(), 256), scheme.act_spec, axis=-1)
    expected = gemm.qtensor_gemm(xq, qlayer.qweight, arithmetic) + layer.bias.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    with pytest.raises(ValueError, match="PEArithmetic"):
        with quantized.pe_arithmetic("acc16"):
            pass


def test_one_numba_thread_keeps_torchs_thread_count():
    """numba's first pool launch resets the OpenMP thread count torch shares (fresh process)."""
    code = ("import numpy as np\n"
            "import torch\n"
            "from lowbit.hwsim import quant\n"
            "from lowbit.models.fidelity.quantized import one_numba_thread\n"
            "torch.set_num_threads(1)\n"
            "assert torch.get_num_threads() == 1\n"   # torch's pool starts before numba's
            "with one_numba_thread():\n"
            "    quant.quantize(np.random.default_rng(0).random((64, 128), np.float32),\n"
            "                   quant.preset('w4a4').act_spec, axis=-1)\n"
            "    print(torch.get_num_threads())\n"
            "print(torch.get_num_threads())\n")
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    env.pop("OMP_NUM_THREADS", None)
    result = subprocess.run([sys.executable, "-P", "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]
