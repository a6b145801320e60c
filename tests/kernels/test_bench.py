"""lowbit.kernels.bench and ``lowbit bench``: the parts that need no GPU (argument checks, L2
rotation, derived columns, goal verdicts, CSV schema, which calls are checked and how, the
no-GPU exit)."""
from __future__ import annotations

import argparse
import csv
import math
from types import SimpleNamespace

import numpy as np
import pytest

from lowbit.kernels import bench, gpu_unavailable_reason, integer, reference, registry, weight_only
from lowbit.sweeps.cli import main as lowbit


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


class _FakeCopyGpu(_FakeGpu):
    """_FakeGpu plus the buffers and copy copy_seconds uses; a copy of n bytes per buffer takes
    a fixed gap_ms plus 2 n bytes at the true bandwidth (bytes read + written), as on a GPU."""
    uint8 = "uint8"

    def __init__(self, gap_ms: float, true_gbps: float):
        super().__init__(call_ms=0.0)
        self.gap_ms, self.true_gbps = gap_ms, true_gbps
        self.random = type("random", (), {"randint": staticmethod(lambda low, high, size, dtype: ("src", size))})

    def empty_like(self, src):
        return ("dst", src[1])

    def copyto(self, dst, src):
        assert dst == ("dst", src[1])
        self.clock_ms += self.gap_ms + 2 * src[1] / (self.true_gbps * 1e9) * 1e3
        self.log.append(("copy", src[1]))


