"""Critical paths (lowbit.rtl.timing): the longest-path rule on hand-made netlists, the committed
rtl/data/timing.json covers every design config, and a fresh yosys run reproduces an entry."""
import dataclasses
from fractions import Fraction

import pytest

from lowbit.rtl import registry, timing

NAND, NOT = Fraction(22, 15), Fraction(1)


def _cell(kind, **ports):
    directions = {port: ("output" if port in ("Y", "Q") else "input") for port in ports}
    return {"type": kind, "connections": ports, "port_directions": directions}


def _module(cells, inputs, outputs):
    ports = {f"i{n}": {"direction": "input", "bits": [bit]} for n, bit in enumerate(inputs)}
    ports |= {f"o{n}": {"direction": "output", "bits": [bit]} for n, bit in enumerate(outputs)}
    return {"ports": ports, "cells": cells}


def test_longest_path_ends_at_a_flip_flop_input():
    # a, b -> NAND -> NOT -> flip-flop D; flip-flop Q -> NOT -> y
    cells = {"n1": _cell("$_NAND_", A=[2], B=[3], Y=[4]), "n2": _cell("$_NOT_", A=[4], Y=[5]),
             "ff": _cell("$_DFF_P_", C=[7], D=[5], Q=[8]), "n3": _cell("$_NOT_", A=[8], Y=[6])}
    assert timing.critical_path_fo4(_module(cells, [2, 3, 7], [6])) == NAND + NOT


def test_longest_of_reconverging_paths_and_enable_inputs_count():
    # two NANDs in series reach the flip-flop's enable; the data input sees one inverter
    cells = {"n1": _cell("$_NAND_", A=[2], B=[3], Y=[4]), "n2": _cell("$_NAND_", A=[4], B=[2], Y=[5]),
             "n3": _cell("$_NOT_", A=[3], Y=[6]),
             "ff": _cell("$_SDFFE_PP0P_", C=[9], D=[6], E=[5], R=[3], Q=[10])}
    assert timing.critical_path_fo4(_module(cells, [2, 3, 9], [10])) == 2 * NAND


def test_a_cell_outside_the_model_is_refused():
    cells = {"x": _cell("$_XOR_", A=[2], B=[3], Y=[4])}
    with pytest.raises(ValueError, match=r"cell x of type \$_XOR_ has no delay"):
        timing.critical_path_fo4(_module(cells, [2, 3], [4]))


def test_committed_timing_covers_every_design_config():
    committed = timing.load()
    assert committed["tool"].startswith("Yosys ")
    assert committed["gate_fo4"] == {"$_NOT_": "1", "$_NAND_": "22/15"}
    for name in registry.names():
        entries = committed["designs"][name]
        assert [e["config"] for e in entries] == [dataclasses.asdict(c)
                                                  for c in registry.get(name).configs], name
        assert all(e["critical_path_fo4"] > 0 for e in entries)


def test_fresh_run_reproduces_a_committed_entry(tmp_path):
    design = registry.get("xnor_popcount")
    config = design.configs[0]
    module = timing.netlist("xnor_popcount", config, tmp_path)
    (entry,) = [e for e in timing.load()["designs"]["xnor_popcount"]
                if e["config"] == dataclasses.asdict(config)]
    assert float(timing.critical_path_fo4(module)) == entry["critical_path_fo4"]
