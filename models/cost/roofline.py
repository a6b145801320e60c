"""GPU roofline: a kernel's time predicted from the bytes it moves and the operations it does.

    t = t_launch + max(hbm_bytes / copy_bw, l2_bytes / l2_bw, ops / peak[op_class])

for Y[M, N] = X[M, K] @ W[N, K]^T, with
  ops        2 M N K
  hbm_bytes  what the kernel must move at least once: the weight bytes it reads (codes + scales
             + zero points, as recorded) + activations M K act_bytes + outputs M N out_bytes
  l2_bytes   what its blocks pull through L2. A block owns an output tile of m_tile activation
             rows x n_tile weight rows and reads all K of both, so every row of blocks (one M
             tile) reads all the weights and every column (one N tile) all the activations:
             weight_bytes ceil(M / m_tile) + M K act_bytes ceil(N / n_tile) + M N out_bytes.
             Only for our kernels, whose launch takes its grid from the tile shape the model
             reads (lowbit.kernels.registry.tile_shape); cuBLAS and torch choose their tiling internally
             and do not expose it, so a peer gets no L2 term. Pre-passes (activation bit-planes,
             popcounts) are not counted.
Every parameter but one is *measured* in the same benchmark run (kernels/results/, schema in
its README), none is taken from a datasheet:
  copy_bw     measured: device-to-device copy of 1 GiB (``copy_gbps``, bytes read + written)
  l2_bw       measured: the same copy on a buffer pair that fits in L2 (``l2_copy_gbps``); runs
              recorded before that column existed lack it, and then the L2 term is omitted
  peak        measured: per operation class, the highest throughput (``tops``) a vendor peer
              reached in the run: cuBLAS fp16 for fp16 math, torch._int_mm for int8,
              torch._scaled_mm for fp8; binary (no peer) uses the best of our a1w1 rows
  t_launch    fitted, the only fitted constant: the median over the rows it is fitted on of the
              time spent beyond the roof, median(measured - max(...)), floored at 0: the fixed
              cost of a launch and its tail, which dominates at M = 1 on small shapes (the
              median is the additive constant that minimizes the absolute error).
              lowbit.models.compare validates the model out of sample: leave one (K, N) shape out,
              take the peaks and fit t_launch on the other shapes' rows, predict the one left
              out.
Range: a roofline covers the M, K and N spans of the ok rows of its run and refuses (ValueError)
a prediction outside them rather than extrapolate.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from lowbit.kernels.registry import KERNELS, tile_shape

ACT_BYTES = {"fp16": 2.0, "int8": 1.0, "fp8": 1.0, "binary": 1 / 8}
OUT_BYTES = {"fp16": 2.0, "int8": 4.0, "fp8": 2.0, "binary": 4.0}
# operation class -> the kernel whose measured throughput is its peak (lowbit.kernels.registry
# names each family's class)
PEAK_KERNEL = {"fp16": "cublas_fp16", "int8": "torch_int_mm", "fp8": "torch_scaled_mm_fp8",
               "binary": "a1w1"}


def _check_class(op_class: str) -> None:
    if op_class not in ACT_BYTES:
        raise ValueError(f"op_class must be one of {', '.join(ACT_BYTES)}, got {op_class!r}")


def _check_tile(tile) -> None:
    if not (isinstance(tile, tuple) and len(tile) == 2
            and all(isinstance(t, int) and not isinstance(t, bool) and t > 0 for t in tile)):
        raise ValueError(f"tile must be (m_tile, n_tile), two positive ints, got {tile!r}")


def hbm_bytes(op_class: str, M: int, K: int, N: int, weight_bytes: float) -> float:
    """Bytes a GEMM kernel must move at least once: weights, activations, outputs."""
    _check_class(op_class)
    return weight_bytes + M * K * ACT_BYTES[op_class] + M * N * OUT_BYTES[op_class]


def l2_bytes(op_class: str, M: int, K: int, N: int, weight_bytes: float,
             tile: tuple[int, int]) -> float:
    """Bytes the blocks of a kernel tiled ``tile`` = (m_tile, n_tile) pull through L2: weights
    once per M tile, activations once per N tile, outputs once."""
    _check_class(op_class)
    _check_tile(tile)
    m_tile, n_tile = tile
    return (weight_bytes * math.ceil(M / m_tile) + M * K * ACT_BYTES[op_class] * math.ceil(N / n_tile)
            + M * N * OUT_BYTES[op_class])


@dataclass(frozen=True)
class Prediction:
    """A predicted kernel time and the term of the max that bound it: "memory" (HBM bytes),
    "l2" (L2 bytes) or "compute" (operations)."""
    seconds: float
    bound: str


@dataclass(frozen=True, kw_only=True)
class Roofline:
    """Roofline parameters of one benchmark run (SI units) and the M, K, N spans it covers.
    ``l2_bandwidth_bytes_per_s`` is NaN when the run did not measure it (no L2 term then)."""
    bandwidth_bytes_per_s: float
    l2_bandwidth_bytes_per_s: float
    peak_ops_per_s: dict
    launch_s: float
    m_range: tuple[int, int]
    k_range: tuple[int, int]
    n_range: tuple[int, int]

    def __post_init__(self):
        if not self.bandwidth_bytes_per_s > 0:
            raise ValueError(f"bandwidth_bytes_per_s must be > 0, got {self.bandwidth_bytes_per_s!r}")
        if not (self.l2_bandwidth_bytes_per_s > 0 or math.isnan(self.l2_bandwidth_bytes_per_s)):
            raise ValueError(f"l2_bandwidth_bytes_per_s must be > 0, or NaN when not measured, "
                             f"got {self.l2_bandwidth_bytes_per_s!r}")
        if not self.launch_s >= 0:
            raise ValueError(f"launch_s must be >= 0, got {self.launch_s!r}")
        for name in ("m_range", "k_range", "n_range"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be (low, high) with 1 <= low <= high, got {(low, high)}")

    def predict(self, op_class: str, M: int, K: int, N: int, weight_bytes: float,
                tile: tuple[int, int] | None = None) -> Prediction:
        """Predicted kernel time and its bound. ``tile`` = (m_tile, n_tile) of our kernel's
        launch, None for a peer (no L2 term). ValueError for a class with no measured peak or an
        M, K or N outside the run's range."""
        _check_class(op_class)
        for name, value, (low, high) in (("M", M, self.m_range), ("K", K, self.k_range),
                                         ("N", N, self.n_range)):
            if not low <= value <= high:
                raise ValueError(f"{name}={value} is outside the range of the run this roofline "
                                 f"was fitted on ({name} in {low}..{high}); it does not "
                                 f"extrapolate")
        peak = self.peak_ops_per_s.get(op_class, math.nan)
        if not peak > 0:
            raise ValueError(f"op_class {op_class!r} has no measured peak in this run "
                             f"(measured: {', '.join(sorted(self.peak_ops_per_s)) or 'none'})")
        terms = {"memory": hbm_bytes(op_class, M, K, N, weight_bytes) / self.bandwidth_bytes_per_s,
                 "compute": 2.0 * M * N * K / peak}
        if tile is not None and self.l2_bandwidth_bytes_per_s > 0:
            terms["l2"] = l2_bytes(op_class, M, K, N, weight_bytes, tile) / self.l2_bandwidth_bytes_per_s
        bound = max(terms, key=terms.get)
        return Prediction(seconds=self.launch_s + terms[bound], bound=bound)


