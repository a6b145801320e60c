"""Roofline predictions beside the recorded GPU benchmark results (kernels/results/).

Each recorded run (one ``bench_<device>_<stamp>.csv``) is fitted on its own measured
parameters (lowbit.models.cost.roofline) and every predictable ok row of that run gets a predicted
time; the error of a row is |predicted - measured| / measured and a run is summarized by the
median of its errors. The model's two data-derived parts, its one fitted constant t_launch
and its peaks (the best throughputs rows reached), are judged two ways:
  in-sample   fitted on every row of the run, then predicting those same rows
  held-out    leave one shape out: for each (K, N) of the run, the roofline is built from the
              rows of the other shapes alone and predicts the rows of this one: t_launch is
              fitted on them, and the peaks are taken from them too, since a peak is the best
              throughput a row reached (a row that set the peak would otherwise predict
              itself). Only the range stays the whole run's, so the shape left out is inside it.
              A row whose operation class has no peak among the other shapes gets no held-out
              prediction (NaN) and is left out of the held-out median.
The goal of issue 6 (median error <= 15 %) is judged on the held-out median, which needs at
least two shapes in the run. Nothing here is measured: without recorded runs there is nothing
to compare, and the functions say so.
"""
from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from lowbit.models.cost import roofline

RESULTS_DIR = Path(__file__).resolve().parents[1] / "kernels" / "results"
GOAL_MEDIAN_ERROR = 0.15
MIN_HELD_OUT_SHAPES = 2
_NUMERIC = ("k", "n", "m", "median_us", "tops", "weight_bytes", "copy_gbps")
# Added to the bench schema later: runs recorded before lack it (read as NaN: no L2 term).
_OPTIONAL_NUMERIC = ("l2_copy_gbps",)


def result_files(directory: str | Path | None = None) -> list[Path]:
    """The recorded benchmark CSVs, sorted by name."""
    directory = Path(directory) if directory is not None else RESULTS_DIR
    return sorted(directory.glob("bench_*.csv"))


def _number(text) -> float:
    return float(text) if text not in ("", None) else math.nan


