"""Evaluate and rank (scheme, PE, array) design points for a workload.

    from lowbit.models import rank
    rank.applies("int4-g128", "lut")                      # True
    row = rank.evaluate_point({"scheme": "int4-g128", "pe": "lut", "lanes": 16, "array": 256,
                               "workload": "llama2-7b"})
    front = rank.pareto_front(rows, {"energy_j": "min", "fidelity": "max"})

A point's costs (lowbit.models.cost) per inference:
  - cycles from the hwsim PE cycle models (lowbit.models.cost.cycles, which also states the fp8_mac
    lane-and-reduction timing); latency = per GEMM the larger of compute time at CLOCK_HZ and
    DRAM time at DRAM_BYTES_PER_S (compute and DRAM streaming overlap), summed over the GEMMs;
  - energy = energy_mac_j (lowbit.models.cost.energy.mac_energy per MAC; on fp8_mac also the
    min(lanes, length) - 1 fp32 additions that reduce each dot product's lane sums)
    + energy_rescale_j (per dot product) + energy_sram_j + energy_dram_j;
  - area = array * PE area from the RTL synthesis (lowbit.models.cost.area); NaN, with the reason in
    ``area_note``, when the synthesis data has no record for the PE config;
  - EDP = energy * latency.

Dataflow (one, stated): weight-stationary tiles on an R x C grid of the ``array`` PEs.
Per GEMM of M x K x N with b_w stored bits per weight (traffic.bits_per_weight: element +
scales + zero points) and b_a bits per input activation (traffic.bits_per_activation: the
scheme's own activation element + its per-token / MX / per-tensor scales):
  R PEs share a weight column (rows m of one M tile), C = floor(array / R) PEs share an
  activation row (columns n of one N tile); each PE accumulates its output in its own
  accumulator register (the PE's acc), so partial sums never leave the array. R is chosen per
  GEMM in 1..min(M, array) to minimize the SRAM bits below (smallest R on a tie): R = 1 for
  M = 1 (decode: every weight read once), about sqrt(array * b_w / b_a) for a long prefill.
  SRAM (one SRAM_BUFFER_BYTES buffer, Horowitz's 1 MB read energy per bit):
    weight bits read  = b_w * K * N * ceil(M / R)   (each weight beat is broadcast to the R
                                                     PEs of its column, once per M tile)
    act bits read     = b_a * M * K * ceil(N / C)   (each activation beat is broadcast to the
                                                     C PEs of its row, once per N tile)
    Filling the buffer from DRAM is not counted (<= 100/1950 of the DRAM energy of those bits).
  DRAM (Horowitz's DRAM energy per bit; DRAM_BYTES_PER_S), loop order M tile outer:
    the buffer keeps an M tile of activation rows resident beside a weight tile of at least
    one column of K: M_t = min(M, floor((SRAM_BUFFER_BYTES * 8 - b_w * K) / (b_a * K)));
    activations cross DRAM once (b_a * M * K), weights once per M tile
    (b_w * K * N * ceil(M / M_t): once whenever the activations fit, as for M = 1 and for
    LLaMA-2-7B's K = 4096 projections at M = 128), outputs once (M * N * OUTPUT_BITS).
The cycle count (lowbit.models.cost.cycles.gemm_cycles) packs the M * N * ceil(K / dot_len) dot products
(the last of each output shorter when dot_len does not divide K) onto the array without the
grid's edge losses, so it is exact when R divides M and C divides N.
Fidelity comes from a proxy model measured through the hwsim codes (lowbit.models.fidelity), named in
``fidelity_model`` with its sample count ``fidelity_samples``: all-MiniLM-L6-v2 sentence-embedding
mean cosine over the shipped sentences for every transformer workload (llama2-7b included), the
digits CNN top-1 accuracy on its test images for the convolutional ones (ResNets); cached by
(model, scheme label).
"""
from __future__ import annotations

import dataclasses
import math

