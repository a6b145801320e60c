"""lowbit.sweeps.plots: PNGs that open, and a GPU plot only when recorded GPU results exist."""
from __future__ import annotations

import csv
import math


from lowbit.sweeps import plots
from lowbit.sweeps.config import ReportSettings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def row(scheme, pe, fidelity, energy, latency, area, workload="w"):
    return dict(scheme=scheme, pe=pe, lanes=16, array=64, workload=workload, fidelity=fidelity,
                fidelity_metric="cosine", energy_j=energy, latency_s=latency, area_m2=area,
                edp_js=energy * latency, macs=1_000_000)


GROUPS = {
    "w": [row("int8", "int_mac", 0.9995, 8e-6, 2e-3, 4e-7),
          row("int4-pc", "lut", 0.99, 2e-6, 1e-3, 1e-7),
          row("binary", "lut", 1.0, 1e-7, 1e-3, math.nan)],
    "v, batch=8": [row("int8", "int_mac", 0.97, 8e-6, 2e-3, 4e-7, workload="v")],
}


def test_pareto_plots_are_pngs_named_by_context(tmp_path):
    calls = []

    def front(rows, objectives):
        calls.append((len(rows), dict(objectives)))
        return rows[:1]

    names = plots.pareto_plots(GROUPS, front, ReportSettings(min_fidelity={"cosine": 0.99}),
                               tmp_path)
    assert names == ["pareto_w.png", "pareto_v_batch_8.png"]
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    # group "w": one design without area, so the two with area are compared on all four
    # objectives and the one without on the other three (report.pareto_rows)
    every = {"fidelity": "max", "energy_j": "min", "latency_s": "min", "area_m2": "min"}
    no_area = {"fidelity": "max", "energy_j": "min", "latency_s": "min"}
    assert calls == [(2, every), (3, no_area), (1, every)]


def _panel_texts(axis) -> list[str]:
    """The text artists placed in a panel (not its title or tick labels), lines joined."""
    return [" ".join(text.get_text().split("\n")) for text in axis.texts]


def test_a_metric_missing_everywhere_gets_an_explaining_panel(tmp_path, monkeypatch):
    figures = []   # pareto_plots closes its figures after saving; their artists stay readable
    real_figure = plots.pareto_figure

    def recording_figure(*args):
        figures.append(real_figure(*args))
        return figures[-1]
    monkeypatch.setattr(plots, "pareto_figure", recording_figure)
    rows = [dict(r, area_m2=math.nan, area_note="no synthesis data") for r in GROUPS["w"]]
    names = plots.pareto_plots({"w": rows}, lambda rows, objectives: rows, ReportSettings(),
                               tmp_path)
    assert (tmp_path / names[0]).read_bytes().startswith(PNG_MAGIC)
    energy, latency, area = figures[0].axes
    assert _panel_texts(area) == ["no area_m2 for any design: no synthesis data"]
    assert len(area.collections) == 0 and area.get_xticks().size == 0 and area.get_xlabel() == "area"
    # the panels with data plot every design (3 dots by PE) and ring the front, with no note
    for axis in (energy, latency):
        assert sum(len(c.get_offsets()) for c in axis.collections) == 3 + 3
        assert not any(text.startswith("no ") for text in _panel_texts(axis))


def test_no_gpu_results_says_so(tmp_path):
    name, note = plots.gpu_plot(GROUPS, tmp_path, results_dir=tmp_path / "absent")
    assert name is None
    assert note.startswith("no GPU results in") and "lowbit bench" in note


def test_default_results_dir_is_kernels_results():
    assert plots.gpu_results_dir().parts[-2:] == ("kernels", "results")


def write_bench(path, rows, columns=("kernel", "k", "n", "m", "status", "median_us", "tops")):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in rows:
            writer.writerow({c: record.get(c, "") for c in columns})


