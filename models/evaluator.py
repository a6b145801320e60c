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
(lowbit.models.cost.sram) counts in energy and in area. The array is ``array`` PEs, or for an
equal-area comparison the largest array that fits ``area_mm2`` beside the buffer, or for an
equal-throughput comparison the smallest array whose peak MAC rate reaches ``throughput_gmacs``
GMAC/s within the reticle limit (lowbit.models.cost.sizing; a PE kind that cannot is
NotApplicable, with the reason); exactly one of the three is given. Rows carry peak_gmacs, the
array's peak MAC rate.

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

PE arithmetic (optional point keys ``acc_bits``, ``overflow``, ``acc_mbits``, ``acc_rounding``,
``lut_table_bits``): when any is given, fidelity is measured through the PE's own arithmetic
(lowbit.hwsim.gemm: integer accumulator width and overflow policy for the integer PEs, float
accumulation mantissa bits and rounding for fp8_mac; on mx_mac, FP8 and MX schemes through its
exact block sums and float32 block accumulation, lowbit.hwsim.gemm_mx, whose accumulator has no
other width; on lut and shared_lut, ``lut_table_bits``-bit saturated table entries,
lowbit.hwsim.gemm_lut) instead of fake quantization, and an integer PE is costed at that
accumulator width (synthesis area and clock of that config, an acc_bits-wide add per MAC). Keys
of the other PE family must stay at their defaults (acc_bits 32, wrap; acc_mbits 23, rne), else
the point is NotApplicable; so is a scheme no PE arithmetic computes (float16 activations, MX
off mx_mac), lut_table_bits off the LUT PEs or with "saturate", and acc_mbits / acc_rounding
other than 23 / rne on mx_mac. Such a row also carries ``fake_quant_fidelity``, the scheme's
fidelity under fake quantization. fp8_mac's area, clock and energy stay those of its fp32 adder:
no reduced-mantissa adder is synthesized; the cost model has no table-width term, so
lut_table_bits changes fidelity only (``arithmetic_note`` says so).

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
_ARITHMETIC_KEYS = ("acc_bits", "overflow", "acc_mbits", "acc_rounding", "lut_table_bits")
_OPTIONAL = ("array", "area_mm2", "throughput_gmacs", "batch", "seq_len", "group_size",
             "generated", "node", "dram", "fidelity_model") + _ARITHMETIC_KEYS
_DEFAULTS = {"batch": 1, "seq_len": 128, "group_size": None, "generated": None, "node": 45,
             "dram": "ddr4", "array": None, "area_mm2": None, "throughput_gmacs": None,
             "fidelity_model": None, **{key: None for key in _ARITHMETIC_KEYS}}
# the point keys that size the array: exactly one is given
_SIZES = ("array", "area_mm2", "throughput_gmacs")
# the keys of each PE family's accumulator, and their defaults (lowbit.hwsim.gemm.PEArithmetic)
_FAMILY_KEYS = {"int": {"acc_bits": 32, "overflow": "wrap", "lut_table_bits": None},
                "float": {"acc_mbits": 23, "acc_rounding": "rne"}}
# the PE kinds whose tables lut_table_bits sizes (lowbit.hwsim.gemm_lut)
LUT_PES = ("lut", "shared_lut")
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


def why_not(scheme: str, pe: str) -> str:
    """Why preset ``scheme`` does not run on PE kind ``pe``: which operand fits none of the PE's
    native formats, and which formats those are ("" when it runs)."""
    try:
        cycles.map_scheme(pe, scheme_for(scheme))
    except NotApplicable as exc:
        return str(exc)
    return ""


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
    """The scheme, PE, workload, fidelity metric, technology node, DRAM kind, overflow policy
    and float accumulation rounding names a design point may use."""
    from lowbit.hwsim import gemm
    from lowbit.hwsim.quant import preset_names
    from lowbit.models.fidelity.cache import LLM_METRIC, MODELS
    return {"schemes": tuple(preset_names()), "pes": kinds.names(),
            "workloads": tuple(workloads.names()),
            "fidelity_metrics": (*(metric for metric, _ in MODELS.values()), LLM_METRIC),
            "nodes": technology.NODES_NM, "drams": dram.KINDS,
            "overflows": gemm.OVERFLOW_POLICIES, "acc_roundings": gemm.ROUNDINGS}