def read_rows(path: str | Path) -> list[dict]:
    """A benchmark CSV's rows with the numeric columns as numbers (empty, "nan" or an absent
    optional column -> NaN)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            missing = [column for column in ("kernel", "status", *_NUMERIC) if column not in row]
            if missing:
                raise ValueError(f"path {path} lacks the columns {missing} of the bench schema "
                                 f"(kernels/results/README.md)")
            for column in (*_NUMERIC, *_OPTIONAL_NUMERIC):
                row[column] = _number(row.get(column))
            rows.append(row)
    return rows


@dataclass(frozen=True)
class RunComparison:
    """One run's records (one per predictable ok row: kernel, op class, shape, measured,
    predicted in-sample and held-out, their relative errors, the bound), the model fitted on the
    whole run, and the two median errors. held_out_median is NaN when the run has fewer than
    MIN_HELD_OUT_SHAPES shapes (held_out_s and held_out_error are then NaN too)."""
    records: list[dict]
    model: roofline.Roofline
    shapes: tuple[tuple[int, int], ...]
    in_sample_median: float
    held_out_median: float

    @property
    def has_l2_term(self) -> bool:
        return not math.isnan(self.model.l2_bandwidth_bytes_per_s)

    @property
    def has_held_out(self) -> bool:
        return not math.isnan(self.held_out_median)

    @property
    def verdict(self) -> str:
        """"met" / "not met" on the held-out median, or why there is no verdict."""
        if not self.has_held_out:
            return (f"no verdict: held-out validation needs >= {MIN_HELD_OUT_SHAPES} shapes (K, N), "
                    f"this run has {len(self.shapes)}")
        return "met" if self.held_out_median <= GOAL_MEDIAN_ERROR else "not met"


def _shape(row: dict) -> tuple[int, int]:
    return int(row["k"]), int(row["n"])


def _fold(base: roofline.Roofline, run_rows: list[dict], shape: tuple[int, int]) -> roofline.Roofline:
    """The roofline of the run's rows of every shape but ``shape``: measured and fitted on them
    alone, with the whole run's range (``base``'s) so that ``shape`` is inside it."""
    others = [row for row in run_rows if _shape(row) != shape]
    measured = replace(roofline.measured_roofline(others), m_range=base.m_range,
                       k_range=base.k_range, n_range=base.n_range)
    return roofline.with_fitted_launch(measured, others)


def held_out_seconds(base: roofline.Roofline, run_rows: list[dict],
                     rows: list[dict]) -> list[float]:
    """Leave-one-shape-out prediction of each of ``rows`` (the predictable rows of ``run_rows``,
    the run ``base`` was measured on) from the rows of the other shapes alone; NaN for a row
    whose class has no measured peak on the other shapes."""
    predicted = {}
    for shape in sorted({_shape(row) for row in rows}):
        fold = _fold(base, run_rows, shape)
        for row in roofline.predictable_rows(fold, [row for row in rows if _shape(row) == shape]):
            predicted[id(row)] = roofline.predict_row(fold, row).seconds
    return [predicted.get(id(row), math.nan) for row in rows]


def compare_run(rows: list[dict]) -> RunComparison | None:
    """In-sample and held-out roofline predictions beside one run's measurements; None when no
    row of the run is predictable (no ok row at all, or none of a kernel whose class has a
    measured peak)."""
    if not any(row["status"] == "ok" for row in rows):
        return None   # a run whose every kernel failed has nothing to fit: skip it, not an error
    base = roofline.measured_roofline(rows)
    predictable = roofline.predictable_rows(base, rows)
    if not predictable:
        return None
    model = roofline.with_fitted_launch(base, predictable)
    shapes = tuple(sorted({_shape(row) for row in predictable}))
    held_out = (held_out_seconds(base, rows, predictable) if len(shapes) >= MIN_HELD_OUT_SHAPES
                else [math.nan] * len(predictable))
    records = []
    for row, held in zip(predictable, held_out):
        op_class, M, K, N, _, _ = roofline.row_case(row)
        prediction = roofline.predict_row(model, row)
        measured = row["median_us"] * 1e-6
        records.append({"device": row.get("device", ""), "kernel": row["kernel"],
                        "op_class": op_class, "m": M, "k": K, "n": N, "measured_s": measured,
                        "predicted_s": prediction.seconds,
                        "rel_error": abs(prediction.seconds - measured) / measured,
                        "held_out_s": held, "held_out_error": abs(held - measured) / measured,
                        "bound": prediction.bound})
    return RunComparison(records=records, model=model, shapes=shapes,
                         in_sample_median=median_error(records),
                         held_out_median=(median_error(records, "held_out_error")
                                          if len(shapes) >= MIN_HELD_OUT_SHAPES else math.nan))


def median_error(records: list[dict], column: str = "rel_error") -> float:
    """Median of ``column`` ("rel_error": in-sample, "held_out_error": held-out) over the
    records that have one (NaN when none has)."""
    if not records:
        raise ValueError("records must not be empty")
    if column not in ("rel_error", "held_out_error"):
        raise ValueError(f"column must be 'rel_error' or 'held_out_error', got {column!r}")
    # A held-out error is NaN where the other shapes had no peak for the row's class.
    errors = [record[column] for record in records if not math.isnan(record[column])]
    return statistics.median(errors) if errors else math.nan


def plot(result: RunComparison, path: str | Path) -> None:
    """Predicted vs measured time per kernel and shape, log-log, with the y = x line: held-out
    predictions when the run has them, else in-sample (the title says which)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    held_out = result.has_held_out
    key = "held_out_s" if held_out else "predicted_s"
    records = result.records
    fig, ax = plt.subplots(figsize=(7, 6))
    for kernel in sorted({r["kernel"] for r in records}):
        mine = [r for r in records if r["kernel"] == kernel]
        ax.scatter([r["measured_s"] * 1e6 for r in mine], [r[key] * 1e6 for r in mine],
                   label=kernel, s=18)
    times = [r[column] * 1e6 for r in records for column in ("measured_s", key)]
    low, high = min(times) / 1.5, max(times) * 1.5
    ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="predicted = measured")
    title = (f"GPU roofline vs measurement, held-out (leave one shape out) median error "
             f"{result.held_out_median:.1%}" if held_out else
             f"GPU roofline vs measurement, in-sample median error {result.in_sample_median:.1%}\n"
             f"(held-out needs >= {MIN_HELD_OUT_SHAPES} shapes)")
    ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high),
           xlabel="measured time (µs)",
           ylabel=f"roofline prediction, {'held-out' if held_out else 'in-sample'} (µs)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
