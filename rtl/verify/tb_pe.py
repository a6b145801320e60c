"""cocotb testbench of the processing elements: a protocol driver and monitor.

The job holds packed beats [in_act, in_wgt, in_last, in_wbits] (followed by in_wfmt for a PE
with a runtime weight format, in_act_scale and in_wgt_scale for a PE with block scales), each
beat's earliest offer
cycle, and the cycle to stop at. Every cycle (at the falling edge before rising edge n) the
monitor reads in_ready, out_valid and out_data as their values at cycle n, and the driver
offers beat i (in_valid = 1) if n >= offers[i]; beat i transfers at n when in_ready is 1 too.
The driver holds a beat until it transfers and never offers beat i+1 before (protocol).
Observed: the transfer cycle of every beat and every (cycle, out_data) with out_valid = 1.
"""
from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge

from lowbit.rtl.verify.tb_io import check_widths, read_job, start_clock_and_reset, write_observed


@cocotb.test()
async def pe(dut):
    """Run the job's beat stream through the PE and record transfers and outputs."""
    job = read_job()
    check_widths(dut, job["widths"])
    beats, offers, stop = job["beats"], job["offers"], job["stop_cycle"]
    runtime_w_bits = "in_wbits" in job["widths"]
    runtime_w_format = "in_wfmt" in job["widths"]
    scaled = "in_act_scale" in job["widths"]
    accepts, outputs = [], []
    await start_clock_and_reset(dut)
    dut.in_valid.value = 0
    i, presented = 0, -1
    try:
        for cycle in range(stop):
            ready = int(dut.in_ready.value)
            if int(dut.out_valid.value):
                outputs.append([cycle, int(dut.out_data.value)])
            valid = i < len(beats) and cycle >= offers[i]
            if valid and presented != i:
                act, wgt, last, w_bits = beats[i][:4]
                extra = beats[i][4:]
                dut.in_act.value = act
                dut.in_wgt.value = wgt
                dut.in_last.value = last
                if runtime_w_bits:
                    dut.in_wbits.value = w_bits
                if runtime_w_format:
                    dut.in_wfmt.value, extra = extra[0], extra[1:]
                if scaled:
                    dut.in_act_scale.value, dut.in_wgt_scale.value = extra
                presented = i
            dut.in_valid.value = int(valid)
            if valid and ready:
                accepts.append(cycle)
                i += 1
            await FallingEdge(dut.clk)
    finally:
        write_observed({"accepts": accepts, "outputs": outputs})
