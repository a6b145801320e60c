"""Run a sweep's pending points on an executor and append each result to the store.

One code path for every backend: the runner takes any ``concurrent.futures.Executor``. Locally
that is a ``ProcessPoolExecutor`` (one process per core); on Dask it is the executor of a
``distributed.Client`` (``Client.get_executor``), connected to a scheduler address or to a
``LocalCluster`` this module starts. Workers only evaluate and return a record; the parent
process alone writes the store (see lowbit.sweeps.store for why that makes it loss-free).

Failures: an evaluator exception other than the evaluator's ``NotApplicable`` is reported with
its point and the sweep goes on (the point is not stored, so a rerun retries it); a local
worker that dies breaks the process pool, so the runner stops and reports it (finished points
are kept). On Dask a lost worker's tasks wait for another worker, so the runner reports each
lost worker and, once the cluster has had no worker for ``lost_worker_timeout`` seconds, stops
the same way. Ctrl-C cancels what has not started, keeps what finished, and re-raises. Local
pool workers die with the sweep, even with ``kill -9`` (``local_executor`` says how).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from lowbit.sweeps import grid
from lowbit.sweeps import evaluator as evaluators
from lowbit.sweeps.config import SweepConfig
from lowbit.sweeps.store import Store


@dataclass
class Outcome:
    """What one run did: points it stored, points that failed (label, message), and whether
    it stopped early because the executor broke."""
    total: int = 0
    already_done: int = 0
    stored: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    broken: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.broken is None


def evaluate(evaluator: str, key: str, point: dict) -> dict:
    """Run on a worker: evaluate one point and return its store record.

    The record holds only JSON types (numpy scalars become Python numbers), so what the
    parent stores is exactly what a rerun reads back."""
    model = evaluators.load(evaluator)
    start = time.perf_counter()
    try:
        metrics = model.evaluate(dict(point))
        status = "ok"
    except model.NotApplicable as exc:
        metrics, status = {"reason": str(exc)}, "not_applicable"
    if not isinstance(metrics, dict):
        raise TypeError(f"evaluator {evaluator} returned {type(metrics).__name__}, not a dict")
    return {"key": key, "status": status, "point": point,
            "metrics": {name: _json_value(name, value) for name, value in metrics.items()},
            "seconds": round(time.perf_counter() - start, 6)}


def _json_value(name: str, value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()  # numpy scalar
    if isinstance(value, (list, tuple)):
        return [_json_value(name, v) for v in value]
    raise TypeError(f"metric {name!r} is a {type(value).__name__}; metrics must be numbers, "
                    f"strings, booleans or lists of them")


def pending_points(config: SweepConfig, store: Store) -> tuple[list[tuple[str, dict]], int]:
    """(the (key, point) pairs not yet in the store, in grid order; number already done)."""
    points, _ = grid.expand(config, evaluators.load(config.evaluator).applies)
    keyed = [(grid.point_key(config.evaluator, point), point) for point in points]
    todo = [(key, point) for key, point in keyed if key not in store.records]
    return todo, len(keyed) - len(todo)


def run(config: SweepConfig, store: Store, executor: Executor, *, limit: int | None = None,
        stream=None) -> Outcome:
    """Evaluate every pending point (at most ``limit``) and store each result as it lands.

    Points that share a scheme and a workload share the evaluator's most expensive step (the
    real-model fidelity of that scheme, cached by the evaluator), so the first pending point of
    each such group goes out first and the rest of the group only once it has finished: no two
    workers compute the same fidelity at once."""
    stream = stream or sys.stderr   # looked up per call: a default bound at import goes stale
    todo, done = pending_points(config, store)
    if limit is not None:
        todo = todo[:limit]
    outcome = Outcome(total=len(todo), already_done=done)
    print(f"sweep {config.name}: {done} points already in {store.path}, "
          f"{len(todo)} to evaluate", file=stream)
    groups = [_group(point) for _, point in todo]
    leaders = len(set(groups))
    progress = Progress({LEADER: leaders, FOLLOWER: len(todo) - leaders}, stream)
    batch = _Batch(config.evaluator, executor, store, progress, outcome)
    try:
        batch.run(todo)
    except KeyboardInterrupt:
        batch.cancel()
        print(f"sweep {config.name}: interrupted; {outcome.stored} points finished in this run "
              f"are in {store.path}; run again to resume", file=stream)
        raise
    return outcome


def _group(point: dict) -> tuple:
    return point["scheme"], point["workload"]


# The two kinds of point for the ETA: the first point of a (scheme, workload) group computes the
# real-model fidelity (seconds to minutes); the others read it from the cache (well under one).
LEADER, FOLLOWER = "first of its scheme and workload", "other"


class _Batch:
    """One run's futures: leaders submitted up front, the rest of a group when its leader ends."""

    def __init__(self, evaluator, executor, store, progress, outcome):
        self.evaluator, self.executor, self.store = evaluator, executor, store
        self.progress, self.outcome = progress, outcome
        self.futures: dict = {}   # future -> point
        self.held: dict = {}      # group -> [(key, point)] waiting for the group's leader

    def run(self, todo) -> None:
        leaders = []
        for key, point in todo:
            if _group(point) in self.held:
                self.held[_group(point)].append((key, point))
            else:
                self.held[_group(point)] = []
                leaders.append((key, point))
        self.leader_ids = {id(point) for _, point in leaders}
        waiting = self.submit(leaders)
        # A Dask executor is asked between waits whether its cluster has given out; a process
        # pool reports its own breakage through the futures.
        interval = WATCH_INTERVAL_S if isinstance(self.executor, DaskExecutor) else None
        while waiting:
            finished, waiting = wait(waiting, timeout=interval, return_when=FIRST_COMPLETED)
            for future in finished:
                waiting |= self.finish(future)
            if interval is not None and not self.outcome.broken:
                self.outcome.broken = self.executor.gone()
            if self.outcome.broken:
                # Every point still queued fails the same way: stop here, not once per point.
                self.cancel()
                return

    def submit(self, batch) -> set:
        submitted = set()
        for key, point in batch:
            future = self.executor.submit(evaluate, self.evaluator, key, point)
            self.futures[future] = point
            submitted.add(future)
        return submitted

    def finish(self, future) -> set:
        """Store or report one finished point; return the futures of the points it released."""
        point = self.futures[future]
        label = grid.describe(point)
        kind = LEADER if id(point) in self.leader_ids else FOLLOWER
        try:
            record = future.result()
        except BrokenProcessPool as exc:
            self.outcome.broken = f"a worker process died while evaluating ({exc})"
            return set()
        except Exception as exc:
            self.outcome.failures.append((label, f"{type(exc).__name__}: {exc}"))
            self.progress.line(label, f"FAILED: {type(exc).__name__}: {exc}", kind, None)
        else:
            self.store.append(record)
            self.outcome.stored += 1
            status = "ok" if record["status"] == "ok" else "not applicable"
            self.progress.line(label, f"{status} ({record['seconds']:.2f} s)", kind,
                               record["seconds"])
        return self.submit(self.held.pop(_group(point), []))

    def cancel(self) -> None:
        for future in self.futures:
            future.cancel()


