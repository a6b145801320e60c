import pytest

from lowbit.hwsim import quant

from lowbit.models import workloads
from lowbit.models.cost import traffic


@pytest.mark.parametrize("scheme, K, N, expected", [
    (quant.preset("int4-g128"), 4096, 11008, 4 + 16 / 128),           # the example
    (quant.preset("int4-pc"), 4096, 11008, 4 + 16 / 4096),            # one fp16 scale per row
    (quant.preset("int8"), 768, 768, 8 + 16 / 768),
    (quant.preset("int2-g64"), 4096, 4096, 2 + (16 + 2) / 64),        # + a 2-bit zero point
    (quant.preset("mxfp4"), 4096, 4096, 4 + 8 / 32),                  # E8M0 per 32
    (quant.preset("mxfp6"), 4096, 4096, 6 + 8 / 32),
    (quant.preset("binary"), 512, 1000, 1 + 16 / 512),
    (quant.Scheme(weight="int8", act="int8", granularity="tensor"), 64, 32, 8 + 16 / 2048),
    (quant.Scheme(weight="int4", act="int8", granularity="group", group_size=32,
                  scale_format="float32"), 64, 32, 4 + 32 / 32),
    (quant.preset("fp16"), 64, 32, 16.0),
    # the last group of a row is shorter when g does not divide K, with a scale of its own
    (quant.preset("int4-g128"), 147, 64, 4 + 16 * 2 / 147),         # ResNet stem: 128 + 19
    (quant.preset("int4-g128"), 64, 64, 4 + 16 / 64),                # a group longer than K
    (quant.preset("mxfp4"), 147, 64, 4 + 8 * 5 / 147),               # 4 blocks of 32 + 19
    (quant.preset("int2-g64"), 576, 64, 2 + (16 + 2) * 9 / 576),     # divides: 18/64 as before
])
def test_bits_per_weight_by_hand(scheme, K, N, expected):
    assert traffic.bits_per_weight(scheme.weight_spec, K, N) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("scheme, M, K, expected", [
    (quant.preset("int8"), 128, 4096, 8 + 32 / 4096),          # one float32 scale per token
    (quant.preset("mxfp4"), 128, 4096, 4 + 8 / 32),           # MXFP4 activations, not 8 bits
    (quant.preset("mxfp6"), 1, 64, 6 + 8 / 32),
    (quant.preset("fp8-e4m3"), 4, 16, 8 + 32 / 64),           # one scale per tensor of M * K
    (quant.preset("int4-g128-a16"), 4, 16, 16.0),
])
def test_bits_per_activation_by_hand(scheme, M, K, expected):
    assert traffic.bits_per_activation(scheme.act_spec, M, K) == pytest.approx(expected,
                                                                               rel=1e-15)


def test_weight_bits_of_a_workload():
    gemms = workloads.get("minilm-l6")
    spec = quant.preset("int4-g128").weight_spec
    assert traffic.weight_bits(spec, gemms) == pytest.approx(
        workloads.weight_count(gemms) * 4.125, rel=1e-15)


def test_bad_granularity():
    with pytest.raises(ValueError, match="granularity must be one of tensor, channel"):
        traffic.scale_count("row", None, 8, 8)
