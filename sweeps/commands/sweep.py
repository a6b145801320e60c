"""``lowbit sweep``: explore a design space and report which schemes win.

With no arguments it runs the built-in ``default`` config on every local core and writes
results/default/: points.jsonl (the resumable store), table.csv, pareto_*.png, gpu_vs_sim.png
(when recorded GPU results exist) and report.md. ``--fidelity-model WORKLOAD=MODEL`` names the
causal LM that measures an LLM workload's fidelity, as the config's ``[fidelity_models]`` does.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

HELP = "explore a design space and report which schemes win (default: built-in sweep)"
STORE_NAME = "points.jsonl"
_SCHEDULER = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s:/]+(:\d+)?$")


def configure(parser) -> None:
    parser.add_argument("--config", default="default", metavar="PATH|NAME",
                        help="a TOML file, or the name of a built-in config in sweeps/configs "
                             "(default: %(default)s)")
    parser.add_argument("--out", metavar="DIR",
                        help="results directory (default: results/<config name>)")
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--workers", type=int, metavar="N",
                         help="run on a local Dask cluster of N worker processes "
                              "(default: a local process pool, one process per core)")
    backend.add_argument("--scheduler", metavar="ADDR",
                         help="run on the Dask scheduler at ADDR, e.g. tcp://HOST:8786 (its "
                              "workers need this project installed)")
    from lowbit.sweeps.runner import LOST_WORKER_TIMEOUT_S
    parser.add_argument("--lost-worker-timeout", type=float, metavar="SECONDS",
                        help=f"Dask only: give up (keeping every finished point) once the "
                             f"cluster has had no worker for SECONDS "
                             f"(default: {LOST_WORKER_TIMEOUT_S:g})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", dest="fresh", action="store_false", default=False,
                      help="skip points already in the results store (the default)")
    mode.add_argument("--fresh", dest="fresh", action="store_true",
                      help="discard the results store and evaluate every point again (after "
                           "the evaluator, its data or the synthesis results changed)")
    parser.add_argument("--fidelity-model", action="append", default=[],
                        metavar="WORKLOAD=MODEL",
                        help="measure WORKLOAD's fidelity on MODEL: a local causal LM (model "
                             "folder or .gguf file) or 'smollm2'; LLM workloads only; adds to "
                             "or replaces the config's [fidelity_models]; repeatable")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="evaluate at most N pending points (for trying a config)")


def run(args) -> int:
    _check_args(args)
    from lowbit.sweeps import config as sweep_config, evaluator as evaluators
    try:
        config = sweep_config.load(args.config)
        evaluator = evaluators.load(config.evaluator)
        config = sweep_config.with_fidelity_models(config, args.fidelity_model,
                                                   "--fidelity-model")
    except ImportError as exc:
        print(f"lowbit sweep: cannot load the evaluator: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else Path("results") / config.name
    try:
        outcome = _evaluate(config, out, args)
    except ConnectionError as exc:
        print(f"lowbit sweep: {exc}", file=sys.stderr)
        return 1
    _write_outputs(config, evaluator, out)
    if outcome.broken:
        print(f"lowbit sweep: stopped: {outcome.broken}; run again to resume", file=sys.stderr)
    for label, message in outcome.failures:
        print(f"lowbit sweep: failed: {label}: {message}", file=sys.stderr)
    return 0 if outcome.ok else 1


def _check_args(args) -> None:
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be a positive integer, got {args.limit}")
    if args.lost_worker_timeout is not None:
        if not (args.scheduler or args.workers):
            raise ValueError("--lost-worker-timeout applies to a Dask sweep only "
                             "(--workers N or --scheduler ADDR)")
        from lowbit.sweeps.runner import checked_seconds
        checked_seconds(args.lost_worker_timeout, "--lost-worker-timeout")
    if args.scheduler is not None and not _SCHEDULER.match(args.scheduler):
        raise ValueError(f"--scheduler must be an address like tcp://HOST:PORT, "
                         f"got {args.scheduler!r}")


def _evaluate(config, out: Path, args):
    from lowbit.sweeps import runner
    from lowbit.sweeps.store import Store

    with Store(out / STORE_NAME) as store:
        if args.fresh:
            store.clear()
        if args.scheduler or args.workers:
            timeout = args.lost_worker_timeout or runner.LOST_WORKER_TIMEOUT_S
            backend = runner.dask_executor(scheduler=args.scheduler, workers=args.workers,
                                           lost_worker_timeout=timeout)
        else:
            backend = runner.local_executor()
        with backend as executor:
            return runner.run(config, store, executor, limit=args.limit)


def _write_outputs(config, evaluator, out: Path) -> None:
    from lowbit.sweeps import grid, plots, report, store

    points, dropped = grid.expand(config, evaluator.applies)
    records = store.read(out / STORE_NAME)
    rows = report.table_rows(config, records, points)
    not_applicable = report.count_not_applicable(config, records, points)
    pending = len(points) - len(rows) - not_applicable
    report.write_table(rows, out / "table.csv")
    pareto_front = evaluator.pareto_front
    groups = report.contexts(config, rows)
    names = plots.pareto_plots(groups, pareto_front, config.report, out)
    gpu_name, gpu_note = plots.gpu_plot(groups, out)
    names += [gpu_name] if gpu_name else []
    report.write_report(config, rows, pareto_front, out / "report.md",
                        skipped=dropped + not_applicable, plots=names, gpu_note=gpu_note)
    print(f"lowbit sweep: {len(rows)} designs in {out}/table.csv ({dropped + not_applicable} "
          f"points not applicable, {pending} not evaluated yet); wrote {out}/report.md and "
          f"{len(names)} plot(s)", file=sys.stderr)
    print(f"lowbit sweep: GPU: {gpu_note}", file=sys.stderr)
