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


@pytest.fixture
def stated_llm_fidelity(monkeypatch):
    """A stated LLM fidelity, so that serving-cost tests do not run the SmolLM2 proxy."""
    monkeypatch.setattr(evaluator, "_fidelity", lambda workload, scheme, *model_and_arithmetic: (
        0.97, "ref_ppl/ppl", {"fidelity_model": "stated", "fidelity_samples": 0}))


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


def test_equal_throughput_sizes_the_smallest_array(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = evaluator.evaluate_point({**MINILM, "throughput_gmacs": 500.0})
    # int8 on int_mac: 16 MACs per one-cycle beat at the PE's clock
    per_pe = 16 * row["clock_hz"]
    assert row["array"] == math.ceil(500e9 / per_pe)
    assert row["peak_gmacs"] == pytest.approx(row["array"] * per_pe / 1e9, rel=1e-12)
    assert row["peak_gmacs"] >= 500.0 > (row["array"] - 1) * per_pe / 1e9
    assert row["throughput_target_gmacs"] == 500.0 and row["area_budget_mm2"] is None
    assert row["area_m2"] == pytest.approx(row["array"] * row["pe_area_m2"] + BUFFER_M2)


def test_bit_serial_needs_more_pes_for_the_same_throughput(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = evaluator.evaluate_point({**MINILM, "pe": "bit_serial", "throughput_gmacs": 500.0})
    # int8 weights one bit per cycle: a 16-lane beat every 8 cycles
    per_pe = 16 / 8 * row["clock_hz"]
    assert row["array"] == math.ceil(500e9 / per_pe)


def test_a_target_beyond_the_reticle_does_not_apply(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    with pytest.raises(NotApplicable, match=r"int_mac PE cannot meet the target: a throughput of "
                                            r"1e\+06 GMAC/s .* 858 mm\^2 limit"):
        evaluator.evaluate_point({**MINILM, "throughput_gmacs": 1e6})
    skipped = []
    rows = evaluator.evaluate_all("minilm-l6", 16, None, seq_len=1, schemes=["int8"],
                                  pes=["int_mac"], throughput_gmacs=1e6, skipped=skipped)
    assert rows == [] and skipped[0][:2] == ("int8", "int_mac")
    assert "858 mm^2 limit" in skipped[0][2]


def test_node_scales_energy_area_and_clock(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    base = evaluator.evaluate_point({**MINILM, "array": 4})
    small = evaluator.evaluate_point({**MINILM, "array": 4, "node": 7})
    assert small["energy_mac_j"] == pytest.approx(base["energy_mac_j"] * technology.energy_factor(7))
    assert small["pe_area_m2"] == pytest.approx(base["pe_area_m2"] * 0.059)
    assert small["buffer_area_m2"] == pytest.approx(BUFFER_M2 * 0.059)
    assert small["clock_hz"] == pytest.approx(base["clock_hz"] / technology.delay_factor(7))
    assert small["energy_dram_j"] == pytest.approx(base["energy_dram_j"])   # off-chip


@pytest.mark.parametrize("kind, pj_per_bit", [("hbm2", 3.9), ("hbm2e", 6.0)])
def test_hbm_changes_dram_energy_only(seeded_cache, kind, pj_per_bit):
    seeded_cache("minilm", "int8", 0.98)
    base = evaluator.evaluate_point({**MINILM, "array": 4})
    hbm = evaluator.evaluate_point({**MINILM, "array": 4, "dram": kind})
    assert hbm["energy_dram_j"] == pytest.approx(base["energy_dram_j"] * pj_per_bit / (1950 / 64))
    assert hbm["energy_mac_j"] == base["energy_mac_j"]


@pytest.mark.parametrize("extra, message", [
    ({}, "exactly one of 'array'"),
    ({"array": 4, "area_mm2": 8.0}, "exactly one of 'array'"),
    ({"area_mm2": 8.0, "throughput_gmacs": 100.0}, "'throughput_gmacs' \\(a peak MAC rate"),
    ({"throughput_gmacs": 0}, "throughput_gmacs'\\] must be a positive number"),
    ({"area_mm2": -1.0}, "area_mm2'\\] must be a positive number"),
    ({"array": 4, "node": 28}, "node_nm must be one of 45, 20, 16, 14, 10, 7"),
    ({"array": 4, "dram": "hbm3"}, "dram must be one of ddr4, hbm2, hbm2e"),
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


# DRAM kind -> (peak bytes/s by hand, pJ per bit): DDR4-3200 x 64 bits at Horowitz's 1950/64;
# HBM2E 3.2 Gb/s x 1024 pins at Micron's 6.0
DRAM_BY_HAND = {"ddr4": (3200e6 * 8, 1950 / 64), "hbm2e": (3.2e9 * 128, 6.0)}


@pytest.mark.parametrize("kind", ["ddr4", "hbm2e"])
def test_llama2_decode_is_bytes_over_bandwidth_per_step(seeded_cache, tiny_llama, kind):
    row = evaluator.evaluate_point({"scheme": "int4-g128", "pe": "int_mac", "lanes": 16,
                                    "area_mm2": 8.0, "workload": "llama2-7b", "generated": 4,
                                    "dram": kind, "fidelity_model": tiny_llama})
    bandwidth, pj_per_bit = DRAM_BY_HAND[kind]
    # steps t = 0..3 read 128 + t cached tokens and write their own: sum (129 + t) = 522
    decode_bytes = 4 * WEIGHT_BYTES + 522 * KV_BYTES
    assert row["decode_memory_bound_steps"] == 4
    assert row["decode_latency_s"] == pytest.approx(decode_bytes / bandwidth, rel=1e-12)
    assert row["decode_tokens_per_s"] == pytest.approx(4 / row["decode_latency_s"], rel=1e-12)
    assert row["tokens_per_s"] == row["decode_tokens_per_s"]
    assert row["decode_energy_kv_j"] == pytest.approx(522 * KV_BYTES * 8 * pj_per_bit * 1e-12,
                                                      rel=1e-12)
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


RESNET = {"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 64, "workload": "resnet18"}


def test_pe_arithmetic_keys_measure_fidelity_through_the_pe_and_cost_its_width(monkeypatch,
                                                                               tmp_path):
    """The digits CNN through a 16-bit wrapping accumulator loses top-1 against the 32-bit one,
    which matches fake quantization within one test image; the 16-bit PE is smaller and spends
    less energy per MAC (synthesized area, acc_bits-wide add)."""
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    fake = evaluator.evaluate_point(RESNET)
    wide = evaluator.evaluate_point({**RESNET, "acc_bits": 32, "overflow": "wrap"})
    narrow = evaluator.evaluate_point({**RESNET, "acc_bits": 16})
    assert fake["pe_arithmetic"] == "fake-quant" and "acc_bits" not in fake
    assert wide["pe_arithmetic"] == "acc32-wrap/m23-rne" and narrow["acc_bits"] == 16
    assert abs(wide["fidelity"] - fake["fidelity"]) <= 1 / fake["fidelity_samples"]
    assert narrow["fidelity"] < wide["fidelity"] - 0.05
    assert narrow["pe_area_m2"] < wide["pe_area_m2"] == fake["pe_area_m2"]
    assert narrow["energy_mac_j"] < wide["energy_mac_j"] == fake["energy_mac_j"]


def test_mx_on_mx_mac_runs_through_its_block_arithmetic(monkeypatch, tmp_path):
    """An MX scheme on mx_mac with a PE-arithmetic key is measured through mx_mac's exact block
    sums (float_pe="mx_mac"); on the digits CNN top-1 is fake quantization's within one image."""
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    row = evaluator.evaluate_point({**RESNET, "scheme": "mxfp8", "pe": "mx_mac", "acc_mbits": 23})
    assert row["pe_arithmetic"] == "acc32-wrap/m23-rne/mx_mac"
    assert abs(row["fidelity"] - row["fake_quant_fidelity"]) <= 1 / row["fidelity_samples"]
    assert "fp32 accumulator" in row["arithmetic_note"]


def test_lut_table_bits_loses_fidelity_when_narrow_and_is_not_costed(monkeypatch, tmp_path):
    """int4-g128 on the lut PE: 10-bit table entries hold every sum of 4 int8 activations (top-1
    within one image of fake quantization), 7-bit ones saturate and top-1 falls; the PE's cost
    is unchanged (the cost model has no table-width term, and the note says so)."""
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    point = {**RESNET, "scheme": "int4-g128", "pe": "lut"}
    wide = evaluator.evaluate_point({**point, "lut_table_bits": 10})
    narrow = evaluator.evaluate_point({**point, "lut_table_bits": 7})
    assert wide["pe_arithmetic"] == "acc32-wrap/m23-rne/lut10" and narrow["lut_table_bits"] == 7
    assert abs(wide["fidelity"] - wide["fake_quant_fidelity"]) <= 1 / wide["fidelity_samples"]
    assert narrow["fidelity"] < wide["fidelity"] - 0.05
    assert narrow["pe_area_m2"] == wide["pe_area_m2"] and "no table-width term" in \
        narrow["arithmetic_note"]


@pytest.mark.parametrize("extra,message", [
    ({"acc_mbits": 13}, "acc_mbits=13 applies to float PEs"),
    ({"scheme": "int4-g128-a16", "acc_bits": 16}, "IEEE"),
    ({"scheme": "fp8-e4m3", "pe": "fp8_mac", "acc_bits": 16}, "acc_bits=16 applies to int PEs"),
    ({"lut_table_bits": 9}, "lut_table_bits applies to the lut and shared_lut PEs, not int_mac"),
    ({"scheme": "int4-g128", "pe": "lut", "lut_table_bits": 9, "overflow": "saturate",
      "acc_bits": 20}, "overflow must be 'wrap'"),
    ({"scheme": "mxfp8", "pe": "fp8_mac", "acc_mbits": 23}, "on mx_mac only, not on fp8_mac"),
    ({"scheme": "mxfp8", "pe": "mx_mac", "acc_mbits": 13}, "acc_mbits must be 23"),
    ({"scheme": "fp8-e4m3", "pe": "mx_mac", "lut_table_bits": 9},
     "lut_table_bits=9 applies to int PEs"),
])
def test_pe_arithmetic_that_does_not_fit_the_scheme_does_not_apply(extra, message):
    with pytest.raises(NotApplicable, match=message):
        evaluator.evaluate_point({**RESNET, **extra})


@pytest.mark.parametrize("extra,message", [
    ({"overflow": "clamp"}, "overflow must be one of"),
    ({"acc_rounding": "rtn"}, "acc_rounding must be one of"),
    ({"acc_bits": 0}, "acc_bits"),
    ({"lut_table_bits": 1}, "table_bits must be an integer in 2..32"),
])
def test_bad_pe_arithmetic_keys_are_refused(extra, message):
    with pytest.raises(ValueError, match=message):
        evaluator.evaluate_point({**RESNET, **extra})

# LLaMA-2-7B K and V per token: 2 x 32 layers x 4096 elements, each its KV format's bits plus one
# float32 scale per token and head of 128 elements: int8 8 + 32/128 = 8.25 bits, int4 4.25 bits
KV8_BYTES, KV4_BYTES = 2 * 32 * 4096 * 33 // 32, 2 * 32 * 4096 * 17 // 32   # 270,336 and 139,264


def test_decode_moves_the_schemes_kv_format_to_the_byte(stated_llm_fidelity):
    rows = {}
    for name in ("w8a8-kv8", "w8a8-kv4"):
        rows[name] = evaluator.evaluate_point({"scheme": name, "pe": "int_mac", "lanes": 16,
                                               "area_mm2": 8.0, "workload": "llama2-7b",
                                               "generated": 4})
    kv8, kv4 = rows["w8a8-kv8"], rows["w8a8-kv4"]
    assert (kv8["kv_bits_per_element"], kv4["kv_bits_per_element"]) == (8.25, 4.25)
    assert (KV8_BYTES, KV4_BYTES) == (270_336, 139_264)
    # 522 tokens' K and V cross DRAM during the 4 decode steps (see the int4-g128 test above)
    for row, per_token in ((kv8, KV8_BYTES), (kv4, KV4_BYTES)):
        assert row["decode_memory_bound_steps"] == 4
        assert row["decode_energy_kv_j"] == pytest.approx(522 * per_token * 8 * 1950 / 64e12,
                                                          rel=1e-12)
    # same weights, so the decode time differs by exactly the KV bytes over DDR4's 25.6 GB/s
    assert kv8["decode_latency_s"] - kv4["decode_latency_s"] == pytest.approx(
        522 * (KV8_BYTES - KV4_BYTES) / 25.6e9, rel=1e-9)


def test_a_named_fidelity_model_measures_an_llm_workload(seeded_cache, tiny_llama):
    from lowbit.models.fidelity import cache
    point = {"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 64,
             "workload": "llama3-8b", "generated": 1, "fidelity_model": tiny_llama}
    row = evaluator.evaluate_point(point)
    assert row["fidelity_model"] == tiny_llama and row["fidelity_metric"] == "ref_ppl/ppl"
    assert row["fidelity"] == cache.fidelity(tiny_llama, preset("int8"))[0]
    with pytest.raises(ValueError, match="the fidelity model of llama3-8b must be 'smollm2' or"):
        evaluator.evaluate_point({**point, "fidelity_model": "/no/such/model"})


def test_a_ptq_method_applies_only_to_causal_lm_workloads():
    # the digits CNN and MiniLM quantize by round to nearest: a rotation row would be RTN's
    for scheme in ("w4a4-rotation", "w8a8-smoothquant", "w4a16-g128-gptq"):
        with pytest.raises(NotApplicable, match=f"method '{scheme.rpartition('-')[2]}' applies "
                                                f"only to the causal-LM workloads"):
            evaluator.evaluate_point({"scheme": scheme, "pe": "int_mac", "lanes": 16,
                                      "array": 4, "workload": "resnet18"})
