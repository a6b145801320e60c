"""The project's evaluator: the metrics of one (scheme, PE, array) design point for a workload.

    from lowbit.models.evaluator import COST_MODEL, applies, evaluate_point
    applies("int4-g128", "lut")                      # True
    row = evaluate_point({"scheme": "int4-g128", "pe": "lut", "lanes": 16, "array": 256,
                          "workload": "llama2-7b"})

A point's metrics: fidelity (below), energy, latency and cycles from the dataflow model
(lowbit.models.cost.dataflow), area = array * PE area from the RTL synthesis
(lowbit.models.cost.area; NaN, with the reason in ``area_note``, when the synthesis data has no
record for the PE config) and EDP = energy * latency.
Fidelity comes from a proxy model measured through the hwsim codes (lowbit.models.fidelity), named in
``fidelity_model`` with its sample count ``fidelity_samples``: all-MiniLM-L6-v2 sentence-embedding
mean cosine over the shipped sentences for every transformer workload (llama2-7b included), the
digits CNN top-1 accuracy on its test images for the convolutional ones (ResNets); cached by
(model, scheme label).

``COST_MODEL`` is this module as a sweep evaluator (the lowbit.sweeps.evaluator.Evaluator
contract: vocabulary, applicability, lane checks, evaluation and the Pareto front).
"""
from __future__ import annotations

import dataclasses

from lowbit.hwsim.pe import kinds
from lowbit.models import rank, workloads
from lowbit.models.cost import area, cycles, dataflow
from lowbit.models.cost.cycles import NotApplicable

FIDELITY_MODEL = {"transformer": "minilm", "cnn": "digits_cnn"}

_REQUIRED = ("scheme", "pe", "lanes", "array", "workload")
_OPTIONAL = ("batch", "seq_len", "group_size")


def scheme_for(name: str, group_size: int | None = None):
    """The lowbit.hwsim.quant preset ``name``, its group size replaced when ``group_size`` is given;
    NotApplicable for a group size on an ungrouped scheme."""
    from lowbit.hwsim import quant
    scheme = quant.preset(name)
    if group_size is None:
        return scheme
    if scheme.weight_spec.granularity != "group":
        # NotApplicable, not ValueError: a sweep crossing group sizes with every scheme meets
        # this for each ungrouped scheme, and skips those points.
        raise NotApplicable(f"group_size applies only to grouped schemes; scheme {name!r} has "
                            f"granularity {scheme.weight_spec.granularity!r}")
    return dataclasses.replace(scheme, group_size=group_size)


def applies(scheme: str, pe: str) -> bool:
    """Whether preset ``scheme`` runs on PE kind ``pe`` (see lowbit.models.cost.cycles)."""
    try:
        cycles.map_scheme(pe, scheme_for(scheme))
    except NotApplicable:
        return False
    return True


def check_lanes(scheme: str, pe: str, lanes: int) -> None:
    """ValueError naming the field when PE kind ``pe`` cannot have ``lanes`` lanes for preset
    ``scheme``: the PE config validates its lanes (range, LUT group multiple); ask it, copy no
    limit."""
    cycles.pe_config(cycles.map_scheme(pe, scheme_for(scheme)), lanes)


def vocabulary() -> dict[str, tuple[str, ...]]:
    """The scheme, PE, workload and fidelity metric names a design point may use."""
    from lowbit.hwsim.quant import preset_names
    from lowbit.models.fidelity.cache import MODELS
    return {"schemes": tuple(preset_names()), "pes": kinds.names(),
            "workloads": tuple(workloads.names()),
            "fidelity_metrics": tuple(metric for metric, _ in MODELS.values())}


def _check_point(point: dict) -> dict:
    if not isinstance(point, dict):
        raise ValueError(f"point must be a dict, got {type(point).__name__}")
    missing = [key for key in _REQUIRED if key not in point]
    unknown = [key for key in point if key not in _REQUIRED + _OPTIONAL]
    if missing or unknown:
        raise ValueError(f"point must have keys {', '.join(_REQUIRED)} (optional: "
                         f"{', '.join(_OPTIONAL)}); missing {missing}, unknown {unknown}")
    for key in ("lanes", "array", "batch", "seq_len", "group_size"):
        value = point.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"point[{key!r}] must be a positive integer, got {value!r}")
    if point["workload"] not in workloads.names():
        raise ValueError(f"point['workload'] must be one of {', '.join(workloads.names())}, "
                         f"got {point['workload']!r}")
    kinds.get(point["pe"])   # ValueError naming the known PE kinds
    # An optional key given as None means its default.
    return {"batch": 1, "seq_len": 128, "group_size": None,
            **{key: value for key, value in point.items() if value is not None}}


