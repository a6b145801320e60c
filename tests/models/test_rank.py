import math

import numpy as np
import pytest

from lowbit.models import evaluator, rank
from lowbit.models.cost import dataflow, energy, timing

PJ = 1e-12


def test_applies():
    assert evaluator.applies("int4-g128", "lut")
    assert evaluator.applies("log2_4", "shift_add")
    assert not evaluator.applies("log2_4", "int_mac")
    assert not evaluator.applies("int8", "lut")          # 8-bit weights: more planes than a LUT PE has
    assert not evaluator.applies("fp16", "fp8_mac")
    with pytest.raises(ValueError, match="name must be one of the presets"):
        evaluator.applies("int3", "lut")


COUNTS = [24, 6, 6]   # minilm-l6 GEMMs (M, K, N, count): (M, 384, 384, 24), (M, 384, 1536, 6),
                      # (M, 1536, 384, 6) with M = seq_len
# int8 preset: weights 8 bits + one fp16 scale per row of K; activations 8 bits + one float32
# scale per token (row of K)
WEIGHT_BITS = [384 * 384 * (8 + 16 / 384), 384 * 1536 * (8 + 16 / 384),
               1536 * 384 * (8 + 16 / 1536)]
WEIGHTS = 24 * 384 * 384 + 12 * 384 * 1536


def _act_bits(M):
    return [M * (384 * 8 + 32), M * (384 * 8 + 32), M * (1536 * 8 + 32)]


def _check_totals(row, counts, cycles, dram_bits, sram_bits, macs, dots):
    assert row["cycles"] == sum(c * cyc for c, cyc in zip(counts, cycles))
    assert row["macs"] == macs
    assert row["energy_mac_j"] == pytest.approx(macs * (0.2 + 0.1) * PJ)
    # bits per weight: stored weight bits over the weight count (not the MAC count)
    assert row["bits_per_weight"] == pytest.approx(
        sum(c * b for c, b in zip(counts, WEIGHT_BITS)) / WEIGHTS)
    # DRAM (DDR4) at 1.95 nJ / 64 bit, SRAM (1 MiB read 64 bits at a time, CACTI) at
    # 0.0771867 nJ / 64 bit
    assert row["energy_dram_j"] == pytest.approx(
        sum(c * b for c, b in zip(counts, dram_bits)) * 1950 / 64 * PJ)
    assert row["energy_sram_j"] == pytest.approx(
        sum(c * b for c, b in zip(counts, sram_bits)) * 77.1867 / 64 * PJ)
    # one fp32 rescale (multiply 3.7 pJ + add 0.9 pJ) per dot product = per output here
    assert row["energy_rescale_j"] == pytest.approx(dots * 4.6 * PJ)
    # latency: each GEMM the larger of compute at the clock the int_mac PE (int8 x int8, 16
    # lanes) reaches at 45 nm, its flip-flops' overhead included, and DRAM at 25.6 GB/s
    clock = 1 / ((_int_mac_pe_default_fo4() + timing.FLIP_FLOP_OVERHEAD_FO4)
                 * timing.fo4_seconds(45))
    assert row["clock_hz"] == pytest.approx(clock, rel=1e-12)
    latency = sum(c * max(cyc / clock, b / 8 / 25.6e9)
                  for c, cyc, b in zip(counts, cycles, dram_bits))
    assert row["latency_s"] == pytest.approx(latency)
    total = row["energy_mac_j"] + row["energy_rescale_j"] + row["energy_sram_j"] + \
        row["energy_dram_j"]
    assert row["energy_j"] == pytest.approx(total)
    assert row["edp_js"] == pytest.approx(total * latency)


def _int_mac_pe_default_fo4() -> float:
    from lowbit.rtl.timing import load
    (entry,) = [e for e in load()["designs"]["int_mac_pe"] if e["label"] == "default"]
    return entry["critical_path_fo4"]


