"""lowbit.sweeps.report: the table in grid order, and winners, margins and reasons on hand-made rows."""
from __future__ import annotations

import math

import pytest

from lowbit.sweeps import grid, report
from lowbit.sweeps.config import ReportSettings, SweepConfig


def make_config(min_fidelity=0.99, baseline=("int8", "int_mac"), **extra_axes) -> SweepConfig:
    axes = dict(schemes=("int8", "int4-g128", "binary"), pes=("int_mac", "lut"), lanes=(16,),
                arrays=(64,), workloads=("w",), **extra_axes)
    return SweepConfig(name="t", description="hand-made", evaluator="m:f", axes=axes,
                       report=ReportSettings(min_fidelity, baseline), source="t.toml")


def row(scheme, pe, fidelity, energy, latency, area, **extra):
    return {"scheme": scheme, "pe": pe, "lanes": 16, "array": 64, "workload": "w",
            "fidelity": fidelity, "fidelity_metric": "cosine", "energy_j": energy,
            "latency_s": latency, "area_m2": area, "edp_js": energy * latency, **extra}


def front_of_all(rows, objectives):
    return list(rows)


ROWS = [
    row("int8", "int_mac", 0.9995, 8e-6, 2e-3, 4e-7),
    row("int8", "lut", 0.9995, 5e-6, 4e-3, 3e-7),
    row("int4-g128", "int_mac", 0.995, 4e-6, 2e-3, 2e-7),
    row("int4-g128", "lut", 0.995, 2e-6, 3e-3, 1e-7),
    row("binary", "lut", 0.6, 1e-7, 1e-3, 1e-8),
]


def report_text(tmp_path, rows, front=front_of_all, config=None) -> str:
    """report.md for ``rows`` (config: make_config()) with no skipped points, plots or GPU
    results."""
    path = tmp_path / "r.md"
    report.write_report(config or make_config(), rows, front, path, skipped=0, plots=[],
                        gpu_note="none")
    return path.read_text()


def objective_row(text: str, objective: str) -> str:
    """The winners-table row of ``objective`` (e.g. "lowest energy")."""
    return next(line for line in text.splitlines() if line.startswith(f"| {objective} |"))


def test_table_rows_follow_the_grid_and_skip_missing_and_not_applicable(tmp_path):
    config = make_config()
    points, _ = grid.expand(config)
    records = {}
    for i, point in enumerate(points):
        key = grid.point_key(config.evaluator, point)
        if i == 1:
            continue  # not evaluated yet
        status = "not_applicable" if i == 2 else "ok"
        records[key] = {"key": key, "status": status, "point": point,
                        "metrics": {**point, "fidelity": i / 10, "energy_j": float(i)}}
    rows = report.table_rows(config, records, points)
    assert [r["fidelity"] for r in rows] == [0.0, 0.3, 0.4, 0.5]
    assert list(rows[0]) == ["scheme", "pe", "lanes", "array", "workload", "fidelity", "energy_j"]
    assert report.count_not_applicable(config, records, points) == 1
    report.write_table(rows, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0] == "scheme,pe,lanes,array,workload,fidelity,energy_j"
    assert lines[1] == "int8,int_mac,16,64,w,0.0,0.0"
    assert len(lines) == 5


def test_contexts_split_by_swept_batch_only():
    rows = [dict(ROWS[0], batch=1, seq_len=128), dict(ROWS[1], batch=8, seq_len=128)]
    assert list(report.contexts(make_config(), rows)) == ["w"]
    assert list(report.contexts(make_config(batches=(1, 8)), rows)) == ["w, batch=1", "w, batch=8"]


def test_contexts_split_by_swept_node_and_dram():
    rows = [dict(ROWS[0], node=45, dram="ddr4"), dict(ROWS[1], node=45, dram="hbm2e"),
            dict(ROWS[2], node=7, dram="ddr4")]
    assert list(report.contexts(make_config(), rows)) == ["w"]
    assert list(report.contexts(make_config(drams=("ddr4", "hbm2e")), rows)) == [
        "w, dram=ddr4", "w, dram=hbm2e"]
    assert list(report.contexts(make_config(nodes=(45, 7), drams=("ddr4", "hbm2e")), rows)) == [
        "w, node=45, dram=ddr4", "w, node=45, dram=hbm2e", "w, node=7, dram=ddr4"]


