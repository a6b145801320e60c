"""A small deterministic evaluator: the test double of lowbit.models.evaluator for the sweep runner.

``DOUBLE`` keeps the evaluator contract of lowbit.sweeps.evaluator (vocabulary, applies,
check_lanes, evaluate, pareto_front, NotApplicable) with closed-form metrics, so the runner, store, report
and CLI can be tested in seconds and their outputs predicted exactly. It is not the real cost
model and no result of the real sweep comes from it.

Environment hooks for the tests (workers inherit the environment):
  SWEEP_DOUBLE_SLEEP  seconds each evaluation sleeps (to interrupt a sweep mid-way)
  SWEEP_DOUBLE_FAIL   a scheme whose evaluation raises RuntimeError
"""
from __future__ import annotations

import os
import time
import types

SCHEMES = ("int8", "int4-pc", "int4-g128", "int2-g64", "fp8-e4m3", "fp8-e5m2", "mxfp8",
           "mxfp6", "mxfp4", "log2_4", "binary", "ternary")
PES = ("int_mac", "lut", "shift_add", "bit_serial", "fp8_mac")
# real workload names (lowbit.models.workloads), so built-in configs run on the double too
WORKLOADS = ("minilm-l6", "resnet18", "llama2-7b")
# bits per weight including scales, and a made-up fidelity per scheme
_BITS = {"int8": 8, "int4-pc": 4, "int4-g128": 4.125, "int2-g64": 2.25, "fp8-e4m3": 8,
         "fp8-e5m2": 8, "mxfp8": 8.25, "mxfp6": 6.25, "mxfp4": 4.25, "log2_4": 4,
         "binary": 1, "ternary": 1.6}
_FIDELITY = {"int8": 0.9995, "int4-pc": 0.985, "int4-g128": 0.993, "int2-g64": 0.90,
             "fp8-e4m3": 0.999, "fp8-e5m2": 0.997, "mxfp8": 0.9992, "mxfp6": 0.996,
             "mxfp4": 0.98, "log2_4": 0.97, "binary": 0.55, "ternary": 0.80}
_PE_ENERGY = {"int_mac": 1.0, "lut": 0.45, "shift_add": 0.35, "bit_serial": 0.6, "fp8_mac": 1.3}
_FLOAT_SCHEMES = ("fp8-e4m3", "fp8-e5m2", "mxfp8", "mxfp6", "mxfp4")
_MACS = {"minilm-l6": 1_000_000, "resnet18": 5_000_000, "llama2-7b": 900_000_000}


class NotApplicable(ValueError):
    """This point is outside what the double models."""


def vocabulary() -> dict:
    return {"schemes": SCHEMES, "pes": PES, "workloads": WORKLOADS}


def applies(scheme: str, pe: str) -> bool:
    if pe == "fp8_mac":
        return scheme in _FLOAT_SCHEMES
    if pe == "shift_add":
        return scheme in ("log2_4", "binary", "ternary")
    return pe == "int_mac" or scheme not in _FLOAT_SCHEMES


def why_not(scheme: str, pe: str) -> str:
    return "" if applies(scheme, pe) else f"the double runs no {scheme} on {pe}"


def evaluate_point(point: dict) -> dict:
    delay = float(os.environ.get("SWEEP_DOUBLE_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    if os.environ.get("SWEEP_DOUBLE_FAIL") == point["scheme"]:
        raise RuntimeError(f"injected failure for {point['scheme']}")
    if point["pe"] == "bit_serial" and point["lanes"] > 32:
        raise NotApplicable("bit_serial is modelled for at most 32 lanes")
    bits = _BITS[point["scheme"]]
    macs = _MACS[point["workload"]]
    pes = point["array"]
    energy = macs * bits * 1e-13 * _PE_ENERGY[point["pe"]]
    cycles_per_mac = bits if point["pe"] in ("bit_serial", "lut") else 1.0
    latency = macs * cycles_per_mac / (pes * point["lanes"] * 1e9)
    area = pes * point["lanes"] * bits * 2e-11 * _PE_ENERGY[point["pe"]]
    return {**point, "fidelity": _FIDELITY[point["scheme"]], "fidelity_metric": "cosine",
            "macs": macs, "energy_j": energy, "latency_s": latency, "area_m2": area,
            "edp_js": energy * latency}


def pareto_front(rows: list[dict], objectives: dict) -> list[dict]:
    """Rows no other row dominates (at least as good on every objective, better on one)."""
    def better_or_equal(a, b, key):
        return a[key] >= b[key] if objectives[key] == "max" else a[key] <= b[key]

    def dominates(a, b):
        return all(better_or_equal(a, b, k) for k in objectives) and \
            any(a[k] != b[k] for k in objectives)

    return [row for row in rows if not any(dominates(other, row) for other in rows)]


def check_lanes(scheme: str, pe: str, lanes: int) -> None:
    """The double states no lane limits (bit_serial past 32 lanes is NotApplicable at
    evaluation instead)."""


# The functions above as an evaluator (attributes, so a test can replace one on DOUBLE).
DOUBLE = types.SimpleNamespace(NotApplicable=NotApplicable, vocabulary=vocabulary, applies=applies,
                               why_not=why_not, check_lanes=check_lanes, evaluate=evaluate_point,
                               pareto_front=pareto_front)
