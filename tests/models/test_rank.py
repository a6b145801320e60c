import math

import pytest

from models import rank
from models.cost import energy

PJ = 1e-12


def test_applies():
    assert rank.applies("int4-g128", "lut")
    assert rank.applies("log2_4", "shift_add")
    assert not rank.applies("log2_4", "int_mac")
    assert not rank.applies("int8", "lut")          # 8-bit weights: more planes than a LUT PE has
    assert not rank.applies("fp16", "fp8_mac")
    with pytest.raises(ValueError, match="name must be one of the presets"):
        rank.applies("int3", "lut")


def test_evaluate_point_by_hand(seeded_cache):
    seeded_cache("minilm", "int8", 0.98)
    row = rank.evaluate_point({"scheme": "int8", "pe": "int_mac", "lanes": 16, "array": 4,
                               "workload": "minilm-l6", "seq_len": 1})
    # GEMMs (M, K, N, count): (1, 384, 384, 24), (1, 384, 1536, 6), (1, 1536, 384, 6)
    # cycles: N outputs / 4 PEs rounds x ceil(K / 16) one-cycle beats, + 1 output latency
    cycles = [96 * 24 + 1, 384 * 24 + 1, 96 * 96 + 1]
    assert row["cycles"] == 24 * cycles[0] + 6 * cycles[1] + 6 * cycles[2] == 165924
    macs = 24 * 384 * 384 + 12 * 384 * 1536
    assert row["macs"] == macs
    assert row["energy_mac_j"] == pytest.approx(macs * (0.2 + 0.1) * PJ)
    # weights: 8 bits + one fp16 scale per row of K
    weight_bits = [384 * 384 * (8 + 16 / 384), 384 * 1536 * (8 + 16 / 384),
                   1536 * 384 * (8 + 16 / 1536)]
    assert row["bits_per_weight"] == pytest.approx(
        (24 * weight_bits[0] + 6 * weight_bits[1] + 6 * weight_bits[2]) / macs)
    # DRAM: weights + int8 inputs + 16-bit outputs, at 1.95 nJ / 64 bit
    dram_bits = [weight_bits[0] + 384 * 8 + 384 * 16, weight_bits[1] + 384 * 8 + 1536 * 16,
                 weight_bits[2] + 1536 * 8 + 384 * 16]
    counts = [24, 6, 6]
    assert row["energy_dram_j"] == pytest.approx(
        sum(c * b for c, b in zip(counts, dram_bits)) * 1950 / 64 * PJ)
    # SRAM (1 MiB, 100 pJ / 64 bit): activations once per column tile of 4, weights once per row
    sram_bits = [384 * 8 * 96 + weight_bits[0], 384 * 8 * 384 + weight_bits[1],
                 1536 * 8 * 96 + weight_bits[2]]
    assert row["energy_sram_j"] == pytest.approx(
        sum(c * b for c, b in zip(counts, sram_bits)) * 100 / 64 * PJ)
    # one fp32 rescale (multiply + add) per output
    assert row["energy_rescale_j"] == pytest.approx((24 * 384 + 6 * 1536 + 6 * 384) * 4.6 * PJ)
    # latency: each GEMM is bound by DRAM at 25.6 GB/s here (compute takes only cycles / 1 GHz)
    latency = sum(c * max(cyc / 1e9, b / 8 / 25.6e9) for c, cyc, b in zip(counts, cycles, dram_bits))
    assert row["latency_s"] == pytest.approx(latency)
    total = row["energy_mac_j"] + row["energy_rescale_j"] + row["energy_sram_j"] + \
        row["energy_dram_j"]
    assert row["energy_j"] == pytest.approx(total)
    assert row["edp_js"] == pytest.approx(total * latency)
    assert row["fidelity"] == 0.98 and row["fidelity_metric"] == "cosine"
    assert (row["scheme"], row["pe"], row["lanes"], row["array"], row["workload"],
            row["batch"], row["seq_len"]) == ("int8", "int_mac", 16, 4, "minilm-l6", 1, 1)


