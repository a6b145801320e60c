"""Rank evaluated design points (rows of lowbit.models.evaluator.evaluate_point) of a workload.

    from lowbit.models import rank
    front = rank.pareto_front(rows, {"energy_j": "min", "fidelity": "max"})
    table = rank.ranked_table(rows, min_fidelity=0.99)   # scalar score, rank and pareto columns
"""
from __future__ import annotations

import math

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


# -- the ranked table of a workload ------------------------------------------------------------
PARETO_OBJECTIVES = {"fidelity": "max", "energy_j": "min", "latency_s": "min", "area_m2": "min"}
# energy_j is the sum of the energy_*_j terms after it (energy_attention_j: LLM rows only)
TABLE_COLUMNS = ("rank", "scheme", "pe", "lanes", "array", "clock_hz", "fidelity", "fidelity_metric",
                 "fidelity_model", "fidelity_samples", "energy_j", "energy_mac_j",
                 "energy_rescale_j", "energy_sram_j", "energy_dram_j", "energy_attention_j",
                 "latency_s", "area_m2", "edp_js", "bits_per_weight", "pareto", "score")
# LLM serving per phase (lowbit.models.evaluator rows of an LLM workload)
SERVING_COLUMNS = ("rank", "scheme", "pe", "array", "clock_hz", "prefill_latency_s",
                   "prefill_tokens_per_s", "prefill_j_per_token", "decode_latency_s",
                   "decode_tokens_per_s", "decode_j_per_token", "decode_memory_bound_steps",
                   "j_per_token")


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
