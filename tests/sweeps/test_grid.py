"""lowbit.sweeps.grid: the cartesian product in a fixed order, applies() filtering, stable keys."""
from __future__ import annotations

import hashlib
import itertools

from lowbit.sweeps import grid
from lowbit.sweeps.config import ReportSettings, SweepConfig


def make_config(**axes) -> SweepConfig:
    return SweepConfig(name="t", description="", evaluator="m:f", axes=axes,
                       report=ReportSettings(), source="test")


AXES = dict(schemes=("int8", "binary"), pes=("int_mac", "lut", "shift_add"), lanes=(8, 16),
            arrays=(64,), workloads=("a", "b"))


def test_expand_is_the_full_product_scheme_outermost():
    points, dropped = grid.expand(make_config(**AXES))
    expected = [dict(scheme=s, pe=p, lanes=l, array=a, workload=w) for s, p, l, a, w in
                itertools.product(*AXES.values())]
    assert points == expected and dropped == 0


def test_optional_axes_add_point_keys():
    points, _ = grid.expand(make_config(**AXES, group_sizes=(32, 64), seq_lens=(128,)))
    assert len(points) == 2 * 3 * 2 * 2 * 2
    assert list(points[0]) == ["scheme", "pe", "lanes", "array", "workload", "group_size",
                               "seq_len"]


def test_applies_drops_pairs_and_counts_them():
    points, dropped = grid.expand(make_config(**AXES),
                                  applies=lambda s, p: not (s == "int8" and p == "shift_add"))
    assert dropped == 4
    assert not any(p["scheme"] == "int8" and p["pe"] == "shift_add" for p in points)
    assert len(points) == 24 - 4


def test_key_ignores_key_order_and_separates_everything_else():
    point = dict(scheme="int8", pe="lut", lanes=8, array=64, workload="a")
    shuffled = dict(reversed(list(point.items())))
    assert grid.point_key("m:f", point) == grid.point_key("m:f", shuffled)
    assert grid.point_key("m:f", point) != grid.point_key("m:g", point)
    points, _ = grid.expand(make_config(**AXES))
    assert len({grid.point_key("m:f", p) for p in points}) == len(points)


def test_key_is_the_hash_of_the_canonical_json():
    # A changed key would orphan every stored result: pin the definition.
    point = dict(scheme="int8", pe="lut", lanes=8, array=64, workload="a")
    canonical = ('{"evaluator":"m:f","point":{"array":64,"lanes":8,"pe":"lut",'
                 '"scheme":"int8","workload":"a"}}')
    assert grid.point_key("m:f", point) == hashlib.sha256(canonical.encode()).hexdigest()[:20]
    assert grid.point_key("m:f", point) == "033ea7a53344a3aa6862"


def test_describe():
    assert grid.describe(dict(scheme="int8", lanes=8)) == "scheme=int8 lanes=8"


def test_a_named_fidelity_model_joins_its_workloads_points_and_their_keys():
    config = make_config(**AXES)
    named = SweepConfig(**{**config.__dict__, "fidelity_models": {"b": "/models/tiny"}})
    plain, _ = grid.expand(config)
    points, _ = grid.expand(named)
    assert [p.get("fidelity_model") for p in points] == \
        [None if p["workload"] == "a" else "/models/tiny" for p in plain]
    assert [grid.point_key("m:f", p) for p in points if p["workload"] == "a"] == \
        [grid.point_key("m:f", p) for p in plain if p["workload"] == "a"]
    assert not {grid.point_key("m:f", p) for p in points if p["workload"] == "b"} & \
        {grid.point_key("m:f", p) for p in plain}