def _check_point(point: dict) -> dict:
    if not isinstance(point, dict):
        raise ValueError(f"point must be a dict, got {type(point).__name__}")
    missing = [key for key in _REQUIRED if key not in point]
    unknown = [key for key in point if key not in _REQUIRED + _OPTIONAL]
    if missing or unknown:
        raise ValueError(f"point must have keys {', '.join(_REQUIRED)} (optional: "
                         f"{', '.join(_OPTIONAL)}); missing {missing}, unknown {unknown}")
    for key in ("lanes", "array", "batch", "seq_len", "group_size", "generated", "acc_bits",
                "acc_mbits", "lut_table_bits"):
        value = point.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"point[{key!r}] must be a positive integer, got {value!r}")
    for key in ("area_mm2", "throughput_gmacs"):
        value = point.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0):
            raise ValueError(f"point[{key!r}] must be a positive number, got {value!r}")
    if sum(point.get(key) is not None for key in _SIZES) != 1:
        raise ValueError("point must give exactly one of 'array' (PEs), 'area_mm2' (an area "
                         "budget the array is sized to) and 'throughput_gmacs' (a peak MAC rate "
                         "the array is sized to meet)")
    if point["workload"] not in workloads.names():
        raise ValueError(f"point['workload'] must be one of {', '.join(workloads.names())}, "
                         f"got {point['workload']!r}")
    kinds.get(point["pe"])   # ValueError naming the known PE kinds
    if point.get("node") is not None:
        technology.check_node(point["node"])
    if point.get("dram") is not None:
        dram.check_kind(point["dram"])
    arithmetic = {key: point[key] for key in _ARITHMETIC_KEYS if point.get(key) is not None}
    if arithmetic:
        from lowbit.hwsim import gemm
        from lowbit.hwsim.units.lut import table_limits
        table_limits(arithmetic.pop("lut_table_bits", None))   # ValueError naming table_bits
        gemm.PEArithmetic(**arithmetic)   # ValueError naming the field and its allowed values
    if point.get("fidelity_model") is not None:
        check_fidelity_model(point["workload"], point["fidelity_model"])
    # An optional key given as None means its default.
    return {**_DEFAULTS, **{key: value for key, value in point.items() if value is not None}}


def _check_method(scheme, workload: str) -> None:
    """NotApplicable for a PTQ method other than rtn on a workload whose proxy model is not a
    causal LM: only the LLM fidelity path applies the methods (lowbit.models.ptq); the MiniLM
    and digits-CNN proxies quantize by round to nearest, and would report RTN's fidelity under
    the method's name."""
    if scheme.method != "rtn" and workload not in workloads.CAUSAL_LM:
        raise NotApplicable(f"method {scheme.method!r} applies only to the causal-LM workloads "
                            f"({', '.join(workloads.CAUSAL_LM)}); {workload}'s fidelity proxy "
                            f"quantizes by round to nearest")


def _arithmetic(point: dict, scheme):
    """The point's lowbit.hwsim.gemm.PEArithmetic, or None (fake quantization) when it gives
    no arithmetic key; NotApplicable for a scheme no PE arithmetic computes, a key of the
    other PE family away from its default, lut_table_bits on a PE without tables, or a float
    accumulator mx_mac does not have. An FP8 or MX scheme on a PE that applies MX block scales
    (mx_mac) runs through that PE's arithmetic (float_pe="mx_mac")."""
    from lowbit.hwsim import gemm
    given = {key: point[key] for key in _ARITHMETIC_KEYS if point[key] is not None}
    if not given:
        return None
    try:
        family = gemm.pe_family(scheme.weight_spec, scheme.act_spec)
    except ValueError as exc:
        raise NotApplicable(str(exc)) from None
    on_mx_mac = kinds.get(point["pe"]).block_scales
    if family == "mx" and not on_mx_mac:
        raise NotApplicable(f"MX block scales run through the PE arithmetic on mx_mac only, "
                            f"not on {point['pe']}")
    family = "float" if family == "mx" else family
    for other, defaults in _FAMILY_KEYS.items():
        stray = [f"{key}={given[key]!r}" for key, default in defaults.items()
                 if other != family and given.get(key, default) != default]
        if stray:
            raise NotApplicable(f"{', '.join(stray)} applies to {other} PEs; scheme "
                                f"{scheme.label} runs on a {family} PE")
    if given.get("lut_table_bits") is not None and point["pe"] not in LUT_PES:
        raise NotApplicable(f"lut_table_bits applies to the {' and '.join(LUT_PES)} PEs, not "
                            f"{point['pe']}")
    if family == "float" and on_mx_mac:
        given["float_pe"] = "mx_mac"
    try:
        return gemm.PEArithmetic(**given)
    except ValueError as exc:   # e.g. acc_mbits=13 on mx_mac, whose accumulator is float32
        raise NotApplicable(f"{point['pe']}: {exc}") from None