def test_copy_bandwidth_is_the_slope_so_the_fixed_gap_cancels():
    gpu = _FakeCopyGpu(gap_ms=0.001, true_gbps=9000.0)
    nbytes = bench.l2_copy_bytes(50 * 2**20)
    assert nbytes == 50 * 2**20 // 8          # source + destination = a quarter of L2
    gbps = bench.copy_bandwidth_gbps(gpu, nbytes, gpu.hold, warmup=2, runs=5, batch_calls=3)
    assert gbps == pytest.approx(9000.0)
    for size in (nbytes, nbytes // 2):        # warm-up, enqueue probe, timed batches of each size
        assert gpu.log.count(("copy", size)) == 2 + 3 + 5 * 3
    one_size = 2 * nbytes / (bench.copy_seconds(gpu, nbytes, gpu.hold, warmup=2, runs=5, batch_calls=3)) / 1e9
    assert one_size < 0.8 * 9000.0            # what timing one size alone reads: 1 us of gap in 2.5 us
    with pytest.raises(ValueError, match="l2_bytes must be >= 8"):
        bench.l2_copy_bytes(4)


def test_copy_bandwidth_is_nan_when_the_larger_copy_is_not_slower():
    gpu = _FakeCopyGpu(gap_ms=0.001, true_gbps=math.inf)   # size-independent: no slope to read
    assert math.isnan(bench.copy_bandwidth_gbps(gpu, 1 << 20, gpu.hold, warmup=1, runs=2, batch_calls=1))


def test_measured_meta_records_both_ceilings(monkeypatch):
    gpu = _FakeCopyGpu(gap_ms=0.001, true_gbps=3000.0)
    monkeypatch.setattr(bench, "gpu_hold", lambda cp: gpu.hold)
    monkeypatch.setattr(bench, "COPY_BYTES", 1 << 24)       # a small stand-in for the 1 GiB copy
    calls = []

    def device_meta(cp, torch):
        calls.append(len(gpu.log))
        gpu.true_gbps = 9000.0                               # the L2 copy comes after the meta
        return {"device": "fake", "l2_bytes": 50 * 2**20}
    monkeypatch.setattr(bench, "device_meta", device_meta)
    meta = bench.measured_meta(gpu, None, bench.validated(_args()))
    assert meta["copy_gbps"] == pytest.approx(3000.0, abs=0.05)
    assert meta["l2_copy_gbps"] == pytest.approx(9000.0, abs=0.05)
    copies_before_meta = [entry for entry in gpu.log[:calls[0]] if entry[0] == "copy"]
    assert {size for _, size in copies_before_meta} == {1 << 24, 1 << 23}   # the clocks follow the HBM copy


# -- correctness checks of run_case, on the fake GPU ------------------------------------------------
class _FakeBenchGpu(_FakeGpu):
    """_FakeGpu plus the array functions run_case and check_case use, on numpy arrays (asnumpy
    is the identity)."""
    float16, int32, nan = np.float16, np.int32, np.nan
    full = staticmethod(np.full)
    asnumpy = staticmethod(np.asarray)

    def get_default_memory_pool(self):
        return SimpleNamespace(free_all_blocks=lambda: None)


_FAKE_TORCH = SimpleNamespace(cuda=SimpleNamespace(empty_cache=lambda: None))
_L2_BYTES = 1 << 20


def _run_case(monkeypatch, spec, k, n, m, build, checked):
    """bench.run_case on _FakeBenchGpu, with bench.Case replaced by ``build(k, n, m)`` ->
    (make, call, weight_bytes, set_bytes)."""
    gpu = _FakeBenchGpu(call_ms=0.01)
    monkeypatch.setattr(bench, "gpu_hold", lambda cp: cp.hold)
    monkeypatch.setattr(bench, "Case", lambda cp, torch, spec, k, n, m: SimpleNamespace(
        builder=lambda: build(k, n, m)))
    args = argparse.Namespace(warmup=1, runs=1, batch_calls=1)
    return bench.run_case(gpu, _FAKE_TORCH, spec, k, n, m, args, _L2_BYTES, checked)


def _recording_build(calls):
    """A builder whose call records (M, whether it was handed an out=) in ``calls``."""
    def build(k, n, m):
        def call(args, out=None):
            calls.append((m, out is not None))
            return out
        return (lambda: None), call, 0, 2 * _L2_BYTES
    return build


# M list of the issue's grid; the checked M per kernel: each launched variant, below and at a
# whole M tile (wq_gemm mt1 at 1 and 16, mt2 at 32, mt4 at 128; a1w1 popc at 1, mma at 16 and
# 128; lut lm1 at 1, lm8 at 16).
CHECKED_M = {"w4a16_g128": [1, 16, 32, 128], "w8a8": [1, 128], "a1w1": [1, 16, 128],
             "bitplane_w4a8": [1, 16], "lut_w4a8": [1, 16]}


def test_every_launched_variant_is_checked_once_per_shape(monkeypatch):
    monkeypatch.setattr(bench, "check_case", lambda cp, spec, args, out: "ok (not compared here)")
    ms = (1, 16, 32, 128, 1024, 4096)
    for name, want in CHECKED_M.items():
        spec, calls, checked = registry.KERNELS[name], [], set()
        for k, n in ((4096, 4096), (4096, 11008)):
            calls.clear()
            for m in ms:
                _run_case(monkeypatch, spec, k, n, m, _recording_build(calls), checked)
            got = sorted(m for m, with_out in calls if with_out)
            assert got == want, f"{name} K={k} N={n}: checked at M {got}, want {want}"
            timed = {registry.launched_kernel(spec, m) for m in ms if spec.max_m is None or m <= spec.max_m}
            assert {registry.launched_kernel(spec, m) for m in got} == timed, name


def test_peers_are_never_checked(monkeypatch):
    calls = []
    _run_case(monkeypatch, registry.KERNELS["cublas_fp16"], 4096, 4096, 1, _recording_build(calls), set())
    assert calls and not any(with_out for _, with_out in calls)
    assert bench.check_key(registry.KERNELS["cublas_fp16"], 4096, 4096, 1) is None


def _launch(spec, m, array):
    """Call ``spec``'s wrapper at this M on stand-in arrays (k = 256, n = 40)."""
    k, n = 256, 40
    if spec.family == "weight_only":
        bits, has_zp = weight_only.FORMATS[spec.fmt]
        groups = (n, k // (spec.group_size or k))
        w = weight_only.WeightOnlyLinear(fmt=spec.fmt, n=n, k=k, group_size=spec.group_size or k,
                                         packed=array((n, k * bits // 8), "uint8"), scales=array(groups, "float16"),
                                         zero_points=array(groups, "uint8") if has_zp else None)
        weight_only.linear(array((m, k), "float16"), w)
    elif spec.family == "int8":
        integer.int8_gemm(array((m, k), "int8"), array((n, k), "int8"))
    elif spec.family == "a1w1":
        integer.a1w1_gemm(array((m, k // 8), "uint8"), array((n, k // 8), "uint8"), k)
    else:
        planes = registry.plane_count(spec)
        w = integer.BitPlaneWeights(fmt=spec.fmt, n=n, k=k, n_planes=planes,
                                    planes=array((n * planes, k // 32), "uint32"))
        {"bitplane": integer.bitplane_gemm, "lut": integer.lut_gemm}[spec.family](array((m, k), "int8"), w)


@pytest.mark.parametrize("m", [1, 2, 15, 16, 17, 32, 33, 128, 4096])
def test_launched_kernel_is_the_kernel_the_wrapper_launches(launches, m):
    for spec in registry.KERNELS.values():
        if spec.peer:
            assert registry.launched_kernel(spec, m) is None
            continue
        launches.clear()
        _launch(spec, m, launches.array)
        assert launches[-1][1] == registry.launched_kernel(spec, m), (spec.name, m)


def test_int32_poison_is_outside_every_integer_result():
    # The widest integer result: K products of (-128)(-128) = 2^14 at the largest K accepted.
    assert 2**14 * integer.MAX_K < bench.POISON_INT32 <= np.iinfo(np.int32).max


def _int8_build(rng, behaviour):
    """int8_gemm stand-in. Handed no out=, it returns the correct product, as a kernel that wrote
    nothing would seem to when cupy.empty hands it memory holding an earlier correct result;
    handed an out=, it writes all of it ("correct"), nothing ("silent") or the checked slice only."""
    def build(k, n, m):
        a = rng.integers(-128, 128, (m, k)).astype(np.int8)
        b = rng.integers(-128, 128, (n, k)).astype(np.int8)

        def call(args, out=None):
            product = (args[0].astype(np.int64) @ args[1].astype(np.int64).T).astype(np.int32)
            if out is None:
                return product
            if behaviour == "correct":
                out[...] = product
            elif behaviour == "checked slice only":
                out[:bench.CHECK_ROWS, :bench.CHECK_COLS] = product[:bench.CHECK_ROWS, :bench.CHECK_COLS]
            return out
        return (lambda: (a, b)), call, n * k, 2 * _L2_BYTES
    return build


@pytest.mark.parametrize("behaviour,status,check", [
    ("correct", "ok", "ok bit-exact"),
    ("silent", "check failed", "FAILED 1400 of 1400 outputs never written (slice: 1024 of 1024 differ)"),
    ("checked slice only", "check failed", "FAILED 376 of 1400 outputs never written (slice: bit-exact)"),
])
def test_integer_check_writes_into_int32_poison(monkeypatch, rng, behaviour, status, check):
    row = _run_case(monkeypatch, registry.KERNELS["w8a8"], 64, 70, 20, _int8_build(rng, behaviour), set())
    assert (row.status, row.check) == (status, check)


def _weight_only_build(rng, behaviour):
    """linear stand-in for w4a16_g128, like _int8_build (float64 reference rounded to fp16)."""
    def build(k, n, m):
        packed = rng.integers(0, 256, (n, k // 2)).astype(np.uint8)
        scales = (rng.uniform(0.5, 1.0, (n, k // 128)) / 64).astype(np.float16)
        w = weight_only.weight_only_linear(packed, scales, fmt="int4", k=k, group_size=128)
        x = rng.standard_normal((m, k)).astype(np.float16)

        def call(args, out=None):
            y = reference.weight_only_reference(args[0], args[1]).astype(np.float16)
            if out is None:
                return y
            if behaviour == "correct":
                out[...] = y
            return out
        return (lambda: (x, w)), call, w.weight_bytes, 2 * _L2_BYTES
    return build


@pytest.mark.parametrize("behaviour,status", [("correct", "ok"), ("silent", "check failed")])
def test_fp16_check_writes_into_nan_poison(monkeypatch, rng, behaviour, status):
    row = _run_case(monkeypatch, registry.KERNELS["w4a16_g128"], 256, 70, 20, _weight_only_build(rng, behaviour), set())
    assert row.status == status, row.check
    if behaviour == "silent":
        assert row.check.startswith("FAILED 1400 of 1400 outputs NaN (never written, or written as NaN) "
                                 "(slice: rel_err=nan")


def test_l2_copy_bandwidth_is_recorded_beside_the_hbm_one():
    columns = bench.META_COLUMNS
    assert columns.index("l2_copy_gbps") == columns.index("copy_gbps") + 1


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
    assert table.splitlines() == ["     a  b", " 1.235  x", "10      longer"]


@pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a GPU is present: this checks the no-GPU exit")
def test_lowbit_bench_without_gpu_exits_1(capsys, tmp_path):
    assert lowbit(["bench", "--out", str(tmp_path)]) == 1
    assert "needs a CUDA GPU" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())                # no CSV without a measurement


def test_lowbit_bench_bad_argument_exits_2(capsys):
    assert lowbit(["bench", "--runs", "3"]) == 2
    assert "--runs must be >= 100" in capsys.readouterr().err


def _no_cupy(monkeypatch, reason="no CUDA device is visible (stand-in)"):
    """CuPy's device probe fails, as on a machine without a GPU, whatever this machine has."""
    from lowbit.kernels import _device

    def unavailable():
        raise _device.KernelUnavailable(reason)
    monkeypatch.setattr(_device, "cupy_module", unavailable)


def test_lowbit_bench_says_why_without_a_gpu_and_writes_nothing(monkeypatch, capsys, tmp_path):
    _no_cupy(monkeypatch)
    assert lowbit(["bench", "--out", str(tmp_path), "--kernels", "w8a8", "--m", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("the benchmark needs a CUDA GPU with CuPy and a CUDA build of torch: "
                   "no CUDA device is visible (stand-in)\n")
    assert list(tmp_path.iterdir()) == []


def test_lowbit_bench_needs_a_cuda_torch_too(monkeypatch, capsys, tmp_path):
    import torch

    from lowbit.kernels import _device
    monkeypatch.setattr(_device, "cupy_module", lambda: SimpleNamespace())   # CuPy "works"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert lowbit(["bench", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "the benchmark needs a CUDA GPU with CuPy and a CUDA build of torch: "
        f"torch {torch.__version__} has no CUDA device (the peers need one)\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["--kernels", "w8a8", "w3a16"], "--kernels: unknown ['w3a16']; choose from cublas_fp16, "),
    (["--m", "1", "0"], "--m values must be >= 1, got [1, 0]"),
    (["--shapes", "4096x0"], "--shapes entries must look like 4096x11008 (K x N), got '4096x0'"),
    (["--shapes", "4096x"], "--shapes entries must look like 4096x11008 (K x N), got '4096x'"),
    (["--batch-calls", "0"], "--batch-calls must be >= 1, got 0"),
    (["--warmup", "0"], "--warmup must be >= 1, got 0"),
])
def test_lowbit_bench_argument_errors_exit_2_before_looking_for_a_gpu(argv, message, monkeypatch,
                                                                        capsys):
    _no_cupy(monkeypatch)   # a bad argument is reported as such, with or without a GPU
    assert lowbit(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lowbit bench: error: {message}"), err
    assert err.count("\n") == 1 and "needs a CUDA GPU" not in err


def test_module_entry_point_reports_a_bad_argument_with_exit_2(capsys):
    assert bench.main(["--runs", "3"]) == 2
    assert capsys.readouterr().err == (
        "python -m lowbit.kernels.bench: error: --runs must be >= 100 (the median of at least 100 "
        "batches), got 3\n")


def test_lowbit_bench_argparse_rejects_a_non_integer(capsys):
    with pytest.raises(SystemExit) as exit_info:
        lowbit(["bench", "--m", "one"])
    assert exit_info.value.code == 2
    assert "argument --m: invalid int value: 'one'" in capsys.readouterr().err


def test_shapes_are_k_by_n_in_either_case():
    assert bench.validated(_args("--shapes", "4096X11008", "64x128")).shapes == [(4096, 11008), (64, 128)]
