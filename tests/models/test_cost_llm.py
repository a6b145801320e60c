"""LLM serving cost terms (lowbit.models.cost.llm) on hand-computed numbers."""
import pytest

from lowbit.hwsim.quant import QuantSpec, preset
from lowbit.models import workloads
from lowbit.models.cost import cycles, dram, llm

MIB = 1024 * 1024
# LLaMA-2-7B weight GEMM weights: 32 layers x (4 x 4096^2 + 3 x 4096 x 11008) + LM head 4096 x 32000
LLAMA2_WEIGHTS = 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008) + 4096 * 32000   # 6,607,077,376
# int4, groups of 128 along K (4096 and 11008 = 86 x 128 both divide), fp16 scales: 4 + 16/128 bits
LLAMA2_INT4_G128_BYTES = LLAMA2_WEIGHTS * 33 // 64                     # 3,406,774,272
# K and V of 32 layers x 4096 values, FP16 (the preset has no KV format): 524,288 bytes per token
KV_BYTES_PER_TOKEN = 2 * 32 * 4096 * 2


def test_hand_numbers():
    assert LLAMA2_WEIGHTS == 6_607_077_376
    assert LLAMA2_INT4_G128_BYTES == 3_406_774_272
    assert KV_BYTES_PER_TOKEN == 524_288


def test_kv_bits_per_element():
    assert llm.kv_bits_per_element(None, 128) == 16.0
    int8 = QuantSpec(format="int8", granularity="channel", scale_format="float32")
    assert llm.kv_bits_per_element(int8, 128) == 8 + 32 / 128
    int4 = QuantSpec(format="int4", granularity="channel", scale_format="float16")
    assert llm.kv_bits_per_element(int4, 64) == 4 + 16 / 64


def test_kv_spec_must_be_per_token_and_head():
    with pytest.raises(ValueError, match="kv_spec.granularity must be 'channel'"):
        llm.kv_bits_per_element(QuantSpec(format="int8", granularity="tensor"), 128)


def _step_cycles(step, mapping, spec, lanes, array):
    """Cycles of every weight GEMM and attention product of ``step`` on the array (the attention
    products through the same PE, reduced over their whole K: an upper bound for this test)."""
    occupancy = cycles.beat_occupancy(mapping, lanes)
    total = 0
    for g in step.weight_gemms:
        total += g.count * cycles.gemm_cycles(g.M, g.K, g.N, cycles.dot_length(spec, g.K), lanes,
                                              array, occupancy)
    for g in step.attention:
        total += g.count * cycles.gemm_cycles(g.M, g.K, g.N, g.K, lanes, array, occupancy)
    return total


# peak bandwidth by hand: DDR4-3200 x 64 bits; HBM2 2.0 and HBM2E 3.2 Gb/s per pin x 1024 pins
HAND_BANDWIDTH = {"ddr4": 3200e6 * 8, "hbm2": 2.0e9 * 128, "hbm2e": 3.2e9 * 128}


def test_hand_bandwidths():
    assert HAND_BANDWIDTH == {"ddr4": 25.6e9, "hbm2": 256e9, "hbm2e": 409.6e9}


@pytest.mark.parametrize("kind", ["ddr4", "hbm2e"])
@pytest.mark.parametrize("step_index", [0, 127])
def test_batch1_decode_llama2_int4_g128_is_memory_bound_to_the_byte(step_index, kind):
    scheme = preset("int4-g128")
    _, decode = workloads.llm_phases("llama2-7b", batch=1, prompt_len=128, generated=128)
    step = decode.steps[step_index]
    bits = llm.decode_step_dram_bits(step, scheme.weight_spec, llm.kv_bits_per_element(None, 128),
                                     buffer_bytes=MIB)
    # weights once, the 128 + step cached tokens' K and V read, the step's own written
    expected_bytes = (LLAMA2_INT4_G128_BYTES + (128 + step_index) * KV_BYTES_PER_TOKEN
                      + KV_BYTES_PER_TOKEN)
    assert sum(bits.values()) / 8 == expected_bytes
    assert bits["weight"] / 8 == LLAMA2_INT4_G128_BYTES
    mapping = cycles.map_scheme("int_mac", scheme)
    compute = _step_cycles(step, mapping, scheme.weight_spec, lanes=16, array=256)
    seconds, bound = llm.roofline_seconds(compute, 1e9, sum(bits.values()),
                                          dram.bandwidth_bytes_per_s(kind))
    assert bound == "memory"
    assert seconds == expected_bytes / HAND_BANDWIDTH[kind]


