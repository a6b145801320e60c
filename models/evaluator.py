"""The project's evaluator: the metrics of one (scheme, PE, array) design point for a workload.

    from lowbit.models.evaluator import COST_MODEL, applies, evaluate_point
    applies("int4-g128", "lut")                      # True
    row = evaluate_point({"scheme": "int4-g128", "pe": "lut", "lanes": 16, "area_mm2": 8.0,
                          "workload": "llama2-7b"})

The chip: the PE's clock is what its synthesized critical path reaches at the technology node
(lowbit.models.cost.timing; a config without timing data is NotApplicable, with the reason),
``node`` (nm, default 45) scales arithmetic and SRAM energy and all area
(lowbit.models.cost.technology), ``dram`` (default "ddr4") sets DRAM energy and bandwidth
(lowbit.models.cost.dram), and one 1 MiB SRAM buffer read 64 bits at a time
(lowbit.models.cost.sram) counts in energy and in area. The array is either ``array`` PEs or,
for an equal-area comparison, the largest array that fits ``area_mm2`` beside the buffer
(lowbit.models.cost.sizing); exactly one of the two is given.

A point's metrics: fidelity (below), energy, latency and cycles from the dataflow model
(lowbit.models.cost.dataflow), area = array * PE area from the RTL synthesis
(lowbit.models.cost.area; NaN, with the reason in ``area_note``, when the synthesis data has no
record for the PE config) + buffer area, and EDP = energy * latency.
LLM workloads (lowbit.models.workloads.LLM_NAMES) are served, not run once: a prefill of the
``seq_len``-token prompts and ``generated`` decode steps (default 128), costed per phase by
lowbit.models.cost.serving (attention and KV cache included); the row carries ``prefill_*`` and
``decode_*`` metrics, tokens_per_s (decode) and j_per_token (the whole request's energy per
generated token), and energy_j / latency_s / cycles are the request's totals.
Fidelity comes from a proxy model measured through the hwsim codes (lowbit.models.fidelity),
named in ``fidelity_model`` with its sample count ``fidelity_samples`` (lowbit.models.fidelity.proxy
picks it): for decoder-only LLM workloads a causal LM (SmolLM2-135M by default) and the metric
ref_ppl/ppl, for the other transformers all-MiniLM-L6-v2 sentence-embedding mean cosine over the
shipped sentences, for the convolutional ones (ResNets) the digits CNN top-1 accuracy on its test
images; cached by (model, scheme label).

``COST_MODEL`` is this module as a sweep evaluator (the lowbit.sweeps.evaluator.Evaluator
contract: vocabulary, applicability, lane checks, evaluation and the Pareto front).
"""
from __future__ import annotations

import dataclasses
import math

from lowbit.hwsim.pe import kinds
from lowbit.models import rank, workloads
from lowbit.models.cost import (area, cycles, dataflow, dram, llm, serving, sizing, technology,
                                timing)
from lowbit.models.cost.cycles import NotApplicable


_REQUIRED = ("scheme", "pe", "lanes", "workload")
_OPTIONAL = ("array", "area_mm2", "batch", "seq_len", "group_size", "generated", "node", "dram",
             "fidelity_model")
_DEFAULTS = {"batch": 1, "seq_len": 128, "group_size": None, "generated": None, "node": 45,
             "dram": "ddr4", "array": None, "area_mm2": None, "fidelity_model": None}
GENERATED_TOKENS = 128


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


def check_fidelity_model(workload: str, model) -> str:
    """``model`` as the fidelity model of ``workload`` (lowbit.models.fidelity.proxy.check_model:
    LLM workloads only; "smollm2" or a local causal LM, a path returned absolute); ValueError
    otherwise."""
    from lowbit.models.fidelity import proxy
    return proxy.check_model(workload, model)


def vocabulary() -> dict[str, tuple[str, ...]]:
    """The scheme, PE, workload, fidelity metric, technology node and DRAM kind names a design
    point may use."""
    from lowbit.hwsim.quant import preset_names
    from lowbit.models.fidelity.cache import LLM_METRIC, MODELS
    return {"schemes": tuple(preset_names()), "pes": kinds.names(),
            "workloads": tuple(workloads.names()),
            "fidelity_metrics": (*(metric for metric, _ in MODELS.values()), LLM_METRIC),
            "nodes": technology.NODES_NM, "drams": dram.KINDS}


