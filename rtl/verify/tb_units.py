"""cocotb testbench of the arithmetic units: drive a list of input vectors, read the outputs.

The job (see :mod:`lowbit.rtl.verify.benches`) names the input ports, the output ports, whether the
unit is clocked, and the vectors (one value per input port). Combinational units are read 1 ns
after the inputs change; clocked units are driven at a falling edge and read at the next one,
i.e. after the rising edge that consumed the vector. Observed: one list of raw (unsigned)
output values per vector.
"""
from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge, Timer

from lowbit.rtl.verify.tb_io import check_widths, read_job, start_clock_and_reset, write_observed


@cocotb.test()
async def unit(dut):
    """Drive every vector of the job and record every output."""
    job = read_job()
    check_widths(dut, job["widths"])
    inputs = [getattr(dut, name) for name in job["inputs"]]
    outputs = [getattr(dut, name) for name in job["outputs"]]
    observed = []
    if job["clocked"]:
        await start_clock_and_reset(dut)
        settle = FallingEdge(dut.clk)
    else:
        settle = Timer(1, "ns")
    try:
        for vector in job["vectors"]:
            for port, value in zip(inputs, vector):
                port.value = value
            await settle
            observed.append([int(port.value) for port in outputs])
    finally:
        write_observed({"outputs": observed})
