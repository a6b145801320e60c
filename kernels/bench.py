"""Benchmark the low-bit kernels against torch peers on one CUDA GPU: ``python -m lowbit.kernels.bench``.

Shapes (K, N) in SHAPES (the LLaMA-7B linears) x M in M_VALUES (the issue's grid plus M = 32,
which reaches the MT = 2 weight-only kernels). Every case is timed in batches: a spin kernel
holds the GPU while the host queues a start event, ``batch_calls`` calls back to back and an end
event, so the batch runs with a full queue and a ~10 us kernel is timed, not Python's launch
rate. The time per call is the median over ``runs`` (>= 100) batches of elapsed / batch_calls,
after ``warmup`` untimed calls. Calls rotate among enough input sets (activations, weights,
outputs) that the L2 cache cannot serve a repeat: between two uses of one set, more than twice
the L2 size of other data is touched. Peers in the same run: cuBLAS fp16 (torch.nn.functional.linear), torch's int4
weight-only kernel (torch._weight_int4pack_mm), torch._int_mm (int8) and torch._scaled_mm (fp8),
each where the build and shape allow it (otherwise its row says why not).

Before timing, each CUDA kernel a benchmarked wrapper launches (wq_gemm mt1 / mt2 / mt4, a1w1
popc / mma, lut lm1 / lm8, ...) is checked at each shape, once with M below one M tile and once
with M filling at least one (check_key): its output, first filled with a poison no correct
kernel writes, is compared with the host reference (lowbit.kernels.reference) on a slice and searched
for poison everywhere. A failed check is recorded and makes the run exit 1. Results: a CSV of
every case and a CSV of every goal cell (met or not) in the output folder (kernels/results/ by
default; schema in kernels/results/README.md), and printed tables.
Two copy bandwidths are recorded beside them, the ceilings of the GPU roofline
(lowbit.models.cost.roofline): HBM (a copy far larger than L2) and L2 (a copy that fits in it),
each the slope between two copy sizes so that a call's fixed cost does not count as time
moving bytes.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import itertools
import math
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from lowbit.kernels.registry import KERNELS, KernelSpec, launched_kernel, plane_count, tile_shape

SHAPES = ((4096, 4096), (4096, 11008), (11008, 4096))   # (K, N)
M_VALUES = (1, 16, 32, 128, 1024, 4096)
MIN_RUNS = 100                           # timed batches per case
BATCH_CALLS = 20                         # calls per timed batch (default)
HOLD_MARGIN_NS = 50_000                  # extra spin beyond twice the host's enqueue time
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHECK_ROWS, CHECK_COLS = 16, 64          # output slice checked against the host reference
# The checked call's out= is filled with poison, so an output the kernel never writes cannot
# pass as a stale copy of an earlier correct result (cupy.empty may reuse that memory). fp16:
# NaN, which the bench's small finite inputs never give. int32: INT32_MAX, beyond every integer
# kernel's range: |result| <= 2^14 * lowbit.kernels.integer.MAX_K = 2^31 - 2^14 (int8 x int8, the
# widest product).
POISON_INT32 = 2**31 - 1
COPY_BYTES = 1 << 30                     # device-to-device copy that measures the HBM ceiling
L2_COPY_FRACTION = 4                     # the L2 copy's source + destination = L2 bytes / this


def check_key(spec: KernelSpec, k: int, n: int, m: int) -> tuple | None:
    """What one correctness check covers; run_case checks each key once, at its first M. The
    launched kernel, since each variant is different code, and whether M fills one whole M
    tile, since below that every block takes the kernel's guarded partial-tile path (int8_gemm
    and a1w1 mma at M = 1 or 16, for instance, never run a full tile). None for a peer: cuBLAS
    and torch are not ours to check."""
    if spec.peer:
        return None
    return (spec.name, k, n, launched_kernel(spec, m), m >= tile_shape(spec, m)[0])


@dataclass(frozen=True)
class Goal:
    """A goal cell: ``kernel`` at (K, N, M) reaches ``target`` in ``metric``:
    "speedup" (cuBLAS fp16 time / kernel time), "copy_fraction" (weight bandwidth / measured
    copy bandwidth) or "peer_ratio" (peer time / kernel time, peer = ``peer``)."""
    name: str
    kernel: str
    metric: str
    target: float
    k: int
    n: int
    m: int
    peer: str | None = None


def goals() -> list[Goal]:
    """Every goal cell of issue 5, on every shape it names (M = 1 / 16 goals on all three)."""
    cells = []
    for k, n in SHAPES:
        cells += [Goal("W4A16 M=1 >= 4.5x cuBLAS fp16", "w4a16_g128", "speedup", 4.5, k, n, 1),
                  Goal("W4A16 M=1 >= 80% of copy bandwidth", "w4a16_g128", "copy_fraction", 0.8, k, n, 1),
                  Goal("W2A16 M=1 >= 7x cuBLAS fp16", "w2a16_g128", "speedup", 7.0, k, n, 1),
                  Goal("W1A16 M=1 >= 10x cuBLAS fp16", "w1a16_g128", "speedup", 10.0, k, n, 1),
                  Goal("W4A16 M=16 >= 3.5x cuBLAS fp16", "w4a16_g128", "speedup", 3.5, k, n, 16)]
        cells += [Goal("W8A8 within 10% of torch._int_mm at M>=1024", "w8a8", "peer_ratio", 0.9, k, n, m,
                       peer="torch_int_mm") for m in M_VALUES if m >= 1024]
    cells.append(Goal("A1W1 M=N=K=4096 >= 3x cuBLAS fp16 ops/s", "a1w1", "speedup", 3.0, 4096, 4096, 4096))
    return cells


@dataclass
class Row:
    """One CSV row: a kernel at one shape (schema: kernels/results/README.md)."""
    kernel: str
    k: int
    n: int
    m: int
    status: str                  # "ok", "skipped: ...", "unsupported: ...", "check failed: ..."
    median_us: float = math.nan
    p10_us: float = math.nan
    p90_us: float = math.nan
    runs: int = 0                # timed batches
    batch_calls: int = 0         # calls per batch
    rotation_sets: int = 0
    ops: float = 0.0             # 2*M*N*K
    tops: float = math.nan       # effective TFLOP/s (fp) or TOP/s (integer, binary)
    weight_bytes: int = 0
    weight_gbps: float = math.nan
    speedup_vs_cublas_fp16: float = math.nan
    check: str = ""


def rotation_count(set_bytes: int, l2_bytes: int) -> int:
    """Input sets to cycle through so that between two uses of a set more than 2 x L2 bytes of
    other sets are touched (at least 2 sets)."""
    if set_bytes <= 0 or l2_bytes <= 0:
        raise ValueError(f"set_bytes and l2_bytes must be positive, got {set_bytes}, {l2_bytes}")
    return max(2, 1 + math.ceil(2 * l2_bytes / set_bytes))


def summarize(times_ms: list[float]) -> tuple[float, float, float]:
    """(median, 10th, 90th percentile) in microseconds."""
    us = np.asarray(times_ms, dtype=np.float64) * 1e3
    return float(np.median(us)), float(np.percentile(us, 10)), float(np.percentile(us, 90))


def add_derived(rows: list[Row]) -> None:
    """Fill throughput, bandwidth and the speedup over cuBLAS fp16 at the same (K, N, M)."""
    fp16 = {(r.k, r.n, r.m): r.median_us for r in rows if r.kernel == "cublas_fp16" and r.status == "ok"}
    for r in rows:
        if r.status != "ok":
            continue
        r.ops = 2.0 * r.m * r.n * r.k
        r.tops = r.ops / (r.median_us * 1e-6) / 1e12
        r.weight_gbps = r.weight_bytes / (r.median_us * 1e-6) / 1e9
        base = fp16.get((r.k, r.n, r.m))
        if base is not None:
            r.speedup_vs_cublas_fp16 = base / r.median_us


def evaluate_goals(rows: list[Row], copy_gbps: float) -> list[dict]:
    """One record per goal cell: measured value, target, and "met" / "not met" / "not measured"."""
    by_key = {(r.kernel, r.k, r.n, r.m): r for r in rows}
    out = []
    for goal in goals():
        row = by_key.get((goal.kernel, goal.k, goal.n, goal.m))
        value = math.nan
        if row is not None and row.status == "ok":
            if goal.metric == "speedup":
                value = row.speedup_vs_cublas_fp16
            elif goal.metric == "copy_fraction":
                value = row.weight_gbps / copy_gbps if copy_gbps > 0 else math.nan
            else:
                peer = by_key.get((goal.peer, goal.k, goal.n, goal.m))
                if peer is not None and peer.status == "ok":
                    value = peer.median_us / row.median_us
        verdict = "not measured" if math.isnan(value) else ("met" if value >= goal.target else "not met")
        out.append({"goal": goal.name, "kernel": goal.kernel, "k": goal.k, "n": goal.n, "m": goal.m,
                     "metric": goal.metric, "target": goal.target, "measured": value, "verdict": verdict})
    return out


def format_table(records: list[dict], columns: list[str]) -> str:
    """A text table of ``records`` (tabulate's plain format, floats with 4 significant digits:
    the format of every table the lowbit commands print)."""
    from tabulate import tabulate
    return tabulate([[record.get(column) for column in columns] for record in records],
                    headers=columns, tablefmt="plain", floatfmt=".4g", missingval="")


ROW_COLUMNS = [f.name for f in fields(Row)]
META_COLUMNS = ["device", "sm_count", "l2_bytes", "sm_clock_mhz", "mem_clock_mhz", "max_sm_clock_mhz",
                "driver", "cuda_runtime", "torch", "torch_cuda", "cupy", "python", "copy_gbps", "l2_copy_gbps",
                "timestamp_utc"]


def write_csv(path: Path, records: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for rec in records:
            writer.writerow({c: rec.get(c, "") for c in columns})


# -- everything below runs on the GPU -----------------------------------------------------------

def _nvidia_smi(query: str) -> str:
    """Read-only query of the first GPU; "" when nvidia-smi is missing or fails."""
    try:
        done = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""


def device_meta(cp, torch) -> dict:
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    clocks = [v.strip() for v in _nvidia_smi("clocks.sm,clocks.mem,clocks.max.sm,driver_version").split(",")]
    clocks += [""] * (4 - len(clocks))
    name = props["name"]
    return {"device": name.decode() if isinstance(name, bytes) else name,
            "sm_count": props["multiProcessorCount"], "l2_bytes": props["l2CacheSize"],
            "sm_clock_mhz": clocks[0], "mem_clock_mhz": clocks[1], "max_sm_clock_mhz": clocks[2],
            "driver": clocks[3] or cp.cuda.runtime.driverGetVersion(),
            "cuda_runtime": cp.cuda.runtime.runtimeGetVersion(), "torch": torch.__version__,
            "torch_cuda": torch.version.cuda, "cupy": cp.__version__,
            "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "python": platform.python_version()}


def hold_duration_ns(enqueue_seconds: float) -> int:
    """How long the GPU must spin so the host can queue a whole batch before it starts: twice
    the host time one batch took to enqueue, plus a margin."""
    if not enqueue_seconds >= 0:
        raise ValueError(f"enqueue_seconds must be >= 0, got {enqueue_seconds!r}")
    return int(2 * enqueue_seconds * 1e9) + HOLD_MARGIN_NS


def time_batches(cp, calls, hold, *, warmup: int, batches: int, batch_calls: int) -> list[float]:
    """Per-call GPU times (ms), one per batch: CUDA-event time of ``batch_calls`` back-to-back
    calls divided by ``batch_calls``. Call i, counted over the warm-up, one untimed batch that
    measures the host's enqueue time, and the timed batches, uses input set i mod len(calls), so
    no set repeats sooner than the rotation allows. ``hold(ns)`` enqueues a GPU spin of ns
    nanoseconds; each timed batch is queued behind one, long enough (hold_duration_ns of the
    measured enqueue) that the host's launch overhead is hidden."""
    if batches < 1 or batch_calls < 1:
        raise ValueError(f"batches and batch_calls must be >= 1, got {batches}, {batch_calls}")
    rotation = itertools.cycle(calls)

    def launch(count: int) -> None:
        for _ in range(count):
            next(rotation)()

    launch(max(warmup, len(calls)))
    cp.cuda.Device().synchronize()
    started = time.perf_counter()
    launch(batch_calls)
    hold_ns = hold_duration_ns(time.perf_counter() - started)
    cp.cuda.Device().synchronize()
    events = [(cp.cuda.Event(), cp.cuda.Event()) for _ in range(batches)]
    for start, end in events:
        hold(hold_ns)
        start.record()
        launch(batch_calls)
        end.record()
    events[-1][1].synchronize()
    return [cp.cuda.get_elapsed_time(start, end) / batch_calls for start, end in events]


