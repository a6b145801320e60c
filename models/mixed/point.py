"""Mixed-precision assignments as sweep design points.

    lowbit search ... --save NAME        # stores the chosen assignment as "mixed:NAME"
    # sweep config:
    evaluator = "lowbit.models.mixed.point:MIXED"
    [axes]
    schemes = ["int8", "int4-g128", "mixed:NAME"]

``MIXED`` keeps the lowbit.sweeps.evaluator.Evaluator contract: it is the project's cost model
(lowbit.models.evaluator.COST_MODEL) for preset schemes, and for a scheme "mixed:NAME" it reads
the stored assignment ``$LOWBIT_CACHE_DIR/assignments/NAME.json`` (else ~/.cache/lowbit/...;
written by ``save``) and costs it on the point's chip with lowbit.models.mixed.layer_costs (the
array sized to ``area_mm2``; an ``array`` point is not applicable). Its fidelity is measured like
a uniform scheme's in the sweep, on the proxy's full evaluation data and metric
(Subject.sweep_fidelity: digits top-1, MiniLM cosine over every shipped sentence, an LLM's
ref_ppl/ppl over lowbit.models.fidelity.llm.EVAL_TOKENS tokens), cached by assignment. A mixed
scheme applies to the PE its assignment was searched for, on its workload only (another workload
is not applicable).
"""
from __future__ import annotations

import json
import math
import re

from lowbit.models.cost.cycles import NotApplicable

PREFIX = "mixed:"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def store_dir():
    from lowbit.models.fidelity import cache
    return cache.default_path().parent / "assignments"


def save(name: str, record: dict) -> str:
    """Store ``record`` (workload, pe, subject model, candidates, layers -> preset) as the
    design point "mixed:NAME"; returns that scheme name."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be letters, digits, '_', '.' or '-', got {name!r}")
    folder = store_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return PREFIX + name


def load(scheme: str) -> dict:
    """The stored record of mixed scheme ``scheme``; ValueError naming the stored ones."""
    name = scheme.removeprefix(PREFIX)
    path = store_dir() / f"{name}.json"
    if not scheme.startswith(PREFIX) or not _NAME.match(name) or not path.is_file():
        raise ValueError(f"scheme must be a preset or one of the stored mixed assignments "
                         f"({', '.join(stored()) or 'none'}), got {scheme!r}")
    return json.loads(path.read_text(encoding="utf-8"))


def stored() -> tuple[str, ...]:
    """Every stored mixed scheme name, sorted."""
    folder = store_dir()
    return tuple(PREFIX + p.stem for p in sorted(folder.glob("*.json"))) if folder.is_dir() else ()


def evaluate(point: dict) -> dict:
    """Metrics of a design point whose scheme is "mixed:NAME" (module docstring)."""
    from lowbit.hwsim import quant
    from lowbit.models.mixed import layer_costs, sensitivity, subjects
    record = load(point["scheme"])
    if point["pe"] != record["pe"] or point["workload"] != record["workload"]:
        raise NotApplicable(f"{point['scheme']} was searched for {record['workload']} on "
                            f"{record['pe']}")
    if point.get("area_mm2") is None:
        raise NotApplicable(f"{point['scheme']}: a mixed point is sized by area_mm2, not array")
    chip = layer_costs.Chip(pe=point["pe"], **{key: point[key] for key in
                                               ("lanes", "area_mm2", "node", "dram", "batch",
                                                "seq_len", "generated")
                                               if point.get(key) is not None})
    layers, assignment = list(record["layers"]), list(record["layers"].values())
    subject = subjects.get(record["model"], record.get("sweep_samples"))
    table = layer_costs.layer_costs(subject, record["workload"], record["schemes"], chip, layers)
    totals = table.total(assignment)
    fidelity, metric = sensitivity.measured_sweep_fidelity(
        subject, {layer: quant.preset(name) for layer, name in record["layers"].items()})
    counts = {name: assignment.count(name) for name in record["schemes"] if name in assignment}
    return {"scheme": point["scheme"], "pe": point["pe"], "lanes": chip.lanes,
            "array": table.array, "workload": point["workload"], "batch": chip.batch,
            "seq_len": chip.seq_len, "group_size": None,
            "scheme_label": "mixed " + " ".join(f"{n}:{c}" for n, c in counts.items()),
            "fidelity": fidelity, "fidelity_metric": metric,
            "fidelity_model": subject.description(), "fidelity_samples": subject.samples,
            "energy_j": totals["energy_j"], "latency_s": totals["latency_s"],
            "area_m2": table.area_m2, "area_note": "mixed: the candidates' one PE config",
            "area_budget_mm2": chip.area_mm2, "edp_js": totals["edp_js"], "cycles": math.nan,
            "clock_hz": table.clock_hz, "node_nm": chip.node, "dram": chip.dram}


class MixedEvaluator:
    """The cost model with stored mixed assignments as extra schemes (module docstring)."""
    NotApplicable = NotApplicable

    def vocabulary(self):
        from lowbit.models.evaluator import COST_MODEL
        names = COST_MODEL.vocabulary()
        return {**names, "schemes": (*names["schemes"], *stored())}

    def applies(self, scheme: str, pe: str) -> bool:
        from lowbit.models.evaluator import COST_MODEL
        if scheme.startswith(PREFIX):
            return load(scheme)["pe"] == pe
        return COST_MODEL.applies(scheme, pe)

    def why_not(self, scheme: str, pe: str) -> str:
        from lowbit.models.evaluator import COST_MODEL
        if scheme.startswith(PREFIX):
            searched_for = load(scheme)["pe"]
            return "" if searched_for == pe else \
                f"{scheme} is a per-layer assignment searched for the {searched_for} PE"
        return COST_MODEL.why_not(scheme, pe)

    def check_lanes(self, scheme: str, pe: str, lanes: int) -> None:
        from lowbit.models.evaluator import COST_MODEL
        if scheme.startswith(PREFIX):
            for name in load(scheme)["schemes"]:
                COST_MODEL.check_lanes(name, pe, lanes)
            return
        COST_MODEL.check_lanes(scheme, pe, lanes)

    def evaluate(self, point: dict) -> dict:
        from lowbit.models.evaluator import COST_MODEL
        if str(point.get("scheme", "")).startswith(PREFIX):
            return evaluate(point)
        return COST_MODEL.evaluate(point)

    def pareto_front(self, rows, objectives):
        from lowbit.models.evaluator import COST_MODEL
        return COST_MODEL.pareto_front(rows, objectives)


MIXED = MixedEvaluator()
