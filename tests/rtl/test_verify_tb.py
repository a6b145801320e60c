"""The cocotb testbenches' own logic (lowbit.rtl.verify.tb_io, tb_units, tb_pe) without a
simulator: the job and observed files, the width check, and each testbench's coroutine driving a
fake design in Python, whose clock edges are the testbench's own awaits. The fake PE follows the
port protocol (lowbit.hwsim.pe.protocol), so the transfers and outputs the testbench records must
be the protocol's; the real designs are run by the runner under Icarus (test_verify_runner.py)."""
from __future__ import annotations

import asyncio
import gc
import json

import pytest

from lowbit.hwsim.pe import protocol
from lowbit.rtl.verify import tb_io, tb_pe, tb_units


class Port:
    """A port of the fake design: a width (len) and a value the testbench reads or writes."""

    def __init__(self, width: int, value: int = 0):
        self.width, self.value = width, value

    def __len__(self) -> int:
        return self.width


class Edge:
    """An awaitable standing in for a cocotb trigger: awaiting it runs ``step`` at once."""

    def __init__(self, step):
        self.step = step

    def __await__(self):
        self.step()
        return
        yield   # a generator, as __await__ must be


def test_job_and_observed_files(tmp_path, monkeypatch):
    job, observed = tmp_path / "job.json", tmp_path / "observed.json"
    job.write_text(json.dumps({"vectors": [[1, 2]], "widths": {"a": 8}}))
    monkeypatch.setenv("LOWBIT_TB_JOB", str(job))
    monkeypatch.setenv("LOWBIT_TB_OBSERVED", str(observed))
    try:
        assert tb_io.read_job() == {"vectors": [[1, 2]], "widths": {"a": 8}}
        assert gc.get_freeze_count() > 0   # the job is kept out of the collector's walks
    finally:
        gc.unfreeze()
    tb_io.write_observed({"outputs": [[3]]})
    assert json.loads(observed.read_text()) == {"outputs": [[3]]}


def test_check_widths():
    dut = type("Dut", (), {"a": Port(8), "out": Port(16)})()
    tb_io.check_widths(dut, {"a": 8, "out": 16})
    with pytest.raises(ValueError, match="^port out is 16 bits wide, the config says 17$"):
        tb_io.check_widths(dut, {"a": 8, "out": 17})


def _patch_io(testbench, job, monkeypatch):
    """The testbench module reads ``job``, writes into the returned dict and starts no clock
    (the reset is recorded in the returned list)."""
    observed, resets = {}, []

    async def no_clock(dut):
        resets.append(dut)
    monkeypatch.setattr(testbench, "read_job", lambda: job)
    monkeypatch.setattr(testbench, "write_observed", observed.update)
    monkeypatch.setattr(testbench, "start_clock_and_reset", no_clock)
    return observed, resets


def _run_testbench(testbench, dut, job, monkeypatch):
    """Run a cocotb test's coroutine on ``dut`` with ``job``; returns what it wrote and the
    designs it reset."""
    observed, resets = _patch_io(testbench, job, monkeypatch)
    test = testbench.unit if testbench is tb_units else testbench.pe
    asyncio.run(test.func(dut))
    return observed, resets


class FakeAdder:
    """A unit with inputs a, b and output total = a + b (8 bits, wrapped), combinational or
    registered (total updated at each clock edge)."""

    def __init__(self, clocked: bool):
        self.a, self.b, self.total, self.clk = Port(8), Port(8), Port(8), Port(1)
        self.clocked, self.edges = clocked, 0

    def settle(self):
        self.total.value = (self.a.value + self.b.value) & 0xFF
        self.edges += 1


@pytest.mark.parametrize("clocked", [False, True])
def test_unit_testbench_drives_every_vector_and_reads_after_it_settles(clocked, monkeypatch):
    dut = FakeAdder(clocked)
    monkeypatch.setattr(tb_units, "Timer", lambda *args: Edge(dut.settle))
    monkeypatch.setattr(tb_units, "FallingEdge", lambda clk: Edge(dut.settle))
    job = {"widths": {"a": 8, "b": 8, "total": 8}, "inputs": ["a", "b"], "outputs": ["total"],
           "clocked": clocked, "vectors": [[1, 2], [200, 100], [0, 0], [255, 1]]}
    observed, resets = _run_testbench(tb_units, dut, job, monkeypatch)
    assert observed == {"outputs": [[3], [44], [0], [0]]}
    assert dut.edges == 4                        # one settle per vector
    assert resets == ([dut] if clocked else [])  # a clocked unit is reset first


