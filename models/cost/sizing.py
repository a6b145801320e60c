"""Sizing an array to a silicon budget, so that PE kinds are compared at equal area (the way
Stripes, BitMoD and LUT Tensor Core report), not at equal PE count.

    array = floor((area_budget - buffer_area) / pe_area)

PE area from synthesis (lowbit.models.cost.area) and buffer area from CACTI
(lowbit.models.cost.sram), both at the technology node. Rounding is down: the array never
exceeds the budget, and the unused remainder is less than one PE. A budget that does not hold
the buffer and one PE is refused.
"""
from __future__ import annotations

import math


def array_for_area(area_budget_m2: float, pe_area_m2: float, buffer_area_m2: float) -> int:
    """The largest number of PEs of ``pe_area_m2`` that fit ``area_budget_m2`` beside a buffer
    of ``buffer_area_m2``."""
    if not pe_area_m2 > 0 or not buffer_area_m2 >= 0:
        raise ValueError(f"pe_area_m2 must be > 0 and buffer_area_m2 >= 0, got {pe_area_m2!r}, "
                         f"{buffer_area_m2!r}")
    array = math.floor((area_budget_m2 - buffer_area_m2) / pe_area_m2)
    if array < 1:
        raise ValueError(f"area budget {area_budget_m2 * 1e6:g} mm^2 must hold the "
                         f"{buffer_area_m2 * 1e6:g} mm^2 buffer and at least one "
                         f"{pe_area_m2 * 1e6:g} mm^2 PE")
    return array
