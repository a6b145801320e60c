"""`lowbit compare`: roofline predictions beside the recorded GPU benchmark results.

    lowbit compare [--results DIR] [--out DIR]

For every recorded run in DIR (default kernels/results/): a table of measured vs predicted time
per kernel and shape (in-sample and held-out, leave one shape out), both median absolute
relative errors, the verdict on the goal (judged on the held-out median), and a PNG plot
(held-out prediction vs measured) in --out (default results/compare/). Without recorded runs
it says so and exits 1.
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "set the GPU roofline predictions beside the recorded GPU benchmark results"
COLUMNS = ("kernel", "op_class", "m", "k", "n", "measured_s", "predicted_s", "rel_error",
           "held_out_s", "held_out_error", "bound")


def configure(parser) -> None:
    parser.add_argument("--results", default=None,
                        help="folder of bench_*.csv files (default: kernels/results/)")
    parser.add_argument("--out", default="results/compare", help="folder for the PNG plots")


def _summary(result) -> str:
    from lowbit.models import compare
    model = result.model
    lines = [f"t_launch {model.launch_s * 1e6:.2f} us (fitted on the whole run); "
             f"in-sample median abs error {result.in_sample_median:.1%}"]
    goal = f"goal <= {compare.GOAL_MEDIAN_ERROR:.0%} on the held-out median: {result.verdict}"
    if result.has_held_out:
        lines.append(f"held-out (leave one shape out, {len(result.shapes)} shapes) median abs error "
                     f"{result.held_out_median:.1%} ({goal})")
    else:
        lines.append(goal)
    return "\n".join(lines)


def run(args) -> int:
    from lowbit.models import compare
    from lowbit.sweeps.commands.rank import print_table
    if args.results is not None and not Path(args.results).is_dir():
        # A mistyped path is bad usage (exit 2 through the CLI), not an empty record.
        raise ValueError(f"--results must be an existing folder of bench_*.csv files, "
                         f"got {args.results!r}")
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
        result = compare.compare_run(compare.read_rows(path))
        if result is None:
            print(f"{path.name}: no ok row with a measured peak for its class; skipped")
            continue
        print(f"{path.name} ({result.records[0]['device']}):")
        if not result.has_l2_term:
            print("note: this run has no l2_copy_gbps (recorded before the L2 measurement): "
                  "the L2 term is omitted from every prediction")
        print_table(result.records, COLUMNS)
        png = out / f"{path.stem}_roofline.png"
        compare.plot(result, png)
        print(f"{_summary(result)}; plot {png}")
    return 0
