"""Evaluate and rank (scheme, PE, array) design points for a workload.

    from models import rank
    rank.applies("int4-g128", "lut")                      # True
    row = rank.evaluate_point({"scheme": "int4-g128", "pe": "lut", "lanes": 16, "array": 256,
                               "workload": "llama2-7b"})
    front = rank.pareto_front(rows, {"energy_j": "min", "fidelity": "max"})

A point's costs (models.cost) per inference:
  - cycles from the hwsim PE cycle models (models.cost.cycles); latency = per GEMM the larger of
    compute time at CLOCK_HZ and DRAM time at DRAM_BYTES_PER_S (compute and weight streaming
    overlap), summed over the GEMMs;
  - energy = MAC energy (models.cost.energy.mac_energy per PE kind) + rescale energy per dot
    product + SRAM reads + DRAM traffic. Memory mapping: every weight and every input/output
    activation crosses DRAM once per GEMM; the array works on `array` outputs of one row m at a
    time, the activation beat is read once from a 1 MiB SRAM buffer and broadcast to the array,
    each PE reads its own weight beat (so weights are re-read for every row m: no weight reuse in
    registers);
  - area = array * PE area from the RTL synthesis (models.cost.area); NaN, with the reason in
    ``area_note``, when the synthesis data has no record for the PE config;
  - EDP = energy * latency.
Fidelity comes from a proxy model measured through the hwsim codes (models.fidelity): the
MiniLM sentence-embedding mean cosine for transformer workloads, the digits CNN top-1 accuracy for
convolutional ones; cached by (model, scheme label).
"""
from __future__ import annotations

import dataclasses
import math

from hwsim import formats

from models import workloads
from models.cost import area, cycles, energy, traffic
from models.cost.cycles import NotApplicable

CLOCK_HZ = 1e9  # an assumed clock, stated; cycles are reported too so any clock can be applied
# One DDR4-3200 channel: 3200 MT/s x 8 bytes (JEDEC JESD79-4 speed bin).
DRAM_BYTES_PER_S = 25.6e9
SRAM_BUFFER_BYTES = 1024 * 1024
# Bits an output activation is written back with before the next layer quantizes it again.
OUTPUT_BITS = 16

FIDELITY_MODEL = {"transformer": "minilm", "cnn": "digits_cnn"}

__all__ = ["NotApplicable", "applies", "evaluate_all", "evaluate_point", "pareto_front",
           "ranked_table", "scalar_rank", "scheme_for"]

_REQUIRED = ("scheme", "pe", "lanes", "array", "workload")
_OPTIONAL = ("batch", "seq_len", "group_size")


def scheme_for(name: str, group_size: int | None = None):
    """The hwsim.quant preset ``name``, its group size replaced when ``group_size`` is given;
    NotApplicable for a group size on an ungrouped scheme."""
    from hwsim import quant
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
    """Whether preset ``scheme`` runs on PE kind ``pe`` (see models.cost.cycles)."""
    try:
        cycles.map_scheme(pe, scheme_for(scheme))
    except NotApplicable:
        return False
    return True


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
    cycles.check_pe(point["pe"])
    # An optional key given as None means its default.
    return {"batch": 1, "seq_len": 128, "group_size": None,
            **{key: value for key, value in point.items() if value is not None}}


def evaluate_point(point: dict) -> dict:
    """Flat metrics of one design point (see the module docstring for the model).

    ``point``: "scheme" (hwsim.quant preset name), "pe" (one of models.cost.cycles.PE_KINDS),
    "lanes", "array" (number of PEs), "workload" (models.workloads name), optional "batch"
    (default 1), "seq_len" (default 128), "group_size" (grouped schemes only).
    Raises NotApplicable when the scheme does not run on the PE, ValueError for bad input."""
    point = _check_point(point)
    scheme = scheme_for(point["scheme"], point["group_size"])
    mapping = cycles.map_scheme(point["pe"], scheme)
    lanes, array = point["lanes"], point["array"]
    gemms = workloads.get(point["workload"], batch=point["batch"], seq_len=point["seq_len"])
    occupancy = cycles.beat_occupancy(mapping, lanes)
    costs = _gemm_costs(scheme, mapping, gemms, lanes, array, occupancy)
    pe_area, area_note = area.pe_area(mapping, lanes)
    fidelity, metric = _fidelity(point["workload"], scheme)
    total_energy = costs["energy_mac_j"] + costs["energy_rescale_j"] + costs["energy_sram_j"] \
        + costs["energy_dram_j"]
    return {
        "scheme": point["scheme"], "pe": point["pe"], "lanes": lanes, "array": array,
        "workload": point["workload"], "batch": point["batch"], "seq_len": point["seq_len"],
        "group_size": scheme.weight_spec.group_size,
        "scheme_label": scheme.label,
        "fidelity": fidelity, "fidelity_metric": metric,
        "energy_j": total_energy, "latency_s": costs["latency_s"],
        "area_m2": array * pe_area, "area_note": area_note,
        "edp_js": total_energy * costs["latency_s"],
        "bits_per_weight": costs["weight_bits"] / workloads.weight_count(gemms),
        "macs": workloads.mac_count(gemms), "cycles": costs["cycles"],
        "pe_weight_format": mapping.weight_format, "pe_act_format": mapping.act_format,
        **{key: costs[key] for key in ("energy_mac_j", "energy_rescale_j", "energy_sram_j",
                                       "energy_dram_j")},
    }


