"""The sweep's plots (matplotlib, Agg backend, PNG): one Pareto figure per workload context,
and the simulated-vs-GPU throughput figure when recorded GPU results exist.

A Pareto figure has three panels: fidelity against energy, latency and area (log x). The
fidelity axis is spaced by log(1 - fidelity), better up, and its ticks read as fidelities
(0.9, 0.99, 0.999). Every design is a dot labelled with its scheme, coloured by PE kind, and
shaped by its hardware variant when designs of one scheme and PE differ in lanes, array or
another hardware key (variant_keys), so no two designs look alike; labels are nudged apart.
Designs on the Pareto front over every objective at once (report.pareto_rows) are ringed, and
the legend says such a point may look dominated in a 2-D view; the front of each 2-D view
(view_front) is a dotted staircase. The dashed line is the report's fidelity bar.
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
    pes = list(dict.fromkeys(row["pe"] for row in group))
    colours = {pe: plt.get_cmap("tab10")(i) for i, pe in enumerate(pes)}
    keys = variant_keys(group)
    variants = list(dict.fromkeys(_variant(row, keys) for row in group))
    markers = {variant: _MARKERS[i % len(_MARKERS)] for i, variant in enumerate(variants)}
    front_ids = {id(row) for row in front}
    figure, axes = plt.subplots(1, len(_PANELS), figsize=(16, 6.2), sharey=True)
    for axis, (metric, xlabel, unit) in zip(axes, _PANELS):
        missing = sum(not _finite(row[metric]) for row in group)
        if missing == len(group):
            _empty_panel(axis, metric, xlabel, group)
            continue
        if missing:
            axis.set_title(f"{missing} design(s) without {metric} not shown", fontsize=8)
        shown = [row for row in group if _finite(row[metric])]
        for pe in pes:
            for variant in variants:
                mine = [row for row in shown if row["pe"] == pe and _variant(row, keys) == variant]
                axis.scatter([row[metric] for row in mine], [_loss(row) for row in mine],
                             s=28, color=colours[pe], marker=markers[variant], alpha=0.8)
        ringed = [row for row in shown if id(row) in front_ids]
        axis.scatter([row[metric] for row in ringed], [_loss(row) for row in ringed],
                     s=110, facecolors="none", edgecolors="black", linewidths=1.2)
        view = view_front(shown, metric)
        axis.step([row[metric] for row in view], [_loss(row) for row in view], where="post",
                  color="black", linestyle=":", linewidth=1)
        if bar is not None:
            axis.axhline(max(1.0 - bar, _LOSS_FLOOR), color="grey", linestyle="--", linewidth=1)
        _log_x_axis(axis, metric, xlabel, unit, shown)
    _fidelity_axis(axes[0], group[0].get("fidelity_metric", "fidelity"))
    handles = _legend_handles(colours, markers, keys, bar)
    figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8,
                  frameon=False)
    figure.suptitle(f"{title}: fidelity vs cost, {len(group)} designs labelled by scheme "
                    f"(colour: PE kind; marker: {', '.join(keys) or 'one hardware variant'})")
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    # labels go on last: their placement needs the final axis limits and layout
    for axis, (metric, _, _) in zip(axes, _PANELS):
        shown = [row for row in group if _finite(row[metric])]
        _label_points(axis, shown, metric, front_ids)
    return figure


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
# hardware a design may vary in beyond its scheme and PE kind (lowbit.sweeps.config.AXES)
_VARIANT_KEYS = ("lanes", "array", "area_mm2", "group_size", "node", "dram", "generated")


def variant_keys(group: list[dict]) -> list[str]:
    """The hardware keys in which two designs of the same scheme and PE kind differ: what
    the marker shape must show so that no two designs look alike."""
    seen: dict[tuple, dict] = {}
    varying = set()
    for row in group:
        first = seen.setdefault((row["scheme"], row["pe"]), row)
        varying.update(key for key in _VARIANT_KEYS if row.get(key) != first.get(key))
    return [key for key in _VARIANT_KEYS if key in varying]


def _variant(row: dict, keys: list[str]) -> str:
    return ", ".join(f"{key}={row.get(key)}" for key in keys)


def view_front(rows: list[dict], metric: str) -> list[dict]:
    """The rows no other row beats in this 2-D view (lower ``metric`` and lower fidelity loss,
    one of them strictly), by increasing ``metric``: the front a reader sees in the panel."""
    front, best_loss = [], math.inf
    for row in sorted(rows, key=lambda row: (row[metric], _loss(row))):
        if _loss(row) < best_loss:
            front.append(row)
            best_loss = _loss(row)
    return front


def _log_x_axis(axis, metric, xlabel, unit, shown) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.margins(x=0.15, y=0.1)  # room for the labels of the outermost points
    # ticks at 1-2-5 steps in SI units: readable whether the data span one decade or five
    axis.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=30))
    axis.xaxis.set_minor_locator(LogLocator(subs="all"))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda x, _, u=unit: si(x, u)))
    # data spanning under a factor of 4 may hold a single 1-2-5 tick: label the minor ones
    values = [row[metric] for row in shown]
    narrow = max(values) < 4 * min(values)
    axis.xaxis.set_minor_formatter(
        FuncFormatter(lambda x, _, u=unit, label=narrow: si(x, u) if label else ""))
    axis.tick_params(axis="x", which="both", labelsize=8, labelrotation=30)
    axis.set_xlabel(xlabel)
    axis.grid(True, which="both", alpha=0.3)


def fidelity_tick(loss: float) -> str:
    """The fidelity 1 - ``loss`` written with as many decimals as the loss's first digit needs:
    0.01 -> "0.99", 0.002 -> "0.998", 0.5 -> "0.5"."""
    decimals = max(1, -math.floor(math.log10(loss) + 1e-9))
    return f"{1.0 - loss:.{decimals}f}"


def _fidelity_axis(axis, metric_name: str) -> None:
    """Fidelities crowd near 1, so the axis is log in the loss 1 - fidelity, better upwards,
    but its ticks read as the fidelity itself."""
    from matplotlib.ticker import FuncFormatter, LogLocator
    axis.invert_yaxis()
    axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=30))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda y, _: fidelity_tick(y)))
    axis.yaxis.set_minor_formatter(FuncFormatter(lambda y, _: ""))
    axis.set_ylabel(f"{metric_name} (spaced by log(1 - {metric_name}); better up; "
                    f"lossless at {fidelity_tick(_LOSS_FLOOR)})")


def _legend_handles(colours, markers, keys, bar) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Patch(color=colour, label=pe) for pe, colour in colours.items()]
    if keys:
        handles += [Line2D([], [], linestyle="", marker=marker, color="dimgrey", label=variant)
                    for variant, marker in markers.items()]
    handles.append(Line2D([], [], linestyle="", marker="o", markersize=11, markerfacecolor="none",
                          markeredgecolor="black",
                          label=f"ringed: on the front over all of {', '.join(OBJECTIVES)} "
                                f"(may look dominated in a 2-D view)"))
    handles.append(Line2D([], [], color="black", linestyle=":",
                          label="dotted: the front of this 2-D view"))
    if bar is not None:
        handles.append(Line2D([], [], color="grey", linestyle="--", label=f"fidelity bar {bar:g}"))
    return handles


_LABEL_FONT = 7  # points
# label offsets tried in turn (points from the dot): beside it, then further up and down
_OFFSETS = [(dx, dy) for dy in (3, -10, 13, -20, 23, -30, 33, -40, 43, -50)
            for dx in (6, -6)]


def _label_points(axis, rows, metric, front_ids) -> None:
    """Label every row with its scheme (its colour and marker give the PE and the hardware),
    front rows first and in bold, each at the first offset whose text box stays inside the
    panel and clear of every dot, every ring and every label placed before (boxes estimated
    from the font size); a label moved off its dot gets a leader line."""
    to_points = 72.0 / axis.figure.dpi
    frame = axis.get_window_extent().extents * to_points
    anchors = [axis.transData.transform((row[metric], _loss(row))) * to_points for row in rows]
    # rings: marker size 110 pt², radius ~5 pt; dots: 28 pt², radius ~3 pt
    placed = [(x - _RING, y - _RING, x + _RING, y + _RING)
              for row, (x, y) in zip(rows, anchors) if id(row) in front_ids]
    placed += [(x - _DOT, y - _DOT, x + _DOT, y + _DOT) for x, y in anchors]
    order = sorted(zip(rows, anchors), key=lambda pair: (id(pair[0]) not in front_ids,
                                                         _loss(pair[0])))
    for row, (x, y) in order:
        text, bold = row["scheme"], id(row) in front_ids
        # average glyph width ~0.6 em, bold ~0.7 em
        width, height = (0.7 if bold else 0.6) * _LABEL_FONT * len(text), 1.2 * _LABEL_FONT
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
                      fontweight="bold" if bold else "normal",
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
