"""kernels.bench and ``lowbit bench``: the parts that need no GPU (argument checks, L2
rotation, derived columns, goal verdicts, CSV schema, the no-GPU exit)."""
from __future__ import annotations

import csv
import math

import pytest

from kernels import bench, gpu_unavailable_reason
from sweeps.cli import main as lowbit


def _args(*argv):
    return bench.parse_args(list(argv))


def test_defaults_cover_the_issue_grid():
    args = bench.validated(_args())
    assert args.shapes == [(4096, 4096), (4096, 11008), (11008, 4096)]
    assert {1, 16, 128, 1024, 4096} <= set(args.m)
    assert any(17 <= m <= 32 for m in args.m)           # the MT = 2 weight-only kernels
    assert args.runs >= 100 and args.batch_calls >= 1
    assert {"cublas_fp16", "torch_int4pack_g128", "torch_int_mm", "torch_scaled_mm_fp8"} <= set(args.kernels)


@pytest.mark.parametrize("argv,message", [
    (["--runs", "99"], "--runs must be >= 100"),
    (["--kernels", "w3a16"], "--kernels: unknown"),
    (["--shapes", "4096by4096"], "--shapes entries must look like"),
    (["--m", "0"], "--m values must be >= 1"),
    (["--warmup", "0"], "--warmup must be >= 1"),
    (["--batch-calls", "0"], "--batch-calls must be >= 1"),
])
def test_bad_arguments(argv, message):
    with pytest.raises(ValueError, match=message):
        bench.validated(_args(*argv))


def test_rotation_defeats_l2():
    l2 = 50 * 2**20
    for set_bytes in (2**20, 22 * 2**20, 90 * 2**20, 2**31):
        count = bench.rotation_count(set_bytes, l2)
        assert count >= 2
        assert (count - 1) * set_bytes >= 2 * l2      # other sets touched between two uses
    with pytest.raises(ValueError, match="must be positive"):
        bench.rotation_count(0, l2)


class _FakeGpu:
    """A stand-in for cupy's device, events and timer plus a hold and rotating calls: every
    action goes to ``log``; the fake GPU clock advances ``call_ms`` per call and the hold's
    nanoseconds, and an event records the clock."""

    def __init__(self, call_ms: float):
        self.log, self.clock_ms, self.call_ms = [], 0.0, call_ms
        gpu = self

        class Event:
            def record(self):
                self.at = gpu.clock_ms
                gpu.log.append("event")

            def synchronize(self):
                gpu.log.append("sync")

        class Device:
            def synchronize(self):
                gpu.log.append("sync")

        self.cuda = type("cuda", (), {"Event": Event, "Device": Device,
                                      "get_elapsed_time": staticmethod(lambda s, e: e.at - s.at)})

    def call(self, index):
        def launch():
            self.clock_ms += self.call_ms
            self.log.append(index)
        return launch

    def hold(self, ns):
        self.clock_ms += ns * 1e-6
        self.log.append(("hold", ns))


def test_time_batches_queues_each_batch_behind_a_hold():
    gpu = _FakeGpu(call_ms=0.01)
    calls = [gpu.call(i) for i in range(3)]
    times = bench.time_batches(gpu, calls, gpu.hold, warmup=2, batches=4, batch_calls=5)
    assert times == pytest.approx([0.01] * 4)       # elapsed / batch_calls, the hold excluded
    log = gpu.log
    # warm-up covers every set, then one untimed batch measures the host's enqueue time.
    assert log[:10] == [0, 1, 2, "sync", 0, 1, 2, 0, 1, "sync"]
    rotation = [2, 0, 1] * 7                        # continues where the untimed batch stopped
    timed = log[10:]
    batch = 1 + 1 + 5 + 1                            # hold, start, calls, end
    assert len(timed) == 4 * batch + 1 and timed[-1] == "sync"
    for b in range(4):
        hold, start, *launched, end = timed[b * batch:(b + 1) * batch]
        assert hold[0] == "hold" and hold[1] >= bench.HOLD_MARGIN_NS
        assert start == end == "event"
        assert launched == rotation[5 * b:5 * b + 5]   # the rotation runs on across batches