def _fidelity(workload: str, scheme) -> tuple[float, str]:
    from models.fidelity import cache
    model = FIDELITY_MODEL[workloads.FAMILY[workload]]
    return cache.fidelity(model, scheme)


def _mac_energy(mapping) -> float:
    # fp8_mac: the significand of its native format (mantissa + hidden bit).
    significand = getattr(formats.get(mapping.weight_format), "mbits", 0) + 1
    # shift_add: the activation shifted left by up to (fmax - 1) places (hwsim.units.log).
    shift = mapping.act_bits + (1 << (mapping.w_bits - 1)) - 2 if mapping.pe == "shift_add" else 0
    return energy.mac_energy(mapping.pe, mapping.act_bits, mapping.w_bits, cycles.ACC_BITS,
                             significand_bits=significand, lut_group=cycles.LUT_GROUP,
                             bits_per_cycle=cycles.BIT_SERIAL_BITS_PER_CYCLE, shift_bits=shift)


def _gemm_costs(scheme, mapping, gemms, lanes: int, array: int, occupancy: int) -> dict:
    per_mac = _mac_energy(mapping)
    per_rescale = energy.rescale_energy(scheme.weight_spec.granularity)
    sram_bit, dram_bit = energy.sram_read_per_bit(SRAM_BUFFER_BYTES), energy.dram_per_bit()
    totals = dict.fromkeys(("cycles", "latency_s", "weight_bits", "energy_mac_j",
                            "energy_rescale_j", "energy_sram_j", "energy_dram_j"), 0.0)
    for g in gemms:
        dot_len = cycles.dot_length(scheme.weight_spec, g.K)
        gemm_cycles = cycles.gemm_cycles(g.M, g.K, g.N, dot_len, lanes, array, occupancy)
        bpw = traffic.bits_per_weight(scheme.weight_spec, g.K, g.N)
        weight_bits = bpw * g.K * g.N
        act_bits = g.M * g.K * mapping.act_bits + g.M * g.N * OUTPUT_BITS
        dram_bits = weight_bits + act_bits
        sram_bits = g.M * g.K * mapping.act_bits * math.ceil(g.N / array) + g.M * g.N * g.K * bpw
        latency = max(gemm_cycles / CLOCK_HZ, dram_bits / 8 / DRAM_BYTES_PER_S)
        totals["cycles"] += g.count * gemm_cycles
        totals["latency_s"] += g.count * latency
        totals["weight_bits"] += g.count * weight_bits
        totals["energy_mac_j"] += g.count * g.M * g.K * g.N * per_mac
        totals["energy_rescale_j"] += g.count * g.M * g.N * math.ceil(g.K / dot_len) * per_rescale
        totals["energy_sram_j"] += g.count * sram_bits * sram_bit
        totals["energy_dram_j"] += g.count * dram_bits * dram_bit
    totals["cycles"] = int(totals["cycles"])
    return totals


def pareto_front(rows: list[dict], objectives: dict[str, str]) -> list[dict]:
    """The rows no other row dominates under ``objectives`` ({metric: "min" | "max"}), in input
    order. Row a dominates b when a is at least as good in every objective and better in one.
    Rows with a NaN or None objective are left out (they cannot be compared)."""
    if not objectives:
        raise ValueError("objectives must name at least one metric")
    for metric, sense in objectives.items():
        if sense not in ("min", "max"):
            raise ValueError(f"objectives[{metric!r}] must be 'min' or 'max', got {sense!r}")
    signs = {metric: (1.0 if sense == "min" else -1.0) for metric, sense in objectives.items()}
    keyed = []
    for row in rows:
        missing = [metric for metric in signs if metric not in row]
        if missing:
            raise ValueError(f"rows must have every objective metric; a row lacks {missing}")
        values = [row[metric] for metric in signs]
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            continue
        keyed.append((row, [signs[m] * float(row[m]) for m in signs]))
    return [row for row, key in keyed
            if not any(_dominates(other, key) for _, other in keyed)]


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