def _check_point(point: dict) -> dict:
    if not isinstance(point, dict):
        raise ValueError(f"point must be a dict, got {type(point).__name__}")
    missing = [key for key in _REQUIRED if key not in point]
    unknown = [key for key in point if key not in _REQUIRED + _OPTIONAL]
    if missing or unknown:
        raise ValueError(f"point must have keys {', '.join(_REQUIRED)} (optional: "
                         f"{', '.join(_OPTIONAL)}); missing {missing}, unknown {unknown}")
    for key in ("lanes", "array", "batch", "seq_len", "group_size", "generated"):
        value = point.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"point[{key!r}] must be a positive integer, got {value!r}")
    budget = point.get("area_mm2")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not budget > 0):
        raise ValueError(f"point['area_mm2'] must be a positive number, got {budget!r}")
    if (point.get("array") is None) == (budget is None):
        raise ValueError("point must give exactly one of 'array' (PEs) and 'area_mm2' (an area "
                         "budget the array is sized to)")
    if point["workload"] not in workloads.names():
        raise ValueError(f"point['workload'] must be one of {', '.join(workloads.names())}, "
                         f"got {point['workload']!r}")
    kinds.get(point["pe"])   # ValueError naming the known PE kinds
    if point.get("node") is not None:
        technology.check_node(point["node"])
    if point.get("dram") is not None:
        dram.check_kind(point["dram"])
    if point.get("fidelity_model") is not None:
        check_fidelity_model(point["workload"], point["fidelity_model"])
    # An optional key given as None means its default.
    return {**_DEFAULTS, **{key: value for key, value in point.items() if value is not None}}


def _hardware(mapping, lanes: int, point: dict) -> tuple[dataflow.Hardware, str]:
    """The chip of a point (module docstring) and the note naming its clock's source;
    NotApplicable when the PE config has no timing data."""
    clock, clock_note = timing.pe_clock(mapping, lanes, point["node"])
    if math.isnan(clock):
        raise NotApplicable(f"no clock for the {mapping.pe} PE with {lanes} lanes: {clock_note}")
    return dataflow.Hardware(clock_hz=clock, node_nm=point["node"], dram=point["dram"]), clock_note


def _array(point: dict, pe_area_m2: float, area_note: str, hardware: dataflow.Hardware) -> int:
    """``array`` as given, or the largest array in the ``area_mm2`` budget (NotApplicable when
    the PE has no area to size with)."""
    if point["array"] is not None:
        return point["array"]
    if math.isnan(pe_area_m2):
        raise NotApplicable(f"cannot size the {point['pe']} array to an area: {area_note}")
    return sizing.array_for_area(point["area_mm2"] * 1e-6, pe_area_m2, hardware.buffer_area_m2)


def evaluate_point(point: dict) -> dict:
    """Flat metrics of one design point (see the module docstring for the model).

    ``point``: "scheme" (lowbit.hwsim.quant preset name), "pe" (one of lowbit.hwsim.pe.kinds.names()),
    "lanes", "workload" (lowbit.models.workloads name), exactly one of "array" (number of PEs)
    and "area_mm2" (area budget), optional "batch" (default 1), "seq_len" (default 128; the
    prompt length of an LLM workload), "group_size" (grouped schemes only), "generated" (LLM
    workloads only; default 128), "node" (default 45), "dram" (default "ddr4"),
    "fidelity_model" (LLM workloads only: the causal LM measuring fidelity, default SmolLM2;
    lowbit.models.fidelity.proxy.check_model).
    Raises NotApplicable when the scheme does not run on the PE, ValueError for bad input."""
    point = _check_point(point)
    is_llm = point["workload"] in workloads.LLM_NAMES
    if point["generated"] is not None and not is_llm:
        raise NotApplicable(f"generated applies only to LLM workloads "
                            f"({', '.join(workloads.LLM_NAMES)}), not {point['workload']!r}")
    scheme = scheme_for(point["scheme"], point["group_size"])
    mapping = cycles.map_scheme(point["pe"], scheme)
    lanes = point["lanes"]
    hardware, clock_note = _hardware(mapping, lanes, point)
    pe_area, area_note = area.pe_area(mapping, lanes)
    pe_area *= technology.area_factor(point["node"])
    array = _array(point, pe_area, area_note, hardware)
    if is_llm:
        costs, extra = _serving_costs(scheme, mapping, point, lanes, array, hardware)
    else:
        gemms = workloads.get(point["workload"], batch=point["batch"], seq_len=point["seq_len"])
        costs = dataflow.gemm_costs(scheme, mapping, gemms, lanes, array, hardware)
        extra = {"bits_per_weight": costs["weight_bits"] / workloads.weight_count(gemms),
                 "macs": workloads.mac_count(gemms)}
    fidelity, metric, provenance = _fidelity(point["workload"], scheme, point["fidelity_model"])
    total_energy = sum(costs[key] for key in _ENERGY_TERMS if key in costs)
    return {
        "scheme": point["scheme"], "pe": point["pe"], "lanes": lanes, "array": array,
        "workload": point["workload"], "batch": point["batch"], "seq_len": point["seq_len"],
        "group_size": scheme.weight_spec.group_size,
        "scheme_label": scheme.label,
        "fidelity": fidelity, "fidelity_metric": metric, **provenance,
        "energy_j": total_energy, "latency_s": costs["latency_s"],
        "area_m2": array * pe_area + hardware.buffer_area_m2, "area_note": area_note,
        "pe_area_m2": pe_area, "buffer_area_m2": hardware.buffer_area_m2,
        "area_budget_mm2": point["area_mm2"],
        "edp_js": total_energy * costs["latency_s"], "cycles": costs["cycles"],
        "clock_hz": hardware.clock_hz, "clock_note": clock_note, "node_nm": point["node"],
        "dram": point["dram"],
        "pe_weight_format": mapping.weight_format, "pe_act_format": mapping.act_format,
        **{key: costs[key] for key in _ENERGY_TERMS if key in costs},
        **extra,
    }


