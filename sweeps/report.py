"""The sweep's outputs from its store: the results table (CSV) and the Markdown report.

The table has one row per finished applicable point, in grid order, with the point's axes
first and then the evaluator's metrics by name (the store keeps them sorted). Evaluation times
are not in it, so the same points give a byte-identical table however they were scheduled or
resumed.

The report names, per workload context (workload plus batch / sequence length when swept),
the winners among points that reach the fidelity bar: lowest energy-delay product (the
headline), lowest energy, lowest latency, smallest area, each with its numbers and the reason
(its margin over the best other scheme and over the baseline), the highest-fidelity point, the
Pareto front and the schemes that miss the fidelity bar.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from sweeps import grid
from sweeps.config import AXES, SweepConfig

# objective -> direction; the Pareto front and the winners use these metrics
OBJECTIVES = {"fidelity": "max", "energy_j": "min", "latency_s": "min", "area_m2": "min"}
# (metric, what it is, unit) for the winners, the headline first
_WINNER_METRICS = (("edp_js", "energy-delay product", "J·s"), ("energy_j", "energy", "J"),
                   ("latency_s", "latency", "s"), ("area_m2", "area", "m²"))
# relative difference below which two designs count as tied on an objective
_TIE = 0.005
_CONTEXT_AXES = ("workloads", "batches", "seq_lens")
_HARDWARE_AXES = ("lanes", "arrays", "group_sizes")


def table_rows(config: SweepConfig, records: dict, points: list[dict]) -> list[dict]:
    """One row per point of ``points`` that has an "ok" record: the point's axes, then metrics."""
    rows = []
    for point in points:
        record = records.get(grid.point_key(config.evaluator, point))
        if record is None or record["status"] != "ok":
            continue
        row = dict(point)
        row.update((k, v) for k, v in record["metrics"].items() if k not in row)
        rows.append(row)
    return rows


def count_not_applicable(config: SweepConfig, records: dict, points: list[dict]) -> int:
    """How many of ``points`` the evaluator declared not applicable."""
    keys = (grid.point_key(config.evaluator, point) for point in points)
    return sum(records[key]["status"] == "not_applicable" for key in keys if key in records)


def write_table(rows: list[dict], path: Path) -> None:
    """CSV with the union of the rows' columns in first-seen order (lists as JSON)."""
    columns = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: json.dumps(value) if isinstance(value, list) else value
                             for key, value in row.items()})


def contexts(config: SweepConfig, rows: list[dict]) -> dict[str, list[dict]]:
    """Rows grouped by workload context (the workload, and batch / seq_len where those are
    swept), keyed by a label such as "llama2-7b, batch=8", in first-seen order."""
    keys = [AXES[axis] for axis in _CONTEXT_AXES if axis in config.axes]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        label = ", ".join([row["workload"]] + [f"{key}={row[key]}" for key in keys[1:]])
        groups.setdefault(label, []).append(row)
    return groups


def design_label(row: dict) -> str:
    """The design within its context: scheme on PE (lanes, PEs in the array, group size)."""
    extras = [f"{key}={row[key]}" for key in ("lanes", "array", "group_size")
              if row.get(key) is not None]
    return f"{row['scheme']} on {row['pe']}" + (f" ({', '.join(extras)})" if extras else "")


def write_report(config: SweepConfig, rows: list[dict], pareto_front, path: Path, *,
                 skipped: int, plots: list[str], gpu_note: str) -> None:
    """The Markdown report. ``pareto_front(rows, objectives)`` comes from the evaluator module."""
    lines = [f"# Sweep `{config.name}`", ""]
    if config.description:
        lines += [config.description, ""]
    lines += [f"{len(rows)} evaluated design points from `{config.source}`"
              f" ({skipped} points not applicable). A winner must reach the fidelity bar "
              f"({config.report.describe()}); margins compare against the best design "
              f"of a *different scheme* and against the baseline "
              f"{_baseline_label(config)} with the same lanes and array size.", ""]
    for label, group in contexts(config, rows).items():
        lines += _context_section(config, label, group, pareto_front)
    lines += ["## Plots", ""]
    lines += [f"- ![{name}]({name})" for name in plots]
    lines += [f"- GPU: {gpu_note}", ""]
    Path(path).write_text("\n".join(lines))


def _baseline_label(config: SweepConfig) -> str:
    baseline = config.report.baseline
    return "(none)" if baseline is None else f"{baseline[0]} on {baseline[1]}"


def _context_section(config, label, group, pareto_front) -> list[str]:
    metric = group[0].get("fidelity_metric", "fidelity")
    bar = config.report.bar(metric)
    lines = [f"## {label}", ""]
    if bar is None:
        return lines + [f"report.min_fidelity sets no bar for the fidelity metric {metric!r}, "
                        f"so no winner is named.", ""] + _pareto_table(group, pareto_front)
    eligible = [row for row in group if row["fidelity"] >= bar]
    lines += [f"{len(group)} designs; fidelity metric: {metric}; {len(eligible)} reach {bar:g}.",
              ""]
    if eligible:
        lines += _winners(eligible, bar, _baseline_rows(config, group), _hardware_keys(config))
    else:
        lines += [f"**No design reaches fidelity {bar:g}**, so no winner is named; the best "
                  f"fidelity is listed below.", ""]
    best = max(group, key=lambda row: row["fidelity"])
    lines += [f"Highest fidelity: **{design_label(best)}**, {metric} {best['fidelity']:.4f}.", ""]
    lines += _misses(group, bar)
    lines += _pareto_table(group, pareto_front)
    return lines