from lowbit.hwsim import formats

from lowbit.models import workloads
from lowbit.models.cost import area, cycles, energy, traffic
from lowbit.models.cost.cycles import NotApplicable

CLOCK_HZ = 1e9  # an assumed clock, stated; cycles are reported too so any clock can be applied
# One DDR4-3200 channel: 3200 MT/s x 8 bytes (JEDEC JESD79-4 speed bin).
DRAM_BYTES_PER_S = 25.6e9
SRAM_BUFFER_BYTES = 1024 * 1024
# Bits an output activation is written back with before the next layer quantizes it again.
OUTPUT_BITS = 16

__all__ = ["NotApplicable", "applies", "check_min_fidelity", "evaluate_all", "evaluate_point",
           "memory_bits", "pareto_front", "ranked_table", "scalar_rank", "scheme_for"]

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

    ``point``: "scheme" (lowbit.hwsim.quant preset name), "pe" (one of lowbit.models.cost.cycles.PE_KINDS),
    "lanes", "array" (number of PEs), "workload" (lowbit.models.workloads name), optional "batch"
    (default 1), "seq_len" (default 128), "group_size" (grouped schemes only).
    Raises NotApplicable when the scheme does not run on the PE, ValueError for bad input."""
    point = _check_point(point)
    scheme = scheme_for(point["scheme"], point["group_size"])
    mapping = cycles.map_scheme(point["pe"], scheme)
    lanes, array = point["lanes"], point["array"]
    gemms = workloads.get(point["workload"], batch=point["batch"], seq_len=point["seq_len"])
    costs = _gemm_costs(scheme, mapping, gemms, lanes, array)
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
    from lowbit.models.fidelity import cache, proxy
    model = proxy.workload_model(workload)
    return (*cache.fidelity(model, scheme), cache.provenance(model))


def _mac_energy(mapping) -> float:
    # fp8_mac: the significand of its native format (mantissa + hidden bit).
    significand = getattr(formats.get(mapping.weight_format), "mbits", 0) + 1
    # shift_add: the activation shifted left by up to (fmax - 1) places (lowbit.hwsim.units.log).
    shift = mapping.act_bits + (1 << (mapping.w_bits - 1)) - 2 if mapping.pe == "shift_add" else 0
    return energy.mac_energy(mapping.pe, mapping.act_bits, mapping.w_bits, cycles.ACC_BITS,
                             significand_bits=significand, lut_group=cycles.LUT_GROUP,
                             bits_per_cycle=cycles.BIT_SERIAL_BITS_PER_CYCLE, shift_bits=shift)


def memory_bits(M: int, K: int, N: int, array: int, weight_bpw: float,
                act_bpa: float) -> dict:
    """{"grid_rows", "sram_weight", "sram_act", "dram_weight", "dram_act", "dram_out"}: the
    grid's R and the bits one M x K x N GEMM moves under the module's weight-stationary
    dataflow (formulas in the module docstring), with ``weight_bpw`` bits per weight and
    ``act_bpa`` bits per activation."""
    weight, act = weight_bpw * K * N, act_bpa * M * K
    rows = min(range(1, min(M, array) + 1),
               key=lambda r: weight * math.ceil(M / r) + act * math.ceil(N / (array // r)))
    cols = array // rows
    m_tile = min(M, math.floor((SRAM_BUFFER_BYTES * 8 - weight_bpw * K) / (act_bpa * K)))
    if m_tile < 1:
        raise ValueError(f"K must let one activation row and one weight column fit the "
                         f"{SRAM_BUFFER_BYTES}-byte buffer, got K={K}")
    return {"grid_rows": rows, "sram_weight": weight * math.ceil(M / rows),
            "sram_act": act * math.ceil(N / cols), "dram_weight": weight * math.ceil(M / m_tile),
            "dram_act": act, "dram_out": M * N * OUTPUT_BITS}


def _gemm_costs(scheme, mapping, gemms, lanes: int, array: int) -> dict:
    per_mac = _mac_energy(mapping)
    per_rescale = energy.rescale_energy(scheme.weight_spec.granularity)
    occupancy = cycles.beat_occupancy(mapping, lanes)
    lane_reduction = cycles.reduces_lanes(mapping)
    sram_bit, dram_bit = energy.sram_read_per_bit(SRAM_BUFFER_BYTES), energy.dram_per_bit()
    totals = dict.fromkeys(("cycles", "latency_s", "weight_bits", "energy_mac_j",
                            "energy_rescale_j", "energy_sram_j", "energy_dram_j"), 0.0)
    for g in gemms:
        dot_len = cycles.dot_length(scheme.weight_spec, g.K)
        segments = cycles.dot_segments(dot_len, g.K)
        dots = g.M * g.N * sum(count for _, count in segments)
        # fp8_mac: lanes used - 1 fp32 additions reduce each dot product's lane sums
        reduction_adds = g.M * g.N * sum(count * (min(lanes, length) - 1)
                                         for length, count in segments) if lane_reduction else 0
        gemm_cycles = cycles.gemm_cycles(g.M, g.K, g.N, dot_len, lanes, array, occupancy,
                                         lane_reduction)
        bpw = traffic.bits_per_weight(scheme.weight_spec, g.K, g.N)
        bits = memory_bits(g.M, g.K, g.N, array, bpw,
                           traffic.bits_per_activation(scheme.act_spec, g.M, g.K))
        dram_bits = bits["dram_weight"] + bits["dram_act"] + bits["dram_out"]
        latency = max(gemm_cycles / CLOCK_HZ, dram_bits / 8 / DRAM_BYTES_PER_S)
        totals["cycles"] += g.count * gemm_cycles
        totals["latency_s"] += g.count * latency
        totals["weight_bits"] += g.count * bpw * g.K * g.N
        totals["energy_mac_j"] += g.count * (g.M * g.K * g.N * per_mac
                                             + reduction_adds * energy.fp32_add())
        totals["energy_rescale_j"] += g.count * dots * per_rescale
        totals["energy_sram_j"] += g.count * (bits["sram_weight"] + bits["sram_act"]) * sram_bit
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
        if not all(_known(row[metric]) for metric in signs):
            continue
        keyed.append((row, [signs[m] * float(row[m]) for m in signs]))
    return [row for row, key in keyed
            if not any(_dominates(other, key) for _, other in keyed)]


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


# Scalar ranking weights (sum 1): energy, latency and area enter as log10 of the ratio to the best
# row (one decade costs the weight), fidelity linearly: every FIDELITY_STEP below the best row's
# fidelity costs its weight once. A log of the fidelity loss flattens near 1 - fidelity = 0 and
# let a 0.25-cosine scheme rank above a 0.94 one; the linear term keeps growing.
RANK_WEIGHTS = {"energy_j": 0.4, "latency_s": 0.3, "area_m2": 0.1, "fidelity": 0.2}
FIDELITY_STEP = 0.01
_LOG_METRICS = ("energy_j", "latency_s", "area_m2")


def scalar_rank(rows: list[dict], min_fidelity: float | None = None,
                weights: dict[str, float] | None = None) -> list[dict]:
    """Rows meeting ``fidelity >= min_fidelity``, each with "score" and "score_metrics" added,
    best (lowest score) first.

    term(m) = log10(value / best value among the kept rows having m) for m in energy_j,
    latency_s, area_m2; term(fidelity) = (best fidelity - fidelity) / FIDELITY_STEP.
    score = sum(weight * term) / sum(weight) over the metrics the row has: a row lacking a
    number (NaN area: no synthesis record) is left out of that metric only and scored on the
    weighted mean of the others, so it neither gains nor loses from the missing number;
    ``score_metrics`` names the metrics used. A NaN fidelity (the proxy model broke down) is
    scored the same way but ranks after every row with a fidelity: nothing shows it is usable.
    Ties are broken by scheme, pe, lanes, array so the order is reproducible."""
    weights = RANK_WEIGHTS if weights is None else weights
    unknown = [key for key in weights if key not in RANK_WEIGHTS]
    if unknown:
        raise ValueError(f"weights may name {', '.join(RANK_WEIGHTS)}, got {unknown}")
    check_min_fidelity(min_fidelity, "min_fidelity")
    kept = [dict(row) for row in rows
            if min_fidelity is None or row["fidelity"] >= min_fidelity]
    best = {metric: min((row[metric] for row in kept if _known(row[metric])), default=None)
            for metric in weights if metric in _LOG_METRICS}
    best_fidelity = max((row["fidelity"] for row in kept if _known(row["fidelity"])), default=None)
    for row in kept:
        terms = {}
        for metric, weight in weights.items():
            if metric == "fidelity":
                if _known(row[metric]):
                    terms[metric] = weight * (best_fidelity - row[metric]) / FIDELITY_STEP
            elif _known(row[metric]) and best[metric] > 0:
                terms[metric] = weight * math.log10(row[metric] / best[metric])
        used = sum(weights[metric] for metric in terms)
        row["score"] = sum(terms.values()) / used if used else 0.0
        row["score_metrics"] = ",".join(terms)
    return sorted(kept, key=lambda r: (not _known(r["fidelity"]), r["score"], r["scheme"], r["pe"],
                                       r["lanes"], r["array"]))


def check_min_fidelity(value, argname: str) -> None:
    """ValueError naming ``argname`` unless ``value`` is None or a number in 0..1."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or not 0.0 <= value <= 1.0):
        raise ValueError(f"{argname} must be a number in 0..1 (a cosine or a top-1 accuracy), "
                         f"got {value!r}")


