"""`lowbit search`: hardware-aware mixed precision, one scheme per layer (lowbit.models.mixed).

    lowbit search --workload llama2-7b --pe bit_serial --max-kl 0.5
    lowbit search --workload minilm-l6 --pe lut --max-loss 0.01 [--objective latency_s]
    lowbit search --workload llama2-7b --pe bit_serial --max-cost-ratio 0.6
                  [--schemes int8,int4-g128,int2-g64] [--samples N] [--measure] [--no-validate]
                  [--estimate] [--sensitivity measured|estimate] [--front 8] [--lanes 16] [--area-mm2 8] [--node 45] [--dram ddr4]
                  [--batch 1] [--seq-len 128] [--generated 128] [--out DIR] [--save NAME]

Chooses, among the presets one array of the PE runs (lowbit.models.mixed.layer_costs.candidates,
or --schemes), one per layer of the workload's fidelity proxy (SmolLM2 for LLaMA, MiniLM for
BERT/MiniLM, the digits CNN for workload digits-cnn) by an integer linear program: the least
--objective (energy_j default, latency_s, edp_js) whose predicted degradation (the sum of the
layers' measured sensitivities) is at most --max-kl (LLM proxies: mean next-token KL in nats)
or --max-loss (the proxy's own metric), or the least predicted degradation whose cost is at most
--max-cost-ratio times the widest uniform scheme's. Sensitivities come from the cache; --measure
measures the missing ones (SmolLM2: each block's layers and schemes batched from that block on;
about an hour for 210 layers x 3 schemes on two shared cores; run it once, in the
background). Then every uniform scheme, the chosen assignment and the front are measured end to
end (--no-validate skips it) and --estimate adds the Fisher estimate and its Spearman
correlation with the measured sensitivities.

Prints the per-layer table (layer, scheme, bits, cost share, sensitivity) and the designs, and
writes to --out (default results/search-<workload>-<pe>): layers.csv, designs.csv, pareto.png
(measured degradation vs cost, uniform schemes and mixed assignments) and report.md. The chosen
assignment is also written as assignment.json and stored as the design point "mixed:NAME"
(--save NAME; default workload-pe-<hash>) that a sweep config with evaluator
"lowbit.models.mixed.point:MIXED" lists among its schemes (lowbit.models.mixed.point).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

HELP = "choose a scheme per layer under a fidelity or cost budget on one PE (ILP)"
_UNITS = {"energy_j": "J", "latency_s": "s", "edp_js": "J s"}


def configure(parser) -> None:
    parser.add_argument("--workload", required=True,
                        help="an LLM or BERT/MiniLM workload, or digits-cnn")
    parser.add_argument("--pe", required=True, help="a PE kind (lowbit.hwsim.pe.kinds)")
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--max-kl", type=float, default=None,
                        help="LLM workloads: predicted mean next-token KL budget (nats)")
    budget.add_argument("--max-loss", type=float, default=None,
                        help="predicted degradation budget in the proxy's metric")
    budget.add_argument("--max-cost-ratio", type=float, default=None,
                        help="cost budget: this times the widest uniform scheme's cost")
    parser.add_argument("--objective", default="energy_j",
                        help="energy_j (default), latency_s or edp_js")
    parser.add_argument("--schemes", default=None, help="comma-separated candidate presets")
    parser.add_argument("--samples", type=int, default=None,
                        help="evaluation samples: LLM tokens (default 256) or MiniLM sentences "
                             "(default all)")
    parser.add_argument("--measure", action="store_true",
                        help="measure sensitivities missing from the cache")
    parser.add_argument("--no-validate", action="store_true",
                        help="skip the end-to-end measurements")
    parser.add_argument("--estimate", action="store_true",
                        help="add the Fisher estimate and its Spearman correlation")
    parser.add_argument("--sensitivity", default="measured",
                        help="search on the 'measured' (default) or the Fisher 'estimate' "
                             "sensitivities")
    parser.add_argument("--lanes", type=int, default=16, help="lanes per PE (default 16)")
    parser.add_argument("--area-mm2", type=float, default=8.0,
                        help="area budget the array is sized to, mm² (default 8)")
    parser.add_argument("--node", type=int, default=45,
                        help="technology node in nm (default 45)")
    parser.add_argument("--dram", default="ddr4", help="DRAM kind (default ddr4)")
    parser.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    parser.add_argument("--seq-len", type=int, default=128,
                        help="sequence length; an LLM's prompt length (default 128)")
    parser.add_argument("--generated", type=int, default=128,
                        help="generated tokens of an LLM workload (default 128)")
    parser.add_argument("--front", type=int, default=8,
                        help="front budgets besides the uniform schemes' (default 8; each is "
                             "one end-to-end measurement)")
    parser.add_argument("--out", default=None, help="output folder")
    parser.add_argument("--save", default=None,
                        help="design-point name of the chosen assignment (default: "
                             "workload-pe-<hash>); a sweep names it mixed:NAME")


def _request(args):
    from lowbit.models import workloads
    from lowbit.models.cost import dram, technology
    from lowbit.models.mixed import layer_costs, study
    from lowbit.sweeps.commands.rank import _split
    if args.max_kl is not None and args.workload not in workloads.LLM_NAMES:
        raise ValueError(f"--max-kl applies to the LLM workloads ({', '.join(workloads.LLM_NAMES)}); "
                         f"use --max-loss for {args.workload!r}")
    for name in ("lanes", "batch", "seq_len", "generated", "samples"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    if not args.area_mm2 > 0:
        raise ValueError(f"--area-mm2 must be > 0, got {args.area_mm2}")
    technology.check_node(args.node)
    dram.check_kind(args.dram)
    chip = layer_costs.Chip(pe=args.pe, lanes=args.lanes, area_mm2=args.area_mm2, node=args.node,
                            dram=args.dram, batch=args.batch, seq_len=args.seq_len,
                            generated=args.generated)
    schemes = _split(args.schemes)
    return study.Request(workload=args.workload, pe=args.pe,
                         max_loss=args.max_kl if args.max_kl is not None else args.max_loss,
                         max_cost_ratio=args.max_cost_ratio, objective=args.objective,
                         schemes=tuple(schemes) if schemes else None, chip=chip,
                         samples=args.samples, measure=args.measure,
                         validate=not args.no_validate, estimate=args.estimate,
                         source=args.sensitivity, front_points=args.front)


def run(args) -> int:
    from lowbit.hwsim.bench.table import format_table
    from lowbit.models.mixed import study as study_mod
    request = _request(args)
    study = study_mod.run(request)
    out = Path(args.out or f"results/search-{args.workload}-{args.pe}")
    out.mkdir(parents=True, exist_ok=True)
    layers, designs = layer_rows(study), design_rows(study)
    print(format_table(layers, ("layer", "scheme", "bits", "cost_share", "sensitivity")))
    print()
    print(format_table(designs, ("design", "energy_j", "latency_s", "edp_js", "predicted",
                                 "measured", "schemes")))
    print()
    print(format_table(kind_rows(study), kind_columns(study)))
    print(f"\nsearch (costs, ILP, front of {len(study.front)}): {study.search_seconds:.2f} s")
    from lowbit.sweeps.report import write_table
    write_table(layers, out / "layers.csv")
    write_table(designs, out / "designs.csv")
    from lowbit.models.mixed import point
    record = assignment_record(study)
    (out / "assignment.json").write_text(json.dumps(record, indent=1) + "\n")
    scheme = point.save(args.save or default_name(study), record)
    plots = []
    if request.validate:
        pareto_plot(study, out / "pareto.png")
        plots.append("pareto.png")
    (out / "report.md").write_text(report(study, plots))
    print(f"wrote {out}/: layers.csv, designs.csv, assignment.json, report.md"
          + ("".join(f", {p}" for p in plots)))
    print(f"design point: schemes = [\"{scheme}\"] with evaluator = "
          f"\"lowbit.models.mixed.point:MIXED\" in a sweep config")
    return 0


def layer_rows(study) -> list[dict]:
    """One row per layer of the chosen assignment: scheme, the weight bits the PE runs, its
    share of the objective's cost (fixed part included in the whole), measured sensitivity."""
    costs, key = study.layer_costs, study.request.objective
    table = costs.latency if key == "latency_s" else costs.energy
    total = study.chosen.costs["latency_s" if key == "latency_s" else "energy_j"]
    rows = []
    for index, (layer, scheme) in enumerate(zip(study.layers, study.chosen.assignment)):
        col = costs.schemes.index(scheme)
        rows.append({"layer": layer, "kind": costs.kinds[index], "scheme": scheme,
                     "bits": costs.w_bits[scheme],
                     "cost_share": round(float(table[index, col]) / total, 6),
                     "sensitivity": float(study.sensitivity[index, col])})
    return rows