def _winners(eligible, bar, baselines, hardware_keys) -> list[str]:
    lines = ["| objective | winner | value | fidelity | reason |", "|---|---|---|---|---|"]
    for key, what, unit in _WINNER_METRICS:
        valued = [row for row in eligible if _known(row[key])]
        if not valued:
            lines.append(f"| lowest {what} | none | n/a | | no {what} for any design: "
                         f"{missing_note(eligible, key)} |")
            continue
        # an exact tie goes to the higher fidelity
        best = min(valued, key=lambda row: (row[key], -row["fidelity"]))
        baseline = _matching(best, baselines, hardware_keys)
        reason = _reason(best, key, what, unit, valued, baseline)
        if len(valued) < len(eligible):
            reason += (f"; {len(eligible) - len(valued)} design(s) with no {what} value not ranked "
                       f"({missing_note(eligible, key)})")
        lines.append(f"| lowest {what} | **{design_label(best)}** | {si(best[key], unit)} | "
                     f"{best['fidelity']:.4f} | {reason} |")
    headline = min(eligible, key=lambda row: (row["edp_js"], -row["fidelity"]))
    return [f"**Winner: {headline['scheme']}** on {headline['pe']} (lowest energy-delay "
            f"product among designs with fidelity >= {bar:g}).", ""] \
        + lines + [""]


def _reason(best, key, what, unit, eligible, baseline) -> str:
    others = [row for row in eligible if row["scheme"] != best["scheme"]]
    parts, runner_up = [], None
    if others:
        runner_up = min(others, key=lambda row: row[key])
        if runner_up[key] <= best[key] * (1 + _TIE):
            parts.append(f"tied (within {_TIE:.1%}) with {design_label(runner_up)} "
                         f"({si(runner_up[key], unit)})")
        else:
            parts.append(f"{_ratio(runner_up[key], best[key])} lower {what} than the best other "
                         f"scheme, {design_label(runner_up)} ({si(runner_up[key], unit)})")
    else:
        parts.append("the only scheme that reaches the fidelity bar")
    if baseline is not None and baseline is not best and baseline is not runner_up \
            and _known(baseline[key]):
        parts.append(f"{_ratio(baseline[key], best[key])} lower than the baseline "
                     f"{design_label(baseline)} ({si(baseline[key], unit)})")
    return "; ".join(parts)


def _baseline_rows(config, group) -> list[dict]:
    if config.report.baseline is None:
        return []
    scheme, pe = config.report.baseline
    return [row for row in group if row["scheme"] == scheme and row["pe"] == pe]


def _hardware_keys(config) -> list[str]:
    return [AXES[axis] for axis in _HARDWARE_AXES if axis in config.axes]


def _matching(best: dict, baselines: list[dict], hardware_keys: list[str]):
    """The baseline design with the same swept hardware axes (lanes, array, group size) as
    ``best``, so a margin compares schemes and PEs, not array sizes; None without one."""
    same = [row for row in baselines
            if all(row.get(key) == best.get(key) for key in hardware_keys)]
    return same[0] if same else None


def _known(value) -> bool:
    """A metric the evaluator could compute (None or NaN mean it could not, e.g. an area
    without synthesis data)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _ratio(other: float, best: float) -> str:
    return f"{other / best:.2f}x" if best > 0 else "n/a"


def _misses(group, bar) -> list[str]:
    best_by_scheme: dict[str, float] = {}
    for row in group:
        best_by_scheme[row["scheme"]] = max(best_by_scheme.get(row["scheme"], -float("inf")),
                                            row["fidelity"])
    missed = [f"{scheme} ({fid:.4f})" for scheme, fid in best_by_scheme.items() if fid < bar]
    if not missed:
        return []
    return [f"Below the fidelity bar (best fidelity per scheme): {', '.join(missed)}.", ""]


def objectives_for(group: list[dict]) -> tuple[dict, list[str]]:
    """(the OBJECTIVES every row of ``group`` has a value for, a note per objective left out).

    A metric the evaluator could not compute for some design (e.g. area without synthesis
    data) cannot rank that design, so the front is taken over the others rather than over
    only the designs that have it."""
    objectives, notes = {}, []
    for metric, sense in OBJECTIVES.items():
        if all(_known(row.get(metric)) for row in group):
            objectives[metric] = sense
        else:
            notes.append(f"{metric} left out ({missing_note(group, metric)})")
    return objectives, notes


def missing_note(group, metric) -> str:
    """Why ``metric`` has no value in some row of ``group``, in the evaluator's words."""
    # the evaluator explains a missing metric in "<metric>_note" (area_m2 -> area_note)
    note_key = f"{metric.rsplit('_', 1)[0]}_note"
    return next((row[note_key] for row in group
                 if not _known(row.get(metric)) and row.get(note_key)),
                "the evaluator gave no value")


def _pareto_table(group, pareto_front) -> list[str]:
    objectives, notes = objectives_for(group)
    front = sorted(pareto_front(group, objectives), key=lambda row: -row["fidelity"])
    lines = [f"Pareto front over {', '.join(f'{k} ({v})' for k, v in objectives.items())}"
             f"{'; ' + '; '.join(notes) if notes else ''}: "
             f"{len(front)} of {len(group)} designs.", "",
             "| design | fidelity | energy | latency | area | EDP |", "|---|---|---|---|---|---|"]
    for row in front:
        lines.append(f"| {design_label(row)} | {row['fidelity']:.4f} | {si(row['energy_j'], 'J')} "
                     f"| {si(row['latency_s'], 's')} | {si(row['area_m2'], 'm²')} "
                     f"| {si(row['edp_js'], 'J·s')} |")
    return lines + [""]


_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1e0, ""),
             (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def si(value: float, unit: str) -> str:
    """A number with an SI prefix (3 significant digits); areas in mm² as chips are quoted."""
    if not _known(value):
        return "n/a"
    if unit == "m²":
        return f"{value * 1e6:.3g} mm²"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"