def gpu_hold(cp):
    """hold(ns): enqueue kernels/cuda/hold.cu's spin on the current stream."""
    from lowbit.kernels._device import kernel
    spin = kernel("hold.cu", "hold_ns")
    return lambda ns: spin((1,), (1,), (cp.uint64(ns),))


def copy_seconds(cp, nbytes: int, hold, *, warmup: int, runs: int, batch_calls: int) -> float:
    """Median GPU seconds of one device-to-device copy of ``nbytes`` (one source, one
    destination, the same pair every call), timed by time_batches behind ``hold``."""
    src = cp.random.randint(0, 255, nbytes, dtype=cp.uint8)
    dst = cp.empty_like(src)
    times = time_batches(cp, [lambda: cp.copyto(dst, src)], hold, warmup=warmup, batches=runs,
                         batch_calls=batch_calls)
    return summarize(times)[0] * 1e-6


def copy_bandwidth_gbps(cp, nbytes: int, hold, **timing) -> float:
    """GB/s of device-to-device copies, counting bytes read plus written, from the slope between a
    copy of ``nbytes`` per buffer and one of half that: a call takes t_fixed + 2 n / bandwidth,
    and t_fixed (the gap between back-to-back kernels, the last wave's tail: about a microsecond)
    cancels in the difference. It matters for the L2 copy, a few microseconds a call, where it
    would read ~30 % low otherwise. NaN when the larger copy did not time slower (noise above the
    difference); ``timing``: copy_seconds' warmup, runs, batch_calls."""
    half = nbytes // 2
    extra = copy_seconds(cp, nbytes, hold, **timing) - copy_seconds(cp, half, hold, **timing)
    return 2 * (nbytes - half) / extra / 1e9 if extra > 0 else math.nan