def kind_rows(study) -> list[dict]:
    """Where the cost and the sensitivity lie, one row per layer kind (q, k, ..., down): its
    layers, its share of the widest and the narrowest uniform design's objective cost (the fixed
    part included in the whole; row "fixed" is that part), the sum of its layers' measured
    sensitivities under each candidate (sens:SCHEME) and how many of its layers the chosen
    assignment gives each candidate (chosen:SCHEME)."""
    costs, key = study.layer_costs, study.request.objective
    table, fixed = (costs.latency, costs.fixed_latency) if key == "latency_s" \
        else (costs.energy, costs.fixed_energy)
    ends = {"widest": max(range(len(study.schemes)), key=lambda col: table[:, col].sum()),
            "narrowest": min(range(len(study.schemes)), key=lambda col: table[:, col].sum())}
    whole = {end: fixed + table[:, col].sum() for end, col in ends.items()}
    kinds = np.array(costs.kinds)
    chosen = np.array(study.chosen.assignment)
    rows = []
    for kind in dict.fromkeys(costs.kinds):
        mask = kinds == kind
        row = {"kind": kind, "layers": int(mask.sum())}
        row.update({f"share_{end}": float(table[mask, col].sum() / whole[end])
                    for end, col in ends.items()})
        row.update({f"sens:{name}": float(study.sensitivity[mask, col].sum())
                    for col, name in enumerate(study.schemes)})
        row.update({f"chosen:{name}": int((chosen[mask] == name).sum())
                    for name in study.schemes})
        rows.append(row)
    rows.append({"kind": "fixed", "layers": 0,
                 **{f"share_{end}": float(fixed / whole[end]) for end in ends}})
    return rows