def test_winners_numbers_and_reasons(tmp_path):
    path = tmp_path / "r.md"
    report.write_report(make_config(), ROWS, front_of_all, path, skipped=3,
                        plots=["pareto_w.png"], gpu_note="no GPU results")
    text = path.read_text()
    assert "5 evaluated design points from `t.toml` (3 points not applicable)" in text
    assert ("## w\n\nFidelity proxy: metric cosine; the evaluator reports no proxy model or "
            "sample size.\n\n5 designs; 4 reach the bar cosine >= 0.99.") in text
    # EDP among the four that reach 0.99: int4-g128 on lut 2e-6 J x 3e-3 s = 6e-9 J·s is lowest
    assert "**Winner: int4-g128** on lut" in text
    lines = {line.split("|")[1].strip(): line for line in text.splitlines()
             if line.startswith("| lowest")}
    energy = lines["lowest energy"]
    assert "**int4-g128 on lut (lanes=16, array=64)** | 2 µJ | 0.9950" in energy
    # best other scheme: int8 on lut 5 µJ -> 2.50x; the baseline (same lanes, array) 8 µJ -> 4.00x
    assert ("2.50x lower energy than the best other scheme, int8 on lut (lanes=16, array=64) "
            "(5 µJ)") in energy
    assert "4.00x lower than the baseline int8 on int_mac (lanes=16, array=64) (8 µJ)" in energy
    latency = lines["lowest latency"]
    # int8/int_mac and int4-g128/int_mac tie at 2 ms: the exact tie goes to higher fidelity
    assert "**int8 on int_mac (lanes=16, array=64)** | 2 ms | 0.9995" in latency
    assert "tied: within model noise (5%) of int4-g128 on int_mac" in latency
    assert "baseline" not in latency  # the winner is the baseline itself
    assert "| 0.1 mm² |" in lines["lowest area"]
    assert "Highest fidelity: **int8 on int_mac (lanes=16, array=64)**, cosine 0.9995." in text
    assert "Below the fidelity bar (best fidelity per scheme): binary (0.6000)." in text
    assert "5 of 5 designs" in text
    assert "- ![pareto_w.png](pareto_w.png)" in text and "- GPU: no GPU results" in text


def test_no_design_reaches_the_bar(tmp_path):
    text = report_text(tmp_path, ROWS, config=make_config(min_fidelity=0.9999))
    assert "**No design reaches fidelity 0.9999**, so no winner is named" in text
    assert "Winner" not in text


def test_missing_area_everywhere_is_explained_not_ranked(tmp_path):
    rows = [dict(r, area_m2=math.nan, area_note="no synthesis record") for r in ROWS]
    text = report_text(tmp_path, rows)
    assert "| lowest area | none | n/a | | no area for any design: no synthesis record |" in text
    assert ("Pareto front over fidelity (max), energy_j (min), latency_s (min), area_m2 (min): "
            "5 of 5 designs.\n\n† 5 of 5 design(s) without area_m2 (") in text
    assert ("ranked on the other objectives; a front row without it reads n/a† (no synthesis "
            "record).") in text
    assert "| n/a† |" in text  # the area column of the Pareto table


def test_designs_without_a_metric_are_named_not_ranked(tmp_path):
    rows = [dict(ROWS[0], area_note="synth int_mac_pe"),
            dict(ROWS[3], area_m2=math.nan, area_note="no synthesis record for lut")]
    text = report_text(tmp_path, rows)
    area = objective_row(text, "lowest area")
    assert "**int8 on int_mac (lanes=16, array=64)** | 0.4 mm²" in area
    assert "1 design(s) with no area value not ranked (no synthesis record for lut)" in area


