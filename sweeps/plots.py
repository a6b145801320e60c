"""The sweep's plots (matplotlib, Agg backend, PNG): one Pareto figure per workload context,
and the simulated-vs-GPU throughput figure when recorded GPU results exist.

A Pareto figure has three panels: fidelity loss (1 - fidelity, log, better up) against energy,
latency and area (log x). Every design is a dot coloured by PE kind; the Pareto-optimal designs
(over every objective at once, report.pareto_rows, so a front point may look dominated in one
projection) are ringed and labelled scheme/pe, labels nudged apart so none overlap; the dashed
line is the report's fidelity bar.
A metric no design has (area without synthesis data) gets a panel saying why.
"""
from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

from lowbit.sweeps.report import OBJECTIVES, missing_note, pareto_rows, si

_PANELS = (("energy_j", "energy per inference", "J"), ("latency_s", "latency", "s"),
           ("area_m2", "area", "m²"))


def pareto_plots(groups: dict[str, list[dict]], pareto_front, settings,
                 out_dir: Path) -> list[str]:
    """Write pareto_<context>.png per workload context (report.contexts) into out_dir;
    return the file names. ``settings`` (config.ReportSettings) gives the fidelity bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for label, group in groups.items():
        front, _ = pareto_rows(group, pareto_front)
        bar = settings.bar(group[0].get("fidelity_metric", "fidelity"))
        figure = pareto_figure(plt, group, front, bar, label)
        name = f"pareto_{_slug(label)}.png"
        figure.savefig(Path(out_dir) / name, dpi=120)
        plt.close(figure)
        names.append(name)
    return names


def pareto_figure(plt, group, front, bar, title):
    from matplotlib.ticker import FuncFormatter, LogLocator

    pes = list(dict.fromkeys(row["pe"] for row in group))
    colours = {pe: plt.get_cmap("tab10")(i) for i, pe in enumerate(pes)}
    metric_name = group[0].get("fidelity_metric", "fidelity")
    figure, axes = plt.subplots(1, len(_PANELS), figsize=(16, 5.2), sharey=True)
    for axis, (metric, xlabel, unit) in zip(axes, _PANELS):
        missing = sum(not _finite(row[metric]) for row in group)
        if missing == len(group):
            _empty_panel(axis, metric, xlabel, group)
            continue
        if missing:
            axis.set_title(f"{missing} design(s) without {metric} not shown", fontsize=8)
        for pe in pes:
            mine = [row for row in group if row["pe"] == pe]
            axis.scatter([row[metric] for row in mine], [_loss(row) for row in mine],
                         s=28, color=colours[pe], label=pe, alpha=0.75)
        axis.scatter([row[metric] for row in front], [_loss(row) for row in front],
                     s=110, facecolors="none", edgecolors="black", linewidths=1.2,
                     label="Pareto front")
        if bar is not None:
            axis.axhline(max(1.0 - bar, _LOSS_FLOOR), color="grey", linestyle="--", linewidth=1)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.margins(x=0.15, y=0.1)  # room for the labels of the outermost points
        # ticks at 1-2-5 steps in SI units: readable whether the data span one decade or five
        axis.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=30))
        axis.xaxis.set_minor_locator(LogLocator(subs="all"))
        axis.xaxis.set_major_formatter(FuncFormatter(lambda x, _, u=unit: si(x, u)))
        # data spanning under a factor of 4 may hold a single 1-2-5 tick: label the minor ones
        values = [row[metric] for row in group if _finite(row[metric])]
        narrow = max(values) < 4 * min(values)
        axis.xaxis.set_minor_formatter(
            FuncFormatter(lambda x, _, u=unit, label=narrow: si(x, u) if label else ""))
        axis.tick_params(axis="x", which="both", labelsize=8, labelrotation=30)
        axis.set_xlabel(xlabel)
        axis.grid(True, which="both", alpha=0.3)
    # Fidelities crowd near 1, so plot the loss 1 - fidelity on a log axis, better upwards.
    axes[0].invert_yaxis()
    axes[0].set_ylabel(f"1 - {metric_name}  (log, floor {_LOSS_FLOOR:g}; better up)")
    axes[0].legend(fontsize=8, loc="best")
    bar_text = "no fidelity bar" if bar is None else f"dashed: fidelity bar {bar:g}"
    figure.suptitle(f"{title}: fidelity loss vs cost ({len(group)} designs; ringed: the "
                    f"{len(front)} Pareto-optimal over {', '.join(OBJECTIVES)}; {bar_text})")
    figure.tight_layout()
    # labels go on last: their placement needs the final axis limits and layout
    for axis, (metric, _, _) in zip(axes, _PANELS):
        dots = [(row[metric], _loss(row)) for row in group if _finite(row[metric])]
        _label_front(axis, _one_per_design(front, metric), metric, dots)
    return figure


_LABEL_FONT = 7  # points
# label offsets tried in turn (points from the dot): beside it, then further up and down
_OFFSETS = [(dx, dy) for dy in (3, -10, 13, -20, 23, -30, 33, -40, 43, -50)
            for dx in (6, -6)]


def _label_front(axis, rows, metric, dots) -> None:
    """Label each row scheme/pe at the first offset whose text box stays inside the panel and
    clear of every dot (``dots``: the panel's (x, y) data points), every ring and every label
    placed before (boxes estimated from the font size); a label moved off its dot gets a
    leader line."""
    to_points = 72.0 / axis.figure.dpi
    frame = axis.get_window_extent().extents * to_points
    anchors = [axis.transData.transform((row[metric], _loss(row))) * to_points for row in rows]
    # rings: marker size 110 pt², radius ~5 pt; dots: 28 pt², radius ~3 pt
    placed = [(x - _RING, y - _RING, x + _RING, y + _RING) for x, y in anchors]
    placed += [(x - _DOT, y - _DOT, x + _DOT, y + _DOT)
               for x, y in (axis.transData.transform(dot) * to_points for dot in dots)]
    for row, (x, y) in sorted(zip(rows, anchors), key=lambda pair: _loss(pair[0])):
        text = f"{row['scheme']}/{row['pe']}"
        width, height = 0.6 * _LABEL_FONT * len(text), 1.2 * _LABEL_FONT
        candidates = []
        for dx, dy in _OFFSETS:
            left = x + dx if dx > 0 else x + dx - width
            candidates.append(((dx, dy), (left, y + dy, left + width, y + dy + height)))
        (dx, dy), box = next(
            (candidate for candidate in candidates
             if _inside(candidate[1], frame)
             and not any(_overlap(candidate[1], other) for other in placed)),
            candidates[0])
        placed.append(box)
        leader = dict(arrowstyle="-", linewidth=0.5, color="grey") if abs(dy) > 10 else None
        axis.annotate(text, (row[metric], _loss(row)), fontsize=_LABEL_FONT,
                      xytext=(dx, dy), textcoords="offset points",
                      ha="left" if dx > 0 else "right", va="bottom", arrowprops=leader)


_RING, _DOT = 5.0, 3.0  # points


def _inside(box, frame) -> bool:
    return frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1] and box[3] <= frame[3]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _empty_panel(axis, metric, xlabel, group) -> None:
    text = f"no {metric} for any design: {missing_note(group, metric)}"
    axis.text(0.5, 0.5, "\n".join(textwrap.wrap(text, 40)),
              ha="center", va="center", transform=axis.transAxes, fontsize=9)
    axis.set_xlabel(xlabel)
    axis.set_xticks([])


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


# A lossless design (fidelity exactly 1) sits on this floor instead of at log(0).
_LOSS_FLOOR = 1e-6


def _loss(row) -> float:
    return max(1.0 - row["fidelity"], _LOSS_FLOOR)


def _one_per_design(front, metric):
    """The front row with the smallest ``metric`` per (scheme, pe): one label each."""
    chosen = {}
    for row in sorted((row for row in front if _finite(row[metric])),
                      key=lambda row: row[metric]):
        chosen.setdefault((row["scheme"], row["pe"]), row)
    return list(chosen.values())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def gpu_results_dir() -> Path:
    """kernels/results in this checkout, found without importing kernels (no CuPy needed)."""
    import importlib.util
    spec = importlib.util.find_spec("lowbit.kernels")
    return Path(spec.submodule_search_locations[0]) / "results"


# Columns of kernels/results/bench_*.csv the comparison reads (schema: kernels/results/README.md).
GPU_COLUMNS = ("kernel", "m", "status", "tops")
# lowbit.hwsim.quant preset -> the recorded GPU kernels that compute exactly that scheme's arithmetic
# (weight and activation formats and granularity); presets without one are left out of the plot.
GPU_KERNELS = {
    "fp16": ("cublas_fp16",),
    "int8": ("w8a8", "torch_int_mm"),                 # W8A8 int8 GEMM, int32 accumulate
    "int4-pc": ("lut_w4a8", "bitplane_w4a8"),         # int4 per channel x int8, LUT / bit-plane
    "int4-g128-a16": ("w4a16_g128", "torch_int4pack_g128"),
    "fp8-e4m3": ("torch_scaled_mm_fp8",),             # E4M3 weights and activations
}
# The GPU batch compared: M = 128 rows, one 128-token prefill like the workloads' default.
GPU_M = 128


def gpu_plot(groups: dict[str, list[dict]], out_dir: Path, results_dir: Path | None = None):
    """(file name or None, a sentence saying what was plotted or why nothing was).

    Simulated throughput of a scheme = 2 * macs / latency_s of its fastest design per workload
    context; GPU throughput = the best "ok" TOP/s at M = GPU_M among the scheme's GPU_KERNELS
    over every bench_*.csv in kernels/results (all shapes). Both per scheme on one log axis."""
    results_dir = gpu_results_dir() if results_dir is None else Path(results_dir)
    files = sorted(results_dir.glob("bench_*.csv")) if results_dir.is_dir() else []
    if not files:
        return None, (f"no GPU results in {results_dir} (record them with `lowbit bench` on a "
                      f"machine with a CUDA GPU); no simulated-vs-GPU plot")
    measured, notes = _gpu_throughput(files)
    simulated = _simulated_throughput(groups)
    schemes = [scheme for scheme in dict.fromkeys(row["scheme"] for rows in groups.values()
                                                  for row in rows) if scheme in measured]
    if not schemes or not simulated:
        why = "; ".join(notes) or (f"no scheme of this sweep has a recorded GPU kernel at "
                                   f"M={GPU_M} (kernels per scheme: {GPU_KERNELS})")
        return None, f"GPU results in {results_dir} but nothing to compare: {why}"
    name = "gpu_vs_sim.png"
    _throughput_figure(schemes, simulated, measured, Path(out_dir) / name)
    return name, (f"simulated vs measured GPU throughput for {len(schemes)} scheme(s) "
                  f"({', '.join(schemes)}) from {len(files)} file(s) in {results_dir}: {name}")


def _gpu_throughput(files) -> tuple[dict[str, float], list[str]]:
    """({preset: best op/s at M = GPU_M}, notes on files that could not be read)."""
    import csv
    kernel_scheme = {kernel: scheme for scheme, kernels in GPU_KERNELS.items()
                     for kernel in kernels}
    best: dict[str, float] = {}
    notes = []
    for path in files:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in GPU_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                notes.append(f"{path.name} lacks column(s) {', '.join(missing)}")
                continue
            for record in reader:
                scheme = kernel_scheme.get(record["kernel"])
                if scheme is None or record["status"] != "ok" or int(record["m"]) != GPU_M:
                    continue
                best[scheme] = max(best.get(scheme, 0.0), float(record["tops"]) * 1e12)
    return best, notes


def _simulated_throughput(groups) -> dict[str, dict[str, float]]:
    """{context label: {scheme: op/s of its fastest design}} for rows that report macs."""
    result: dict[str, dict[str, float]] = {}
    for label, group in groups.items():
        rates = {}
        for row in group:
            if "macs" in row:
                rate = 2.0 * row["macs"] / row["latency_s"]
                rates[row["scheme"]] = max(rates.get(row["scheme"], 0.0), rate)
        if rates:
            result[label] = rates
    return result


def _throughput_figure(schemes, simulated, measured, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [(f"simulated: {label}", rates) for label, rates in simulated.items()]
    series.append((f"GPU measured (best kernel, M={GPU_M})", measured))
    width = 0.8 / len(series)
    figure, axis = plt.subplots(figsize=(max(8, 1.1 * len(schemes)), 5))
    for i, (label, rates) in enumerate(series):
        xs = [s + (i - (len(series) - 1) / 2) * width for s in range(len(schemes))]
        values = [rates.get(scheme, math.nan) for scheme in schemes]
        bars = axis.bar(xs, values, width, label=label)
        axis.bar_label(bars, labels=[si(v, "op/s") for v in values], fontsize=7)
    axis.set_yscale("log")
    axis.set_xticks(range(len(schemes)), schemes, rotation=30, ha="right")
    axis.set_ylabel("throughput [op/s] (1 MAC = 2 op)")
    axis.set_title("Simulated PE array vs measured GPU kernel throughput per scheme")
    axis.legend(fontsize=8)
    axis.grid(True, axis="y", which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