def test_cnn_workloads_use_the_digits_fidelity(seeded_cache):
    seeded_cache("digits_cnn", "mxfp4", 0.96)
    row = rank.evaluate_point({"scheme": "mxfp4", "pe": "fp8_mac", "lanes": 8, "array": 2,
                               "workload": "resnet18"})
    assert (row["fidelity"], row["fidelity_metric"]) == (0.96, "top1")
    assert row["pe_weight_format"] == "float8_e4m3fn"
    assert row["bits_per_weight"] == pytest.approx(4.25)
    assert row["energy_mac_j"] == pytest.approx(row["macs"] * (energy.fp_mult(4) + 0.9 * PJ))


def test_group_size_override(seeded_cache):
    from hwsim import quant
    from models.fidelity import cache
    scheme = rank.scheme_for("int4-g128", 64)
    cache._store(cache.default_path(), cache.key("minilm", scheme),
                 {"fingerprint": cache.fingerprint("minilm"), "result": {"mean_cosine": 0.93}})
    row = rank.evaluate_point({"scheme": "int4-g128", "pe": "lut", "lanes": 16, "array": 8,
                               "workload": "bert-base", "group_size": 64})
    assert row["group_size"] == 64 and row["fidelity"] == 0.93
    assert row["scheme_label"] == scheme.label != quant.preset("int4-g128").label
    with pytest.raises(rank.NotApplicable, match="group_size applies only to grouped schemes"):
        rank.scheme_for("int8", 64)


def test_not_applicable():
    with pytest.raises(rank.NotApplicable, match="does not run on the shift_add PE"):
        rank.evaluate_point({"scheme": "int8", "pe": "shift_add", "lanes": 16, "array": 4,
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
        rank.evaluate_point(point)


def test_pareto_front_by_hand():
    rows = [{"id": "a", "e": 1.0, "f": 0.90}, {"id": "b", "e": 2.0, "f": 0.99},
            {"id": "c", "e": 2.0, "f": 0.95},   # dominated by b
            {"id": "d", "e": 0.5, "f": 0.50}, {"id": "e", "e": 1.0, "f": 0.90},  # ties a
            {"id": "n", "e": math.nan, "f": 1.0}]
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
    assert [r["scheme"] for r in ranked] == ["y", "x"]
    # y: energy best (0), loss 0.1 vs best 0.01 -> 0.2 * log10(10) = 0.2
    # x: energy 10x best -> 0.4 * 1 = 0.4, loss best -> 0
    assert [r["score"] for r in ranked] == pytest.approx([0.2, 0.4])
    assert ranked[0]["score_metrics"] == "energy_j,latency_s,area_m2,fidelity_loss"
    # one row without an area: area leaves every score, so the row gains nothing from it
    rows[1]["area_m2"] = math.nan
    rows[0]["area_m2"] = 100.0
    ranked = rank.scalar_rank(rows, min_fidelity=0.8)
    assert [r["score"] for r in ranked] == pytest.approx([0.2, 0.4])
    assert ranked[0]["score_metrics"] == "energy_j,latency_s,fidelity_loss"
    with pytest.raises(ValueError, match="min_fidelity must be in 0..1"):
        rank.scalar_rank(rows, min_fidelity=99)


def test_ranked_table_is_reproducible(seeded_cache):
    for name in ("int4-g128", "int4-pc", "log2_4"):
        seeded_cache("minilm", name, {"int4-g128": 0.93, "int4-pc": 0.91, "log2_4": 0.9}[name])
    kwargs = dict(schemes=["int4-g128", "int4-pc", "log2_4"], pes=["lut", "shift_add", "int_mac"])
    first = rank.ranked_table(rank.evaluate_all("bert-base", 16, 64, **kwargs))
    second = rank.ranked_table(rank.evaluate_all("bert-base", 16, 64, **kwargs))
    assert repr(first) == repr(second)  # repr: NaN areas compare unequal to themselves
    assert [r["rank"] for r in first] == [1, 2, 3, 4, 5]
    assert {(r["scheme"], r["pe"]) for r in first} == {
        ("int4-g128", "lut"), ("int4-g128", "int_mac"), ("int4-pc", "lut"),
        ("int4-pc", "int_mac"), ("log2_4", "shift_add")}
    assert any(r["pareto"] for r in first)