# One NaN-area policy: a design without area is left out of the area objective only. r1 and r2
# tie on everything but area, so r2 (smaller) dominates r1: dropping area for every design
# because r3 and r4 lack it would keep r1. r3 has no area but the lowest energy: on the front,
# marked. r4 has no area and is worse than r2 on the other three: off the front.
PARTIAL_AREA = [
    row("int8", "int_mac", 0.9995, 8e-6, 2e-3, 4e-7),
    row("int8", "lut", 0.9995, 8e-6, 2e-3, 3e-7),
    row("int4-g128", "lut", 0.995, 2e-6, 3e-3, math.nan, area_note="no synthesis record"),
    row("binary", "lut", 0.6, 9e-6, 5e-3, math.nan, area_note="no synthesis record"),
]


def test_a_design_without_area_leaves_only_the_area_objective():
    from lowbit.models.rank import pareto_front
    front, notes = report.pareto_rows(PARTIAL_AREA, pareto_front)
    assert front == [PARTIAL_AREA[1], PARTIAL_AREA[2]]
    assert notes == ["2 of 4 design(s) without area_m2 (int4-g128 on lut (lanes=16, array=64), "
                     "binary on lut (lanes=16, array=64)), ranked on the other objectives; a "
                     "front row without it reads n/a† (no synthesis record)"]
    # with every value present the front is the evaluator's own, over all four objectives
    assert report.pareto_rows(ROWS, pareto_front) == (pareto_front(ROWS, report.OBJECTIVES), [])


def test_partial_area_in_the_report_and_its_pareto_table(tmp_path):
    from lowbit.models.rank import pareto_front
    text = report_text(tmp_path, PARTIAL_AREA, pareto_front)
    assert "area_m2 (min): 2 of 4 designs." in text
    table = text[text.index("| design |"):].splitlines()
    assert table[2].startswith("| int8 on lut (lanes=16, array=64) | 0.9995 |")
    assert table[3] == ("| int4-g128 on lut (lanes=16, array=64) | 0.9950 | 2 µJ | 3 ms | n/a† "
                        "| 6 nJ·s |")


def test_objectives_are_the_evaluators_not_a_copy():
    from lowbit.models import rank
    assert report.OBJECTIVES is rank.PARETO_OBJECTIVES


def test_per_metric_bars(tmp_path):
    rows = ROWS + [dict(ROWS[0], workload="c", fidelity_metric="top1", fidelity=0.96)]
    text = report_text(tmp_path, rows,
                       config=make_config(min_fidelity={"cosine": 0.99, "top1": 0.95}))
    assert "A winner must reach the fidelity bar (cosine >= 0.99, top1 >= 0.95)" in text
    assert "1 designs; 1 reach the bar top1 >= 0.95." in text
    text = report_text(tmp_path, rows, config=make_config(min_fidelity={"cosine": 0.99}))
    assert ("report.min_fidelity sets no bar for the fidelity metric 'top1', so no "
            "winner is named.") in text


def test_baseline_margin_when_a_hardware_axis_differs(tmp_path):
    # int8 on int_mac at 32 lanes is no baseline for a 16-lane winner: no baseline margin
    rows = [ROWS[3], dict(ROWS[0], lanes=32)]
    text = report_text(tmp_path, rows)
    energy = objective_row(text, "lowest energy")
    assert "int4-g128 on lut" in energy and "baseline" not in energy


def test_only_one_scheme_meets_the_bar(tmp_path):
    text = report_text(tmp_path, ROWS, config=make_config(min_fidelity=0.999))
    assert "the only scheme that reaches the fidelity bar" in text


@pytest.mark.parametrize("value, unit, text", [
    (2e-6, "J", "2 µJ"), (1.234e-3, "s", "1.23 ms"), (5.0, "J", "5 J"),
    (3e-13, "J·s", "300 fJ·s"),
    (1e-7, "m²", "0.1 mm²"), (5e14, "op/s", "500 Top/s"), (1234.0, "J", "1.23 kJ"),
    (math.nan, "J", "n/a"), (2e-18, "J", "2e-18 J"),
])
def test_si(value, unit, text):
    assert report.si(value, unit) == text