def design_rows(study) -> list[dict]:
    rows = []
    for design in [*study.uniform, study.chosen, *study.front]:
        counts = {name: design.assignment.count(name) for name in study.schemes
                  if name in design.assignment}
        rows.append({"design": design.name, "kind": design.kind, **design.costs,
                     "predicted": design.predicted, "measured": design.measured,
                     "schemes": " ".join(f"{name}:{n}" for name, n in counts.items())})
    return rows


def assignment_record(study) -> dict:
    """The chosen assignment as a sweep design point reads it (lowbit.models.mixed.point)."""
    from lowbit.models.fidelity import cache, llm
    request = study.request
    return {"workload": request.workload, "pe": request.pe, "model": study.subject.model,
            "sweep_samples": llm.EVAL_TOKENS if cache.is_llm(study.subject.model) else None,
            "searched_on": study.subject.identity(), "schemes": study.schemes,
            "objective": request.objective, "max_loss": request.max_loss,
            "max_cost_ratio": request.max_cost_ratio,
            "layers": dict(zip(study.layers, study.chosen.assignment)),
            "predicted": study.chosen.predicted, "measured": study.chosen.measured}


def default_name(study) -> str:
    """workload-pe-<12 hex digits of the assignment's SHA-256>: one name per assignment."""
    layers = json.dumps(assignment_record(study)["layers"], sort_keys=True)
    digest = hashlib.sha256(layers.encode()).hexdigest()[:12]
    return f"{study.request.workload}-{study.request.pe}-{digest}"