class FakePE:
    """A PE obeying the port protocol: in_ready while idle; a beat transferred at cycle t keeps
    it busy for ``occupancy(beat)`` cycles; after a last beat out_valid is 1 at exactly
    t + occupancy - 1 + LATENCY with the sum of the beats' in_act values, 0 otherwise."""

    def __init__(self, occupancy):
        self.occupancy = occupancy
        self.clk = Port(1)
        self.in_valid, self.in_ready, self.in_last = Port(1), Port(1, 1), Port(1)
        self.in_act, self.in_wgt, self.in_wbits = Port(8), Port(8), Port(4)
        self.out_valid, self.out_data = Port(1), Port(32)
        self.cycle, self.busy_until, self.acc, self.due = 0, 0, 0, {}

    def rising_edge(self):
        """Edge ``cycle``: take the offered beat if ready, then show the values of cycle + 1."""
        if self.in_valid.value and self.in_ready.value:
            beat = (self.in_act.value, self.in_wgt.value, self.in_last.value, self.in_wbits.value)
            occupancy = self.occupancy(beat)
            self.busy_until = self.cycle + occupancy
            self.acc += self.in_act.value
            if self.in_last.value:
                self.due[protocol.output_cycle(self.cycle, occupancy)] = self.acc
                self.acc = 0
        self.cycle += 1
        self.in_ready.value = int(self.cycle >= self.busy_until)
        self.out_valid.value = int(self.cycle in self.due)
        self.out_data.value = self.due.get(self.cycle, 0)


def _pe_job(beats, offers, stop, runtime_w_bits):
    widths = {"in_act": 8, "in_wgt": 8, **({"in_wbits": 4} if runtime_w_bits else {})}
    return {"widths": widths, "beats": beats, "offers": offers, "stop_cycle": stop}


@pytest.mark.parametrize("runtime_w_bits", [False, True])
def test_pe_testbench_records_the_protocols_transfers_and_outputs(runtime_w_bits, monkeypatch):
    # beats [in_act, in_wgt, in_last, in_wbits]; occupancy = in_wbits (a bit-serial-like PE),
    # offers that wait (beat 2 at 9) and offers already due (beat 3 at 0, behind a busy PE)
    beats = [[1, 0, 0, 3], [2, 0, 1, 1], [4, 0, 0, 2], [8, 0, 1, 4], [16, 0, 1, 1]]
    offers = [0, 0, 9, 0, 20]
    occupancy = (lambda beat: beat[3]) if runtime_w_bits else (lambda beat: 2)
    dut = FakePE(occupancy)
    monkeypatch.setattr(tb_pe, "FallingEdge", lambda clk: Edge(dut.rising_edge))
    observed, _ = _run_testbench(tb_pe, dut, _pe_job(beats, offers, 30, runtime_w_bits), monkeypatch)
    occupancies = [occupancy(beat) for beat in beats]
    accepts = protocol.accept_cycles(occupancies, offers)
    sums, outputs, acc = [], [], 0
    for beat, accept, occ in zip(beats, accepts, occupancies):
        acc += beat[0]
        if beat[2]:
            outputs.append([protocol.output_cycle(accept, occ), acc])
            acc = 0
    assert observed == {"accepts": accepts, "outputs": outputs}
    assert [value for _, value in outputs] == [3, 12, 16]


def test_pe_testbench_writes_what_it_saw_when_the_design_fails(monkeypatch):
    dut = FakePE(lambda beat: 1)
    edges = []

    def rising_edge():
        if len(edges) == 2:
            raise RuntimeError("simulator stopped")
        edges.append(dut.cycle)
        dut.rising_edge()
    monkeypatch.setattr(tb_pe, "FallingEdge", lambda clk: Edge(rising_edge))
    observed, _ = _patch_io(tb_pe, _pe_job([[5, 0, 1, 1]] * 3, [0, 0, 0], 10, False), monkeypatch)
    with pytest.raises(RuntimeError, match="simulator stopped"):
        asyncio.run(tb_pe.pe.func(dut))
    # cycles 0..2 were seen (the third edge raised): three transfers, outputs at cycles 1 and 2
    assert observed == {"accepts": [0, 1, 2], "outputs": [[1, 5], [2, 5]]}
