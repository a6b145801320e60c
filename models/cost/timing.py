"""The clock a PE design reaches: its critical path from the open flow (lowbit.rtl.timing:
yosys + ABC mapped to NAND2 and inverters, a logical-effort delay per gate, in FO4; committed in
rtl/data/timing.json) times the FO4 delay at the technology node.

FO4 at the 45 nm base: CACTI 7.0's 45 nm ITRS high-performance FO4 delay, 9.06329e-12 s at
1.0 V (HewlettPackard/cacti 1ffd8df, parameter.cc: an inverter driving four copies of itself
under CACTI's Horowitz delay model; printed by g_tp.display() for technology 0.045), moved to the
base's 0.9 V (Horowitz's voltage) with Stillmaker & Baas's HP45 delay polynomial:
x D(0.9 V) / D(1.0 V) = 12.6036 / 12.5, giving 9.1384e-12 s. At another node it scales by
lowbit.models.cost.technology.delay_factor.

    clock_hz = 1 / ((critical_path_fo4 + FLIP_FLOP_OVERHEAD_FO4) * FO4(node))

Flip-flop overhead. The path of lowbit.rtl.timing is the combinational part of the period only;
a register-to-register cycle also spends the launching flip-flop's clock-to-Q delay and the
capturing one's setup time. Both come from the Nangate 45 nm Open Cell Library (typical corner,
1.1 V, 25 C; NangateOpenCellLibrary_typical.lib as parallaxsw/OpenSTA examples/nangate45_typ.lib.gz
ships it), in units of that library's own FO4, so that the ratio carries over to CACTI's FO4:
  FO4: INV_X1 (input pin A 1.700230 fF) driving 4 x 1.700230 = 6.80092 fF, at the input slew its
       own output produces (the fixed point of its rise/fall transition tables, 13.77 ps):
       cell_rise 27.638 ps, cell_fall 16.572 ps, mean 22.105 ps
  DFF_X1 CK -> Q at that load and clock slew: rise 101.651 ps, fall 92.880 ps (worst 101.651)
  DFF_X1 setup_rising of D, D and CK slews 13.77 ps: rise 31.175 ps, fall 37.725 ps (worst 37.725)
  overhead = (101.651 + 37.725) / 22.105 = 6.305 FO4   (NLDM tables interpolated bilinearly)
The worst of rise and fall is taken for each, since the clock must serve either transition. Clock
skew and jitter are not counted, so the clock stays an optimistic estimate of a laid-out design.

A PE kind maps to its design by its lowbit.hwsim.pe.kinds row (rtl_design, rtl_config; fp8_mac:
the fp8_mac unit of its format, one per lane, so one lane's path is the PE's). A config absent from the timing data is
not interpolated: its clock is NaN with the reason.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from lowbit.models.cost import technology

CACTI_FO4_45NM_1V_S = 9.06329e-12
# Nangate 45 nm DFF_X1 clock-to-Q + setup over INV_X1's FO4 delay, in ps (module docstring)
_NANGATE_FO4_PS, _NANGATE_CLK_TO_Q_PS, _NANGATE_SETUP_PS = 22.105, 101.651, 37.725
FLIP_FLOP_OVERHEAD_FO4 = (_NANGATE_CLK_TO_Q_PS + _NANGATE_SETUP_PS) / _NANGATE_FO4_PS
_HP45_DELAY_0V9, _HP45_DELAY_1V0 = 12.6036, 12.5   # Stillmaker & Baas HP45 cubic at 0.9 and 1.0 V
FO4_BASE_S = CACTI_FO4_45NM_1V_S * _HP45_DELAY_0V9 / _HP45_DELAY_1V0
TIMING_PATH = Path(__file__).resolve().parents[2] / "rtl" / "data" / "timing.json"


def fo4_seconds(node_nm: int) -> float:
    """FO4 delay in s at node ``node_nm`` (lowbit.models.cost.technology.NODES_NM)."""
    return FO4_BASE_S * technology.delay_factor(node_nm)


def clock_hz(critical_path_fo4: float, node_nm: int) -> float:
    """The clock in Hz of a design whose combinational critical path is ``critical_path_fo4``
    FO4 long, its flip-flops' FLIP_FLOP_OVERHEAD_FO4 added."""
    if not critical_path_fo4 > 0:
        raise ValueError(f"critical_path_fo4 must be > 0, got {critical_path_fo4!r}")
    return 1.0 / ((critical_path_fo4 + FLIP_FLOP_OVERHEAD_FO4) * fo4_seconds(node_nm))


def find_path_fo4(document: dict, design: str, config: dict) -> float | None:
    """The critical path in FO4 of ``design`` at ``config`` (a dict of its fields) in a timing
    document, or None when it was not timed."""
    for entry in document["designs"].get(design, []):
        if entry["config"] == config:
            return float(entry["critical_path_fo4"])
    return None


def pe_clock(mapping, lanes: int, node_nm: int, path: str | Path | None = None) -> tuple[float, str]:
    """(clock in Hz of one PE running ``mapping`` with ``lanes`` lanes at node ``node_nm``, note).
    The note names the timed design, or why the clock is NaN."""
    from lowbit.hwsim.pe import kinds
    from lowbit.models.cost.cycles import pe_config
    technology.check_node(node_nm)
    path = Path(path) if path is not None else TIMING_PATH
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return math.nan, f"no timing data ({path} missing: run python -P -m lowbit.rtl.timing)"
    row = kinds.get(mapping.pe)   # one lane's unit when the PE is lanes copies of it (fp8_mac)
    design, wanted = row.rtl_design, row.rtl_config(pe_config(mapping, lanes))
    fo4 = find_path_fo4(document, design, wanted)
    if fo4 is None:
        return math.nan, f"no timing record for {design} {wanted} (not interpolated)"
    return clock_hz(fo4, node_nm), f"timing {design}: {fo4:.1f} FO4"