def _arithmetic_mapping(mapping, arithmetic):
    """``mapping`` at the arithmetic's accumulator width (integer PEs), and the note saying how
    the PE is costed."""
    if arithmetic is None:
        return mapping, "fake quantization (dequantize, float32 matmul)"
    if mapping.pe in ("fp8_mac", "mx_mac"):
        return mapping, (f"{arithmetic.label}: fidelity through the PE arithmetic; area, clock "
                         f"and energy of the synthesized fp32 accumulator")
    note = (f"{arithmetic.label}: fidelity through the PE arithmetic, costed at acc_bits="
            f"{arithmetic.acc_bits}")
    if arithmetic.lut_table_bits is not None:
        # the cost model has no table-width term: energy prices the table adds at
        # act_bits + g bits and no registers; area is the synthesized exact-width tables
        note += (f"; lut_table_bits={arithmetic.lut_table_bits} changes fidelity only (the "
                 f"cost model has no table-width term)")
    return dataclasses.replace(mapping, acc_bits=arithmetic.acc_bits), note


def _hardware(mapping, lanes: int, point: dict) -> tuple[dataflow.Hardware, str]:
    """The chip of a point (module docstring) and the note naming its clock's source;
    NotApplicable when the PE config has no timing data."""
    clock, clock_note = timing.pe_clock(mapping, lanes, point["node"])
    if math.isnan(clock):
        raise NotApplicable(f"no clock for the {mapping.pe} PE with {lanes} lanes: {clock_note}")
    return dataflow.Hardware(clock_hz=clock, node_nm=point["node"], dram=point["dram"]), clock_note


def pe_peak_macs_per_s(mapping, lanes: int, clock_hz: float) -> float:
    """Peak MAC rate of one PE running ``mapping``: ``lanes`` MACs per beat, a beat every
    beat_occupancy cycles (lowbit.models.cost.sizing)."""
    return lanes / cycles.beat_occupancy(mapping, lanes) * clock_hz


def _array(point: dict, mapping, pe_area_m2: float, area_note: str,
           hardware: dataflow.Hardware) -> int:
    """``array`` as given, the largest array in the ``area_mm2`` budget, or the smallest that
    meets ``throughput_gmacs`` (NotApplicable when the PE has no area to size with, or when the
    target needs a die beyond the reticle limit)."""
    if point["array"] is not None:
        return point["array"]
    if math.isnan(pe_area_m2):
        raise NotApplicable(f"cannot size the {point['pe']} array: {area_note}")
    if point["area_mm2"] is not None:
        return sizing.array_for_area(point["area_mm2"] * 1e-6, pe_area_m2,
                                     hardware.buffer_area_m2)
    rate = pe_peak_macs_per_s(mapping, point["lanes"], hardware.clock_hz)
    try:
        return sizing.array_for_throughput(point["throughput_gmacs"] * 1e9, rate, pe_area_m2,
                                           hardware.buffer_area_m2)
    except ValueError as exc:
        # NotApplicable, not ValueError: a slow PE kind misses a target the others meet, and a
        # sweep skips that point with this reason
        raise NotApplicable(f"the {point['pe']} PE cannot meet the target: {exc}") from None


def evaluate_point(point: dict) -> dict:
    """Flat metrics of one design point (see the module docstring for the model).

    ``point``: "scheme" (lowbit.hwsim.quant preset name), "pe" (one of lowbit.hwsim.pe.kinds.names()),
    "lanes", "workload" (lowbit.models.workloads name), exactly one of "array" (number of
    PEs), "area_mm2" (area budget) and "throughput_gmacs" (peak GMAC/s target), optional
    "batch" (default 1), "seq_len" (default 128; the prompt length of an LLM workload),
    "group_size" (grouped schemes only), "generated" (LLM workloads only; default 128), "node"
    (default 45), "dram" (default "ddr4"), "fidelity_model" (LLM workloads only: the causal LM
    measuring fidelity, default SmolLM2; lowbit.models.fidelity.proxy.check_model).
    Raises NotApplicable when the scheme does not run on the PE, ValueError for bad input."""
    point = _check_point(point)
    is_llm = point["workload"] in workloads.LLM_NAMES
    if point["generated"] is not None and not is_llm:
        raise NotApplicable(f"generated applies only to LLM workloads "
                            f"({', '.join(workloads.LLM_NAMES)}), not {point['workload']!r}")
    scheme = scheme_for(point["scheme"], point["group_size"])
    _check_method(scheme, point["workload"])
    arithmetic = _arithmetic(point, scheme)
    mapping, arithmetic_note = _arithmetic_mapping(cycles.map_scheme(point["pe"], scheme),
                                                   arithmetic)
    lanes = point["lanes"]
    hardware, clock_note = _hardware(mapping, lanes, point)
    pe_area, area_note = area.pe_area(mapping, lanes)
    pe_area *= technology.area_factor(point["node"])
    array = _array(point, mapping, pe_area, area_note, hardware)
    if is_llm:
        costs, extra = _serving_costs(scheme, mapping, point, lanes, array, hardware)
    else:
        gemms = workloads.get(point["workload"], batch=point["batch"], seq_len=point["seq_len"])
        costs = dataflow.gemm_costs(scheme, mapping, gemms, lanes, array, hardware)
        extra = {"bits_per_weight": costs["weight_bits"] / workloads.weight_count(gemms),
                 "macs": workloads.mac_count(gemms)}
    model = point["fidelity_model"]
    fidelity, metric, provenance = _fidelity(point["workload"], scheme, model)
    if arithmetic is not None:   # through the PE, beside fake quantization to compare with
        fake_quant = fidelity
        fidelity, metric, provenance = _fidelity(point["workload"], scheme, model, arithmetic)
        provenance = {**provenance, "fake_quant_fidelity": fake_quant}
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
        "throughput_target_gmacs": point["throughput_gmacs"],
        "peak_gmacs": array * pe_peak_macs_per_s(mapping, lanes, hardware.clock_hz) / 1e9,
        "edp_js": total_energy * costs["latency_s"], "cycles": costs["cycles"],
        "clock_hz": hardware.clock_hz, "clock_note": clock_note, "node_nm": point["node"],
        "dram": point["dram"],
        "pe_weight_format": mapping.weight_format, "pe_act_format": mapping.act_format,
        "pe_arithmetic": "fake-quant" if arithmetic is None else arithmetic.label,
        "arithmetic_note": arithmetic_note,
        **{key: point[key] for key in _ARITHMETIC_KEYS if point[key] is not None},
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
    # The scheme's KV-cache format (Scheme.kv; None: K and V cached as the projections output them).
    kv_bits = llm.kv_bits_per_element(scheme.kv_spec, workloads.head_dim(point["workload"]))
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


