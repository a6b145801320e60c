"""sweeps.report: the table in grid order, and winners, margins and reasons on hand-made rows."""
from __future__ import annotations

import math

import pytest

from sweeps import grid, report
from sweeps.config import ReportSettings, SweepConfig


def make_config(min_fidelity=0.99, baseline=("int8", "int_mac"), **extra_axes) -> SweepConfig:
    axes = dict(schemes=("int8", "int4-g128", "binary"), pes=("int_mac", "lut"), lanes=(16,),
                arrays=(64,), workloads=("w",), **extra_axes)
    return SweepConfig(name="t", description="hand-made", evaluator="m:f", axes=axes,
                       report=ReportSettings(min_fidelity, baseline), source="t.toml")


def row(scheme, pe, fidelity, energy, latency, area, **extra):
    return dict(scheme=scheme, pe=pe, lanes=16, array=64, workload="w", fidelity=fidelity,
                fidelity_metric="cosine", energy_j=energy, latency_s=latency, area_m2=area,
                edp_js=energy * latency, **extra)


def front_of_all(rows, objectives):
    return list(rows)


ROWS = [
    row("int8", "int_mac", 0.9995, 8e-6, 2e-3, 4e-7),
    row("int8", "lut", 0.9995, 5e-6, 4e-3, 3e-7),
    row("int4-g128", "int_mac", 0.995, 4e-6, 2e-3, 2e-7),
    row("int4-g128", "lut", 0.995, 2e-6, 3e-3, 1e-7),
    row("binary", "lut", 0.6, 1e-7, 1e-3, 1e-8),
]


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


def test_winners_numbers_and_reasons(tmp_path):
    path = tmp_path / "r.md"
    report.write_report(make_config(), ROWS, front_of_all, path, skipped=3,
                        plots=["pareto_w.png"], gpu_note="no GPU results")
    text = path.read_text()
    assert "5 evaluated design points from `t.toml` (3 points not applicable)" in text
    assert "## w\n\n5 designs; fidelity metric: cosine; 4 reach 0.99." in text
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
    assert "tied (within 0.5%) with int4-g128 on int_mac" in latency
    assert "baseline" not in latency  # the winner is the baseline itself
    assert "| 0.1 mm² |" in lines["lowest area"]
    assert "Highest fidelity: **int8 on int_mac (lanes=16, array=64)**, cosine 0.9995." in text
    assert "Below the fidelity bar (best fidelity per scheme): binary (0.6000)." in text
    assert "5 of 5 designs" in text
    assert "- ![pareto_w.png](pareto_w.png)" in text and "- GPU: no GPU results" in text


def test_no_design_reaches_the_bar(tmp_path):
    path = tmp_path / "r.md"
    report.write_report(make_config(min_fidelity=0.9999), ROWS, front_of_all, path, skipped=0,
                        plots=[], gpu_note="none")
    text = path.read_text()
    assert "**No design reaches fidelity 0.9999**, so no winner is named" in text
    assert "Winner" not in text


def test_missing_area_is_explained_not_ranked(tmp_path):
    rows = [dict(r, area_m2=math.nan, area_note="no synthesis record") for r in ROWS]
    path = tmp_path / "r.md"
    report.write_report(make_config(), rows, front_of_all, path, skipped=0, plots=[],
                        gpu_note="none")
    text = path.read_text()
    assert "| lowest area | none | n/a | | no area for any design: no synthesis record |" in text
    assert ("Pareto front over fidelity (max), energy_j (min), latency_s (min); area_m2 left "
            "out (no synthesis record): ") in text
    assert "| n/a |" in text  # the area column of the Pareto table


def test_designs_without_a_metric_are_named_not_ranked(tmp_path):
    rows = [dict(ROWS[0], area_note="synth int_mac_pe"),
            dict(ROWS[3], area_m2=math.nan, area_note="no synthesis record for lut")]
    path = tmp_path / "r.md"
    report.write_report(make_config(), rows, front_of_all, path, skipped=0, plots=[],
                        gpu_note="none")
    area = next(line for line in path.read_text().splitlines()
                if line.startswith("| lowest area |"))
    assert "**int8 on int_mac (lanes=16, array=64)** | 0.4 mm²" in area
    assert "1 design(s) with no area value not ranked (no synthesis record for lut)" in area


def test_objectives_for_drops_a_metric_any_row_lacks():
    rows = [ROWS[0], dict(ROWS[1], area_m2=None)]
    objectives, notes = report.objectives_for(rows)
    assert objectives == {"fidelity": "max", "energy_j": "min", "latency_s": "min"}
    assert notes == ["area_m2 left out (the evaluator gave no value)"]
    assert report.objectives_for(ROWS) == (report.OBJECTIVES, [])


def test_per_metric_bars(tmp_path):
    rows = ROWS + [dict(ROWS[0], workload="c", fidelity_metric="top1", fidelity=0.96)]
    path = tmp_path / "r.md"
    report.write_report(make_config(min_fidelity={"cosine": 0.99, "top1": 0.95}), rows,
                        front_of_all, path, skipped=0, plots=[], gpu_note="none")
    text = path.read_text()
    assert "A winner must reach the fidelity bar (cosine >= 0.99, top1 >= 0.95)" in text
    assert "## c\n\n1 designs; fidelity metric: top1; 1 reach 0.95." in text
    report.write_report(make_config(min_fidelity={"cosine": 0.99}), rows, front_of_all, path,
                        skipped=0, plots=[], gpu_note="none")
    assert ("## c\n\nreport.min_fidelity sets no bar for the fidelity metric 'top1', so no "
            "winner is named.") in path.read_text()


def test_baseline_margin_when_a_hardware_axis_differs(tmp_path):
    # int8 on int_mac at 32 lanes is no baseline for a 16-lane winner: no baseline margin
    rows = [ROWS[3], dict(ROWS[0], lanes=32)]
    path = tmp_path / "r.md"
    report.write_report(make_config(), rows, front_of_all, path, skipped=0, plots=[],
                        gpu_note="none")
    energy = next(line for line in path.read_text().splitlines()
                  if line.startswith("| lowest energy |"))
    assert "int4-g128 on lut" in energy and "baseline" not in energy


def test_only_one_scheme_meets_the_bar(tmp_path):
    path = tmp_path / "r.md"
    report.write_report(make_config(min_fidelity=0.999), ROWS, front_of_all, path, skipped=0,
                        plots=[], gpu_note="none")
    assert "the only scheme that reaches the fidelity bar" in path.read_text()


@pytest.mark.parametrize("value, unit, text", [
    (2e-6, "J", "2 µJ"), (1.234e-3, "s", "1.23 ms"), (5.0, "J", "5 J"),
    (3e-13, "J·s", "300 fJ·s"),
    (1e-7, "m²", "0.1 mm²"), (5e14, "op/s", "500 Top/s"), (1234.0, "J", "1.23 kJ"),
    (math.nan, "J", "n/a"), (2e-18, "J", "2e-18 J"),
])
def test_si(value, unit, text):
    assert report.si(value, unit) == text
