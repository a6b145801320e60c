import dataclasses
import json
import math

import pytest

from lowbit.hwsim import quant

from lowbit.models.cost import area, cycles


def test_per_transistor_area():
    assert area.AREA_PER_TRANSISTOR_M2 == pytest.approx(0.1995e-12)
    assert area.transistors_to_m2(4) == pytest.approx(0.798e-12)   # one NAND2_X1
    assert area.transistors_to_m2(10_000) == pytest.approx(1.995e-9)
    with pytest.raises(ValueError, match="transistors must be >= 0"):
        area.transistors_to_m2(-1)


def _synth_file(tmp_path, records):
    """A synthesis document in lowbit.rtl.synth's layout holding ``records``' transistor counts."""
    designs = {}
    for record in records:
        designs.setdefault(record["design"], []).append(
            {"config": record["config"], "label": "test", "cmos": {"transistors":
                                                                    record["transistors"]}})
    path = tmp_path / "synth.json"
    path.write_text(json.dumps({"tool": "test fixture", "designs": designs}))
    return path


def test_pe_area_from_a_synthesis_record(tmp_path):
    mapping = cycles.map_scheme("lut", quant.preset("int4-g128"))
    config = dataclasses.asdict(cycles.pe_model(mapping, 16).config)
    path = _synth_file(tmp_path, [
        {"design": "lut_pe", "config": dict(config, lanes=4), "transistors": 1000},
        {"design": "lut_pe", "config": config, "transistors": 4000},
    ])
    value, note = area.pe_area(mapping, 16, path)
    assert value == pytest.approx(4000 * 0.1995e-12) and note == "synth lut_pe"
    value, note = area.pe_area(mapping, 8, path)       # between lanes 4 and 16: interpolated
    assert value == pytest.approx((1000 + (8 - 4) / (16 - 4) * 3000) * 0.1995e-12)
    assert note == "synth lut_pe, interpolated lanes 4..16"
    value, note = area.pe_area(mapping, 32, path)      # beyond the data: not extrapolated
    assert math.isnan(value) and "no synthesis record for lut_pe" in note
    assert "lanes synthesized for these fields: [4, 16]; not extrapolated" in note
    other = cycles.map_scheme("lut", quant.preset("ternary"))   # same config: 2-bit weights
    assert area.pe_area(other, 16, path)[0] == pytest.approx(4000 * 0.1995e-12)


def test_fp8_mac_area_is_lanes_mac_units(tmp_path):
    # One fp8_mac unit (multiplier + fp32 adder + accumulator) per lane: the PE's timing adds
    # one product per lane per cycle (lowbit.models.cost.cycles), so every lane has its own adder.
    mapping = cycles.map_scheme("fp8_mac", quant.preset("fp8-e5m2"))
    path = _synth_file(tmp_path, [
        {"design": "fp8_mac", "config": {"fmt_a": "float8_e5m2", "fmt_b": "float8_e5m2"},
         "transistors": 3000},
        {"design": "fp8_mul", "config": {"fmt": "float8_e5m2", "saturate": False},
         "transistors": 800},
    ])
    value, note = area.pe_area(mapping, 4, path)
    assert value == pytest.approx(4 * 3000 * 0.1995e-12)
    assert note.startswith("synth lanes x fp8_mac") and "lower bound" in note
    value, note = area.pe_area(cycles.map_scheme("fp8_mac", quant.preset("fp8-e4m3")), 4, path)
    assert math.isnan(value) and note == ("no synthesis record for fp8_mac "
                                      "{'fmt_a': 'float8_e4m3fn', 'fmt_b': 'float8_e4m3fn'}")


def test_committed_fp8_mac_area_is_about_lanes_times_12k_transistors():
    mapping = cycles.map_scheme("fp8_mac", quant.preset("fp8-e4m3"))
    value, _ = area.pe_area(mapping, 16)
    transistors = value / area.AREA_PER_TRANSISTOR_M2
    assert 16 * 11_000 < transistors < 16 * 14_000


def test_missing_synthesis_file(tmp_path):
    mapping = cycles.map_scheme("int_mac", quant.preset("int8"))
    value, note = area.pe_area(mapping, 16, tmp_path / "absent.json")
    assert math.isnan(value) and "run `lowbit synth`" in note


def test_committed_synthesis_data_is_read():
    records = area.load_records()
    assert records and all(r["transistors"] > 0 for r in records)
    mapping = cycles.map_scheme("int_mac", quant.preset("int8"))
    value, note = area.pe_area(mapping, 16)
    assert value > 0 and note == "synth int_mac_pe"


def test_every_default_sweep_pair_has_an_area():
    import tomllib
    from lowbit.models import evaluator
    config = tomllib.loads((area.SYNTH_PATH.parents[2] / "sweeps" / "configs"
                            / "default.toml").read_text())
    axes = config["axes"]
    missing = []
    for scheme in axes["schemes"]:
        for pe in axes["pes"]:
            if not evaluator.applies(scheme, pe):
                continue
            for lanes in axes["lanes"]:
                value, note = area.pe_area(cycles.map_scheme(pe, evaluator.scheme_for(scheme)), lanes)
                if math.isnan(value):
                    missing.append((scheme, pe, lanes, note))
    assert not missing


def test_shared_tables_cost_less_area_per_column_than_a_table_per_column():
    # the committed synthesis: one 4-column shared_lut PE against 4 lut PEs of the same lanes
    mapping = {pe: cycles.map_scheme(pe, quant.preset("int4-g128")) for pe in ("lut", "shared_lut")}
    for lanes in (4, 8, 16):
        shared, _ = area.pe_area(mapping["shared_lut"], lanes)
        single, _ = area.pe_area(mapping["lut"], lanes)
        assert 1.5 * shared < 4 * single < 3 * shared, lanes
    # W1A1: the XNOR PE against the integer MAC PE at int2 x int2
    w1a1 = quant.preset("binary-a1")
    xnor, _ = area.pe_area(cycles.map_scheme("xnor", w1a1), 16)
    int_mac, _ = area.pe_area(cycles.map_scheme("int_mac", w1a1), 16)
    assert 2 * xnor < int_mac