class Progress:
    """A text progress bar with ETA on ``stream``: one line per finished point, so it reads
    the same in a terminal and in a CI log.

    Points come in kinds of very different cost (``totals``: kind -> number of points; the
    runner's are LEADER, which computes a real-model fidelity, and FOLLOWER, which does not), so
    one mean over all points would extrapolate the slow first points over the cheap rest. The
    ETA is elapsed x remaining work / finished work, where work is evaluation seconds and a
    remaining point of a kind counts its kind's mean; until MIN_SAMPLES points of every kind
    that still has points left have finished, the line says "eta estimating"."""

    WIDTH = 24
    MIN_SAMPLES = 3

    def __init__(self, totals: dict[str, int], stream, clock=time.monotonic):
        self.totals, self.stream, self.clock = dict(totals), stream, clock
        self.total = sum(self.totals.values())
        self.start = clock()
        self.done = 0
        self.finished = dict.fromkeys(self.totals, 0)       # kind -> points finished
        self.seconds: dict[str, list[float]] = {kind: [] for kind in self.totals}

    def line(self, label: str, status: str, kind: str, seconds: float | None) -> None:
        """One finished point of ``kind``; ``seconds`` its evaluation time (None: unknown,
        e.g. it failed)."""
        self.done += 1
        self.finished[kind] += 1
        if seconds is not None:
            self.seconds[kind].append(seconds)
        elapsed = self.clock() - self.start
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        width = len(str(self.total))
        percent = 100 * self.done // max(self.total, 1)
        print(f"[{bar}] {self.done:{width}d}/{self.total} {percent:3d}% elapsed {_clock(elapsed)}"
              f" eta {self.eta(elapsed)}  {label}: {status}", file=self.stream, flush=True)

    def eta(self, elapsed: float) -> str:
        left = {kind: self.totals[kind] - self.finished[kind] for kind in self.totals}
        if any(count and len(self.seconds[kind]) < self.MIN_SAMPLES
               for kind, count in left.items()):
            # A kind still unmeasured could take anything. Not even a lower bound from the
            # measured kinds is shown: the first points also pay each fresh worker's start-up
            # (imports, model loading), so early means overstate the rest several times over.
            return "estimating"
        done_work = sum(sum(times) for times in self.seconds.values())
        left_work = sum(count * sum(self.seconds[kind]) / len(self.seconds[kind])
                        for kind, count in left.items() if count)
        if left_work == 0:
            return _clock(0)
        return _clock(elapsed * left_work / done_work) if done_work > 0 else "estimating"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextlib.contextmanager