def _known(value) -> bool:
    """A number, not None or NaN (of any float type: numpy's too)."""
    return value is not None and not math.isnan(value)


# -- ranking a workload: every applicable (scheme, PE) pair ---------------------------------------
PARETO_OBJECTIVES = {"fidelity": "max", "energy_j": "min", "latency_s": "min", "area_m2": "min"}
TABLE_COLUMNS = ("rank", "scheme", "pe", "lanes", "array", "fidelity", "fidelity_metric",
                 "fidelity_model", "fidelity_samples", "energy_j", "energy_mac_j",
                 "energy_sram_j", "energy_dram_j", "latency_s", "area_m2", "edp_js",
                 "bits_per_weight", "pareto", "score")


def evaluate_all(workload: str, lanes: int, array: int, batch: int = 1, seq_len: int = 128,
                 schemes: list[str] | None = None, pes: list[str] | None = None) -> list[dict]:
    """evaluate_point for every applicable (scheme, pe) pair, in (scheme, pe) order. Default:
    every lowbit.hwsim.quant preset on every PE kind."""
    from lowbit.hwsim import quant
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
    """The scalar ranking of ``rows`` (scalar_rank) with "rank" and "pareto" columns added.

    One policy for a missing area, as in scalar_rank: a row with an area is on the front when no
    row with an area dominates it over PARETO_OBJECTIVES; a row lacking one is judged without
    the area objective, on the front when no row at all dominates it in the other objectives
    (its ``score_metrics`` lacks area_m2 and ``area_note`` says why)."""
    ranked = scalar_rank(rows, min_fidelity)
    without_area = {m: s for m, s in PARETO_OBJECTIVES.items() if m != "area_m2"}
    with_area = [row for row in ranked if _known(row["area_m2"])]
    front = {id(row) for row in pareto_front(with_area, PARETO_OBJECTIVES)}
    front |= {id(row) for row in pareto_front(ranked, without_area)
              if not _known(row["area_m2"])}
    for position, row in enumerate(ranked, start=1):
        row["rank"], row["pareto"] = position, id(row) in front
    return ranked