# energy breakdown columns of a row (the LLM ones only on LLM workloads)
_ENERGY_TERMS = ("energy_mac_j", "energy_rescale_j", "energy_sram_j", "energy_dram_j",
                 "energy_attention_j")


def _serving_costs(scheme, mapping, point: dict, lanes: int, array: int,
                   hardware: dataflow.Hardware) -> tuple[dict, dict]:
    """(request totals, LLM metrics) of serving an LLM workload (module docstring)."""
    generated = point["generated"] or GENERATED_TOKENS
    prefill, decode = workloads.llm_phases(point["workload"], batch=point["batch"],
                                           prompt_len=point["seq_len"], generated=generated)
    # The presets carry no KV-cache format: K and V are cached as the projections output them.
    kv_bits = llm.kv_bits_per_element(None, workloads.head_dim(point["workload"]))
    phases = {"prefill": serving.prefill_costs(scheme, mapping, prefill, lanes, array, hardware,
                                               kv_bits),
              "decode": serving.decode_costs(scheme, mapping, decode, lanes, array, hardware,
                                             kv_bits)}
    totals = {key: phases["prefill"][key] + phases["decode"][key]
              for key in _ENERGY_TERMS + ("energy_kv_j", "latency_s", "cycles")}
    (prefill_step,) = prefill.steps
    extra = {"generated": generated, "kv_bits_per_element": kv_bits,
             "bits_per_weight": phases["prefill"]["weight_bits"]
             / workloads.weight_count(prefill_step.weight_gemms),
             "macs": workloads.mac_count(prefill_step.weight_gemms)
             + sum(workloads.mac_count(step.weight_gemms) for step in decode.steps),
             "energy_kv_j": totals["energy_kv_j"],
             "tokens_per_s": decode.tokens / phases["decode"]["latency_s"],
             "j_per_token": sum(totals[key] for key in _ENERGY_TERMS) / decode.tokens}
    extra.update(serving.phase_metrics("prefill", prefill.tokens, phases["prefill"]))
    extra.update(serving.phase_metrics("decode", decode.tokens, phases["decode"]))
    return totals, extra


def _fidelity(workload: str, scheme, model: str | None) -> tuple[float, str, dict]:
    """(fidelity, metric, {"fidelity_model", "fidelity_samples"}) of the workload's proxy model
    (lowbit.models.fidelity.proxy: ``model`` or SmolLM2 for LLMs, MiniLM for encoders, the
    digits CNN for CNNs)."""
    from lowbit.models.fidelity import cache, proxy
    model = proxy.workload_model(workload, model)
    return (*cache.fidelity(model, scheme), cache.provenance(model))


def evaluate_all(workload: str, lanes: int, array: int | None, batch: int = 1,
                 seq_len: int = 128, schemes: list[str] | None = None,
                 pes: list[str] | None = None, **chip) -> list[dict]:
    """evaluate_point for every applicable (scheme, pe) pair, in (scheme, pe) order. Default:
    every lowbit.hwsim.quant preset on every PE kind. ``chip``: the optional point keys
    area_mm2 (then ``array`` is None), generated, node, dram, fidelity_model."""
    from lowbit.hwsim import quant
    schemes = quant.preset_names() if schemes is None else schemes
    pes = list(kinds.names()) if pes is None else pes
    rows = []
    for scheme in schemes:
        for pe in pes:
            if applies(scheme, pe):
                rows.append(evaluate_point({"scheme": scheme, "pe": pe, "lanes": lanes,
                                            "array": array, "workload": workload,
                                            "batch": batch, "seq_len": seq_len, **chip}))
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

    def check_fidelity_model(self, workload: str, model) -> str:
        return check_fidelity_model(workload, model)


COST_MODEL = CostModelEvaluator()
