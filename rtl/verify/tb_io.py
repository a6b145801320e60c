"""The testbenches' side of the job files, kept free of heavy imports: Python started inside
the simulator imports roughly ten times slower than outside it, so the testbenches import
only cocotb and this module. Stimulus and hwsim expectations are computed by the runner
(outside the simulator); the testbench drives, observes and writes what it saw.

Cycle convention (lowbit.hwsim.pe.protocol): cycle 0 is the first rising edge after reset is released.
The testbenches drive inputs and sample outputs at falling edges: what they read at the falling
edge before rising edge n is the value "at cycle n" (registers settled since edge n-1) and what
they write there is sampled at edge n.
"""
from __future__ import annotations

import gc
import json
import os


def read_job() -> dict:
    """The job the runner wrote (path in LOWBIT_TB_JOB)."""
    with open(os.environ["LOWBIT_TB_JOB"]) as f:
        job = json.load(f)
    # The job is large and lives until the end: keep the garbage collector from walking it
    # again and again while the simulation allocates small objects every cycle.
    gc.freeze()
    return job


def write_observed(observed: dict) -> None:
    """What the design did (path in LOWBIT_TB_OBSERVED)."""
    with open(os.environ["LOWBIT_TB_OBSERVED"], "w") as f:
        json.dump(observed, f)


def check_widths(dut, widths: dict) -> None:
    """The testbench reads its sizes back from the design: every port must have the width the
    job (i.e. the config) says."""
    for port, width in widths.items():
        got = len(getattr(dut, port))
        if got != width:
            raise ValueError(f"port {port} is {got} bits wide, the config says {width}")


async def start_clock_and_reset(dut) -> None:
    """Start a 10 ns clock, hold reset for two edges, release it at a falling edge: the next
    rising edge is cycle 0."""
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, RisingEdge

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
