"""Sizing an array to a silicon budget or to a throughput target, so that PE kinds are compared
at equal area or at equal throughput (the way Stripes, BitMoD and LUT Tensor Core report), not at
equal PE count.

Equal area:
    array = floor((area_budget - buffer_area) / pe_area)
PE area from synthesis (lowbit.models.cost.area) and buffer area from CACTI
(lowbit.models.cost.sram), both at the technology node. Rounding is down: the array never
exceeds the budget, and the unused remainder is less than one PE. A budget that does not hold
the buffer and one PE is refused.

Equal throughput:
    array = ceil(target / pe_rate),   pe_rate = lanes / beat_occupancy * clock   (MAC/s)
the smallest array whose peak MAC rate reaches the target; rounding is up, so the array meets
the target and one PE fewer would not. The peak rate is the PE's streaming rate (a beat of
``lanes`` MACs every beat_occupancy cycles, at the clock its critical path reaches); dot-product
ends, the fp8_mac lane reduction and memory stalls are not in it. The die it needs,
array * pe_area + buffer_area, must fit ``max_die_m2``, by default the reticle limit: a die is at
most one exposure field of a lithography scanner, 26 mm x 33 mm = 858 mm^2 (ASML TWINSCAN
NXT:2000i and NXE:3400 specifications, "field size 26 x 33 mm"). A target that needs more is
refused, naming the limit.
"""
from __future__ import annotations

import math

RETICLE_LIMIT_M2 = 26e-3 * 33e-3


def array_for_area(area_budget_m2: float, pe_area_m2: float, buffer_area_m2: float) -> int:
    """The largest number of PEs of ``pe_area_m2`` that fit ``area_budget_m2`` beside a buffer
    of ``buffer_area_m2``."""
    _check_areas(pe_area_m2, buffer_area_m2)
    array = math.floor((area_budget_m2 - buffer_area_m2) / pe_area_m2)
    if array < 1:
        raise ValueError(f"area budget {area_budget_m2 * 1e6:g} mm^2 must hold the "
                         f"{buffer_area_m2 * 1e6:g} mm^2 buffer and at least one "
                         f"{pe_area_m2 * 1e6:g} mm^2 PE")
    return array


def array_for_throughput(target_macs_per_s: float, pe_macs_per_s: float, pe_area_m2: float,
                         buffer_area_m2: float, max_die_m2: float = RETICLE_LIMIT_M2) -> int:
    """The smallest number of PEs of peak rate ``pe_macs_per_s`` whose sum reaches
    ``target_macs_per_s``; ValueError naming ``max_die_m2`` when those PEs beside the
    ``buffer_area_m2`` buffer do not fit it."""
    _check_areas(pe_area_m2, buffer_area_m2)
    if not target_macs_per_s > 0 or not pe_macs_per_s > 0:
        raise ValueError(f"target_macs_per_s and pe_macs_per_s must be > 0, got "
                         f"{target_macs_per_s!r}, {pe_macs_per_s!r}")
    array = math.ceil(target_macs_per_s / pe_macs_per_s)
    if array > 1 and (array - 1) * pe_macs_per_s >= target_macs_per_s:
        array -= 1   # the quotient rounded up past an exact multiple
    die = array * pe_area_m2 + buffer_area_m2
    if die > max_die_m2:
        raise ValueError(f"a throughput of {target_macs_per_s / 1e9:g} GMAC/s needs {array} PEs "
                         f"of {pe_macs_per_s / 1e9:g} GMAC/s, a {die * 1e6:g} mm^2 die: larger "
                         f"than the {max_die_m2 * 1e6:g} mm^2 limit (reticle, 26 x 33 mm)")
    return array


def _check_areas(pe_area_m2: float, buffer_area_m2: float) -> None:
    if not pe_area_m2 > 0 or not buffer_area_m2 >= 0:
        raise ValueError(f"pe_area_m2 must be > 0 and buffer_area_m2 >= 0, got {pe_area_m2!r}, "
                         f"{buffer_area_m2!r}")