def l2_copy_bytes(l2_bytes: int) -> int:
    """Bytes per buffer of the L2 copy: source + destination = l2_bytes / L2_COPY_FRACTION, well
    inside L2, so after the warm-up every call is served by it."""
    if l2_bytes < 2 * L2_COPY_FRACTION:
        raise ValueError(f"l2_bytes must be >= {2 * L2_COPY_FRACTION}, got {l2_bytes}")
    return l2_bytes // (2 * L2_COPY_FRACTION)


def measured_meta(cp, torch, args: argparse.Namespace) -> dict:
    """device_meta plus the two bandwidth ceilings the roofline divides by: ``copy_gbps`` (HBM: a
    copy of COPY_BYTES, far larger than any L2) and ``l2_copy_gbps`` (a copy of
    l2_copy_bytes(L2 size)), rounded to 0.1 GB/s. The clocks are read right after the HBM copy
    kept the GPU busy."""
    hold = gpu_hold(cp)
    timing = {"warmup": args.warmup, "runs": args.runs, "batch_calls": args.batch_calls}
    copy_gbps = copy_bandwidth_gbps(cp, COPY_BYTES, hold, **timing)
    meta = device_meta(cp, torch)
    meta["copy_gbps"] = round(copy_gbps, 1)
    meta["l2_copy_gbps"] = round(copy_bandwidth_gbps(cp, l2_copy_bytes(meta["l2_bytes"]), hold, **timing), 1)
    return meta