def _fidelity(workload: str, scheme, model: str | None = None,
              arithmetic=None) -> tuple[float, str, dict]:
    """(fidelity, metric, {"fidelity_model", "fidelity_samples"}) of the workload's proxy model
    (lowbit.models.fidelity.proxy: ``model`` or SmolLM2 for LLMs, MiniLM for encoders, the
    digits CNN for CNNs), through the PE arithmetic when one is given."""
    from lowbit.models.fidelity import cache, proxy
    model = proxy.workload_model(workload, model)
    return (*cache.fidelity(model, scheme, arithmetic=arithmetic), cache.provenance(model))


def evaluate_all(workload: str, lanes: int, array: int | None, batch: int = 1,
                 seq_len: int = 128, schemes: list[str] | None = None,
                 pes: list[str] | None = None, skipped: list | None = None,
                 **chip) -> list[dict]:
    """evaluate_point for every applicable (scheme, pe) pair, in (scheme, pe) order. Default:
    every lowbit.hwsim.quant preset on every PE kind. ``chip``: the optional point keys
    area_mm2 or throughput_gmacs (then ``array`` is None), generated, node, dram, fidelity_model.
    A point the evaluator finds NotApplicable is left out and, when ``skipped`` is a list,
    recorded in it as (scheme, pe, reason); without ``skipped`` it raises."""
    from lowbit.hwsim import quant
    schemes = quant.preset_names() if schemes is None else schemes
    pes = list(kinds.names()) if pes is None else pes
    rows = []
    for scheme in schemes:
        for pe in pes:
            if not applies(scheme, pe):
                continue
            try:
                rows.append(evaluate_point({"scheme": scheme, "pe": pe, "lanes": lanes,
                                            "array": array, "workload": workload,
                                            "batch": batch, "seq_len": seq_len, **chip}))
            except NotApplicable as exc:
                if skipped is None:
                    raise
                skipped.append((scheme, pe, str(exc)))
    return rows


class CostModelEvaluator:
    """This module's functions as a sweep evaluator (lowbit.sweeps.evaluator.Evaluator)."""
    NotApplicable = NotApplicable

    def vocabulary(self) -> dict[str, tuple[str, ...]]:
        return vocabulary()

    def applies(self, scheme: str, pe: str) -> bool:
        return applies(scheme, pe)

    def why_not(self, scheme: str, pe: str) -> str:
        return why_not(scheme, pe)

    def check_lanes(self, scheme: str, pe: str, lanes: int) -> None:
        check_lanes(scheme, pe, lanes)

    def evaluate(self, point: dict) -> dict:
        return evaluate_point(point)

    def pareto_front(self, rows: list[dict], objectives: dict[str, str]) -> list[dict]:
        return rank.pareto_front(rows, objectives)

    def check_fidelity_model(self, workload: str, model) -> str:
        return check_fidelity_model(workload, model)

    def environment_fidelity_model(self, workload: str) -> str | None:
        from lowbit.models.fidelity import proxy
        return proxy.environment_model(workload)


COST_MODEL = CostModelEvaluator()