# Two designs with the evaluator's breakdown columns. lanes=16, array=64 and macs chosen so
# that A needs 2.00 cycles per MAC per lane: 3e6 cycles x 16 x 64 / 1.536e9 MACs. A's latency
# (3 ms) equals its compute time at 1 GHz (compute-bound); B's 4 ms exceeds its 1 ms of compute
# (memory-bound).
BREAKDOWN = [
    row("int4-g128", "lut", 0.995, 2e-6, 3e-3, 1e-7, bits_per_weight=4.25, energy_mac_j=0.2e-6,
        energy_sram_j=0.3e-6, energy_dram_j=1.5e-6, energy_rescale_j=0.0, cycles=3_000_000,
        macs=1_536_000_000, clock_hz=1e9),
    row("int8", "lut", 0.9995, 5e-6, 4e-3, 3e-7, bits_per_weight=8.0, energy_mac_j=0.5e-6,
        energy_sram_j=0.5e-6, energy_dram_j=4e-6, energy_rescale_j=0.0, cycles=1_000_000,
        macs=1_536_000_000, clock_hz=1e9),
]


def why_lines(tmp_path, rows, config=None) -> dict[str, str]:
    text = report_text(tmp_path, rows, config=config)
    assert "Why each wins:" in text
    return {line[4:].split(",")[0]: line for line in text.splitlines()
            if line.startswith("- **lowest")}


def test_why_gives_bits_energy_term_latency_driver_area_and_fidelity(tmp_path):
    why = why_lines(tmp_path, BREAKDOWN)
    other = "int8 on lut (lanes=16, array=64)"
    assert why["lowest energy"] == (
        f"- **lowest energy, int4-g128 on lut (lanes=16, array=64)**: 4.25 bits per weight "
        f"(scales included) against 8 for {other}; its energy goes mostly to DRAM traffic (75% "
        f"DRAM traffic, 15% SRAM reads, 10% MAC arithmetic); the lead over {other} comes mostly "
        f"from DRAM traffic (1.5 µJ against 4 µJ); cosine 0.9950, +0.0050 against the bar 0.99.")
    assert why["lowest latency"].endswith(
        "latency is compute-bound (2.00 cycles per MAC per lane, 3 ms of compute at 1 GHz, the "
        "clock its synthesized critical path reaches); "
        "4.25 bits per weight (scales included) against 8 for int8 on lut (lanes=16, array=64); "
        "cosine 0.9950, +0.0050 against the bar 0.99.")
    assert why["lowest area"].endswith(
        "**: 0.1 mm² = 64 lut PEs of 0.00156 mm², against 0.3 mm² for int8 on lut (lanes=16, "
        "array=64); cosine 0.9950, +0.0050 against the bar 0.99.")
    edp = why["lowest energy-delay product"]
    assert "bits per weight" in edp and "DRAM traffic" in edp and "compute-bound" in edp


def test_why_memory_bound_latency(tmp_path):
    why = why_lines(tmp_path, BREAKDOWN[1:])
    assert ("latency is memory-bound: moving weights and activations through DRAM takes longer "
            "than the compute (0.67 cycles per MAC per lane, 1 ms of compute at 1 GHz, the clock "
            "its synthesized critical path reaches), so fewer bits per weight mean less time") \
        in why["lowest latency"]
    assert "the only scheme that reaches the fidelity bar" in (tmp_path / "r.md").read_text()


def test_why_without_breakdown_columns_says_so(tmp_path):
    why = why_lines(tmp_path, ROWS)
    assert "no energy breakdown from the evaluator" in why["lowest energy"]
    assert "bits per weight" not in why["lowest energy"]
    assert "cycles per MAC" not in why["lowest latency"]


def test_an_energy_lead_within_noise_is_not_explained_away(tmp_path):
    close = [BREAKDOWN[0], dict(BREAKDOWN[1], energy_j=2.08e-6)]  # 4% above A
    why = why_lines(tmp_path, close)
    assert ("its energy is within model noise of int8 on lut (lanes=16, array=64)'s"
            in why["lowest energy"])


@pytest.mark.parametrize("runner_up_energy, margin", [
    (2.08e-6, "tied: within model noise (5%) of int8 on lut (lanes=16, array=64) (2.08 µJ)"),
    (2.12e-6, "1.06x lower energy than the best other scheme, int8 on lut (lanes=16, "
              "array=64) (2.12 µJ)"),
])
def test_margins_under_five_percent_are_ties(tmp_path, runner_up_energy, margin):
    rows = [BREAKDOWN[0], dict(BREAKDOWN[1], energy_j=runner_up_energy)]
    text = report_text(tmp_path, rows, config=make_config(baseline=None))
    energy = objective_row(text, "lowest energy")
    assert energy.endswith(f"| {margin} |")


