"""The evaluator's chip (lowbit.models.evaluator): clock from timing, node scaling, buffer area,
equal-area sizing and LLM serving rows, on hand-computed numbers."""
import math

import pytest

from lowbit.hwsim.quant import preset
from lowbit.models import evaluator
from lowbit.models.cost import area, cycles, technology
from lowbit.models.cost.cycles import NotApplicable

BUFFER_M2 = 3.56541e-6            # CACTI: 1 MiB read 64 bits at a time, 45 nm
MINILM = {"scheme": "int8", "pe": "int_mac", "lanes": 16, "workload": "minilm-l6", "seq_len": 1}


def _pe_area(scheme, pe, lanes=16):
    return area.pe_area(cycles.map_scheme(pe, preset(scheme)), lanes)[0]


def test_area_counts_the_buffer(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = evaluator.evaluate_point({**MINILM, "array": 4})
    assert row["buffer_area_m2"] == pytest.approx(BUFFER_M2, rel=1e-12)
    assert row["area_m2"] == pytest.approx(4 * _pe_area("int8", "int_mac") + BUFFER_M2, rel=1e-12)


def test_equal_area_sizes_the_largest_array(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = evaluator.evaluate_point({**MINILM, "area_mm2": 8.0})
    expected = math.floor((8e-6 - BUFFER_M2) / _pe_area("int8", "int_mac"))
    assert row["array"] == expected
    assert row["area_m2"] <= 8e-6 < row["area_m2"] + row["pe_area_m2"]
    assert row["area_budget_mm2"] == 8.0


def test_node_scales_energy_area_and_clock(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    base = evaluator.evaluate_point({**MINILM, "array": 4})
    small = evaluator.evaluate_point({**MINILM, "array": 4, "node": 7})
    assert small["energy_mac_j"] == pytest.approx(base["energy_mac_j"] * technology.energy_factor(7))
    assert small["pe_area_m2"] == pytest.approx(base["pe_area_m2"] * 0.059)
    assert small["buffer_area_m2"] == pytest.approx(BUFFER_M2 * 0.059)
    assert small["clock_hz"] == pytest.approx(base["clock_hz"] / technology.delay_factor(7))
    assert small["energy_dram_j"] == pytest.approx(base["energy_dram_j"])   # off-chip


def test_hbm2_changes_dram_energy_only(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    base = evaluator.evaluate_point({**MINILM, "array": 4})
    hbm = evaluator.evaluate_point({**MINILM, "array": 4, "dram": "hbm2"})
    assert hbm["energy_dram_j"] == pytest.approx(base["energy_dram_j"] * 3.9 / (1950 / 64))
    assert hbm["energy_mac_j"] == base["energy_mac_j"]


@pytest.mark.parametrize("extra, message", [
    ({}, "exactly one of 'array'"),
    ({"array": 4, "area_mm2": 8.0}, "exactly one of 'array'"),
    ({"area_mm2": -1.0}, "area_mm2'\\] must be a positive number"),
    ({"array": 4, "node": 28}, "node_nm must be one of 45, 14, 10, 7"),
    ({"array": 4, "dram": "hbm3"}, "dram must be one of ddr4, hbm2"),
    ({"array": 4, "fidelity_model": "smollm2"}, "only the decoder-only LLM workloads"),
])
def test_bad_chip_keys_are_refused(extra, message):
    with pytest.raises(ValueError, match=message):
        evaluator.evaluate_point({**MINILM, **extra})


def test_untimed_lanes_and_generated_on_a_cnn_do_not_apply(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    with pytest.raises(NotApplicable, match="no clock for the int_mac PE with 5 lanes"):
        evaluator.evaluate_point({**MINILM, "lanes": 5, "array": 4})
    with pytest.raises(NotApplicable, match="generated applies only to LLM workloads"):
        evaluator.evaluate_point({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4,
                                  "workload": "resnet18", "generated": 8})


# LLaMA-2-7B int4-g128 weight bytes (4 + 16/128 bits) and FP16 K and V bytes per token
WEIGHT_BYTES, KV_BYTES = 3_406_774_272, 524_288


def test_llama2_decode_is_bytes_over_bandwidth_per_step(seeded_cache, tiny_llama):
    row = evaluator.evaluate_point({"scheme": "int4-g128", "pe": "int_mac", "lanes": 16,
                                    "area_mm2": 8.0, "workload": "llama2-7b", "generated": 4,
                                    "fidelity_model": tiny_llama})
    # steps t = 0..3 read 128 + t cached tokens and write their own: sum (129 + t) = 522
    decode_bytes = 4 * WEIGHT_BYTES + 522 * KV_BYTES
    assert row["decode_memory_bound_steps"] == 4
    assert row["decode_latency_s"] == pytest.approx(decode_bytes / 25.6e9, rel=1e-12)
    assert row["decode_tokens_per_s"] == pytest.approx(4 / row["decode_latency_s"], rel=1e-12)
    assert row["tokens_per_s"] == row["decode_tokens_per_s"]
    # decode KV traffic at DDR4's 1950/64 pJ per bit
    assert row["decode_energy_kv_j"] == pytest.approx(522 * KV_BYTES * 8 * 1950 / 64e12, rel=1e-12)
    # the request: prefill + decode, per generated token
    assert row["energy_j"] == pytest.approx(row["prefill_energy_j"] + row["decode_energy_j"])
    assert row["latency_s"] == pytest.approx(row["prefill_latency_s"] + row["decode_latency_s"])
    assert row["j_per_token"] == pytest.approx(row["energy_j"] / 4)
    assert row["prefill_tokens_per_s"] == pytest.approx(128 / row["prefill_latency_s"])
    assert row["bits_per_weight"] == pytest.approx(4 + 16 / 128)
    assert row["kv_bits_per_element"] == 16.0 and row["generated"] == 4


def test_llama2_prefill_attention_by_hand(seeded_cache, tiny_llama):
    row = evaluator.evaluate_point({"scheme": "int4-g128", "pe": "int_mac", "lanes": 16,
                                    "array": 256, "workload": "llama2-7b", "generated": 1,
                                    "fidelity_model": tiny_llama})
    # QK^T and PV: 2 x 32 heads x 32 layers x 128 x 128 x 128 MACs, int8 x int8 + 32-bit add
    macs = 2 * 32 * 32 * 128 ** 3
    assert row["prefill_energy_attention_j"] == pytest.approx(macs * (0.2 + 0.1) * 1e-12)
    # prefill writes 128 tokens' K and V once
    assert row["prefill_energy_kv_j"] == pytest.approx(128 * KV_BYTES * 8 * 1950 / 64e12)


def test_a_named_fidelity_model_measures_an_llm_workload(seeded_cache, tiny_llama):
    from lowbit.models.fidelity import cache
    point = {"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 64,
             "workload": "llama3-8b", "generated": 1, "fidelity_model": tiny_llama}
    row = evaluator.evaluate_point(point)
    assert row["fidelity_model"] == tiny_llama and row["fidelity_metric"] == "ref_ppl/ppl"
    assert row["fidelity"] == cache.fidelity(tiny_llama, preset("int8"))[0]
    with pytest.raises(ValueError, match="the fidelity model of llama3-8b must be 'smollm2' or"):
        evaluator.evaluate_point({**point, "fidelity_model": "/no/such/model"})