# Scalar ranking: the weighted sum of log-ratios to the best row, lower is better. Weights sum to 1.
RANK_WEIGHTS = {"energy_j": 0.4, "latency_s": 0.3, "area_m2": 0.1, "fidelity_loss": 0.2}


def scalar_rank(rows: list[dict], min_fidelity: float | None = None,
                weights: dict[str, float] | None = None) -> list[dict]:
    """Rows meeting ``fidelity >= min_fidelity``, each with a "score" added, best first.

    score = sum over metrics of weight * log10(value / best value among the rows), for energy_j,
    latency_s, area_m2 and fidelity_loss = 1 - fidelity (floored at 1e-6 so a lossless scheme has
    a finite ratio). A metric that some kept row lacks (NaN area: no synthesis record) is left
    out of every row's score, so no row gains from a missing number; ``score_metrics`` on each
    row names the metrics used. Ties are broken by scheme, pe, lanes, array so the order is
    reproducible."""
    weights = RANK_WEIGHTS if weights is None else weights
    unknown = [key for key in weights if key not in RANK_WEIGHTS]
    if unknown:
        raise ValueError(f"weights may name {', '.join(RANK_WEIGHTS)}, got {unknown}")
    if min_fidelity is not None and not 0.0 <= min_fidelity <= 1.0:
        raise ValueError(f"min_fidelity must be in 0..1, got {min_fidelity!r}")
    kept = [dict(row, fidelity_loss=max(1.0 - row["fidelity"], 1e-6)) for row in rows
            if min_fidelity is None or row["fidelity"] >= min_fidelity]
    used = {metric: weight for metric, weight in weights.items()
            if kept and all(not math.isnan(row[metric]) for row in kept)}
    best = {metric: min(row[metric] for row in kept) for metric in used}
    for row in kept:
        row["score"] = sum(weight * math.log10(row[metric] / best[metric])
                           for metric, weight in used.items() if best[metric] > 0)
        row["score_metrics"] = ",".join(used)
    return sorted(kept, key=lambda r: (r["score"], r["scheme"], r["pe"], r["lanes"], r["array"]))


# -- ranking a workload: every applicable (scheme, PE) pair ---------------------------------------
PARETO_OBJECTIVES = {"fidelity": "max", "energy_j": "min", "latency_s": "min", "area_m2": "min"}
TABLE_COLUMNS = ("rank", "scheme", "pe", "lanes", "array", "fidelity", "fidelity_metric",
                 "energy_j", "latency_s", "area_m2", "edp_js", "bits_per_weight", "pareto",
                 "score")


def evaluate_all(workload: str, lanes: int, array: int, batch: int = 1, seq_len: int = 128,
                 schemes: list[str] | None = None, pes: list[str] | None = None) -> list[dict]:
    """evaluate_point for every applicable (scheme, pe) pair, in (scheme, pe) order. Default:
    every hwsim.quant preset on every PE kind."""
    from hwsim import quant
    schemes = quant.preset_names() if schemes is None else schemes
    pes = list(cycles.PE_KINDS) if pes is None else pes
    rows = []
    for scheme in schemes:
        for pe in pes:
            if applies(scheme, pe):
                rows.append(evaluate_point({"scheme": scheme, "pe": pe, "lanes": lanes,
                                            "array": array, "workload": workload,
                                            "batch": batch, "seq_len": seq_len}))
    return rows


def ranked_table(rows: list[dict], min_fidelity: float | None = None) -> list[dict]:
    """The scalar ranking of ``rows`` (scalar_rank) with "rank" and "pareto" (on the Pareto
    front over PARETO_OBJECTIVES, area left out when no row has one) columns added."""
    objectives = dict(PARETO_OBJECTIVES)
    if all(math.isnan(row["area_m2"]) for row in rows):
        del objectives["area_m2"]
    ranked = scalar_rank(rows, min_fidelity)
    front = {id(row) for row in pareto_front(ranked, objectives)}
    for position, row in enumerate(ranked, start=1):
        row["rank"], row["pareto"] = position, id(row) in front
    return ranked
