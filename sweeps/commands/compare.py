"""`lowbit compare`: roofline predictions beside the recorded GPU benchmark results.

    lowbit compare [--results DIR] [--out DIR]

For every recorded run in DIR (default kernels/results/): a table of measured vs predicted time
per kernel and shape, the median absolute relative error, and a PNG plot (predicted vs
measured) in --out (default results/compare/). Without recorded runs it says so and exits 1.
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "set the GPU roofline predictions beside the recorded GPU benchmark results"
COLUMNS = ("kernel", "op_class", "m", "k", "n", "measured_s", "predicted_s", "rel_error", "bound")


def configure(parser) -> None:
    parser.add_argument("--results", default=None,
                        help="folder of bench_*.csv files (default: kernels/results/)")
    parser.add_argument("--out", default="results/compare", help="folder for the PNG plots")


def run(args) -> int:
    from models import compare
    from sweeps.commands.rank import print_table
    files = compare.result_files(args.results)
    if not files:
        where = args.results or compare.RESULTS_DIR
        print(f"lowbit compare: no GPU benchmark results are recorded in {where} (no bench_*.csv; "
              f"run `lowbit bench` on a machine with a CUDA GPU): nothing to compare",
              file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in files:
        records = compare.compare_run(compare.read_rows(path))
        if not records:
            print(f"{path.name}: no ok row with a measured peak for its class; skipped")
            continue
        print(f"{path.name} ({records[0]['device']}):")
        print_table(records, COLUMNS)
        error = compare.median_error(records)
        verdict = "met" if error <= compare.GOAL_MEDIAN_ERROR else "not met"
        png = out / f"{path.stem}_roofline.png"
        compare.plot(records, png)
        print(f"median abs error {error:.1%} (goal <= {compare.GOAL_MEDIAN_ERROR:.0%}: {verdict}); "
              f"plot {png}")
    return 0
