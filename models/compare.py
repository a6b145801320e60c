"""Roofline predictions beside the recorded GPU benchmark results (kernels/results/).

Each recorded run (one ``bench_<device>_<stamp>.csv``) is fitted on its own measured
parameters (models.cost.roofline.fit) and every ok row of that run gets a predicted time; the
error of a row is |predicted - measured| / measured and a run is summarized by the median of its
errors (goal of issue 6: <= 15 %). Nothing here is measured: without recorded runs there is
nothing to compare, and the functions say so.
"""
from __future__ import annotations

import csv
import statistics
from pathlib import Path

from models.cost import roofline

RESULTS_DIR = Path(__file__).resolve().parents[1] / "kernels" / "results"
GOAL_MEDIAN_ERROR = 0.15
_NUMERIC = ("k", "n", "m", "median_us", "tops", "weight_bytes", "copy_gbps")


def result_files(directory: str | Path | None = None) -> list[Path]:
    """The recorded benchmark CSVs, sorted by name."""
    directory = Path(directory) if directory is not None else RESULTS_DIR
    return sorted(directory.glob("bench_*.csv"))


def read_rows(path: str | Path) -> list[dict]:
    """A benchmark CSV's rows with the numeric columns as numbers (empty or "nan" -> NaN)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            missing = [column for column in ("kernel", "status", *_NUMERIC) if column not in row]
            if missing:
                raise ValueError(f"path {path} lacks the columns {missing} of the bench schema "
                                 f"(kernels/results/README.md)")
            for column in _NUMERIC:
                row[column] = float(row[column]) if row[column] not in ("", None) else float("nan")
            rows.append(row)
    return rows


def compare_run(rows: list[dict]) -> list[dict]:
    """One record per ok row of one run: kernel, shape, op class, measured and predicted
    seconds, relative error and which roof bound the prediction."""
    from kernels.bench import KERNELS
    model = roofline.fit(rows)
    out = []
    for row in rows:
        if row["status"] != "ok" or row["kernel"] not in KERNELS:
            continue
        op_class = roofline.FAMILY_CLASS[KERNELS[row["kernel"]].family]
        if op_class not in model.peak_ops_per_s:
            continue  # no measured peak for this class in the run: nothing to predict with
        M, K, N = int(row["m"]), int(row["k"]), int(row["n"])
        predicted = model.predict(op_class, M, K, N, row["weight_bytes"])
        measured = row["median_us"] * 1e-6
        memory = roofline.kernel_bytes(op_class, M, K, N, row["weight_bytes"]) \
            / model.bandwidth_bytes_per_s
        bound = "memory" if memory >= 2.0 * M * N * K / model.peak_ops_per_s[op_class] \
            else "compute"
        out.append({"device": row.get("device", ""), "kernel": row["kernel"], "op_class": op_class,
                    "m": M, "k": K, "n": N, "measured_s": measured, "predicted_s": predicted,
                    "rel_error": abs(predicted - measured) / measured, "bound": bound})
    return out


def median_error(records: list[dict]) -> float:
    if not records:
        raise ValueError("records must not be empty")
    return statistics.median(record["rel_error"] for record in records)


def plot(records: list[dict], path: str | Path) -> None:
    """Predicted vs measured time per kernel and shape, log-log, with the y = x line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 6))
    for kernel in sorted({r["kernel"] for r in records}):
        mine = [r for r in records if r["kernel"] == kernel]
        ax.scatter([r["measured_s"] * 1e6 for r in mine], [r["predicted_s"] * 1e6 for r in mine],
                   label=kernel, s=18)
    times = [r[key] * 1e6 for r in records for key in ("measured_s", "predicted_s")]
    low, high = min(times) / 1.5, max(times) * 1.5
    ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="predicted = measured")
    ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high),
           xlabel="measured time (µs)", ylabel="roofline prediction (µs)",
           title=f"GPU roofline vs measurement, median error {median_error(records):.1%}")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
