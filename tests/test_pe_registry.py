"""The PE kind registry (lowbit.hwsim.pe.kinds) against every layer that must cover each kind:
hwsim (model and config), the cost model (native formats, cycles, MAC energy, area from the
committed synthesis data), the ranking (some preset runs on it), the RTL registry (its design)
and the verify benches. A kind missing any of them fails, naming what is missing."""
from __future__ import annotations

import dataclasses
import math

import pytest

from lowbit.hwsim import formats, quant
from lowbit.hwsim.pe import kinds


def _hwsim_gaps(row) -> list[str]:
    gaps = []
    if getattr(row.model, "config_class", None) is not row.config:
        gaps.append(f"hwsim model whose config_class is {row.config.__name__}")
    natives = row.native_weights + (row.native_acts or ())
    unknown = [name for name in natives
               if name not in formats.names() and name not in quant.ieee.IEEE_FORMATS]
    if unknown:
        gaps.append(f"native formats known to lowbit.hwsim.formats (unknown: {unknown})")
    return gaps


def _cost_gaps(row) -> list[str]:
    from lowbit.models.cost import cycles, energy
    weight = row.native_weights[0]
    act = weight if row.native_acts is None else row.native_acts[-1]
    mapping = cycles.Mapping(row.name, weight, act)
    gaps = []
    try:
        config = cycles.pe_config(mapping, 16)
    except Exception as exc:   # any failure is a gap to name, not a crash of the walk
        return [f"config builder (build_config at 16 lanes: {exc})"]
    if not isinstance(config, row.config):
        gaps.append(f"config builder returning a {row.config.__name__}")
    try:
        if cycles.beat_occupancy(mapping, 16) < 1:
            gaps.append("cycle model (occupancy < 1)")
    except Exception as exc:
        gaps.append(f"cycle model ({exc})")
    try:
        per_mac = row.mac_energy(energy.OPERATIONS, config, mapping.w_bits)
        if not (math.isfinite(per_mac) and per_mac > 0):
            gaps.append(f"MAC-energy rule (gave {per_mac!r})")
    except Exception as exc:
        gaps.append(f"MAC-energy rule ({exc})")
    return gaps


def _area_gaps(row) -> list[str]:
    from lowbit.models.cost import area
    if not any(record["design"] == row.rtl_design for record in area.load_records()):
        return [f"synthesis records of {row.rtl_design} in {area.SYNTH_PATH.name} "
                f"(run `lowbit synth`)"]
    return []


def _rank_gaps(row) -> list[str]:
    from lowbit.models import evaluator
    if not any(evaluator.applies(scheme, row.name) for scheme in quant.preset_names()):
        return ["preset that runs on it (lowbit.models.evaluator.applies)"]
    return []


def _rtl_gaps(row) -> list[str]:
    from lowbit.rtl import registry
    from lowbit.rtl.verify import benches
    if row.rtl_design not in registry.names():
        return [f"RTL design {row.rtl_design!r} in lowbit.rtl.registry"]
    design = registry.get(row.rtl_design)
    gaps = []
    if not row.rtl_per_lane and design.config is not row.config:
        gaps.append(f"RTL design {row.rtl_design} built from {row.config.__name__}")
    try:
        benches.make_bench(row.rtl_design, design.configs[0], seed=0, vectors=4)
    except Exception as exc:
        gaps.append(f"verify bench for {row.rtl_design} ({type(exc).__name__}: {exc})")
    return gaps


LAYERS = (_hwsim_gaps, _cost_gaps, _area_gaps, _rank_gaps, _rtl_gaps)


def coverage_gaps(rows) -> list[str]:
    """'<kind>: no <what>' for every layer that does not cover a row."""
    return [f"{row.name}: no {gap}" for row in rows for layer in LAYERS for gap in layer(row)]


def test_every_layer_covers_every_pe_kind():
    assert coverage_gaps(kinds.KINDS.values()) == []


def test_a_kind_missing_a_design_a_bench_and_an_energy_rule_is_named():
    def no_rule(ops, config, w_bits):
        raise NotImplementedError("no MAC-energy rule")
    row = dataclasses.replace(kinds.get("int_mac"), name="systolic", rtl_design="systolic_pe",
                              mac_energy=no_rule)
    kinds_with_it = {**kinds.KINDS, "systolic": row}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kinds, "KINDS", kinds_with_it)
        gaps = coverage_gaps([row])
    assert "systolic: no MAC-energy rule (no MAC-energy rule)" in gaps
    assert "systolic: no RTL design 'systolic_pe' in lowbit.rtl.registry" in gaps
    assert any(gap.startswith("systolic: no synthesis records of systolic_pe") for gap in gaps)
    assert "systolic: no preset that runs on it (lowbit.models.evaluator.applies)" not in gaps


def test_registry_lookups_name_the_allowed_values():
    assert kinds.names()[:5] == ("int_mac", "lut", "shift_add", "bit_serial", "fp8_mac")
    with pytest.raises(ValueError, match=f"pe must be one of {', '.join(kinds.names())}, "
                                         f"got 'systolic'"):
        kinds.get("systolic")
    with pytest.raises(ValueError, match="config must be one of IntMacPEConfig, .*got dict"):
        kinds.for_config({})