def row_case(row: dict) -> tuple[str, int, int, int, float, tuple[int, int] | None]:
    """(op_class, M, K, N, weight_bytes, tile) of a benchmark row of a kernel in
    lowbit.kernels.registry.KERNELS: the arguments of Roofline.predict."""
    spec = KERNELS[row["kernel"]]
    M = int(row["m"])
    return (spec.op_class, M, int(row["k"]), int(row["n"]), row["weight_bytes"],
            tile_shape(spec, M))


def predict_row(model: Roofline, row: dict) -> Prediction:
    """The model's prediction for a benchmark row (one of predictable_rows)."""
    return model.predict(*row_case(row))


def predictable_rows(model: Roofline, rows: list[dict]) -> list[dict]:
    """The ok rows of kernels in lowbit.kernels.registry.KERNELS whose class has a measured peak."""
    return [row for row in rows if row["status"] == "ok" and row["kernel"] in KERNELS
            and KERNELS[row["kernel"]].op_class in model.peak_ops_per_s]


def _median_positive(values) -> float:
    """Median of the positive values (NaN and missing ones skipped); NaN when there is none."""
    kept = [v for v in values if v > 0]
    return statistics.median(kept) if kept else math.nan


def measured_roofline(rows: list[dict]) -> Roofline:
    """The measured part of one run's roofline (launch_s = 0), from its benchmark rows (dicts
    with the CSV columns, numbers already parsed; l2_copy_gbps may be absent). ValueError when
    the run has no ok row or no copy bandwidth."""
    ok = [row for row in rows if row["status"] == "ok"]
    if not ok:
        raise ValueError("rows hold no 'ok' measurement to fit a roofline to")
    bandwidth = _median_positive(row["copy_gbps"] for row in ok)
    if math.isnan(bandwidth):
        raise ValueError("rows hold no positive copy_gbps (the measured bandwidth)")
    peaks = {}
    for op_class, kernel in PEAK_KERNEL.items():
        tops = [row["tops"] for row in ok if row["kernel"] == kernel and row["tops"] > 0]
        if tops:
            peaks[op_class] = max(tops) * 1e12

    def span(column):
        values = [int(row[column]) for row in ok]
        return (min(values), max(values))
    return Roofline(bandwidth_bytes_per_s=bandwidth * 1e9,
                    l2_bandwidth_bytes_per_s=_median_positive(row.get("l2_copy_gbps", math.nan)
                                                              for row in ok) * 1e9,
                    peak_ops_per_s=peaks, launch_s=0.0, m_range=span("m"), k_range=span("k"),
                    n_range=span("n"))


def with_fitted_launch(model: Roofline, rows: list[dict]) -> Roofline:
    """``model`` with launch_s fitted on ``rows`` alone (their predictable rows): the median
    time beyond the roof, floored at 0; 0 when no row is predictable."""
    roof = replace(model, launch_s=0.0)
    beyond = [row["median_us"] * 1e-6 - predict_row(roof, row).seconds
              for row in predictable_rows(roof, rows)]
    return replace(roof, launch_s=max(0.0, statistics.median(beyond)) if beyond else 0.0)


def fit(rows: list[dict]) -> Roofline:
    """The roofline of one run: measured parameters, launch_s fitted on all its rows."""
    return with_fitted_launch(measured_roofline(rows), rows)