def test_proxy_model_and_sample_size_are_named():
    rows = [dict(r, fidelity_model="all-MiniLM-L6-v2", fidelity_samples=64) for r in ROWS]
    assert report.proxy_sentence(rows) == ("Fidelity proxy: all-MiniLM-L6-v2 (cosine over 64 "
                                           "samples).")
    rows[0] = dict(rows[0], fidelity_samples=32)
    assert report.proxy_sentence(rows).endswith("(cosine over 32 to 64 samples).")
    assert report.proxy_sentence([dict(ROWS[0], fidelity_model="m")]) == (
        "Fidelity proxy: m (cosine over a sample count it does not report).")
    assert report.proxy_sentence(ROWS) == ("Fidelity proxy: metric cosine; the evaluator reports "
                                           "no proxy model or sample size.")


def test_top1_within_one_sampling_error_of_the_bar_is_flagged(tmp_path):
    # binomial standard error at the bar: sqrt(0.97 x 0.03 / 360) = 0.0090
    top1 = dict(fidelity_metric="top1", fidelity_model="digits-cnn", fidelity_samples=360)
    rows = [row("int8", "int_mac", 0.99, 8e-6, 2e-3, 4e-7, **top1),
            row("int4-g128", "lut", 0.975, 2e-6, 3e-3, 1e-7, **top1),
            row("binary", "lut", 0.965, 1e-7, 1e-3, 1e-8, **top1)]
    text = report_text(tmp_path, rows, config=make_config(min_fidelity={"top1": 0.97}))
    flag = ("within one sampling error of the bar (±0.0090 over 360 samples): the proxy cannot "
            "tell it from the bar")
    assert f"top1 0.9750, +0.0050 against the bar 0.97, {flag}." in text
    assert f"binary (0.9650; {flag})" in text
    # the headline (int4-g128: lowest EDP) carries the caveat too
    assert f"**Winner: int4-g128** on lut (lowest energy-delay product among designs with " \
           f"fidelity >= 0.97); its fidelity is {flag}.\n" in text
    assert "top1 0.9900, +0.0200 against the bar 0.97." in text  # clear of the bar: no flag
    assert report.sampling_error(dict(rows[0], fidelity_metric="cosine"), 0.97) is None


def test_headline_names_a_tie_and_the_baseline_winning(tmp_path):
    # int4-g128 on lut: EDP 6 nJ·s; int8 on lut within 4%: a tie
    rows = [ROWS[3], dict(ROWS[1], edp_js=6.24e-9)]
    text = report_text(tmp_path, rows)
    assert ("**Winner: int4-g128** on lut (lowest energy-delay product among designs with "
            "fidelity >= 0.99); tied within model noise with int8 on lut (lanes=16, array=64), "
            "so treat both as candidates.\n") in text
    rows = [ROWS[0], dict(ROWS[3], edp_js=1e-7)]  # the baseline has the lowest EDP
    text = report_text(tmp_path, rows)
    assert ("**Winner: int8** on int_mac (lowest energy-delay product among designs with "
            "fidelity >= 0.99); the baseline itself: no other scheme beats it on energy-delay "
            "product.\n") in text


def test_a_winner_tied_with_the_baseline_says_so(tmp_path):
    # the winner is 2.6% under the baseline's 2 ms; the best other scheme is 1% behind it
    rows = [ROWS[0], dict(ROWS[3], latency_s=1.95e-3),
            row("int4-pc", "lut", 0.995, 3e-6, 1.97e-3, 1e-7)]
    text = report_text(tmp_path, rows)
    latency = objective_row(text, "lowest latency")
    assert "**int4-g128 on lut (lanes=16, array=64)** | 1.95 ms" in latency
    assert latency.endswith("| tied: within model noise (5%) of int4-pc on lut (lanes=16, "
                            "array=64) (1.97 ms); tied with the baseline int8 on int_mac "
                            "(lanes=16, array=64) (2 ms) |")