def test_gpu_plot_from_recorded_results(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    write_bench(results / "bench_h100_20260101T000000Z.csv", [
        dict(kernel="w8a8", k=4096, n=4096, m=128, status="ok", tops="400.5"),
        dict(kernel="torch_int_mm", k=4096, n=4096, m=128, status="ok", tops="500"),
        dict(kernel="w8a8", k=4096, n=4096, m=1, status="ok", tops="9000"),  # other M: ignored
        dict(kernel="lut_w4a8", k=4096, n=4096, m=128, status="skipped: M", tops="nan"),
        dict(kernel="a1w1", k=4096, n=4096, m=128, status="ok", tops="900"),  # no preset
    ])
    measured, notes = plots._gpu_throughput(sorted(results.glob("bench_*.csv")))
    assert measured == {"int8": 500e12} and notes == []
    name, note = plots.gpu_plot(GROUPS, tmp_path, results_dir=results)
    assert name == "gpu_vs_sim.png"
    assert "1 scheme(s) (int8)" in note
    assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)


def test_gpu_results_without_the_columns(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    write_bench(results / "bench_x.csv", [dict(kernel="w8a8")], columns=("kernel", "time"))
    name, note = plots.gpu_plot(GROUPS, tmp_path, results_dir=results)
    assert name is None
    assert "bench_x.csv lacks column(s) m, status, tops" in note


def test_simulated_throughput_is_the_fastest_design_per_scheme():
    rates = plots._simulated_throughput(GROUPS)
    assert rates["w"]["int8"] == 2e6 / 2e-3
    assert rates["w"]["int4-pc"] == 2e6 / 1e-3


def test_front_labels_do_not_overlap():
    """Ten Pareto-optimal designs crowded into a few pixels: every label's drawn box must be
    clear of every other label's in each panel."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    crowd = [row(f"scheme{i}", "lut", 0.99 - 1e-4 * i, 1e-6 * (1 + 0.01 * i),
                 1e-3 * (1 - 0.001 * i), 1e-7 * (1 + 0.01 * i)) for i in range(10)]
    figure = plots.pareto_figure(plt, crowd, crowd, 0.98, "crowd")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for axis in figure.axes:
        # the text alone, not the leader line an annotation also spans
        boxes = [Text.get_window_extent(text, renderer) for text in axis.texts]
        assert len(boxes) == 10
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), (axis.get_xlabel(), a, b)
    plt.close(figure)


def _legend_texts(figure) -> list[str]:
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def test_designs_differing_only_in_lanes_look_different_and_every_point_is_labelled():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [row("int8", "int_mac", 0.9995, 8e-6, 2e-3, 4e-7),
            dict(row("int8", "int_mac", 0.9995, 9e-6, 3e-3, 2e-7), lanes=4),
            row("int4-pc", "lut", 0.99, 2e-6, 1e-3, 1e-7)]
    assert plots.variant_keys(rows) == ["lanes"]
    figure = plots.pareto_figure(plt, rows, rows[:1], 0.99, "w")
    legend = _legend_texts(figure)
    assert {"int_mac", "lut", "lanes=16", "lanes=4"} <= set(legend)
    assert any("on the front over all of fidelity, energy_j, latency_s, area_m2 (may look "
               "dominated in a 2-D view)" in text for text in legend)
    assert "dotted: the front of this 2-D view" in legend
    for axis in figure.axes:
        # the two int8 designs are drawn with different marker shapes
        shapes = {tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in axis.collections
                  if len(c.get_offsets()) and c.get_facecolors().size}
        assert len(shapes) == 2
        assert sorted(_panel_texts(axis)) == ["int4-pc", "int8", "int8"]
    plt.close(figure)


def test_one_design_per_scheme_and_pe_needs_no_marker_legend():
    assert plots.variant_keys(GROUPS["w"]) == []


def test_each_view_draws_its_own_front():
    rows = [row("a", "lut", 0.99, 1e-6, 1, 1), row("b", "lut", 0.999, 2e-6, 1, 1),
            row("c", "lut", 0.98, 3e-6, 1, 1), row("d", "lut", 0.9999, 4e-6, 1, 1)]
    assert [r["scheme"] for r in plots.view_front(rows, "energy_j")] == ["a", "b", "d"]


def test_fidelity_ticks_read_as_fidelities():
    assert [plots.fidelity_tick(loss) for loss in (0.5, 0.1, 0.02, 0.01, 0.002, 1e-6)] == \
        ["0.5", "0.9", "0.98", "0.99", "0.998", "0.999999"]
