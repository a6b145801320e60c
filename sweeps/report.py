"""The sweep's outputs from its store: the results table (CSV) and the Markdown report.

The table has one row per finished applicable point, in grid order, with the point's axes
first and then the evaluator's metrics by name (the store keeps them sorted). Evaluation times
are not in it, so the same points give a byte-identical table however they were scheduled or
resumed.

The report names, per workload context (workload plus batch / sequence length when swept), the
fidelity proxy that judged it (model and sample size when the evaluator reports them) and the
winners among points that reach the fidelity bar: lowest energy-delay product (the headline),
lowest energy, lowest latency, smallest area, each with its numbers, its margin over the best
other scheme and over the baseline (margins under NOISE are called ties: the cost model is not
that precise), and *why* it wins in plain words: bits per weight, the dominant energy term,
what sets the latency, area, and fidelity against the bar. Then the highest-fidelity point,
the schemes that miss the bar, and the Pareto front.

Missing metrics (NaN or None, e.g. an area without synthesis data) follow one policy
everywhere: a design without a value is left out of that objective only, and marked with the
evaluator's reason; it still competes on every other objective.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from lowbit.models.rank import PARETO_OBJECTIVES as OBJECTIVES
from lowbit.sweeps import grid
from lowbit.sweeps.config import AXES, SweepConfig

# (metric, what it is, unit) for the winners, the headline first
_WINNER_METRICS = (("edp_js", "energy-delay product", "J·s"), ("energy_j", "energy", "J"),
                   ("latency_s", "latency", "s"), ("area_m2", "area", "m²"))
# Relative margin below which two designs count as tied: the energy, latency and area models
# rest on published per-operation figures and a synthesis library, not on silicon, so a few
# percent is within their error.
NOISE = 0.05
# the chip's node and DRAM kind are context too: a design is compared with others on the same
# memory and node, and its section says which
_CONTEXT_AXES = ("workloads", "batches", "seq_lens", "nodes", "drams")
_HARDWARE_AXES = ("lanes", "arrays", "areas_mm2", "throughputs_gmacs", "group_sizes", "nodes",
                  "drams", "generated")
# energy breakdown columns (lowbit.models.evaluator) -> what the energy is spent on, in plain words
_ENERGY_TERMS = {"energy_mac_j": "MAC arithmetic", "energy_rescale_j": "rescaling",
                 "energy_sram_j": "SRAM reads", "energy_dram_j": "DRAM traffic",
                 "energy_attention_j": "attention products"}
# marks a design left out of an objective it has no value for
_NO_VALUE = "†"


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
    """Rows grouped by workload context (the workload, and batch / seq_len / node / DRAM kind
    where those are swept), keyed by a label such as "llama2-7b, batch=8" or
    "llama2-7b, dram=hbm2e", in first-seen order."""
    keys = [AXES[axis] for axis in _CONTEXT_AXES if axis in config.axes]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        label = ", ".join([row["workload"]] + [f"{key}={row[key]}" for key in keys[1:]])
        groups.setdefault(label, []).append(row)
    return groups


def design_label(row: dict) -> str:
    """The design within its context: scheme on PE (lanes, PEs in the array, group size, and
    the PE arithmetic's accumulator keys when the sweep sets them)."""
    extras = [f"{key}={row[key]}" for key in ("lanes", "array", "group_size", "acc_bits",
                                              "overflow", "acc_mbits", "acc_rounding",
                                              "lut_table_bits")
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
              f"{_baseline_label(config)} with the same {_hardware_words(config)}. Margins "
              f"under {NOISE:.0%} are within the cost model's noise and are called ties.", ""]
    if "areas_mm2" in config.axes:
        lines += ["PE kinds are compared at **equal area**: each design's array is the largest "
                  "that fits its area budget beside its SRAM buffer (PE area from synthesis, "
                  "buffer area from CACTI, rounded down to whole PEs), not at equal PE count.",
                  ""]
    if "throughputs_gmacs" in config.axes:
        lines += ["PE kinds are compared at **equal throughput**: each design's array is the "
                  "smallest whose peak MAC rate (lanes per beat occupancy at the clock its "
                  "critical path reaches) meets its target, rounded up to whole PEs; a PE kind "
                  "whose array would not fit the 858 mm² reticle is not applicable.", ""]
    for label, group in contexts(config, rows).items():
        lines += _context_section(config, label, group, pareto_front)
    lines += ["## Plots", ""]
    lines += [f"- ![{name}]({name})" for name in plots]
    lines += [f"- GPU: {gpu_note}", ""]
    Path(path).write_text("\n".join(lines))


def _hardware_words(config: SweepConfig) -> str:
    keys = _hardware_keys(config)
    return ", ".join(key.replace("_", " ") for key in keys) if keys else "hardware"


def _baseline_label(config: SweepConfig) -> str:
    baseline = config.report.baseline
    return "(none)" if baseline is None else f"{baseline[0]} on {baseline[1]}"


def _context_section(config, label, group, pareto_front) -> list[str]:
    metric = group[0].get("fidelity_metric", "fidelity")
    bar = config.report.bar(metric)
    lines = [f"## {label}", "", proxy_sentence(group), ""]
    if bar is None:
        return lines + [f"report.min_fidelity sets no bar for the fidelity metric {metric!r}, "
                        f"so no winner is named.", ""] + _pareto_table(group, pareto_front)
    eligible = [row for row in group if row["fidelity"] >= bar]
    lines += [f"{len(group)} designs; {len(eligible)} reach the bar {metric} >= {bar:g}.", ""]
    if eligible:
        lines += _winners(eligible, bar, _baseline_rows(config, group), _hardware_keys(config))
    else:
        lines += [f"**No design reaches fidelity {bar:g}**, so no winner is named; the best "
                  f"fidelity is listed below.", ""]
    best = max(group, key=lambda row: row["fidelity"])
    lines += [f"Highest fidelity: **{design_label(best)}**, {metric} {best['fidelity']:.4f}.", ""]
    lines += _serving_table(eligible)
    lines += weight_only_section(group, bar)
    lines += _misses(group, bar)
    lines += _arithmetic_table(group)
    lines += _pareto_table(group, pareto_front)
    return lines


def _arithmetic_table(group: list[dict]) -> list[str]:
    """Every design measured through a PE's own arithmetic (the evaluator's pe_arithmetic and
    fake_quant_fidelity columns) beside the same scheme under fake quantization: where the
    accumulator loses fidelity, and what it costs."""
    rows = [row for row in group if _known(row.get("fake_quant_fidelity"))]
    if not rows:
        return []
    lines = ["Fidelity through the PE's own arithmetic (lowbit.hwsim.gemm) against fake "
             "quantization of the same scheme:", "",
             "| design | PE arithmetic | fidelity | fake quant | change | PE area | MAC energy |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        change = row["fidelity"] - row["fake_quant_fidelity"]
        lines.append(f"| {design_label(row)} | {row['pe_arithmetic']} | {row['fidelity']:.4f} "
                     f"| {row['fake_quant_fidelity']:.4f} | {change:+.4f} | "
                     f"{_cell(row, 'pe_area_m2', 'm²')} | {_cell(row, 'energy_mac_j', 'J')} |")
    return lines + [""]


def _serving_table(eligible: list[dict]) -> list[str]:
    """LLM serving per phase (rows with ``j_per_token``), lowest joules per generated token
    first: prefill and decode separately, as LLM accelerators are judged."""
    served = sorted((row for row in eligible if _known(row.get("j_per_token"))),
                    key=lambda row: row["j_per_token"])
    if not served:
        return []
    first = served[0]
    lines = [f"LLM serving ({first['seq_len']}-token prompts, {first['generated']} generated "
             f"tokens, batch {first['batch']}), designs reaching the bar, lowest energy per "
             f"generated token first:", "",
             "| design | clock | J / generated token | decode tokens/s | decode bound | "
             "prefill latency | prefill J / token |", "|---|---|---|---|---|---|---|"]
    for row in served:
        bound = f"memory in {row['decode_memory_bound_steps']} of {row['generated']} steps"
        lines.append(f"| {design_label(row)} | {si(row['clock_hz'], 'Hz')} | "
                     f"{si(row['j_per_token'], 'J')} | {row['decode_tokens_per_s']:.3g} | "
                     f"{bound} | {si(row['prefill_latency_s'], 's')} | "
                     f"{si(row['prefill_j_per_token'], 'J')} |")
    lines += ["", "Check against the literature: a memory-bound decode step takes bytes per token "
              "(every weight, scales included, plus the KV cache read and written) over the DRAM "
              "bandwidth, the roofline of LLMCompass (Zhang et al., ISCA 2024) and GenZ "
              "(Bambhaniya et al., 2024), whose reported error against GPUs is 4-6 % (as issue "
              "17 cites them; not re-measured here); the decode numbers above are that formula, "
              "step by step (tests/models/test_evaluator.py checks it to the byte)."]
    return lines + [""]


def weight_only_section(group: list[dict], bar: float) -> list[str]:
    """Weight-only (float16-activation) designs against the W16A16 baseline (float16 weights
    and activations) of the same group, on the LLM serving metrics; [] unless the group has
    both, served (rows with ``j_per_token``)."""
    served = [row for row in group if _known(row.get("j_per_token"))
              and row.get("pe_act_format") == "float16"]
    baselines = [row for row in served if row.get("pe_weight_format") == "float16"]
    weight_only = sorted((row for row in served if row.get("pe_weight_format") != "float16"),
                         key=lambda row: row["j_per_token"])
    if not baselines or not weight_only:
        return []
    base = min(baselines, key=lambda row: row["j_per_token"])
    lines = [f"Weight-only quantization against the W16A16 baseline **{design_label(base)}** "
             f"(fidelity {base['fidelity']:.4f}, {si(base['j_per_token'], 'J')} per generated "
             f"token, {base['decode_tokens_per_s']:.3g} decode tokens/s, "
             f"{base['array']} PEs in the same area):", "",
             "| design | fidelity | bits / weight | PEs | J / generated token | vs W16A16 | "
             "decode tokens/s | vs W16A16 |", "|---|---|---|---|---|---|---|---|"]
    for row in weight_only:
        lines.append(f"| {design_label(row)} | {row['fidelity']:.4f}"
                     f"{'' if row['fidelity'] >= bar else ' (below bar)'} | "
                     f"{row['bits_per_weight']:.3g} | {row['array']} | "
                     f"{si(row['j_per_token'], 'J')} | "
                     f"{_ratio(row['j_per_token'], base['j_per_token'])} | "
                     f"{row['decode_tokens_per_s']:.3g} | "
                     f"{_ratio(row['decode_tokens_per_s'], base['decode_tokens_per_s'])} |")
    # the cheapest design that reaches the bar, else the cheapest
    best = next((row for row in weight_only if row["fidelity"] >= bar), weight_only[0])
    lines += ["", f"Reading: decode moves every weight from DRAM once per generated token, so "
              f"{best['bits_per_weight']:.3g} bits per weight against "
              f"{base['bits_per_weight']:.3g} cut the DRAM term, the largest of a memory-bound "
              f"step; {design_label(best)} spends "
              f"{_ratio(best['j_per_token'], base['j_per_token'])} of the baseline's energy per "
              f"token at fidelity {best['fidelity']:.4f} against {base['fidelity']:.4f}. "
              f"Whether it is usable is the fidelity bar's call ({bar:g}).", ""]
    return lines


def proxy_sentence(group: list[dict]) -> str:
    """Which model measured fidelity and on how many samples (fidelity_model and
    fidelity_samples columns), or the metric's name alone when the evaluator reports neither."""
    metric = group[0].get("fidelity_metric", "fidelity")
    models = list(dict.fromkeys(row["fidelity_model"] for row in group
                                if row.get("fidelity_model")))
    samples = sorted({row["fidelity_samples"] for row in group
                      if _known(row.get("fidelity_samples"))})
    if not models:
        return (f"Fidelity proxy: metric {metric}; the evaluator reports no proxy model or "
                f"sample size.")
    if not samples:
        counts = "a sample count it does not report"
    elif len(samples) == 1:
        counts = f"{samples[0]:g} samples"
    else:
        counts = f"{samples[0]:g} to {samples[-1]:g} samples"
    return f"Fidelity proxy: {', '.join(models)} ({metric} over {counts})."


def _winners(eligible, bar, baselines, hardware_keys) -> list[str]:
    lines = ["| objective | winner | value | fidelity | margin |", "|---|---|---|---|---|"]
    why = ["Why each wins:", ""]
    for key, what, unit in _WINNER_METRICS:
        valued = [row for row in eligible if _known(row[key])]
        if not valued:
            lines.append(f"| lowest {what} | none | n/a | | no {what} for any design: "
                         f"{missing_note(eligible, key)} |")
            continue
        # an exact tie goes to the higher fidelity
        best = min(valued, key=lambda row: (row[key], -row["fidelity"]))
        baseline = _matching(best, baselines, hardware_keys)
        runner_up = _runner_up(best, key, valued)
        margin = _margin(best, key, what, unit, runner_up, baseline)
        if len(valued) < len(eligible):
            margin += (f"; {len(eligible) - len(valued)} design(s) with no {what} value not "
                       f"ranked ({missing_note(eligible, key)})")
        lines.append(f"| lowest {what} | **{design_label(best)}** | {si(best[key], unit)} | "
                     f"{best['fidelity']:.4f} | {margin} |")
        why.append(f"- **lowest {what}, {design_label(best)}**: "
                   f"{_why(best, key, runner_up or baseline, bar)}.")
    return _headline(eligible, bar, baselines, hardware_keys) + lines + [""] + why + [""]


def _headline(eligible, bar, baselines, hardware_keys) -> list[str]:
    """The lowest-EDP design, with the caveats an architect needs before trusting it: a tie
    within model noise, the baseline itself winning, a fidelity within sampling noise."""
    best = min(eligible, key=lambda row: (row["edp_js"], -row["fidelity"]))
    text = (f"**Winner: {best['scheme']}** on {best['pe']} (lowest energy-delay product among "
            f"designs with fidelity >= {bar:g})")
    runner_up = _runner_up(best, "edp_js", eligible)
    if runner_up is not None and runner_up["edp_js"] <= best["edp_js"] * (1 + NOISE):
        text += (f"; tied within model noise with {design_label(runner_up)}, so treat both "
                 f"as candidates")
    if best is _matching(best, baselines, hardware_keys):
        text += "; the baseline itself: no other scheme beats it on energy-delay product"
    flag = _sampling_flag(best, bar)
    if flag:
        text += f"; its fidelity is {flag}"
    return [text + ".", ""]


def _runner_up(best, key, valued):
    """The best design of a different scheme on ``key``; None when ``best``'s scheme is the
    only one."""
    others = [row for row in valued if row["scheme"] != best["scheme"]]
    return min(others, key=lambda row: row[key]) if others else None


def _against(best, other, key, unit, *, tied: str, lower: str) -> str:
    """How ``best`` compares with ``other`` on ``key``: tied within model noise, or by a ratio."""
    label = f"{design_label(other)} ({si(other[key], unit)})"
    if other[key] <= best[key] * (1 + NOISE):
        return f"{tied} {label}"
    return f"{_ratio(other[key], best[key])} {lower} {label}"


def _margin(best, key, what, unit, runner_up, baseline) -> str:
    parts = []
    if runner_up is None:
        parts.append("the only scheme that reaches the fidelity bar")
    else:
        parts.append(_against(best, runner_up, key, unit,
                              tied=f"tied: within model noise ({NOISE:.0%}) of",
                              lower=f"lower {what} than the best other scheme,"))
    if baseline is not None and baseline is not best and baseline is not runner_up \
            and _known(baseline[key]):
        parts.append(_against(best, baseline, key, unit, tied="tied with the baseline",
                              lower="lower than the baseline"))
    return "; ".join(parts)


def _why(best: dict, key: str, other, bar: float) -> str:
    """Why ``best`` wins on ``key``, in plain words, against ``other`` (the best other scheme,
    else the baseline, else None): the facts that drive that objective, then fidelity."""
    drivers = {"edp_js": (_bits_reason, _energy_reason, _latency_reason),
               "energy_j": (_bits_reason, _energy_reason),
               "latency_s": (_latency_reason, _bits_reason),
               "area_m2": (_area_reason,)}[key]
    parts = [reason(best, other) for reason in drivers]
    parts.append(_fidelity_reason(best, bar))
    return "; ".join(part for part in parts if part)


def _bits_reason(row: dict, other) -> str:
    if not _known(row.get("bits_per_weight")):
        return ""
    text = f"{row['bits_per_weight']:.3g} bits per weight (scales included)"
    if other is not None and _known(other.get("bits_per_weight")):
        text += f" against {other['bits_per_weight']:.3g} for {design_label(other)}"
    return text


def energy_split(row: dict) -> list[tuple[str, float]]:
    """(what, share of energy_j) per breakdown column the row has, largest first."""
    total = row.get("energy_j")
    if not _known(total) or total <= 0:
        return []
    terms = [(words, row[column] / total) for column, words in _ENERGY_TERMS.items()
             if _known(row.get(column))]
    return sorted(terms, key=lambda term: -term[1])


def _energy_reason(row: dict, other) -> str:
    split = energy_split(row)
    if not split:
        return "no energy breakdown from the evaluator"
    shares = ", ".join(f"{share:.0%} {words}" for words, share in split if share >= 0.01)
    text = f"its energy goes mostly to {split[0][0]} ({shares})"
    if _known(row.get("energy_kv_j")) and row["energy_j"] > 0:
        text += (f"; KV-cache traffic (K and V written once, read every decode step) is "
                 f"{row['energy_kv_j'] / row['energy_j']:.0%} of it")
    saving = _largest_saving(row, other)
    if saving:
        text += f"; {saving}"
    return text


def _largest_saving(row: dict, other) -> str:
    """Which energy term ``row`` saves most on against ``other``: where its lead comes from."""
    if other is None:
        return ""
    savings = [(other[column] - row[column], column, words)
               for column, words in _ENERGY_TERMS.items()
               if _known(row.get(column)) and _known(other.get(column))]
    if not savings:
        return ""
    saved, column, words = max(savings)
    if saved <= 0 or other["energy_j"] <= row["energy_j"] * (1 + NOISE):
        return f"its energy is within model noise of {design_label(other)}'s"
    return (f"the lead over {design_label(other)} comes mostly from {words} "
            f"({si(row[column], 'J')} against {si(other[column], 'J')})")


def _latency_reason(row: dict, other) -> str:
    if not all(_known(row.get(key)) for key in ("cycles", "macs", "lanes", "array", "clock_hz")):
        return ""
    if _known(row.get("decode_memory_bound_steps")):
        return (f"decode is memory-bound in {row['decode_memory_bound_steps']} of "
                f"{row['generated']} steps (each step streams every weight and the KV cache "
                f"through DRAM), so its tokens/s follows bytes per token, not the PE; prefill "
                f"takes {si(row['prefill_latency_s'], 's')} at {si(row['clock_hz'], 'Hz')}")
    # 1 when every lane does a MAC each cycle; a bit-serial PE spends one cycle per weight
    # bit, and idle lanes (a dot product shorter than the lanes) add more
    per_mac = row["cycles"] * row["lanes"] * row["array"] / row["macs"]
    compute_s = row["cycles"] / row["clock_hz"]
    pace = (f"{per_mac:.2f} cycles per MAC per lane, {si(compute_s, 's')} of compute at "
            f"{si(row['clock_hz'], 'Hz')}, the clock its synthesized critical path reaches")
    if row["latency_s"] > compute_s * (1 + NOISE):
        return (f"latency is memory-bound: moving weights and activations through DRAM takes "
                f"longer than the compute ({pace}), so fewer bits per weight mean less time")
    return f"latency is compute-bound ({pace})"


def _area_reason(row: dict, other) -> str:
    array = row.get("array")
    text = f"{si(row['area_m2'], 'm²')}"
    if _known(array) and _known(row.get("pe_area_m2")):
        text += (f" = {array} {row['pe']} PEs of {si(row['pe_area_m2'], 'm²')} + "
                 f"{si(row['buffer_area_m2'], 'm²')} of SRAM buffer")
    elif _known(array):
        text += f" = {array} {row['pe']} PEs of {si(row['area_m2'] / array, 'm²')}"
    if other is not None and _known(other.get("area_m2")):
        text += (f", against {si(other['area_m2'], 'm²')} for {design_label(other)}")
    return text


def _fidelity_reason(row: dict, bar: float) -> str:
    metric = row.get("fidelity_metric", "fidelity")
    text = f"{metric} {row['fidelity']:.4f}, {row['fidelity'] - bar:+.4f} against the bar {bar:g}"
    flag = _sampling_flag(row, bar)
    return f"{text}, {flag}" if flag else text


# Fidelity metrics that are the fraction of samples judged right (a top-1 accuracy): their
# sampling error is binomial, sqrt(p (1 - p) / n) over fidelity_samples samples.
_PROPORTION_METRICS = ("top1",)


def sampling_error(row: dict, bar: float) -> float | None:
    """One binomial standard error of a proportion metric at the bar, or None (another metric,
    or no sample count)."""
    samples = row.get("fidelity_samples")
    if row.get("fidelity_metric") not in _PROPORTION_METRICS or not _known(samples) \
            or samples <= 0:
        return None
    return math.sqrt(bar * (1.0 - bar) / samples)


def _sampling_flag(row: dict, bar: float) -> str:
    error = sampling_error(row, bar)
    if error is None or abs(row["fidelity"] - bar) > error:
        return ""
    return (f"within one sampling error of the bar (±{error:.4f} over "
            f"{row['fidelity_samples']:g} samples): the proxy cannot tell it from the bar")


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
    # the last row per scheme in ascending fidelity order is the scheme's best
    best = {row["scheme"]: row for row in sorted(group, key=lambda row: row["fidelity"])}
    order = dict.fromkeys(row["scheme"] for row in group)  # first-seen order
    missed = [_miss(scheme, best[scheme], bar) for scheme in order
              if best[scheme]["fidelity"] < bar]
    if not missed:
        return []
    return [f"Below the fidelity bar (best fidelity per scheme): {', '.join(missed)}.", ""]


def _miss(scheme: str, row: dict, bar: float) -> str:
    flag = _sampling_flag(row, bar)
    return f"{scheme} ({row['fidelity']:.4f}{'; ' + flag if flag else ''})"


def pareto_rows(group: list[dict], pareto_front) -> tuple[list[dict], list[str]]:
    """(the Pareto-optimal rows of ``group`` over OBJECTIVES in input order, a note per
    objective some design has no value for).

    A design without a value for an objective (e.g. area without synthesis data) is left out
    of that objective only: it is on the front when no design that has every objective it has
    dominates it over those objectives. Designs with every value compete on all of them."""
    front_ids, notes = set(), []
    for metric in OBJECTIVES:
        lacking = sum(not _known(row.get(metric)) for row in group)
        if lacking:
            labels = ", ".join(design_label(row) for row in group if not _known(row.get(metric)))
            notes.append(f"{lacking} of {len(group)} design(s) without {metric} ({labels}), "
                         f"ranked on the other objectives; a front row without it reads "
                         f"n/a{_NO_VALUE} ({missing_note(group, metric)})")
    for known in dict.fromkeys(_known_objectives(row) for row in group):
        if not known:
            continue
        rivals = [row for row in group if set(known) <= set(_known_objectives(row))]
        front = pareto_front(rivals, {metric: OBJECTIVES[metric] for metric in known})
        front_ids.update(id(row) for row in front if _known_objectives(row) == known)
    return [row for row in group if id(row) in front_ids], notes


def _known_objectives(row: dict) -> tuple[str, ...]:
    return tuple(metric for metric in OBJECTIVES if _known(row.get(metric)))


def missing_note(group, metric) -> str:
    """Why ``metric`` has no value in the rows of ``group`` lacking it, in the evaluator's
    words: each distinct reason once, in row order."""
    # the evaluator explains a missing metric in "<metric>_note" (area_m2 -> area_note)
    note_key = f"{metric.rsplit('_', 1)[0]}_note"
    reasons = dict.fromkeys(row[note_key] for row in group
                            if not _known(row.get(metric)) and row.get(note_key))
    return "; ".join(reasons) or "the evaluator gave no value"


def _pareto_table(group, pareto_front) -> list[str]:
    front, notes = pareto_rows(group, pareto_front)
    front = sorted(front, key=lambda row: -row["fidelity"])
    lines = [f"Pareto front over {', '.join(f'{k} ({v})' for k, v in OBJECTIVES.items())}: "
             f"{len(front)} of {len(group)} designs.", ""]
    lines += [f"{_NO_VALUE} {note}." for note in notes] + ([""] if notes else [])
    lines += ["| design | fidelity | energy | latency | area | EDP |", "|---|---|---|---|---|---|"]
    for row in front:
        lines.append(f"| {design_label(row)} | {row['fidelity']:.4f} | "
                     f"{_cell(row, 'energy_j', 'J')} | {_cell(row, 'latency_s', 's')} | "
                     f"{_cell(row, 'area_m2', 'm²')} | {_cell(row, 'edp_js', 'J·s')} |")
    return lines + [""]


def _cell(row: dict, metric: str, unit: str) -> str:
    value = row.get(metric)
    return si(value, unit) if _known(value) else f"n/a{_NO_VALUE}"


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