def test_time_batches_and_hold_reject_bad_counts():
    gpu = _FakeGpu(call_ms=1.0)
    with pytest.raises(ValueError, match="batches and batch_calls must be >= 1"):
        bench.time_batches(gpu, [gpu.call(0)], gpu.hold, warmup=1, batches=0, batch_calls=5)
    with pytest.raises(ValueError, match="enqueue_seconds must be >= 0"):
        bench.hold_duration_ns(-1.0)
    assert bench.hold_duration_ns(1e-3) == 2_000_000 + bench.HOLD_MARGIN_NS


def _ok(kernel, k, n, m, us, weight_bytes=1000):
    return bench.Row(kernel, k, n, m, "ok", us, us, us, 100, 20, 3, weight_bytes=weight_bytes)


def test_derived_columns_and_goal_verdicts():
    k, n = 4096, 11008
    rows = [_ok("cublas_fp16", k, n, 1, 49.0, 2 * n * k), _ok("w4a16_g128", k, n, 1, 10.0, n * k // 2),
            _ok("w2a16_g128", k, n, 1, 8.0), _ok("cublas_fp16", k, n, 1024, 500.0),
            _ok("w8a8", k, n, 1024, 110.0), _ok("torch_int_mm", k, n, 1024, 100.0),
            bench.Row("w1a16_g128", k, n, 1, "error: boom")]
    bench.add_derived(rows)
    w4 = rows[1]
    assert w4.speedup_vs_cublas_fp16 == pytest.approx(4.9)
    assert w4.tops == pytest.approx(2 * n * k / 10e-6 / 1e12)
    assert w4.weight_gbps == pytest.approx(n * k / 2 / 10e-6 / 1e9)
    verdicts = {(g["goal"], g["k"], g["n"], g["m"]): (g["verdict"], g["measured"])
                for g in bench.evaluate_goals(rows, copy_gbps=2960.0)}
    assert verdicts[("W4A16 M=1 >= 4.5x cuBLAS fp16", k, n, 1)] == ("met", pytest.approx(4.9))
    frac = verdicts[("W4A16 M=1 >= 80% of copy bandwidth", k, n, 1)]
    assert frac[0] == "not met" and frac[1] == pytest.approx(w4.weight_gbps / 2960.0)
    assert verdicts[("W2A16 M=1 >= 7x cuBLAS fp16", k, n, 1)] == ("not met", pytest.approx(49 / 8))
    assert verdicts[("W1A16 M=1 >= 10x cuBLAS fp16", k, n, 1)][0] == "not measured"
    assert verdicts[("W8A8 within 10% of torch._int_mm at M>=1024", k, n, 1024)] == ("met", pytest.approx(100 / 110))
    assert verdicts[("A1W1 M=N=K=4096 >= 3x cuBLAS fp16 ops/s", 4096, 4096, 4096)][0] == "not measured"
    assert len(verdicts) == len(bench.goals())   # every cell reported


def test_csv_schema_round_trip(tmp_path):
    row = _ok("w4a16_g128", 4096, 4096, 1, 10.0)
    bench.add_derived([row])
    record = {**bench.asdict(row), **{c: f"v_{c}" for c in bench.META_COLUMNS}}
    path = tmp_path / "bench.csv"
    bench.write_csv(path, [record], bench.ROW_COLUMNS + bench.META_COLUMNS)
    with path.open() as fh:
        (read,) = list(csv.DictReader(fh))
    assert list(read) == bench.ROW_COLUMNS + bench.META_COLUMNS
    assert float(read["median_us"]) == 10.0 and read["device"] == "v_device"
    assert math.isnan(float(read["speedup_vs_cublas_fp16"]))   # no baseline row


def test_results_readme_documents_every_column():
    text = (bench.RESULTS_DIR / "README.md").read_text()
    for column in bench.ROW_COLUMNS + bench.META_COLUMNS:
        assert column in text, f"kernels/results/README.md does not document {column}"


def test_format_table_aligns_columns():
    table = bench.format_table([{"a": 1.23456, "b": "x"}, {"a": 10.0, "b": "longer"}], ["a", "b"])
    assert table.splitlines() == ["a      b", "1.235  x", "10     longer"]


@pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a GPU is present: this checks the no-GPU exit")
def test_lowbit_bench_without_gpu_exits_1(capsys, tmp_path):
    assert lowbit(["bench", "--out", str(tmp_path)]) == 1
    assert "needs a CUDA GPU" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())                # no CSV without a measurement


def test_lowbit_bench_bad_argument_exits_2(capsys):
    assert lowbit(["bench", "--runs", "3"]) == 2
    assert "--runs must be >= 100" in capsys.readouterr().err