def llm_row(scheme, pe, fidelity, j_per_token, **extra):
    """A served-LLM row as lowbit.models.evaluator writes it (hand-made numbers)."""
    return row(scheme, pe, fidelity, 128 * j_per_token, 10.0, 8e-6, seq_len=128, batch=1,
               generated=128, j_per_token=j_per_token, clock_hz=6e8, cycles=1, macs=1,
               decode_memory_bound_steps=128, decode_tokens_per_s=7.3, prefill_latency_s=0.2,
               prefill_j_per_token=0.014, pe_area_m2=0.01e-6, buffer_area_m2=3.5e-6,
               energy_mac_j=10.0, energy_sram_j=5.0, energy_dram_j=100.0, energy_rescale_j=0.0,
               energy_attention_j=2.0, energy_kv_j=8.0, bits_per_weight=4.125, **extra)


def test_llm_serving_table_per_phase_at_equal_area(tmp_path):
    config = make_config(areas_mm2=(8.0,))
    rows = [llm_row("int4-g128", "lut", 0.995, 0.91, area_mm2=8.0),
            llm_row("int8", "int_mac", 0.9995, 1.7, area_mm2=8.0)]
    text = report_text(tmp_path, rows, config=config)
    assert "PE kinds are compared at **equal area**" in text
    assert "the same lanes, array, area mm2" in text
    lines = text.splitlines()
    head = lines.index("| design | clock | J / generated token | decode tokens/s | decode bound | "
                       "prefill latency | prefill J / token |")
    assert lines[head - 2].startswith("LLM serving (128-token prompts, 128 generated tokens, "
                                      "batch 1)")
    assert lines[head + 2] == ("| int4-g128 on lut (lanes=16, array=64) | 600 MHz | 910 mJ | "
                               "7.3 | memory in 128 of 128 steps | 200 ms | 14 mJ |")
    assert lines[head + 3].startswith("| int8 on int_mac")
    assert "LLMCompass" in text


def test_llm_serving_table_per_dram_kind(tmp_path):
    # the same design on two DRAM kinds: one section, and one serving table, per kind
    config = make_config(areas_mm2=(8.0,), drams=("ddr4", "hbm2e"))
    rows = [llm_row("int8", "int_mac", 0.9995, 1.7, area_mm2=8.0, dram="ddr4"),
            llm_row("int8", "int_mac", 0.9995, 0.4, area_mm2=8.0, dram="hbm2e")]
    lines = report_text(tmp_path, rows, config=config).splitlines()
    assert [line for line in lines if line.startswith("## w")] == ["## w, dram=ddr4",
                                                                   "## w, dram=hbm2e"]
    serving = [i for i, line in enumerate(lines) if line.startswith("LLM serving (")]
    assert len(serving) == 2 and serving[0] > lines.index("## w, dram=ddr4")
    design = "| int8 on int_mac (lanes=16, array=64) | 600 MHz |"
    assert lines[serving[0] + 4].startswith(f"{design} 1.7 J |")
    assert serving[1] > lines.index("## w, dram=hbm2e")
    assert lines[serving[1] + 4].startswith(f"{design} 400 mJ |")


def test_equal_throughput_is_stated(tmp_path):
    config = make_config(throughputs_gmacs=(500.0,))
    rows = [llm_row("int4-g128", "lut", 0.995, 0.91, throughput_gmacs=500.0),
            llm_row("int8", "int_mac", 0.9995, 1.7, throughput_gmacs=500.0)]
    text = report_text(tmp_path, rows, config=config)
    assert "PE kinds are compared at **equal throughput**" in text
    assert "the same lanes, array, throughput gmacs" in text


def test_llm_reasons_name_kv_attention_decode_and_buffer(tmp_path):
    rows = [llm_row("int4-g128", "lut", 0.995, 0.91), llm_row("int8", "int_mac", 0.9995, 1.7)]
    why = why_lines(tmp_path, rows)
    assert "2% attention products" in why["lowest energy"]
    assert "KV-cache traffic (K and V written once, read every decode step) is 7% of it" \
        in why["lowest energy"]
    assert ("decode is memory-bound in 128 of 128 steps (each step streams every weight and the "
            "KV cache through DRAM)") in why["lowest latency"]
    assert "= 64 int_mac PEs of 0.01 mm² + 3.5 mm² of SRAM buffer" in why["lowest area"]


