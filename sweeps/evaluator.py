"""What a sweep needs of its model of the world: the evaluator contract, and loading one by name.

A sweep config names its evaluator as "module:name" (default: the project's cost model,
lowbit.models.evaluator:COST_MODEL); that object must provide every member of
:class:`Evaluator`. Workers load it by the same name, so it must be importable there.
"""
from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

DEFAULT = "lowbit.models.evaluator:COST_MODEL"


@runtime_checkable
class Evaluator(Protocol):
    """The contract between a sweep and its evaluator.

    NotApplicable  the exception ``evaluate`` raises for a point it does not apply to (the
                   point is recorded as not applicable, not as a failure)
    vocabulary()   {"schemes", "pes", "workloads": names a config may use, "fidelity_metrics":
                   metric names a report bar may name, or None for any}
    applies(scheme, pe) -> bool: pairs it rejects are not enumerated
    why_not(scheme, pe) -> str: why ``applies`` rejects the pair, saying what the scheme would
                   need of the PE (a config whose every pair is rejected is refused with these)
    check_lanes(scheme, pe, lanes): ValueError when that PE cannot have that many lanes for
                   that scheme
    evaluate(point) -> dict of metrics for one point of the grid
    pareto_front(rows, objectives) -> the rows on the front (the report's front)

    Optional: check_fidelity_model(workload, model) -> the model as points carry it, or
    ValueError; an evaluator with it takes a config's ``[fidelity_models]`` table (and
    ``lowbit sweep --fidelity-model``), passing each workload's model in its points'
    "fidelity_model" key.
    Optional: environment_fidelity_model(workload) -> the model the environment sets for the
    workload's points that name none (as check_fidelity_model returns it), or None; a sweep
    puts it in those points' "fidelity_model" key, so a result never outlives a change of the
    environment.
    """
    NotApplicable: type[Exception]

    def vocabulary(self) -> dict[str, tuple[str, ...] | None]: ...

    def applies(self, scheme: str, pe: str) -> bool: ...

    def why_not(self, scheme: str, pe: str) -> str: ...

    def check_lanes(self, scheme: str, pe: str, lanes: int) -> None: ...

    def evaluate(self, point: dict) -> dict: ...

    def pareto_front(self, rows: list[dict], objectives: dict[str, str]) -> list[dict]: ...


_MEMBERS = ("NotApplicable", "vocabulary", "applies", "why_not", "check_lanes", "evaluate",
            "pareto_front")


def split(reference: str, where: str) -> tuple[str, str]:
    """'module:name' -> (module, name); ValueError naming ``where`` otherwise."""
    module, sep, name = reference.partition(":")
    if not (sep and module and name.isidentifier()):
        raise ValueError(f"{where} must be 'module:name', got {reference!r}")
    return module, name


def load(reference: str) -> Evaluator:
    """The evaluator ``reference`` ("module:name") names; ImportError naming what is missing."""
    module_name, name = split(reference, "evaluator")
    module = importlib.import_module(module_name)
    if not hasattr(module, name):
        raise ImportError(f"evaluator {reference!r}: {module_name} has no {name}")
    evaluator = getattr(module, name)
    missing = [member for member in _MEMBERS if not hasattr(evaluator, member)]
    if missing:
        raise ImportError(f"evaluator {reference!r} lacks {', '.join(missing)} (an evaluator "
                          f"provides {', '.join(_MEMBERS)}: lowbit.sweeps.evaluator.Evaluator)")
    return evaluator


def no_pair_applies(schemes, pes, why_not) -> str:
    """The error text for a grid in which no (scheme, PE) pair applies: for each scheme, one
    line per PE with ``why_not(scheme, pe)``, the evaluator's reason (what the scheme would need
    the PE to take)."""
    lines = [f"  {scheme} on {pe}: {why_not(scheme, pe)}" for scheme in schemes for pe in pes]
    return "no (scheme, pe) pair applies, so there is no design point:\n" + "\n".join(lines)