def evaluate_point(point: dict) -> dict:
    """Flat metrics of one design point (see the module docstring for the model).

    ``point``: "scheme" (lowbit.hwsim.quant preset name), "pe" (one of lowbit.hwsim.pe.kinds.names()),
    "lanes", "array" (number of PEs), "workload" (lowbit.models.workloads name), optional "batch"
    (default 1), "seq_len" (default 128), "group_size" (grouped schemes only).
    Raises NotApplicable when the scheme does not run on the PE, ValueError for bad input."""
    point = _check_point(point)
    scheme = scheme_for(point["scheme"], point["group_size"])
    mapping = cycles.map_scheme(point["pe"], scheme)
    lanes, array = point["lanes"], point["array"]
    gemms = workloads.get(point["workload"], batch=point["batch"], seq_len=point["seq_len"])
    costs = dataflow.gemm_costs(scheme, mapping, gemms, lanes, array)
    pe_area, area_note = area.pe_area(mapping, lanes)
    fidelity, metric, provenance = _fidelity(point["workload"], scheme)
    total_energy = costs["energy_mac_j"] + costs["energy_rescale_j"] + costs["energy_sram_j"] \
        + costs["energy_dram_j"]
    return {
        "scheme": point["scheme"], "pe": point["pe"], "lanes": lanes, "array": array,
        "workload": point["workload"], "batch": point["batch"], "seq_len": point["seq_len"],
        "group_size": scheme.weight_spec.group_size,
        "scheme_label": scheme.label,
        "fidelity": fidelity, "fidelity_metric": metric, **provenance,
        "energy_j": total_energy, "latency_s": costs["latency_s"],
        "area_m2": array * pe_area, "area_note": area_note,
        "edp_js": total_energy * costs["latency_s"],
        "bits_per_weight": costs["weight_bits"] / workloads.weight_count(gemms),
        "macs": workloads.mac_count(gemms), "cycles": costs["cycles"],
        "pe_weight_format": mapping.weight_format, "pe_act_format": mapping.act_format,
        **{key: costs[key] for key in ("energy_mac_j", "energy_rescale_j", "energy_sram_j",
                                       "energy_dram_j")},
    }


def _fidelity(workload: str, scheme) -> tuple[float, str, dict]:
    """(fidelity, metric, {"fidelity_model", "fidelity_samples"}) of the workload's proxy."""
    from lowbit.models.fidelity import cache
    model = FIDELITY_MODEL[workloads.FAMILY[workload]]
    return (*cache.fidelity(model, scheme), cache.provenance(model))


def _fidelity(workload: str, scheme) -> tuple[float, str, dict]:
    """(fidelity, metric, {"fidelity_model", "fidelity_samples"}) of the workload's proxy."""
    from lowbit.models.fidelity import cache
    model = FIDELITY_MODEL[workloads.FAMILY[workload]]
    return (*cache.fidelity(model, scheme), cache.provenance(model))


def evaluate_all(workload: str, lanes: int, array: int, batch: int = 1, seq_len: int = 128,
                 schemes: list[str] | None = None, pes: list[str] | None = None) -> list[dict]:
    """evaluate_point for every applicable (scheme, pe) pair, in (scheme, pe) order. Default:
    every lowbit.hwsim.quant preset on every PE kind."""
    from lowbit.hwsim import quant
    schemes = quant.preset_names() if schemes is None else schemes
    pes = list(kinds.names()) if pes is None else pes
    rows = []
    for scheme in schemes:
        for pe in pes:
            if applies(scheme, pe):
                rows.append(evaluate_point({"scheme": scheme, "pe": pe, "lanes": lanes,
                                            "array": array, "workload": workload,
                                            "batch": batch, "seq_len": seq_len}))
    return rows


class CostModelEvaluator:
    """This module's functions as a sweep evaluator (lowbit.sweeps.evaluator.Evaluator)."""
    NotApplicable = NotApplicable

    def vocabulary(self) -> dict[str, tuple[str, ...]]:
        return vocabulary()

    def applies(self, scheme: str, pe: str) -> bool:
        return applies(scheme, pe)

    def check_lanes(self, scheme: str, pe: str, lanes: int) -> None:
        check_lanes(scheme, pe, lanes)

    def evaluate(self, point: dict) -> dict:
        return evaluate_point(point)

    def pareto_front(self, rows: list[dict], objectives: dict[str, str]) -> list[dict]:
        return rank.pareto_front(rows, objectives)


COST_MODEL = CostModelEvaluator()