def test_every_design_without_a_value_and_every_reason_is_named():
    from lowbit.models.rank import pareto_front
    rows = [PARTIAL_AREA[0], dict(PARTIAL_AREA[2], area_note="no record for lut_pe lanes=4"),
            dict(PARTIAL_AREA[3], area_note="no record for lut_pe lanes=8"),
            dict(PARTIAL_AREA[1], area_m2=math.nan, area_note="no record for lut_pe lanes=4")]
    _, (note,) = report.pareto_rows(rows, pareto_front)
    assert note.startswith("3 of 4 design(s) without area_m2 (int4-g128 on lut (lanes=16, "
                           "array=64), binary on lut (lanes=16, array=64), int8 on lut")
    assert note.endswith("(no record for lut_pe lanes=4; no record for lut_pe lanes=8)")


def test_pe_arithmetic_rows_are_set_beside_fake_quantization():
    rows = [{"scheme": "int8", "pe": "int_mac", "lanes": 16, "acc_bits": acc_bits,
             "overflow": "wrap", "pe_arithmetic": f"acc{acc_bits}-wrap/m23-rne",
             "fidelity": fidelity, "fake_quant_fidelity": 0.9815, "pe_area_m2": area,
             "energy_mac_j": energy}
            for acc_bits, fidelity, area, energy in ((32, 0.9815, 1.4e-8, 3e-4),
                                                      (16, 0.1185, 1.2e-8, 2.5e-4))]
    lines = report._arithmetic_table(rows)
    assert "| int8 on int_mac (lanes=16, acc_bits=32, overflow=wrap) | acc32-wrap/m23-rne | " \
           "0.9815 | 0.9815 | +0.0000 |" in "\n".join(lines)
    assert "| 0.1185 | 0.9815 | -0.8630 |" in "\n".join(lines)
    assert report._arithmetic_table([{**rows[0], "fake_quant_fidelity": None}]) == []


def _served(scheme, pe, fidelity, j_per_token, tokens_per_s, bits, weight_format):
    return row(scheme, pe, fidelity, j_per_token * 128, 1.0, 1e-6, j_per_token=j_per_token,
               decode_tokens_per_s=tokens_per_s, bits_per_weight=bits,
               pe_weight_format=weight_format, pe_act_format="float16", seq_len=128,
               generated=128, batch=1, fidelity_metric="ref_ppl/ppl")


def test_weight_only_designs_are_set_against_the_w16a16_baseline():
    rows = [_served("fp16", "fp16_mac", 1.0, 4e-3, 20.0, 16, "float16"),
            _served("w4a16-g128", "fp16_bit_serial", 0.96, 1e-3, 70.0, 4.25, "uint4"),
            _served("w2a16-g64", "fp16_bit_serial", 0.2, 6e-4, 110.0, 2.5, "uint2"),
            row("int8", "int_mac", 0.99, 1.0, 1.0, 1e-6)]
    lines = report.weight_only_section(rows, 0.95)
    text = "\n".join(lines)
    assert "W16A16 baseline **fp16 on fp16_mac (lanes=16, array=64)**" in text
    table = [line for line in lines if line.startswith("| w")]
    # lowest energy per token first; ratios against the baseline
    assert table[0].startswith("| w2a16-g64 on fp16_bit_serial (lanes=16, array=64) | 0.2000 "
                               "(below bar) | 2.5 |")
    assert "| 0.15x | 110 | 5.50x |" in table[0]
    assert "| 0.25x | 70 | 3.50x |" in table[1]
    assert "int8" not in text
    assert "w4a16-g128 on fp16_bit_serial (lanes=16, array=64) spends 0.25x" in text


def test_no_weight_only_section_without_a_w16a16_baseline():
    rows = [_served("w4a16-g128", "fp16_bit_serial", 0.96, 1e-3, 70.0, 4.25, "uint4")]
    assert report.weight_only_section(rows, 0.95) == []