def test_activations_that_do_not_fit_are_refused():
    _, decode = workloads.llm_phases("llama2-7b", batch=64, prompt_len=8, generated=1)
    # batch 64 x LM head N = 32000 x 16 bits = 4,096,000 bytes > 1 MiB
    with pytest.raises(ValueError, match="must fit the 1048576-byte buffer"):
        llm.decode_step_dram_bits(decode.steps[0], preset("int4-g128").weight_spec, 16.0, MIB)


def test_roofline_compute_bound():
    assert llm.roofline_seconds(2e9, 1e9, 8e9, 1e9) == (2.0, "compute")
    assert llm.roofline_seconds(1e9, 1e9, 8e9, 1e9) == (1.0, "memory")


def test_phase_rates_by_hand():
    assert llm.phase_rates(128, 6.4, 2.0) == {"tokens_per_s": 64.0, "j_per_token": 0.05}
    with pytest.raises(ValueError, match="tokens and latency_s must be > 0"):
        llm.phase_rates(0, 1.0, 1.0)


@pytest.mark.parametrize("name, kv_bytes_per_token", [("w8a8-kv8", 270_336), ("w8a8-kv4", 139_264)])
def test_decode_step_kv_bytes_follow_the_schemes_kv_format(name, kv_bytes_per_token):
    # 2 x 32 x 4096 elements per token at 8 + 32/128 (int8) or 4 + 32/128 (int4) bits
    scheme = preset(name)
    _, decode = workloads.llm_phases("llama2-7b", batch=1, prompt_len=128, generated=1)
    kv_bits = llm.kv_bits_per_element(scheme.kv_spec, workloads.head_dim("llama2-7b"))
    bits = llm.decode_step_dram_bits(decode.steps[0], scheme.weight_spec, kv_bits, MIB)
    assert bits["kv_read"] / 8 == 128 * kv_bytes_per_token
    assert bits["kv_write"] / 8 == kv_bytes_per_token


@pytest.mark.parametrize("kind", ["hbm2", "hbm2e"])
@pytest.mark.parametrize("name, weight_bytes", [("int4-g128", LLAMA2_INT4_G128_BYTES),
                                                ("fp16", 2 * LLAMA2_WEIGHTS)])
def test_batch1_decode_tokens_per_s_is_bandwidth_over_bytes_per_token(name, weight_bytes, kind):
    # the roofline check of docs/cost_model.md: a memory-bound step of the first generated token
    # moves weights + 129 tokens' FP16 K and V; tokens/s = bandwidth / those bytes
    scheme = preset(name)
    _, decode = workloads.llm_phases("llama2-7b", batch=1, prompt_len=128, generated=1)
    bits = llm.decode_step_dram_bits(decode.steps[0], scheme.weight_spec, 16.0, MIB)
    step_bytes = weight_bytes + 129 * KV_BYTES_PER_TOKEN
    assert step_bytes == {"int4-g128": 3_474_407_424, "fp16": 13_281_787_904}[name]
    assert sum(bits.values()) / 8 == step_bytes
    bandwidth = dram.bandwidth_bytes_per_s(kind)
    seconds, bound = llm.roofline_seconds(1, 1e9, sum(bits.values()), bandwidth)
    assert bound == "memory"
    assert 1 / seconds == pytest.approx(HAND_BANDWIDTH[kind] / step_bytes, rel=1e-15)


def test_attention_mac_energy_per_operand_format():
    from lowbit.models.cost import energy, serving
    pj = 1e-12
    assert serving.attention_mac_energy("int8") == pytest.approx((0.2 + 0.1) * pj)
    # W1A1: ±1 x ±1 is an XNOR, priced as a 1-bit add, + the 32-bit add
    assert serving.attention_mac_energy("binary") == pytest.approx((0.03 / 8 + 0.1) * pj)
    assert serving.attention_mac_energy("float8_e4m3fn") == \
        pytest.approx(energy.fp_mult(4) + 0.9 * pj)
