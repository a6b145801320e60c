"""One scheme per layer, chosen by an integer linear program (scipy.optimize.milp, HiGHS).

    choice = min_cost(sensitivity, cost, max_loss=0.05)       # cheapest within a fidelity budget
    choice = min_loss(sensitivity, cost, max_cost=1.2e-3)     # most faithful within a cost budget
    choice = min_edp(sensitivity, energy, latency, fixed_energy, fixed_latency, max_loss=0.05)

``sensitivity[l, s]`` is the measured degradation with only layer l under scheme s
(lowbit.models.mixed.sensitivity) and ``cost[l, s]`` its cost (lowbit.models.mixed.layer_costs).
The model of an assignment x (x[l, s] = 1 for the scheme of layer l, one per layer): predicted
degradation = sum of sensitivity * x (additive: each layer's error taken alone; the end-to-end
measurement says how far that holds), cost = sum of cost * x (+ a fixed part that no choice
changes). A choice is the column of the chosen scheme per layer.

Determinism and ties: HiGHS is deterministic for one input, and ties are broken inside the one
objective: the primary term (scaled to [0, 1] over the table) plus TIE_WEIGHT times the
secondary term (the predicted degradation for min_cost, the cost for min_loss, each scaled
likewise) plus TIE_WEIGHT^2 times the column index (the earlier candidate in preset order).
HiGHS stops within a relative gap of MIP_GAP of the optimum (its default, stated).
EDP (energy x latency) is not linear: min_edp starts from the least-energy assignment and
repeatedly minimizes the product's linearization at the current assignment (L_k * energy +
E_k * latency, Dinkelbach-style) while EDP falls, at most EDP_ROUNDS times: a local optimum of
the product, not a certified global one.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

TIE_WEIGHT = 1e-6
MIP_GAP = 1e-4
EDP_ROUNDS = 10


def _check(*tables: np.ndarray) -> tuple[int, int]:
    shape = np.shape(tables[0])
    for table in tables:
        if np.ndim(table) != 2 or np.shape(table) != shape or 0 in shape:
            raise ValueError(f"tables must be non-empty [layers, schemes] arrays of one shape, "
                             f"got shapes {[np.shape(t) for t in tables]}")
        if not np.all(np.isfinite(table)):
            raise ValueError("tables must hold finite numbers only")
    return shape


def _scaled(table: np.ndarray) -> np.ndarray:
    span = float(table.max() - table.min())
    return (table - table.min()) / span if span > 0 else np.zeros_like(table)


def _solve(primary: np.ndarray, secondary: np.ndarray,
           budget: tuple[np.ndarray, float]) -> np.ndarray:
    """Column per layer minimizing ``primary`` (ties: ``secondary``, then the column index;
    module docstring) subject to sum(table * x) <= limit for (table, limit) = ``budget``;
    ValueError if none fits."""
    layers, schemes = primary.shape
    index = np.broadcast_to(np.arange(schemes, dtype=float), primary.shape) / schemes
    objective = _scaled(primary) + TIE_WEIGHT * _scaled(secondary) + TIE_WEIGHT ** 2 * index
    table, limit = budget
    constraints = [LinearConstraint(np.kron(np.eye(layers), np.ones(schemes)), 1, 1),
                   LinearConstraint(table.reshape(1, -1), -np.inf, limit)]
    result = milp(objective.ravel(), integrality=np.ones(objective.size), bounds=Bounds(0, 1),
                  constraints=constraints, options={"mip_rel_gap": MIP_GAP})
    if result.x is None:
        raise ValueError(f"no assignment meets the budget ({result.message})")
    return np.round(result.x).reshape(layers, schemes).argmax(axis=1)


def _check_budget(value, argname: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{argname} must be a finite number, got {value!r}")
    return float(value)


def _within(minimized, budgeted, limit, argname: str, floor_words: str) -> np.ndarray:
    """_solve with ``budgeted`` summed at most ``limit``; ValueError naming ``argname`` and
    the least reachable sum when no assignment fits."""
    minimized, budgeted = np.asarray(minimized, float), np.asarray(budgeted, float)
    _check(minimized, budgeted)
    limit = _check_budget(limit, argname)
    floor = float(budgeted.min(axis=1).sum())
    if floor > limit:
        raise ValueError(f"{argname} {limit:g} is below {floor_words}, {floor:g}")
    return _solve(minimized, budgeted, (budgeted, limit))


def min_cost(sensitivity, cost, *, max_loss: float) -> np.ndarray:
    """The cheapest choice whose predicted degradation is at most ``max_loss``; ValueError when
    even the least sensitive choice exceeds it (the message gives that least)."""
    return _within(cost, sensitivity, max_loss, "max_loss",
                   "the least predicted degradation of any assignment")


def min_loss(sensitivity, cost, *, max_cost: float) -> np.ndarray:
    """The choice of least predicted degradation whose summed cost is at most ``max_cost``;
    ValueError when even the cheapest choice exceeds it."""
    return _within(sensitivity, cost, max_cost, "max_cost", "the cost of the cheapest assignment")


def min_edp(sensitivity, energy, latency, fixed_energy: float, fixed_latency: float, *,
            max_loss: float) -> np.ndarray:
    """A choice of low (fixed_energy + energy) * (fixed_latency + latency) within the
    ``max_loss`` budget, by iterated linearization (module docstring)."""
    sensitivity, energy, latency = (np.asarray(t, float) for t in (sensitivity, energy, latency))
    _check(sensitivity, energy, latency)
    rows = np.arange(len(sensitivity))

    def totals(choice):
        return (fixed_energy + energy[rows, choice].sum(),
                fixed_latency + latency[rows, choice].sum())

    best = min_cost(sensitivity, energy, max_loss=max_loss)
    for _ in range(EDP_ROUNDS):
        total_energy, total_latency = totals(best)
        choice = min_cost(sensitivity, total_latency * energy + total_energy * latency,
                          max_loss=max_loss)
        if np.prod(totals(choice)) >= total_energy * total_latency:
            break
        best = choice
    return best


def predicted_loss(sensitivity, choice) -> float:
    """Sum of each chosen layer's sensitivity: the additive prediction of the degradation."""
    sensitivity = np.asarray(sensitivity, float)
    return float(sensitivity[np.arange(len(choice)), choice].sum())
