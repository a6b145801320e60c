"""Silicon area of a PE from the RTL synthesis results (lowbit.rtl.results: the committed
rtl/data/synth.json and the configs ``lowbit synth`` or on-demand synthesis cached since; yosys
``stat -tech cmos`` transistor estimates per design and config). A PE config in neither is
synthesized on demand and cached (unless LOWBIT_SYNTH_ON_DEMAND=0).

Conversion (stated): area = transistors * AREA_PER_TRANSISTOR_M2 at 45 nm, the node of the
Horowitz energies (lowbit.models.cost.energy). The per-transistor area is the Nangate 45 nm Open Cell
Library's NAND2_X1 (FreePDK45; NangateOpenCellLibrary_typical.lib, ``area : 0.798`` µm²), a
4-transistor cell: 0.1995 µm² per transistor, i.e. one gate equivalent per 4 transistors. This
is standard-cell logic area at 100 % utilization, without routing overhead or SRAM.

A PE kind maps to the lowbit.rtl.registry design its lowbit.hwsim.pe.kinds row names (rtl_design):
int_mac_pe, lut_pe, shift_add_pe, bit_serial_pe with the same config (every field equal). A kind
whose row is rtl_per_lane (fp8_mac) has no PE design, so it is composed from the
synthesized unit as ``lanes`` independent MAC lanes (the timing lowbit.models.cost.cycles states: one
FP8 product and one fp32 addition per lane per cycle, then a reduction of the lane sums): area =
lanes x the fp8_mac unit (fmt_a = fmt_b = the PE's fmt: an exact multiplier, a float32 adder and
the float32 accumulator register), about lanes x 12.5k transistors. The reduction reuses the lane
adders, so only its operand multiplexers are missing: the area is a *lower bound* (area_note
says so).
A config absent from the synthesis data is interpolated only in ``lanes``, linearly between the
two nearest synthesized lane counts of a config equal in every other field (a PE's logic is
per-lane datapaths plus a shared tail, so it grows about linearly in lanes); anything else
(another field, or lanes outside the synthesized range) is not extrapolated: its area is NaN
with the reason.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from lowbit.hwsim.pe import kinds
from lowbit.rtl import results

NAND2_X1_AREA_M2 = 0.798e-12
NAND2_TRANSISTORS = 4
AREA_PER_TRANSISTOR_M2 = NAND2_X1_AREA_M2 / NAND2_TRANSISTORS
SOURCE = "Nangate 45nm Open Cell Library (FreePDK45), NAND2_X1 0.798 um^2"

SYNTH_PATH = results.COMMITTED["synth"]


def transistors_to_m2(transistors: float) -> float:
    """Area in m² of ``transistors`` transistors of standard-cell logic at 45 nm."""
    if not transistors >= 0:
        raise ValueError(f"transistors must be >= 0, got {transistors!r}")
    return transistors * AREA_PER_TRANSISTOR_M2


def load_records(path: str | Path | None = None) -> list[dict]:
    """The synthesis results flattened to records {"design", "config", "transistors"}, from the
    document lowbit.rtl.synth writes: {"tool", "designs": {design: [{"config", "cmos":
    {"transistors"}, ...}, ...]}} (flip-flops are legalized to $_DFF_P_ before ``stat -tech
    cmos``, so the transistor count includes them)."""
    path = Path(path) if path is not None else SYNTH_PATH
    document = json.loads(path.read_text(encoding="utf-8"))
    return [{"design": design, "config": entry["config"],
             "transistors": entry["cmos"]["transistors"]}
            for design, entries in document["designs"].items() for entry in entries]


def _results_records(design: str, wanted: dict) -> list[dict]:
    """The records of ``design`` in lowbit.rtl.results (committed and cached), after
    synthesizing ``wanted`` on demand when neither has it (RuntimeError when yosys fails)."""
    results.obtain("synth", design, wanted)
    return [{"design": design, "config": entry["config"],
             "transistors": entry["cmos"]["transistors"]}
            for entry in results.records("synth", design)]


def find_transistors(records: list[dict], design: str, config: dict) -> float | None:
    for record in records:
        if record["design"] == design and record["config"] == config:
            return float(record["transistors"])
    return None


def pe_area(mapping, lanes: int, path: str | Path | None = None) -> tuple[float, str]:
    """(area in m² of one PE running ``mapping`` with ``lanes`` lanes, note). The note names
    the source records, or why the area is NaN."""
    from lowbit.models.cost.cycles import pe_config
    config = pe_config(mapping, lanes)
    row = kinds.get(mapping.pe)
    design, wanted = row.rtl_design, row.rtl_config(config)
    if path is None:
        try:
            records = _results_records(design, wanted)
        except RuntimeError as error:   # yosys missing or failing: no area, and why
            return math.nan, f"no synthesis record for {design} {wanted}: {error}"
    else:
        try:
            records = load_records(path)
        except FileNotFoundError:
            return math.nan, f"no synthesis data ({path} missing: run `lowbit synth`)"
    transistors = find_transistors(records, design, wanted)
    if not row.rtl_per_lane:
        if transistors is not None:
            return transistors_to_m2(transistors), f"synth {design}"
        return _interpolated_in_lanes(records, design, wanted)
    if transistors is None:
        return math.nan, f"no synthesis record for {design} {wanted}"
    return (transistors_to_m2(lanes * transistors),
            f"synth lanes x {design} (multiplier + fp32 adder + accumulator per lane; lower "
            f"bound: reduction muxes not counted)")


def _interpolated_in_lanes(records: list[dict], design: str, wanted: dict) -> tuple[float, str]:
    """Linear interpolation in lanes between the nearest synthesized lane counts below and
    above ``wanted["lanes"]`` among configs equal to ``wanted`` in every other field."""
    others = {key: value for key, value in wanted.items() if key != "lanes"}
    by_lanes = {r["config"]["lanes"]: r["transistors"] for r in records
                if r["design"] == design
                and {k: v for k, v in r["config"].items() if k != "lanes"} == others}
    lanes = wanted["lanes"]
    below = [n for n in by_lanes if n < lanes]
    above = [n for n in by_lanes if n > lanes]
    if not below or not above:
        return math.nan, (f"no synthesis record for {design} {wanted} (lanes synthesized for "
                          f"these fields: {sorted(by_lanes) or 'none'}; not extrapolated)")
    low, high = max(below), min(above)
    t = (lanes - low) / (high - low)
    transistors = by_lanes[low] + t * (by_lanes[high] - by_lanes[low])
    return transistors_to_m2(transistors), f"synth {design}, interpolated lanes {low}..{high}"
