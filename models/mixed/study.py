"""A mixed-precision study of one workload on one PE: sensitivities, the search, its validation
against the uniform schemes, and the files that report it.

    study = run(Request(workload="llama2-7b", pe="bit_serial", max_loss=0.5))
    write(study, out_dir)     # layers.csv, designs.csv, pareto.png, report.md

Steps (lowbit.models.mixed: subjects, sensitivity, layer_costs, search):
  1. the workload's fidelity proxy (lowbit.models.fidelity.proxy: SmolLM2 for the LLaMA
     workloads, MiniLM for BERT/MiniLM; the digits CNN for workload "digits-cnn") and the
     candidate presets of the PE (layer_costs.candidates);
  2. per-layer sensitivities from the cache (measured first when ``measure``), per-layer costs;
  3. the search: the cheapest assignment in ``objective`` within ``max_loss`` (predicted,
     additive), or the most faithful within ``max_cost_ratio`` times the cost of the widest
     uniform scheme;
  4. the front: the cheapest assignment at each of ``front_points`` (default FRONT_POINTS)
     budgets between the least and the largest predicted degradation, and at each uniform
     scheme's predicted degradation;
  5. validation (``validate``): every uniform scheme, the chosen assignment and the front
     measured end to end on the same data (sensitivity.measured_assignment);
  6. the verdict: whether some mixed assignment costs less than the best uniform scheme at
     equal or lower measured degradation (the best uniform scheme being the cheapest whose
     measured degradation meets the budget, else the least degraded).
The uniform schemes are the candidates applied to every layer; layers outside the blocks keep
the widest candidate in every design (layer_costs states it).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lowbit.models import workloads
from lowbit.models.mixed import layer_costs as costs_mod
from lowbit.models.mixed import search, sensitivity, subjects

FRONT_POINTS = 8
SOURCES = ("measured", "estimate")


@dataclass(frozen=True, kw_only=True)
class Request:
    """What to search: ``workload`` (an LLM, BERT/MiniLM workload or "digits-cnn"), ``pe`` (a
    lowbit.hwsim.pe.kinds name), exactly one of ``max_loss`` (predicted degradation budget, in
    the subject's metric) and ``max_cost_ratio`` (cost budget relative to the widest uniform
    scheme), ``objective`` (layer_costs.OBJECTIVES), ``schemes`` (candidate presets; None: the
    PE's default group), the chip, ``samples`` (LLM evaluation tokens or MiniLM sentences;
    lowbit.models.mixed.subjects.get), and whether to measure
    missing sensitivities, validate end to end, and compute the Fisher estimate; ``source``
    "measured" (default) searches on the measured sensitivities, "estimate" on the Fisher
    estimates (computed when missing: one backward pass per draw, no per-layer forwards);
    ``front_points`` budgets spread over the front besides the uniform schemes' (0: only
    those; each front design is one end-to-end measurement)."""
    workload: str
    pe: str
    max_loss: float | None = None
    max_cost_ratio: float | None = None
    objective: str = "energy_j"
    schemes: tuple | None = None
    chip: costs_mod.Chip | None = None
    samples: int | None = None
    measure: bool = False
    validate: bool = True
    estimate: bool = False
    source: str = "measured"
    front_points: int = FRONT_POINTS


@dataclass
class Design:
    """One assignment: its name, the preset per layer, costs, predicted and measured
    degradation (NaN until measured)."""
    name: str
    kind: str                 # "uniform", "mixed" (the chosen one) or "front"
    assignment: list
    costs: dict
    predicted: float
    measured: float = float("nan")


@dataclass
class Study:
    request: Request
    chip: costs_mod.Chip
    subject: object
    schemes: list
    layers: list
    sensitivity: np.ndarray
    layer_costs: costs_mod.LayerCosts
    chosen: Design
    uniform: list
    front: list
    search_seconds: float
    spearman: tuple | None = None     # (rank correlation, layers compared, {preset: within it})
    estimate: dict | None = field(default=None)


def subject_for(workload: str, samples: int | None = None):
    """The fidelity proxy subject of ``workload`` (a transformer workload or "digits-cnn")."""
    from lowbit.models.fidelity import proxy
    if workload == costs_mod.DIGITS_WORKLOAD:
        return subjects.get("digits_cnn", samples)
    transformers = [name for name in workloads.names() if workloads.FAMILY[name] == "transformer"]
    if workload not in transformers:
        raise ValueError(f"workload must be one of {', '.join(transformers)} or "
                         f"{costs_mod.DIGITS_WORKLOAD!r} (the digits CNN's four layers do not "
                         f"stand for a ResNet's), got {workload!r}")
    return subjects.get(proxy.workload_model(workload), samples)


def _check_request(request: Request) -> None:
    from lowbit.hwsim.pe import kinds
    kinds.get(request.pe)
    if (request.max_loss is None) == (request.max_cost_ratio is None):
        raise ValueError("give exactly one budget: max_loss (fidelity) or max_cost_ratio (cost)")
    if request.source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {request.source!r}")
    if request.objective not in costs_mod.OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(costs_mod.OBJECTIVES)}, got "
                         f"{request.objective!r}")
    if request.max_cost_ratio is not None and request.objective == "edp_js":
        raise ValueError("a cost budget needs a linear objective: energy_j or latency_s "
                         "(EDP is a product)")
    if isinstance(request.front_points, bool) or not isinstance(request.front_points, int) \
            or request.front_points < 0:
        raise ValueError(f"front_points must be an integer >= 0, got {request.front_points!r}")
    if request.max_cost_ratio is not None and not request.max_cost_ratio > 0:
        raise ValueError(f"max_cost_ratio must be > 0, got {request.max_cost_ratio!r}")


def _objective_table(table: costs_mod.LayerCosts, objective: str) -> np.ndarray:
    return table.latency if objective == "latency_s" else table.energy


def _design(name, kind, choice, table, sens) -> Design:
    assignment = [table.schemes[col] for col in choice]
    return Design(name, kind, assignment, table.total(assignment),
                  search.predicted_loss(sens, choice))


def _choose(request: Request, sens: np.ndarray, table: costs_mod.LayerCosts,
            budget: float) -> np.ndarray:
    """The search of step 3 at predicted-degradation budget ``budget``."""
    if request.objective == "edp_js":
        return search.min_edp(sens, table.energy, table.latency, table.fixed_energy,
                              table.fixed_latency, max_loss=budget)
    return search.min_cost(sens, _objective_table(table, request.objective), max_loss=budget)


def run(request: Request, subject=None) -> Study:
    """Steps 1-5 of the module docstring (``verdict`` is step 6). ``subject``: a
    lowbit.models.mixed.subjects.Subject standing in for the workload's proxy (tests use a
    synthetic one)."""
    _check_request(request)
    chip = request.chip or costs_mod.Chip(pe=request.pe)
    subject = subject or subject_for(request.workload, request.samples)
    schemes = costs_mod.candidates(request.pe, request.schemes, chip.lanes)
    presets = _presets(schemes)
    if request.source == "estimate":
        table = sensitivity.cached_estimate(subject, presets)
    else:
        layers = None if request.measure else sensitivity.cached_layers(subject, presets)
        table = sensitivity.measured(subject, presets, compute=request.measure, layers=layers,
                                     progress=_progress if request.measure else None)
    layers = list(table)
    labels = [scheme.label for scheme in presets]
    sens = np.array([[table[layer][label] for label in labels] for layer in layers])
    start = time.perf_counter()
    costs = costs_mod.layer_costs(subject, request.workload, schemes, chip, layers)
    chosen = _search(request, subject, sens, costs)
    uniform = [_design(f"uniform {name}", "uniform", np.full(len(layers), col), costs, sens)
               for col, name in enumerate(schemes)]
    front = _front(request, sens, costs, uniform)
    search_seconds = time.perf_counter() - start
    study = Study(request, chip, subject, schemes, layers, sens, costs, chosen, uniform, front,
                  search_seconds)
    if request.validate:
        for design in [*uniform, chosen, *front]:
            design.measured = sensitivity.measured_assignment(
                subject, {layer: presets[schemes.index(name)]
                          for layer, name in zip(layers, design.assignment)})
    if request.estimate:
        study.estimate = sensitivity.cached_estimate(subject, presets)
        study.spearman = _spearman_where_measured(subject, presets, study.estimate)
    return study


def _spearman_where_measured(subject, presets, estimate) -> tuple[float, int, dict] | None:
    """(Spearman of estimate vs measured over every (layer, scheme) pair, layers compared,
    {preset label: Spearman over the layers under that preset}) over the layers whose measured
    sensitivities are cached (all of them, or the part a background run has measured)."""
    layers = sensitivity.measured_layers(subject, presets)
    if len(layers) < 3:
        return None
    measured = sensitivity.measured(subject, presets, compute=False, layers=layers)
    return (sensitivity.spearman(measured, estimate), len(layers),
            {p.label: sensitivity.spearman(measured, estimate, p.label) for p in presets})


def _presets(names):
    from lowbit.hwsim import quant
    return [quant.preset(name) for name in names]


def _progress(layer: str) -> None:
    print(f"  measured {layer}", flush=True)


def _search(request, subject, sens, costs) -> Design:
    if request.max_loss is not None:
        choice = _choose(request, sens, costs, request.max_loss)
        return _design(f"mixed, predicted {subject.metric} <= {request.max_loss:g}", "mixed",
                       choice, costs, sens)
    objective = _objective_table(costs, request.objective)
    fixed = costs.fixed_latency if request.objective == "latency_s" else costs.fixed_energy
    widest = max(objective.sum(axis=0))
    limit = request.max_cost_ratio * (fixed + widest) - fixed
    choice = search.min_loss(sens, objective, max_cost=limit)
    return _design(f"mixed, {request.objective} <= {request.max_cost_ratio:g} x widest uniform",
                   "mixed", choice, costs, sens)


def _front(request, sens, costs, uniform) -> list[Design]:
    """Step 4: the cheapest assignment at each budget (duplicates dropped)."""
    least, most = float(sens.min(axis=1).sum()), float(sens.max(axis=1).sum())
    points = request.front_points
    spread = np.geomspace(max(least, 1e-12), max(most, 2e-12), points) \
        if least > 0 else np.linspace(least, most, points)
    budgets = sorted({*spread.tolist(), *(d.predicted for d in uniform)})
    front, seen = [], set()
    for budget in budgets:
        choice = _choose(request, sens, costs, budget)
        if tuple(choice) not in seen:
            seen.add(tuple(choice))
            front.append(_design(f"front, predicted <= {budget:.3g}", "front", choice, costs,
                                 sens))
    return front


def verdict(study: Study) -> dict:
    """Step 6 in numbers: the best uniform design, the cheapest measured mixed design at equal
    or lower measured degradation, the saving (NaN when none beats it), the same against
    every uniform design ("per_uniform": [(uniform, cheapest such mixed or None)]), and
    "at_budget": the cheapest mixed design whose *measured* degradation meets the fidelity
    budget (None without a fidelity budget, or when no uniform design meets it)."""
    key = study.request.objective
    budget = study.request.max_loss
    measured = [d for d in study.uniform if np.isfinite(d.measured)]
    if not measured:
        raise ValueError("verdict needs the uniform designs measured (validate)")
    within = [d for d in measured if budget is None or d.measured <= budget]
    best = min(within, key=lambda d: d.costs[key]) if within \
        else min(measured, key=lambda d: d.measured)
    per_uniform = [(uniform, _cheapest_mixed_at_most(study, uniform)) for uniform in measured]
    winner = next(rival for uniform, rival in per_uniform if uniform is best)
    beats = winner is not None and winner.costs[key] < best.costs[key]
    fitting = [d for d in [study.chosen, *study.front] if budget is not None and within
               and np.isfinite(d.measured) and d.measured <= budget and len(set(d.assignment)) > 1]
    at_budget = min(fitting, key=lambda d: d.costs[key]) if fitting else None
    return {"best_uniform": best, "best_mixed": winner, "beats": beats,
            "saving": 1 - winner.costs[key] / best.costs[key] if beats else float("nan"),
            "per_uniform": per_uniform, "at_budget": at_budget}


def _cheapest_mixed_at_most(study: Study, uniform: Design) -> Design | None:
    """The cheapest measured mixed design (two or more schemes) of measured degradation at
    most ``uniform``'s, or None."""
    key = study.request.objective
    mixed = [d for d in [study.chosen, *study.front]
             if np.isfinite(d.measured) and d.measured <= uniform.measured
             and len(set(d.assignment)) > 1]
    return min(mixed, key=lambda d: d.costs[key]) if mixed else None