def test_evaluate_point_by_hand_one_row(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = evaluator.evaluate_point({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4,
                               "workload": "minilm-l6", "seq_len": 1})
    # cycles: N outputs / 4 PEs rounds x ceil(K / 16) one-cycle beats, + 1 output latency
    cycles = [96 * 24 + 1, 384 * 24 + 1, 96 * 96 + 1]
    assert row["cycles"] == 165924
    acts = _act_bits(1)
    # DRAM: weights, activations, 16-bit outputs once each (M = 1 fits the buffer)
    dram_bits = [WEIGHT_BITS[0] + acts[0] + 384 * 16, WEIGHT_BITS[1] + acts[1] + 1536 * 16,
                 WEIGHT_BITS[2] + acts[2] + 384 * 16]
    # SRAM: grid R = 1 row x C = 4 columns: weights once, activations once per tile of 4 columns
    sram_bits = [WEIGHT_BITS[0] + acts[0] * 96, WEIGHT_BITS[1] + acts[1] * 384,
                 WEIGHT_BITS[2] + acts[2] * 96]
    _check_totals(row, COUNTS, cycles, dram_bits, sram_bits, WEIGHTS, 24 * 384 + 6 * 1536 + 6 * 384)
    assert row["fidelity"] == 0.98 and row["fidelity_metric"] == "cosine"
    assert (row["fidelity_model"], row["fidelity_samples"]) == ("all-MiniLM-L6-v2", 206)
    assert (row["scheme"], row["pe"], row["lanes"], row["array"], row["workload"],
            row["batch"], row["seq_len"]) == ("int8", "int_mac", 16, 4, "minilm-l6", 1, 1)


def test_evaluate_point_by_hand_two_rows(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = evaluator.evaluate_point({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4,
                               "workload": "minilm-l6", "seq_len": 2})
    # cycles: 2 * N dot products / 4 PEs rounds x ceil(K / 16) beats, + 1
    cycles = [192 * 24 + 1, 768 * 24 + 1, 192 * 96 + 1]
    acts = _act_bits(2)
    dram_bits = [WEIGHT_BITS[0] + acts[0] + 2 * 384 * 16, WEIGHT_BITS[1] + acts[1] + 2 * 1536 * 16,
                 WEIGHT_BITS[2] + acts[2] + 2 * 384 * 16]
    # SRAM grid: R = 2 (both rows share each weight beat) x C = 2 beats R = 1 x C = 4, e.g.
    # GEMM 0: 1185792 + 6208 * 192 = 2377728 < 2 * 1185792 + 6208 * 96 = 2967552 bits
    sram_r1 = [2 * w + a * n for w, a, n in zip(WEIGHT_BITS, acts, (96, 384, 96))]
    sram_bits = [w + a * n for w, a, n in zip(WEIGHT_BITS, acts, (192, 768, 192))]
    assert all(r2 < r1 for r1, r2 in zip(sram_r1, sram_bits))
    assert sram_bits[0] == 2377728
    _check_totals(row, COUNTS, cycles, dram_bits, sram_bits, 2 * WEIGHTS,
                  2 * (24 * 384 + 6 * 1536 + 6 * 384))


def test_memory_bits_by_hand():
    # M = 300 rows of K = 4096 8-bit activations do not fit the 8388608-bit buffer beside one
    # 8-bit weight column: M_t = floor((8388608 - 32768) / 32768) = 255, two M tiles, so every
    # weight crosses DRAM twice; activations once
    bits = dataflow.memory_bits(300, 4096, 8, 4, 8.0, 8.0)
    weight, act = 8 * 4096 * 8, 8 * 300 * 4096
    assert bits["dram_weight"] == 2 * weight and bits["dram_act"] == act
    assert bits["dram_out"] == 300 * 8 * 16
    # grid (W = 262144, A = 9830400 bits): R = 2, C = 2 reads 150 W + 4 A = 78643200 bits;
    # R = 1 (300 W + 2 A) and R = 4 (75 W + 8 A) both read 98304000, R = 3 (C = 1) more
    assert bits["grid_rows"] == 2
    assert (bits["sram_weight"], bits["sram_act"]) == (150 * weight, 4 * act)
    with pytest.raises(ValueError, match="K must let one activation row and one weight column"):
        dataflow.memory_bits(1, 600_000, 8, 4, 8.0, 8.0)


def test_cnn_workloads_use_the_digits_fidelity(seeded_cache):
    from lowbit.models import workloads
    seeded_cache("digits_cnn", "mxfp4", 0.96)
    row = evaluator.evaluate_point({"scheme": "mxfp4", "pe": "fp8_mac", "lanes": 8, "array": 2,
                               "workload": "resnet18"})
    assert (row["fidelity"], row["fidelity_metric"]) == (0.96, "top1")
    assert (row["fidelity_model"], row["fidelity_samples"]) == ("digits-cnn", 540)
    assert row["pe_weight_format"] == "float8_e4m3fn"
    # 4-bit elements + an 8-bit E8M0 scale per block of 32; the stem's rows of K = 147 end in a
    # block of 19 with its own scale (5 scales per row, not 147 / 32)
    gemms = workloads.get("resnet18")
    scales = sum(g.count * g.N * math.ceil(g.K / 32) for g in gemms)
    assert row["bits_per_weight"] == pytest.approx(4 + 8 * scales / workloads.weight_count(gemms),
                                                   rel=1e-12)
    assert row["bits_per_weight"] > 4.25
    # per MAC a multiply + an fp32 add; per MX block of 32 the 8 lane sums are reduced with
    # 7 more fp32 adds (lowbit.models.cost.cycles: fp8_mac as independent lanes)
    blocks = sum(g.count * g.M * g.N * math.ceil(g.K / 32) for g in workloads.get("resnet18"))
    assert row["energy_mac_j"] == pytest.approx(
        row["macs"] * (energy.fp_mult(4) + 0.9 * PJ) + blocks * 7 * 0.9 * PJ)


def test_group_size_override(seeded_cache):
    from lowbit.hwsim import quant
    from lowbit.models.fidelity import cache
    scheme = evaluator.scheme_for("int4-g128", 64)
    cache._store(cache.default_path(), cache.key("minilm", scheme),
                 {"fingerprint": cache.fingerprint("minilm"), "result": {"mean_cosine": 0.93}})
    row = evaluator.evaluate_point({"scheme": "int4-g128", "pe": "lut", "lanes": 16, "array": 8,
                               "workload": "bert-base", "group_size": 64})
    assert row["group_size"] == 64 and row["fidelity"] == 0.93
    assert row["scheme_label"] == scheme.label != quant.preset("int4-g128").label
    with pytest.raises(evaluator.NotApplicable, match="group_size applies only to grouped schemes"):
        evaluator.scheme_for("int8", 64)


def test_not_applicable():
    with pytest.raises(evaluator.NotApplicable, match="does not run on the shift_add PE"):
        evaluator.evaluate_point({"scheme": "int8", "pe": "shift_add", "lanes": 16, "array": 4,
                             "workload": "bert-base"})


@pytest.mark.parametrize("point, match", [
    ({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4}, "missing \\['workload'\\]"),
    ({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4, "workload": "x"},
     "point\\['workload'\\] must be one of"),
    ({"scheme": "int8", "pe": "tpu", "lanes": 16, "array": 4, "workload": "bert-base"},
     "pe must be one of"),
    ({"scheme": "int8", "pe": "int_mac", "lanes": 0, "array": 4, "workload": "bert-base"},
     "point\\['lanes'\\] must be a positive integer"),
    ({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4, "workload": "bert-base",
      "color": "red"}, "unknown \\['color'\\]"),
    ({"scheme": "int4-pc", "pe": "lut", "lanes": 6, "array": 4, "workload": "bert-base"},
     "lanes must be a multiple of group_size=4"),
])
def test_bad_points(point, match):
    with pytest.raises(ValueError, match=match):
        evaluator.evaluate_point(point)


def test_pareto_front_by_hand():
    rows = [{"id": "a", "e": 1.0, "f": 0.90}, {"id": "b", "e": 2.0, "f": 0.99},
            {"id": "c", "e": 2.0, "f": 0.95},   # dominated by b
            {"id": "d", "e": 0.5, "f": 0.50}, {"id": "e", "e": 1.0, "f": 0.90},  # ties a
            {"id": "n", "e": math.nan, "f": 1.0},
            {"id": "n32", "e": 0.1, "f": np.float32("nan")}]   # numpy NaN is NaN too
    front = rank.pareto_front(rows, {"e": "min", "f": "max"})
    assert [r["id"] for r in front] == ["a", "b", "d", "e"]
    with pytest.raises(ValueError, match="objectives\\['e'\\] must be 'min' or 'max'"):
        rank.pareto_front(rows, {"e": "low"})
    with pytest.raises(ValueError, match="rows must have every objective metric"):
        rank.pareto_front(rows, {"g": "min"})


def test_scalar_rank_by_hand():
    base = {"pe": "lut", "lanes": 16, "array": 4, "area_m2": 1.0, "latency_s": 1.0}
    rows = [dict(base, scheme="x", energy_j=10.0, fidelity=0.99),
            dict(base, scheme="y", energy_j=1.0, fidelity=0.9),
            dict(base, scheme="z", energy_j=1.0, fidelity=0.5)]
    ranked = rank.scalar_rank(rows, min_fidelity=0.8)
    assert [r["scheme"] for r in ranked] == ["x", "y"]
    # x: energy 10x the best -> 0.4 * 1 = 0.4; fidelity best -> 0
    # y: energy best -> 0; fidelity 0.09 below the best = 9 steps of 0.01 -> 0.2 * 9 = 1.8
    assert [r["score"] for r in ranked] == pytest.approx([0.4, 1.8])
    assert ranked[0]["score_metrics"] == "energy_j,latency_s,area_m2,fidelity"
    with pytest.raises(ValueError, match="min_fidelity must be a number in 0..1"):
        rank.scalar_rank(rows, min_fidelity=99)


def test_scalar_rank_missing_area_leaves_only_that_row_out_of_area():
    base = {"pe": "lut", "lanes": 16, "array": 4, "latency_s": 1.0, "energy_j": 1.0}
    rows = [dict(base, scheme="x", area_m2=100.0, fidelity=0.99),
            dict(base, scheme="y", area_m2=10.0, fidelity=0.99),
            dict(base, scheme="n", area_m2=math.nan, fidelity=0.98)]
    scores = {r["scheme"]: r for r in rank.scalar_rank(rows)}
    # x keeps its area term (0.1 * log10(100 / 10)), the whole objective is not dropped
    assert scores["x"]["score"] == pytest.approx(0.1)
    assert scores["y"]["score"] == pytest.approx(0.0)
    # n: weighted mean of its other terms, 0.2 * 1 / (0.4 + 0.3 + 0.2), no gain from the gap
    assert scores["n"]["score"] == pytest.approx(0.2 / 0.9)
    assert scores["n"]["score_metrics"] == "energy_j,latency_s,fidelity"
    assert scores["x"]["score_metrics"] == "energy_j,latency_s,area_m2,fidelity"


@pytest.mark.parametrize("nan_first", [True, False])
def test_scalar_rank_nan_fidelity_ranks_last_and_leaves_the_others_alone(nan_first):
    base = {"pe": "lut", "lanes": 16, "array": 4, "latency_s": 1.0, "area_m2": 1.0}
    rows = [dict(base, scheme="a", energy_j=10.0, fidelity=0.99),
            dict(base, scheme="b", energy_j=1.0, fidelity=0.9)]
    broken = dict(base, scheme="n", energy_j=1.0, fidelity=math.nan)
    ranked = rank.scalar_rank([broken, *rows] if nan_first else [*rows, broken])
    assert [r["scheme"] for r in ranked] == ["a", "b", "n"]    # no fidelity: last, whatever its score
    scores = {r["scheme"]: r for r in ranked}
    # the others as if the NaN row were not there, whatever the order
    assert scores["a"]["score"] == pytest.approx(0.4) and scores["b"]["score"] == pytest.approx(1.8)
    assert scores["n"]["score"] == pytest.approx(0.0)      # best energy, latency, area; no fidelity term
    assert scores["n"]["score_metrics"] == "energy_j,latency_s,area_m2"


def test_scalar_rank_puts_a_broken_scheme_below_a_lossy_one():
    # the reviewer's case: binary (cosine 0.249) at a third of the energy, int4-g128 at 0.94
    base = {"pe": "int_mac", "lanes": 16, "array": 256, "area_m2": 1.0}
    rows = [dict(base, scheme="int4-g128", energy_j=3.0, latency_s=1.5, fidelity=0.94),
            dict(base, scheme="binary", energy_j=1.0, latency_s=1.0, fidelity=0.249)]
    assert [r["scheme"] for r in rank.scalar_rank(rows)] == ["int4-g128", "binary"]


def test_ranked_table_pareto_with_a_missing_area():
    base = {"pe": "lut", "lanes": 16, "array": 4, "latency_s": 1.0}
    rows = [dict(base, scheme="a", energy_j=1.0, area_m2=2.0, fidelity=0.9),
            dict(base, scheme="b", energy_j=2.0, area_m2=1.0, fidelity=0.9),
            dict(base, scheme="c", energy_j=3.0, area_m2=3.0, fidelity=0.9),    # dominated
            dict(base, scheme="n", energy_j=0.5, area_m2=math.nan, fidelity=0.9),
            dict(base, scheme="m", energy_j=4.0, area_m2=math.nan, fidelity=0.9)]
    table = {r["scheme"]: r["pareto"] for r in rank.ranked_table(rows)}
    # a, b: front among the rows with an area (n's missing area cannot dominate them);
    # n: front without the area objective; m: dominated by a without it
    assert table == {"a": True, "b": True, "c": False, "n": True, "m": False}


def test_ranked_table_is_reproducible(seeded_cache):
    for name in ("int4-g128", "int4-pc", "log2_4"):
        seeded_cache("minilm", name, {"int4-g128": 0.93, "int4-pc": 0.91, "log2_4": 0.9}[name])
    kwargs = dict(schemes=["int4-g128", "int4-pc", "log2_4"], pes=["lut", "shift_add", "int_mac"])
    first = rank.ranked_table(evaluator.evaluate_all("bert-base", 16, 64, **kwargs))
    second = rank.ranked_table(evaluator.evaluate_all("bert-base", 16, 64, **kwargs))
    assert repr(first) == repr(second)  # repr: NaN areas compare unequal to themselves
    assert [r["rank"] for r in first] == [1, 2, 3, 4, 5]
    # Every 0.01 of fidelity below the best costs 0.2 (RANK_WEIGHTS, FIDELITY_STEP), more than the
    # few-percent energy and area gaps among int_mac and shift_add, so fidelity orders those; a
    # LUT row takes 4x its int_mac peer's latency (one weight bit-plane a cycle, 4 planes) and more
    # area at the same fidelity: log10(4) * 0.3 behind it, and dominated by it (off the front).
    assert [(r["scheme"], r["pe"], r["pareto"]) for r in first] == [
        ("int4-g128", "int_mac", True),      # best fidelity (0.93) at the int_mac cost
        ("int4-g128", "lut", False),         # 0.93, but slower and larger than the row above
        ("int4-pc", "int_mac", True),        # 0.91: less energy (no group scales), lower fidelity
        ("log2_4", "shift_add", True),       # 0.90: the least energy and area
        ("int4-pc", "lut", False),           # 0.91 at the LUT's latency and area
    ]


def test_activation_traffic_counts_the_schemes_own_bits(seeded_cache):
    # MXFP4 activations run on the fp8_mac PE as E4M3 codes, but they move as 4-bit elements
    # plus an E8M0 scale per 32: 4.25 bits, not the PE's 8
    seeded_cache("minilm", "mxfp4", 0.9)
    row = evaluator.evaluate_point({"scheme": "mxfp4", "pe": "fp8_mac", "lanes": 16, "array": 4,
                               "workload": "minilm-l6", "seq_len": 1})
    dram_bits = [K * N * 4.25 + K * 4.25 + N * 16
                 for K, N in ((384, 384), (384, 1536), (1536, 384))]
    assert row["energy_dram_j"] == pytest.approx(
        sum(c * b for c, b in zip(COUNTS, dram_bits)) * 1950 / 64 * PJ)
