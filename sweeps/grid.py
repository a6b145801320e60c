"""The design points of a sweep: the cartesian product of its axes, and each point's key.

Points come out in a fixed order (axes in ``config.AXES`` order, values in file order, the
scheme outermost) so the results table is the same however the points were scheduled; points
of one scheme are adjacent, which lets per-scheme caches (model fidelity) warm up early.
"""
from __future__ import annotations

import hashlib
import itertools
import json

from lowbit.sweeps.config import AXES, SweepConfig


def expand(config: SweepConfig, applies=None) -> tuple[list[dict], int]:
    """(points, number of points dropped because ``applies(scheme, pe)`` was false).

    A point is a plain dict {point key: value} holding only JSON types, ready to be hashed,
    stored and sent to a worker. A workload named in ``config.fidelity_models`` adds its model
    as the point's "fidelity_model" (so the model is part of the point key); other points have
    no such key."""
    axis_keys = [key for key in AXES if key in config.axes]
    points, dropped = [], 0
    for values in itertools.product(*(config.axes[key] for key in axis_keys)):
        point = {AXES[key]: value for key, value in zip(axis_keys, values)}
        if point["workload"] in config.fidelity_models:
            point["fidelity_model"] = config.fidelity_models[point["workload"]]
        if applies is not None and not applies(point["scheme"], point["pe"]):
            dropped += 1
            continue
        points.append(point)
    return points, dropped


def point_key(evaluator: str, point: dict) -> str:
    """The hash that names a point in the results store: the evaluator and every axis value.

    Canonical JSON (sorted keys, no whitespace) so equal points hash equally whatever the
    order their keys were built in."""
    text = json.dumps({"evaluator": evaluator, "point": point}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def describe(point: dict) -> str:
    """A short human label for progress lines and messages."""
    return " ".join(f"{key}={value}" for key, value in point.items())