def pareto_plot(study, path: Path) -> None:
    """Measured degradation against the objective's cost: uniform schemes (squares, named),
    the front (circles; hollow: predicted) and the chosen assignment (star)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    key = study.request.objective
    figure, axis = plt.subplots(figsize=(7, 5))
    front = sorted(study.front, key=lambda d: d.costs[key])
    axis.plot([d.costs[key] for d in front], [d.predicted for d in front], "o", mfc="none",
              color="tab:blue", label="mixed front, predicted (sum of sensitivities)")
    axis.plot([d.costs[key] for d in front], [d.measured for d in front], "o-",
              color="tab:blue", label="mixed front, measured")
    for design in study.uniform:
        axis.plot(design.costs[key], design.measured, "s", color="tab:red")
        axis.annotate(design.name.removeprefix("uniform "), (design.costs[key], design.measured),
                      textcoords="offset points", xytext=(5, 4), fontsize=8, color="tab:red")
    axis.plot([], [], "s", color="tab:red", label="uniform scheme, measured")
    axis.plot(study.chosen.costs[key], study.chosen.measured, "*", ms=14, color="tab:green",
              label="chosen, measured")
    if study.request.max_loss is not None:
        axis.axhline(study.request.max_loss, ls=":", color="gray", label="budget")
    values = [d.measured for d in [*front, *study.uniform]] + [d.predicted for d in front]
    if min(values) > 0:
        axis.set_yscale("log")
    axis.set_xlabel(f"{key} ({_UNITS[key]}) of {study.request.workload}")
    axis.set_ylabel(f"{study.subject.metric} of {study.subject.description()}")
    axis.set_title(f"{study.request.workload} on {study.request.pe}: mixed vs uniform")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def kind_columns(study) -> tuple:
    return ("kind", "layers", "share_widest", "share_narrowest",
            *[f"sens:{name}" for name in study.schemes],
            *[f"chosen:{name}" for name in study.schemes])


def _label(name: str) -> str:
    from lowbit.hwsim import quant
    return quant.preset(name).label


def _markdown_table(records: list[dict], columns) -> str:
    from tabulate import tabulate
    return tabulate([[record.get(column) for column in columns] for record in records],
                    headers=list(columns), tablefmt="github", floatfmt=".4g", missingval="")


def report(study, plots: list[str]) -> str:
    from lowbit.models.mixed.study import verdict
    request, costs = study.request, study.layer_costs
    key = request.objective
    lines = [f"# Mixed precision: {request.workload} on {request.pe}", "",
             f"- Fidelity proxy: {study.subject.description()} ({study.subject.identity()}), "
             f"degradation = {study.subject.metric} against the float32 model; "
             f"{len(study.layers)} layers; searched on the {request.source} sensitivities.",
             f"- Chip: {costs.array} {request.pe} PEs (lanes {study.chip.lanes}, area budget "
             f"{study.chip.area_mm2:g} mm², {study.chip.node} nm, {study.chip.dram}), clock "
             f"{costs.clock_hz / 1e6:.0f} MHz" + ("" if costs.fixed_energy == 0 else
             "; layers outside the blocks and the fixed costs (attention, KV cache) at the "
             "widest candidate in every design") + ".",
             f"- Candidates (one PE config): {', '.join(study.schemes)}.",
             f"- Budget: " + (f"predicted {study.subject.metric} <= {request.max_loss:g}"
                              if request.max_loss is not None else
                              f"{key} <= {request.max_cost_ratio:g} x the widest uniform") +
             f"; objective {key}. Search: {study.search_seconds:.2f} s.", ""]
    lines += ["| design | energy (J) | latency (s) | predicted | measured | schemes |",
              "|---|---|---|---|---|---|"]
    for row in design_rows(study):
        lines.append(f"| {row['design']} | {row['energy_j']:.4g} | {row['latency_s']:.4g} | "
                     f"{row['predicted']:.4g} | {row['measured']:.4g} | {row['schemes']} |")
    lines.append("")
    if request.validate:
        result = verdict(study)
        best, mixed = result["best_uniform"], result["best_mixed"]
        if result["beats"]:
            lines.append(f"**Mixed beats the best uniform scheme at equal or better measured "
                         f"fidelity.** {mixed.name} costs {mixed.costs[key]:.4g} "
                         f"{_UNITS[key]} against {best.costs[key]:.4g} for the best uniform "
                         f"scheme ({best.name}), {100 * result['saving']:.1f} % less, at "
                         f"measured {study.subject.metric} {mixed.measured:.4g} <= "
                         f"{best.measured:.4g}.")
        else:
            lines.append(f"**No mixed design reaches the best uniform scheme's measured "
                         f"degradation at lower cost.** The best uniform scheme ({best.name}: "
                         f"{best.costs[key]:.4g} {_UNITS[key]}, measured {best.measured:.4g}) is "
                         f"matched by no mixed assignment of lower cost at equal or lower "
                         f"measured degradation.")
        fitting = result["at_budget"]
        if fitting is not None:
            lines += ["", f"At the budget (measured {study.subject.metric} <= "
                      f"{request.max_loss:g}): {fitting.name}, {fitting.costs[key]:.4g} "
                      f"{_UNITS[key]}, measured {fitting.measured:.4g}, against "
                      f"{best.costs[key]:.4g} for {best.name}: "
                      f"{100 * (fitting.costs[key] / best.costs[key] - 1):+.1f} %."]
        lines += ["", "Against each uniform scheme (the cheapest mixed design measured at equal "
                  "or lower degradation):", ""]
        for uniform, rival in result["per_uniform"]:
            lines.append(f"- {uniform.name} ({uniform.costs[key]:.4g} {_UNITS[key]}, measured "
                         f"{uniform.measured:.4g}): " + (
                             "no mixed design measured at equal or lower degradation"
                             if rival is None else
                             f"{rival.name}, {rival.costs[key]:.4g} {_UNITS[key]} "
                             f"({100 * (rival.costs[key] / uniform.costs[key] - 1):+.1f} %), "
                             f"measured {rival.measured:.4g}"))
        lines += ["", "Prediction (sum of single-layer sensitivities) against measurement, "
                  "end to end:", ""]
        for design in [study.chosen, *study.front]:
            ratio = f" (x{design.measured / design.predicted:.2f})" if design.predicted > 0 else ""
            lines.append(f"- {design.name}: predicted {design.predicted:.4g}, measured "
                         f"{design.measured:.4g}{ratio}")
    lines += ["", f"Where the cost and the sensitivity lie (per layer kind; share of the widest "
              f"and the narrowest uniform design's {key}, summed measured sensitivity under "
              f"each candidate, the chosen assignment's candidates):", "",
              _markdown_table(kind_rows(study), kind_columns(study))]
    if study.spearman is not None:
        value, compared, per_scheme = study.spearman
        within = ", ".join(f"{name} {per_scheme[label]:.3f}" for name, label in
                           zip(study.schemes, [_label(name) for name in study.schemes]))
        lines += ["", f"Fisher estimate vs measured sensitivity: Spearman {value:.3f} over "
                  f"{compared} of {len(study.layers)} layers x {len(study.schemes)} schemes; "
                  f"ranking the layers within one scheme: {within}."]
    lines += ["", *[f"![{plot}]({plot})" for plot in plots], ""]
    return "\n".join(lines)
