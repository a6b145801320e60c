"""lowbit.rtl.results: committed results first, then the cache; on-demand synthesis of a config
neither has (off in the test suite by default: tests/conftest.py), cached for the next reader."""
import json
import math

import pytest

from lowbit.models.cost import area, cycles, timing
from lowbit.rtl import results

# one 1-lane int_mac PE of 2-bit operands: the smallest PE config the cost model builds, and one
# the committed results do not have
TINY = cycles.Mapping(pe="int_mac", weight_format="int2", act_format="int2")
TINY_CONFIG = {"lanes": 1, "act_bits": 2, "w_bits": 2, "acc_bits": 32, "signed": True}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWBIT_SYNTH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWBIT_SYNTH_CACHE_DIR", str(tmp_path / "a"))
    assert results.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("LOWBIT_SYNTH_CACHE_DIR")
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path / "b"))
    assert results.cache_dir() == tmp_path / "b" / "synth"


def test_committed_entries_come_first_then_cached_ones(cache):
    committed = json.loads(results.COMMITTED["synth"].read_text())["designs"]["int_mac"]
    assert results.find("synth", "int_mac", committed[0]["config"]) == committed[0]
    entry = {"config": {"a_bits": 3}, "label": "a_bits=3", "cmos": {"transistors": 7}}
    path = results.store("synth", "int_mac", entry)
    assert path.parent == cache / "synth" / "int_mac"
    assert results.find("synth", "int_mac", {"a_bits": 3}) == entry
    assert results.records("synth", "int_mac") == [*committed, entry]
    assert results.find("timing", "int_mac", {"a_bits": 3}) is None
    with pytest.raises(ValueError, match="kind must be one of synth, timing, got 'area'"):
        results.find("area", "int_mac", {})


def test_without_on_demand_a_missing_config_has_no_area_and_no_clock(cache):
    assert not results.on_demand()                       # tests/conftest.py turned it off
    assert results.obtain("synth", "int_mac_pe", TINY_CONFIG) is None
    value, note = area.pe_area(TINY, 1)
    assert math.isnan(value) and "no synthesis record for int_mac_pe" in note
    assert math.isnan(timing.pe_clock(TINY, 1, 45)[0])


def test_a_missing_pe_config_is_synthesized_on_demand_and_cached(cache, monkeypatch):
    monkeypatch.setenv(results.ON_DEMAND_ENV, "1")
    value, note = area.pe_area(TINY, 1)
    hz, clock_note = timing.pe_clock(TINY, 1, 45)
    (synth_file,) = (cache / "synth" / "int_mac_pe").glob("*.json")
    entry = json.loads(synth_file.read_text())
    assert entry["config"] == TINY_CONFIG and entry["tool"].startswith("Yosys")
    assert "ice40" not in entry                          # the slow flow the area does not need
    assert note == "synth int_mac_pe"
    assert value == area.transistors_to_m2(entry["cmos"]["transistors"]) > 0
    (timing_file,) = (cache / "timing" / "int_mac_pe").glob("*.json")
    fo4 = json.loads(timing_file.read_text())["critical_path_fo4"]
    assert hz == timing.clock_hz(fo4, 45) and clock_note == f"timing int_mac_pe: {fo4:.1f} FO4"

    def no_yosys(*args, **kwargs):
        raise AssertionError("synthesized again instead of reading the cache")
    monkeypatch.setattr("lowbit.rtl.synth.synthesize", no_yosys)
    monkeypatch.setattr("lowbit.rtl.timing.time_config", no_yosys)
    assert area.pe_area(TINY, 1) == (value, note)
    assert timing.pe_clock(TINY, 1, 45) == (hz, clock_note)


def test_a_failing_synthesis_leaves_the_area_nan_with_the_reason(cache, monkeypatch):
    monkeypatch.setenv(results.ON_DEMAND_ENV, "1")

    def broken(*args, **kwargs):
        raise RuntimeError("yosys failed on int_mac_pe")
    monkeypatch.setattr("lowbit.rtl.synth.synthesize", broken)
    value, note = area.pe_area(TINY, 1)
    assert math.isnan(value) and note.endswith("yosys failed on int_mac_pe")
