"""Synthesis numbers: the committed rtl/data/synth.json covers every design config and grows
with lanes and bit widths; a fresh yosys run reproduces a committed entry."""
import dataclasses

import pytest

from lowbit.rtl import registry
from lowbit.rtl.synth import ICE40_MAX_CELLS, load, synthesize

# Fields whose growth must not make a design cheaper; weight formats count by their bits.
_SIZE_FIELDS = ("lanes", "a_bits", "b_bits", "acc_bits", "n", "w_bits", "max_weight_bits",
                "bits_per_cycle", "group_size", "act_bits", "weight_format")


def _size(field: str, value):
    return int(value.removeprefix("log2_")) if field == "weight_format" else value


def _grows(small: dict, large: dict) -> bool:
    """large differs from small only in size fields, each at least as large, one larger."""
    differing = [k for k in small if small[k] != large[k]]
    return bool(differing) and all(k in _SIZE_FIELDS and _size(k, large[k]) > _size(k, small[k])
                                   for k in differing)


@pytest.fixture(scope="module")
def committed():
    return load()


def test_committed_json_covers_every_design_config(committed):
    assert committed["tool"].startswith("Yosys ")
    for name in registry.names():
        labels = [entry["label"] for entry in committed["designs"][name]]
        assert labels == [registry.config_label(c) for c in registry.get(name).configs], name
        for entry, config in zip(committed["designs"][name], registry.get(name).configs):
            assert entry["config"] == dataclasses.asdict(config)
            assert entry["generic"]["cells"] > 0 and entry["cmos"]["transistors"] > 0
            if entry["generic"]["cells"] > ICE40_MAX_CELLS:
                assert entry["ice40"] == {"skipped": f"{entry['generic']['cells']} generic "
                                          f"cells > ICE40_MAX_CELLS = {ICE40_MAX_CELLS}"}
            else:
                assert entry["ice40"]["luts"] > 0


def test_costs_grow_with_lanes_and_bit_widths(committed):
    pairs = 0
    for name, entries in committed["designs"].items():
        for small in entries:
            for large in entries:
                if _grows(small["config"], large["config"]):
                    pairs += 1
                    where = f"{name}: {small['label']} -> {large['label']}"
                    assert large["cmos"]["transistors"] > small["cmos"]["transistors"], where
                    assert large["generic"]["cells"] > small["generic"]["cells"], where
                    if "luts" in large["ice40"] and "luts" in small["ice40"]:
                        assert large["ice40"]["luts"] > small["ice40"]["luts"], where
                    assert large["generic"]["flip_flops"] >= small["generic"]["flip_flops"], where
    assert pairs >= 12


@pytest.mark.parametrize("name, field", [
    ("bit_serial_pe", "act_bits"), ("bit_serial_pe", "max_weight_bits"),
    ("lut_pe", "act_bits"), ("lut_pe", "max_weight_bits"),
    ("int_mac_pe", "w_bits"), ("shift_add_pe", "weight_format"),
])
def test_every_pe_shows_growth_with_bit_width(committed, name, field):
    """The growth test above only checks the pairs that exist: each PE must have configs that
    differ in one bit width alone, so its cost growth with that width is shown."""
    entries = [entry["config"] for entry in committed["designs"][name]]
    pairs = [(small, large) for small in entries for large in entries
             if _grows(small, large) and [k for k in small if small[k] != large[k]] == [field]]
    assert pairs, f"{name}: no two configs differ in {field} alone"


def test_sequential_designs_have_flip_flops_and_combinational_ones_none(committed):
    for name, entries in committed["designs"].items():
        for entry in entries:
            sequential = name not in ("fp8_mul", "xnor_popcount")
            assert (entry["generic"]["flip_flops"] > 0) == sequential, (name, entry["label"])


def test_fresh_synthesis_reproduces_the_committed_entry(committed, tmp_path):
    config = registry.get("xnor_popcount").configs[0]
    entry = synthesize("xnor_popcount", config, tmp_path)
    assert entry == committed["designs"]["xnor_popcount"][0]


def test_designs_above_the_cell_limit_skip_the_ice40_pass(tmp_path, monkeypatch):
    import lowbit.rtl.synth as synth
    monkeypatch.setattr(synth, "ICE40_MAX_CELLS", 10)
    config = registry.get("xnor_popcount").configs[0]
    entry = synthesize("xnor_popcount", config, tmp_path)
    cells = entry["generic"]["cells"]
    assert entry["ice40"] == {"skipped": f"{cells} generic cells > ICE40_MAX_CELLS = 10"}
    assert not (tmp_path / "ice40.json").exists()
