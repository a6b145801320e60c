import itertools

import numpy as np
import pytest

from lowbit.models.mixed import search


def _brute_force(primary, secondary, limit):
    """(primary, secondary) of the best assignment with sum(secondary) <= limit, by enumeration."""
    layers, schemes = primary.shape
    rows = np.arange(layers)
    best = None
    for choice in itertools.product(range(schemes), repeat=layers):
        p, s = primary[rows, choice].sum(), secondary[rows, choice].sum()
        if s <= limit and (best is None or p < best[0]):
            best = (p, s)
    return best


def _tables(seed, layers=5, schemes=3):
    rng = np.random.default_rng(seed)
    # wider schemes cost more and lose less, as bit widths do; per-layer spread of 100x
    cost = np.sort(rng.uniform(1, 10, (layers, schemes)), axis=1)[:, ::-1]
    sensitivity = np.sort(rng.lognormal(-5, 2, (layers, schemes)), axis=1)
    return sensitivity, cost


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("fraction", [0.05, 0.3, 1.0])
def test_min_cost_finds_the_enumerated_optimum(seed, fraction):
    sensitivity, cost = _tables(seed)
    least, most = sensitivity.min(axis=1).sum(), sensitivity.max(axis=1).sum()
    limit = least + fraction * (most - least)
    choice = search.min_cost(sensitivity, cost, max_loss=limit)
    rows = np.arange(len(choice))
    optimum, _ = _brute_force(cost, sensitivity, limit)
    assert search.predicted_loss(sensitivity, choice) <= limit
    assert cost[rows, choice].sum() == pytest.approx(optimum, rel=search.MIP_GAP)


@pytest.mark.parametrize("seed", range(6))
def test_min_loss_finds_the_enumerated_optimum(seed):
    sensitivity, cost = _tables(seed)
    limit = 0.5 * (cost.min(axis=1).sum() + cost.max(axis=1).sum())
    choice = search.min_loss(sensitivity, cost, max_cost=limit)
    rows = np.arange(len(choice))
    optimum, _ = _brute_force(sensitivity, cost, limit)
    assert cost[rows, choice].sum() <= limit
    assert search.predicted_loss(sensitivity, choice) == pytest.approx(optimum, rel=1e-3)


def test_ties_go_to_the_lower_loss_then_the_earlier_scheme():
    # columns 0 and 1 cost the same; column 1 loses less: it wins the tie in cost
    sensitivity = np.array([[0.2, 0.1, 0.5], [0.2, 0.1, 0.5]])
    cost = np.array([[2.0, 2.0, 1.0], [2.0, 2.0, 1.0]])
    assert search.min_cost(sensitivity, cost, max_loss=0.25).tolist() == [1, 1]
    # identical columns 0 and 1: the earlier one
    same = np.array([[0.1, 0.1, 0.5]] * 3)
    assert search.min_cost(same, np.array([[2.0, 2.0, 1.0]] * 3),
                           max_loss=0.35).tolist() == [0, 0, 0]


def test_the_search_is_deterministic():
    sensitivity, cost = _tables(7, layers=40, schemes=4)
    limit = sensitivity.min(axis=1).sum() * 3
    first = search.min_cost(sensitivity, cost, max_loss=limit)
    assert all((search.min_cost(sensitivity, cost, max_loss=limit) == first).all()
               for _ in range(3))


def test_min_edp_finds_the_enumerated_optimum():
    sensitivity, energy = _tables(3, layers=4)
    latency = energy[:, ::-1] * 0.3 + 1.0   # wider is faster here: energy and latency disagree
    limit = sensitivity.max(axis=1).sum()
    choice = search.min_edp(sensitivity, energy, latency, 5.0, 2.0, max_loss=limit)
    rows = np.arange(4)
    edps = [(5 + energy[rows, c].sum()) * (2 + latency[rows, c].sum())
            for c in itertools.product(range(3), repeat=4)]
    got = (5 + energy[rows, choice].sum()) * (2 + latency[rows, choice].sum())
    assert got == pytest.approx(min(edps), rel=1e-3)


def test_a_budget_nothing_meets_is_an_error_naming_the_least():
    sensitivity, cost = _tables(0)
    with pytest.raises(ValueError, match="max_loss .* below the least predicted"):
        search.min_cost(sensitivity, cost, max_loss=sensitivity.min(axis=1).sum() / 2)
    with pytest.raises(ValueError, match="max_cost .* below the cost of the cheapest"):
        search.min_loss(sensitivity, cost, max_cost=cost.min(axis=1).sum() / 2)


@pytest.mark.parametrize("bad", [np.ones((3,)), np.ones((0, 2)), np.full((2, 2), np.nan)])
def test_bad_tables_are_refused(bad):
    with pytest.raises(ValueError, match="tables must"):
        search.min_cost(bad, np.ones_like(bad), max_loss=1.0)
