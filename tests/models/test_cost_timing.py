"""The clock a PE reaches (lowbit.models.cost.timing): FO4 by hand, the lookup in the committed
timing data, and the refusals."""
import math

import pytest

from lowbit.hwsim.quant import preset
from lowbit.models.cost import cycles, technology, timing
from lowbit.rtl.timing import load

# CACTI 45 nm HP FO4 9.06329 ps at 1.0 V, x HP45 delay cubic D(0.9) / D(1.0):
# D(0.9) = -501.6*0.729 + 1567*0.81 - 1619*0.9 + 566.1 = 12.6036; D(1.0) = 12.5
FO4_45NM_0V9 = 9.06329e-12 * 12.6036 / 12.5
# Nangate 45 nm DFF_X1 clock-to-Q (rise, 101.651 ps) + setup (fall, 37.725 ps) over INV_X1 FO4
# (mean of rise 27.638 ps and fall 16.572 ps): 139.376 / 22.105
FLIP_FLOP_FO4 = 139.376 / 22.105


def test_flip_flop_overhead_by_hand():
    assert (27.638 + 16.572) / 2 == pytest.approx(22.105, abs=1e-12)
    assert timing.FLIP_FLOP_OVERHEAD_FO4 == pytest.approx(FLIP_FLOP_FO4, rel=1e-12)
    assert round(timing.FLIP_FLOP_OVERHEAD_FO4, 3) == 6.305


def test_fo4_by_hand():
    assert timing.fo4_seconds(45) == pytest.approx(FO4_45NM_0V9, rel=1e-12)
    assert timing.fo4_seconds(7) == pytest.approx(FO4_45NM_0V9 * technology.delay_factor(7),
                                                  rel=1e-12)


def test_clock_of_a_100_fo4_path():
    # 100 FO4 of logic + the flip-flops' 6.305 FO4: 1 / (106.305 x 9.1384 ps) = 1.0294 GHz
    assert timing.clock_hz(100, 45) == pytest.approx(1 / ((100 + FLIP_FLOP_FO4) * FO4_45NM_0V9),
                                                     rel=1e-12)
    assert timing.clock_hz(100, 45) == pytest.approx(1.0294e9, rel=1e-4)
    with pytest.raises(ValueError, match="critical_path_fo4 must be > 0"):
        timing.clock_hz(0, 45)


def _default_entry(design):
    (entry,) = [e for e in load()["designs"][design] if e["label"] == "default"]
    return entry


def test_int_mac_pe_clock_is_its_timed_default_config():
    mapping = cycles.map_scheme("int_mac", preset("int8"))       # int8 x int8, 16 lanes
    hz, note = timing.pe_clock(mapping, 16, 45)
    fo4 = _default_entry("int_mac_pe")["critical_path_fo4"]
    assert hz == pytest.approx(1 / ((fo4 + FLIP_FLOP_FO4) * FO4_45NM_0V9), rel=1e-12)
    assert note == f"timing int_mac_pe: {fo4:.1f} FO4"


def test_fp8_pe_clock_is_one_lane_unit():
    mapping = cycles.map_scheme("fp8_mac", preset("fp8-e4m3"))
    hz, _ = timing.pe_clock(mapping, 16, 7)
    fo4 = _default_entry("fp8_mac")["critical_path_fo4"]               # e4m3 x e4m3
    assert hz == pytest.approx(1 / ((fo4 + FLIP_FLOP_FO4) * timing.fo4_seconds(7)), rel=1e-12)


def test_untimed_config_is_nan_with_the_reason():
    mapping = cycles.map_scheme("int_mac", preset("int8"))
    hz, note = timing.pe_clock(mapping, 5, 45)
    assert math.isnan(hz) and "no timing record for int_mac_pe" in note


def test_missing_data_and_bad_node(tmp_path):
    mapping = cycles.map_scheme("int_mac", preset("int8"))
    hz, note = timing.pe_clock(mapping, 16, 45, path=tmp_path / "none.json")
    assert math.isnan(hz) and "no timing data" in note
    with pytest.raises(ValueError, match="node_nm must be one of"):
        timing.pe_clock(mapping, 16, 28)