def local_executor(processes: int | None = None):
    """A process pool with one process per core (or ``processes``), each single-threaded.

    Its workers die with the process that started them, however it ends (``kill -9``
    included): see ``_die_with_parent``."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    # spawn, not fork: the parent may hold torch/numba thread pools that a fork would copy
    # in a locked state.
    context = multiprocessing.get_context("spawn")
    with _one_thread_per_worker():
        executor = ProcessPoolExecutor(max_workers=processes or _cores(), mp_context=context,
                                       initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            yield executor
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


PR_SET_PDEATHSIG = 1   # <linux/prctl.h>


def _die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: ask Linux to SIGKILL this worker when its parent dies.

    A worker busy in an evaluation notices nothing of a parent killed with SIGKILL: the pool's
    pipes are read only between tasks, and an evaluation may run for minutes in compiled code
    that holds the GIL, so a watchdog thread polling the parent pid could not even run. The
    kernel's parent-death signal (prctl(PR_SET_PDEATHSIG)) needs no polling and no GIL. It
    fires when the thread that started the worker ends; the pool starts its workers from the
    thread that submits, the sweep's main thread, which ends only with the process. Elsewhere
    than Linux there is no such signal and the workers end after their current task, when
    they find the pool's pipes closed."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        # The parent died before the prctl above: no signal will come, so go now.
        os.kill(os.getpid(), signal.SIGKILL)


SCHEDULER_TIMEOUT = "10s"
LOST_WORKER_TIMEOUT_S = 60.0   # default of --lost-worker-timeout
WATCH_INTERVAL_S = 0.5         # how often a Dask sweep looks at its cluster's workers


class DaskExecutor(Executor):
    """A Dask client's executor that also watches the cluster's workers.

    Dask keeps the tasks of a lost worker for the next worker to join, so a cluster whose only
    worker died waits forever. ``gone()`` reports each lost worker on ``stream`` and, once the
    cluster has had no worker for ``lost_worker_timeout`` seconds, returns why to give up."""

    def __init__(self, client, lost_worker_timeout: float, stream=None,
                 clock=time.monotonic):
        # pure=False: every submission is its own task, never merged with an equal-looking one
        self.executor = client.get_executor(pure=False)
        self.client, self.timeout, self.stream, self.clock = client, lost_worker_timeout, \
            stream or sys.stderr, clock
        self.workers = set(client.nthreads())
        self.lost: list[str] = []
        self.empty_since = None   # clock() when the cluster was first seen without a worker

    def submit(self, fn, /, *args, **kwargs):
        return self.executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.executor.shutdown(wait=wait)

    def gone(self) -> str | None:
        """None while the cluster can still evaluate; else why the sweep stops."""
        workers = set(self.client.nthreads())
        for address in sorted(self.workers - workers):
            self.lost.append(address)
            print(f"sweep: lost Dask worker {address}; {len(workers)} left", file=self.stream)
        self.workers = workers
        if workers:
            self.empty_since = None
            return None
        if self.empty_since is None:
            self.empty_since = self.clock()
            print(f"sweep: the Dask cluster has no worker; giving up in {self.timeout:g} s "
                  f"unless one joins", file=self.stream)
        if self.clock() - self.empty_since < self.timeout:
            return None
        lost = ", ".join(self.lost) or "none seen"
        return (f"the Dask cluster had no worker for {self.timeout:g} s (lost workers: {lost}; "
                f"--lost-worker-timeout sets the wait)")


def checked_seconds(seconds, argname: str) -> float:
    """``seconds`` as a float if it is a finite number > 0; else a ValueError naming
    ``argname``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not 0 < seconds < float("inf"):
        raise ValueError(f"{argname} must be a finite number of seconds > 0, got {seconds!r}")
    return float(seconds)


@contextlib.contextmanager
def dask_executor(scheduler: str | None = None, workers: int | None = None, *,
                  lost_worker_timeout: float = LOST_WORKER_TIMEOUT_S, stream=None):
    """A DaskExecutor on a Dask cluster: the scheduler at ``scheduler`` (tcp://HOST:PORT), or
    a LocalCluster of ``workers`` single-threaded worker processes started here. The sweep
    gives up after ``lost_worker_timeout`` seconds without a worker (> 0)."""
    from distributed import Client, LocalCluster

    lost_worker_timeout = checked_seconds(lost_worker_timeout, "lost_worker_timeout")
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            try:
                client = stack.enter_context(Client(scheduler, timeout=SCHEDULER_TIMEOUT))
            except OSError as exc:
                raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler} "
                                      f"within {SCHEDULER_TIMEOUT}: {exc}") from None
        else:
            stack.enter_context(_one_thread_per_worker())
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        executor = DaskExecutor(client, lost_worker_timeout, stream)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False)


@contextlib.contextmanager
def _one_thread_per_worker():
    """While the pool lives: N worker processes on N cores, so BLAS/OpenMP/Numba inside each
    must not start N threads of their own. Children inherit the environment; an explicit user
    setting wins. Restored afterwards because the parent's own Numba refuses to compile once
    NUMBA_NUM_THREADS differs from the thread count it already launched."""
    unset = [name for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                               "NUMBA_NUM_THREADS") if name not in os.environ]
    os.environ.update(dict.fromkeys(unset, "1"))
    try:
        yield
    finally:
        for name in unset:
            os.environ.pop(name, None)


def _cores() -> int:
    return len(os.sched_getaffinity(0))