class Case:
    """How to build input sets and call one (kernel, K, N, M), from fresh random device data."""

    def __init__(self, cp, torch, spec: KernelSpec, k: int, n: int, m: int):
        self.cp, self.torch, self.spec, self.k, self.n, self.m = cp, torch, spec, k, n, m

    # Each builder returns (make_set() -> args, call, weight_bytes, set_bytes): call(args) -> output;
    # ours take call(args, out=...) too, the output array to write (run_case's checked call).
    def builder(self):
        return getattr(self, f"_build_{self.spec.family}")()

    def _fp16_x(self):
        cp = self.cp
        return cp.random.standard_normal((self.m, self.k), dtype=cp.float32).astype(cp.float16)

    def _build_fp16(self):
        cp, torch, F = self.cp, self.torch, self.torch.nn.functional

        def make():
            w = (cp.random.standard_normal((self.n, self.k), dtype=cp.float32) * 0.02).astype(cp.float16)
            return torch.from_dlpack(self._fp16_x()), torch.from_dlpack(w)
        return make, lambda a: F.linear(a[0], a[1]), 2 * self.n * self.k, 2 * (self.m + self.n) * self.k

    def _weight_only(self):
        from lowbit.kernels.weight_only import FORMATS, WeightOnlyLinear
        cp, fmt = self.cp, self.spec.fmt
        bits, has_zp = FORMATS[fmt]
        group = self.spec.group_size or self.k
        packed = cp.random.randint(0, 256, (self.n, self.k * bits // 8), dtype=cp.uint8)
        if fmt == "float8_e4m3fn":  # no NaN codes: S.1111.111 -> S.1111.110
            packed = cp.where((packed & 0x7F) == 0x7F, packed ^ 1, packed).astype(cp.uint8)
        scales = (cp.random.uniform(0.5, 1.0, (self.n, self.k // group), dtype=cp.float32) / 64).astype(cp.float16)
        zp = cp.random.randint(0, 1 << bits, scales.shape, dtype=cp.uint8) if has_zp else None
        return WeightOnlyLinear(fmt=fmt, n=self.n, k=self.k, group_size=group, packed=packed, scales=scales,
                                zero_points=zp)

    def _build_weight_only(self):
        from lowbit.kernels.weight_only import linear, weight_bytes

        def make():
            return self._fp16_x(), self._weight_only()
        w_bytes = weight_bytes(self.spec.fmt, self.n, self.k, self.spec.group_size or self.k)
        return make, lambda a, out=None: linear(a[0], a[1], out=out), w_bytes, w_bytes + 2 * self.m * self.k

    def _build_int4pack(self):
        cp, torch = self.cp, self.torch
        group = self.spec.group_size

        def make():
            w = torch.from_dlpack(cp.random.randint(0, 256, (self.n, self.k // 2), dtype=cp.uint8))
            packed = torch._convert_weight_to_int4pack(w, 8)
            sz = torch.rand((self.k // group, self.n, 2), device="cuda", dtype=torch.bfloat16) / 64
            return torch.from_dlpack(self._fp16_x()).to(torch.bfloat16), packed, sz
        w_bytes = self.n * self.k // 2 + 4 * self.n * (self.k // group)
        return (make, lambda a: torch._weight_int4pack_mm(a[0], a[1], group, a[2]), w_bytes,
                w_bytes + 2 * self.m * self.k)

    def _int8(self, rows):
        return self.cp.random.randint(-128, 128, (rows, self.k), dtype=self.cp.int8)

    def _build_int_mm(self):
        torch = self.torch

        def make():
            return torch.from_dlpack(self._int8(self.m)), torch.from_dlpack(self._int8(self.n))
        return make, lambda a: torch._int_mm(a[0], a[1].t()), self.n * self.k, (self.m + self.n) * self.k

    def _build_int8(self):
        from lowbit.kernels.integer import int8_gemm

        def make():
            return self._int8(self.m), self._int8(self.n)
        return (make, lambda a, out=None: int8_gemm(a[0], a[1], out=out), self.n * self.k,
                (self.m + self.n) * self.k)

    def _build_fp8_scaled(self):
        torch = self.torch

        def make():
            x = torch.from_dlpack(self._fp16_x()).to(torch.float8_e4m3fn)
            w = torch.randn(self.n, self.k, device="cuda").to(torch.float8_e4m3fn)
            one = torch.ones((), device="cuda", dtype=torch.float32)
            return x, w, one
        return (make, lambda a: torch._scaled_mm(a[0], a[1].t(), a[2], a[2], out_dtype=torch.float16),
                self.n * self.k, (self.m + self.n) * self.k)

    def _build_a1w1(self):
        from lowbit.kernels.integer import a1w1_gemm, row_popcount
        cp = self.cp

        def make():
            a = cp.random.randint(0, 256, (self.m, self.k // 8), dtype=cp.uint8)
            b = cp.random.randint(0, 256, (self.n, self.k // 8), dtype=cp.uint8)
            return a, b, row_popcount(b, self.k)   # weight popcounts: computed once per weight
        return (make, lambda a, out=None: a1w1_gemm(a[0], a[1], self.k, b_popcount=a[2], out=out),
                self.n * self.k // 8, (self.m + self.n) * self.k // 8)

    def _plane_weights(self):
        from lowbit.kernels.integer import BitPlaneWeights
        n_planes = plane_count(self.spec)
        planes = self.cp.random.randint(0, 256, (self.n * n_planes, self.k // 8), dtype=self.cp.uint8)
        return BitPlaneWeights(fmt=self.spec.fmt, n=self.n, k=self.k, n_planes=n_planes,
                               planes=planes.view(self.cp.uint32))

    def _build_planes(self, fn):
        def make():
            return self._int8(self.m), self._plane_weights()
        w_bytes = self.n * self.k * plane_count(self.spec) // 8
        return make, lambda a, out=None: fn(a[0], a[1], out=out), w_bytes, w_bytes + self.m * self.k

    def _build_bitplane(self):
        from lowbit.kernels.integer import bitplane_gemm
        return self._build_planes(bitplane_gemm)

    def _build_lut(self):
        from lowbit.kernels.integer import lut_gemm
        return self._build_planes(lut_gemm)


def poisoned_output(cp, spec: KernelSpec, m: int, n: int):
    """The out= of a checked call of one of our kernels: [m, n] filled with poison (see
    POISON_INT32)."""
    if spec.family == "weight_only":
        return cp.full((m, n), cp.nan, dtype=cp.float16)
    return cp.full((m, n), POISON_INT32, dtype=cp.int32)


def unwritten_count(out) -> int:
    """Elements of a poisoned_output that still hold the poison (NaN: the value unequal to itself)."""
    poison = (out != out) if str(out.dtype) == "float16" else (out == POISON_INT32)
    return int(poison.sum())


def _slice_verdict(cp, spec: KernelSpec, args, out) -> tuple[bool, str]:
    """(ok, detail) of a slice of ``out`` against the host reference."""
    from lowbit.kernels import reference
    from lowbit.kernels.weight_only import FP16_REL_TOL
    rows, cols = min(CHECK_ROWS, args[0].shape[0]), CHECK_COLS
    got = cp.asnumpy(out[:rows, :cols])
    x = cp.asnumpy(args[0][:rows])
    if spec.family == "weight_only":
        w = args[1]
        host = replace(w, n=min(cols, w.n), packed=cp.asnumpy(w.packed[:cols]), scales=cp.asnumpy(w.scales[:cols]),
                       zero_points=None if w.zero_points is None else cp.asnumpy(w.zero_points[:cols]))
        ref = reference.weight_only_reference(x, host)
        err = float(np.linalg.norm(got.astype(np.float64) - ref) / np.linalg.norm(ref))
        return bool(np.isfinite(got).all()) and err <= FP16_REL_TOL, f"rel_err={err:.2e} (tol {FP16_REL_TOL:g})"
    if spec.family == "int8":
        ref = reference.int_matmul_reference(x, cp.asnumpy(args[1][:cols]))
    elif spec.family == "a1w1":
        ref = reference.int_matmul_reference(reference.binary_values(x, x.shape[1] * 8),
                                             reference.binary_values(cp.asnumpy(args[1][:cols]), x.shape[1] * 8))
    elif spec.family in ("bitplane", "lut"):
        w = args[1]
        host = replace(w, n=min(cols, w.n), planes=cp.asnumpy(w.planes[: cols * w.n_planes]))
        ref = reference.int_matmul_reference(x, reference.bitplane_values(host))
    else:
        raise ValueError(f"spec must be one of our kernels to be checked, got {spec.name} ({spec.family})")
    if np.array_equal(got.astype(np.int64), ref):
        return True, "bit-exact"
    return False, f"{int(np.sum(got != ref))} of {got.size} differ"


def check_case(cp, spec: KernelSpec, args, out) -> str:
    """Verdict on ``out``, a poisoned_output the call on ``args`` wrote: "ok ..." or "FAILED ...".
    A slice is compared with the host reference (bit for bit for integer outputs, within
    FP16_REL_TOL for fp16), and every element is searched for poison the kernel left."""
    ok, detail = _slice_verdict(cp, spec, args, out)
    unwritten = unwritten_count(out)
    if unwritten:
        # int32 poison lies outside every result; NaN poison is also what a kernel may compute
        left = "never written" if str(out.dtype) == "int32" else "NaN (never written, or written as NaN)"
        return f"FAILED {unwritten} of {out.size} outputs {left} (slice: {detail})"
    return f"{'ok' if ok else 'FAILED'} {detail}"


def run_case(cp, torch, spec: KernelSpec, k: int, n: int, m: int, args: argparse.Namespace, l2_bytes: int,
             checked: set) -> Row:
    if spec.max_m is not None and m > spec.max_m:
        return Row(spec.name, k, n, m, f"skipped: M > {spec.max_m} is outside this kernel's target range")
    try:
        key = check_key(spec, k, n, m)
        checking = key is not None and key not in checked
        make, call, weight_bytes, set_bytes = Case(cp, torch, spec, k, n, m).builder()
        sets = [make() for _ in range(rotation_count(set_bytes, l2_bytes))]
        out = call(sets[0], out=poisoned_output(cp, spec, m, n)) if checking else call(sets[0])
    except Exception as exc:  # a peer this torch build or shape lacks; for ours, a failure
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Row(spec.name, k, n, m, f"{'unsupported' if spec.peer else 'error'}: {reason[:160]}")
    check = ""
    if checking:
        checked.add(key)
        check = check_case(cp, spec, sets[0], out)
    times = time_batches(cp, [lambda s=s: call(s) for s in sets], gpu_hold(cp), warmup=args.warmup,
                         batches=args.runs, batch_calls=args.batch_calls)
    median, p10, p90 = summarize(times)
    status = "check failed" if check.startswith("FAILED") else "ok"
    n_sets = len(sets)
    del sets, out
    cp.get_default_memory_pool().free_all_blocks()
    torch.cuda.empty_cache()
    return Row(spec.name, k, n, m, status, median, p10, p90, args.runs, args.batch_calls, n_sets,
               weight_bytes=weight_bytes, check=check)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lowbit.kernels.bench", description=__doc__.splitlines()[0])
    configure(parser)
    return parser.parse_args(argv)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS), metavar="NAME",
                        help=f"kernels to run (default: all): {', '.join(KERNELS)}")
    parser.add_argument("--m", nargs="+", type=int, default=list(M_VALUES), help="batch sizes M")
    parser.add_argument("--shapes", nargs="+", default=[f"{k}x{n}" for k, n in SHAPES], metavar="KxN",
                        help="weight shapes K x N")
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"timed batches per case (>= {MIN_RUNS})")
    parser.add_argument("--batch-calls", type=int, default=BATCH_CALLS,
                        help=f"back-to-back calls per timed batch (>= 1, default {BATCH_CALLS})")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per case")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the CSV files")


def validated(args: argparse.Namespace) -> argparse.Namespace:
    """Check the arguments (ValueError naming the argument and the allowed values)."""
    unknown = [k for k in args.kernels if k not in KERNELS]
    if unknown:
        raise ValueError(f"--kernels: unknown {unknown}; choose from {', '.join(KERNELS)}")
    if any(m < 1 for m in args.m):
        raise ValueError(f"--m values must be >= 1, got {args.m}")
    shapes = []
    for text in args.shapes:
        parts = text.lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"--shapes entries must look like 4096x11008 (K x N), got {text!r}")
        shapes.append((int(parts[0]), int(parts[1])))
    args.shapes = shapes
    if args.runs < MIN_RUNS:
        raise ValueError(f"--runs must be >= {MIN_RUNS} (the median of at least {MIN_RUNS} batches), got {args.runs}")
    if args.batch_calls < 1:
        raise ValueError(f"--batch-calls must be >= 1, got {args.batch_calls}")
    if args.warmup < 1:
        raise ValueError(f"--warmup must be >= 1, got {args.warmup}")
    return args


def run(args: argparse.Namespace) -> int:
    """The benchmark; returns 0, or 1 when a kernel check failed or no GPU is available."""
    from lowbit.kernels._device import KernelUnavailable, cupy_module
    args = validated(args)
    try:
        cp = cupy_module()
        import torch
        if not torch.cuda.is_available():
            raise KernelUnavailable(f"torch {torch.__version__} has no CUDA device (the peers need one)")
    except (KernelUnavailable, ImportError) as exc:
        print(f"the benchmark needs a CUDA GPU with CuPy and a CUDA build of torch: {exc}", file=sys.stderr)
        return 1
    meta = measured_meta(cp, torch, args)
    print(f"device {meta['device']}, SM clock {meta['sm_clock_mhz']} MHz, copy {meta['copy_gbps']:.0f} GB/s, "
          f"L2 copy {meta['l2_copy_gbps']:.0f} GB/s", flush=True)
    names = ["cublas_fp16"] + [k for k in args.kernels if k != "cublas_fp16"]   # the baseline first
    rows, checked = [], set()
    for k, n in args.shapes:
        for m in args.m:
            for name in names:
                row = run_case(cp, torch, KERNELS[name], k, n, m, args, meta["l2_bytes"], checked)
                rows.append(row)
                print(f"{name:22s} K={k:<6d} N={n:<6d} M={m:<5d} {row.status:14.14s} {row.median_us:10.2f} us "
                      f"{row.check}", flush=True)
    add_derived(rows)
    goal_records = evaluate_goals(rows, meta["copy_gbps"])
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    slug = "".join(c if c.isalnum() else "_" for c in meta["device"]).strip("_")
    row_records = [{**asdict(r), **meta} for r in rows]
    write_csv(args.out / f"bench_{slug}_{stamp}.csv", row_records, ROW_COLUMNS + META_COLUMNS)
    write_csv(args.out / f"goals_{slug}_{stamp}.csv", [{**g, **meta} for g in goal_records],
              list(goal_records[0]) + META_COLUMNS)
    print(format_table(row_records, ["kernel", "k", "n", "m", "status", "median_us", "tops", "weight_gbps",
                                     "speedup_vs_cublas_fp16", "check"]))
    print(format_table(goal_records, ["goal", "k", "n", "m", "target", "measured", "verdict"]))
    print(f"wrote {args.out}/bench_{slug}_{stamp}.csv and goals_{slug}_{stamp}.csv")
    return 1 if any(r.status == "check failed" or r.status.startswith("error") for r in rows) else 0


def main(argv=None) -> int:
    try:
        return run(parse_args(argv))
    except ValueError as exc:
        print(f"python -m lowbit.kernels.bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
