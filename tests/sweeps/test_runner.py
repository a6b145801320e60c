"""lowbit.sweeps.runner: every point evaluated once and stored, on the local pool and on Dask alike."""
from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from lowbit.sweeps import config, grid, report, runner
from lowbit.sweeps.store import Store


@pytest.fixture
def sweep(double_config):
    return config.load(str(double_config))


def expected_records(sweep) -> dict:
    """Serial reference: the double evaluated directly, in this process."""
    import sweep_double
    points, _ = grid.expand(sweep, sweep_double.applies)
    out = {}
    for point in points:
        try:
            out[grid.point_key(sweep.evaluator, point)] = ("ok", sweep_double.evaluate_point(point))
        except sweep_double.NotApplicable as exc:
            out[grid.point_key(sweep.evaluator, point)] = ("not_applicable", {"reason": str(exc)})
    return out


def table_bytes(sweep, store_path, tmp_path, name) -> bytes:
    import sweep_double
    from lowbit.sweeps.store import read
    points, _ = grid.expand(sweep, sweep_double.applies)
    path = tmp_path / name
    report.write_table(report.table_rows(sweep, read(store_path), points), path)
    return path.read_bytes()


def test_local_pool_and_dask_store_the_same_results(sweep, tmp_path):
    expected = expected_records(sweep)
    with Store(tmp_path / "local.jsonl") as store, runner.local_executor(2) as executor:
        outcome = runner.run(sweep, store, executor, stream=io.StringIO())
        assert outcome.ok and outcome.stored == len(expected) == 60
        local = {key: (r["status"], r["metrics"]) for key, r in store.records.items()}
    assert local == expected
    assert sum(status == "not_applicable" for status, _ in local.values()) == 8

    with Store(tmp_path / "dask.jsonl") as store, runner.dask_executor(workers=2) as executor:
        outcome = runner.run(sweep, store, executor, stream=io.StringIO())
        assert outcome.ok and outcome.stored == 60
    local_table = table_bytes(sweep, tmp_path / "local.jsonl", tmp_path, "local.csv")
    assert local_table == table_bytes(sweep, tmp_path / "dask.jsonl", tmp_path, "dask.csv")
    assert local_table.count(b"\n") == 1 + 52


class KillAfter(io.StringIO):
    """The runner's progress stream; once ``points`` points have finished it SIGKILLs
    ``process``."""

    def __init__(self, process, points: int):
        super().__init__()
        self.process, self.points, self.finished = process, points, 0

    def write(self, text):
        if "] " in text and " eta " in text:      # a progress line: one finished point
            self.finished += 1
            if self.finished == self.points:
                self.process.kill()
        return super().write(text)


def test_dask_sweep_whose_only_worker_dies_gives_up_and_keeps_finished_points(
        sweep, tmp_path, monkeypatch):
    """The cluster's only worker, started without a nanny (which would start a new one), is
    killed after 5 points: the sweep reports it, gives up after the timeout and keeps them."""
    import subprocess
    import sys
    from distributed import LocalCluster
    monkeypatch.setenv("SWEEP_DOUBLE_SLEEP", "0.05")
    expected = expected_records(sweep)
    with LocalCluster(n_workers=0, dashboard_address=None) as cluster, \
            Store(tmp_path / "p.jsonl") as store:
        worker = subprocess.Popen([sys.executable, "-P", "-m", "distributed.cli.dask_worker",
                                   cluster.scheduler_address, "--no-nanny", "--nthreads", "1",
                                   "--no-dashboard"], stderr=subprocess.DEVNULL)
        try:
            with runner.dask_executor(cluster.scheduler_address, lost_worker_timeout=1.5) \
                    as executor:
                executor.client.wait_for_workers(1, timeout=60)
                stream = executor.stream = KillAfter(worker, points=5)
                outcome = runner.run(sweep, store, executor, stream=stream)
        finally:
            worker.kill()
            worker.wait()
        kept = {key: (r["status"], r["metrics"]) for key, r in store.records.items()}
    assert len(executor.lost) == 1 and executor.lost[0].startswith("tcp://127.0.0.1:")
    assert outcome.broken == (f"the Dask cluster had no worker for 1.5 s (lost workers: "
                              f"{executor.lost[0]}; --lost-worker-timeout sets the wait)")
    log = stream.getvalue()
    assert f"sweep: lost Dask worker {executor.lost[0]}; 0 left" in log
    assert "the Dask cluster has no worker; giving up in 1.5 s unless one joins" in log
    assert 5 <= outcome.stored == len(kept) < len(expected)
    assert kept == {key: expected[key] for key in kept}


@pytest.mark.parametrize("seconds", [0, -1.0, float("inf"), float("nan"), "5", True])
def test_lost_worker_timeout_is_validated(seconds):
    with pytest.raises(ValueError, match=r"lost_worker_timeout must be a finite number of "
                                         r"seconds > 0, got "):
        with runner.dask_executor(lost_worker_timeout=seconds):
            pass


def test_rerun_skips_finished_points_and_limit_caps_a_run(sweep, tmp_path):
    stream = io.StringIO()
    with Store(tmp_path / "p.jsonl") as store, ThreadPoolExecutor(2) as executor:
        first = runner.run(sweep, store, executor, limit=7, stream=stream)
        assert (first.total, first.stored, first.already_done) == (7, 7, 0)
        second = runner.run(sweep, store, executor, stream=stream)
        assert (second.total, second.already_done) == (53, 7)
        third = runner.run(sweep, store, executor, stream=stream)
        assert (third.total, third.stored, third.already_done) == (0, 0, 60)
    assert "sweep double: 60 points already in" in stream.getvalue()
    assert (tmp_path / "p.jsonl").read_bytes().count(b"\n") == 60


def test_failures_are_reported_not_stored_and_retried(sweep, tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEP_DOUBLE_FAIL", "binary")
    stream = io.StringIO()
    with Store(tmp_path / "p.jsonl") as store, ThreadPoolExecutor(2) as executor:
        outcome = runner.run(sweep, store, executor, stream=stream)
        assert not outcome.ok
        assert len(outcome.failures) == outcome.total - outcome.stored == 16
        assert all("RuntimeError: injected failure for binary" in m for _, m in outcome.failures)
        assert all("scheme=binary" in label for label, _ in outcome.failures)
        monkeypatch.delenv("SWEEP_DOUBLE_FAIL")
        retry = runner.run(sweep, store, executor, stream=stream)
        assert retry.ok and retry.total == retry.stored == 16
    assert "FAILED: RuntimeError" in stream.getvalue()


def test_evaluate_makes_metrics_plain_json(double_env, monkeypatch):
    import sweep_double
    point = dict(scheme="int8", pe="lut", lanes=8, array=4, workload="minilm-l6")
    monkeypatch.setattr(sweep_double.DOUBLE, "evaluate",
                        lambda p: {"x": np.float32(0.5), "n": np.int64(3), "v": [np.int8(1)]})
    record = runner.evaluate("sweep_double:DOUBLE", "k", point)
    assert record["metrics"] == {"x": 0.5, "n": 3, "v": [1]}
    assert type(record["metrics"]["n"]) is int and record["status"] == "ok"
    monkeypatch.setattr(sweep_double.DOUBLE, "evaluate", lambda p: {"bad": object()})
    with pytest.raises(TypeError, match="metric 'bad' is a object"):
        runner.evaluate("sweep_double:DOUBLE", "k", point)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


LEAD, OTHER = runner.LEADER, runner.FOLLOWER


def test_progress_lines_carry_bar_count_and_eta():
    stream, clock = io.StringIO(), FakeClock()
    progress = runner.Progress({LEAD: 4}, stream, clock=clock)
    for seconds in (30, 30, 30):
        clock.now += seconds
        progress.line("scheme=int8", f"ok ({seconds:.2f} s)", LEAD, seconds)
    lines = stream.getvalue().splitlines()
    assert lines[0] == ("[######------------------] 1/4  25% elapsed 0:00:30 eta estimating  "
                        "scheme=int8: ok (30.00 s)")
    # three points took 90 s of work in 90 s; one more of the same kind: 30 s
    assert lines[2].startswith("[##################------] 3/4  75% elapsed 0:01:30 eta 0:00:30")


def test_eta_waits_for_the_cheap_kind_and_weights_each_kind_by_its_mean():
    """The slow first points (real-model fidelity) must not be extrapolated over the cheap
    rest: a sweep of 4 slow and 40 fast points, run on 2 workers."""
    stream, clock = io.StringIO(), FakeClock()
    progress = runner.Progress({LEAD: 4, OTHER: 40}, stream, clock=clock)
    for _ in range(2):        # two pairs of slow points, two at a time: 60 s each
        clock.now += 60
        progress.line("lead", "ok", LEAD, 60.0)
        progress.line("lead", "ok", LEAD, 60.0)
    for _ in range(2):        # cheap points, two at a time: 1 s each
        clock.now += 1
        progress.line("other", "ok", OTHER, 1.0)
        progress.line("other", "ok", OTHER, 1.0)
    lines = stream.getvalue().splitlines()
    assert all("eta estimating" in line for line in lines[:6])  # 2 cheap points done: too few
    # 7th line: elapsed 122 s for 242 s of work (2 workers); 37 cheap points left = 37 s of
    # work -> 122 * 37 / 242 = 18.65 s; a mean over all points would say 122 / 7 * 37 = 645 s
    assert " elapsed 0:02:02 eta 0:00:19 " in lines[6]


def test_failed_points_count_but_add_no_time():
    stream, clock = io.StringIO(), FakeClock()
    progress = runner.Progress({LEAD: 5}, stream, clock=clock)
    for seconds in (10.0, None, 10.0, 10.0):
        clock.now += 10
        progress.line("p", "ok", LEAD, seconds)
    # 40 s for 30 s of work; 1 point of 10 s left -> 13 s
    assert stream.getvalue().splitlines()[-1].startswith(
        "[###################-----] 4/5  80% elapsed 0:00:40 eta 0:00:13")


def test_a_sweep_reports_estimating_then_an_eta(sweep, tmp_path):
    stream = io.StringIO()
    with Store(tmp_path / "p.jsonl") as store, ThreadPoolExecutor(2) as executor:
        assert runner.run(sweep, store, executor, stream=stream).ok
    lines = stream.getvalue().splitlines()[1:]
    assert "eta estimating" in lines[0] and "eta estimating" not in lines[-1]


class RecordingExecutor(ThreadPoolExecutor):
    """A thread pool that records the order points were submitted in, and which had finished
    at each submission."""

    def __init__(self):
        super().__init__(2)
        self.order, self.finished_before = [], []
        self.futures = []

    def submit(self, fn, evaluator, key, point):
        self.order.append(point)
        self.finished_before.append({id(f) for f in self.futures if f.done()})
        future = super().submit(fn, evaluator, key, point)
        self.futures.append(future)
        return future


def test_one_point_per_scheme_and_workload_goes_first(sweep, tmp_path):
    executor = RecordingExecutor()
    with Store(tmp_path / "p.jsonl") as store, executor:
        assert runner.run(sweep, store, executor, stream=io.StringIO()).ok
    groups = [(p["scheme"], p["workload"]) for p in executor.order]
    leaders = list(dict.fromkeys(groups))
    assert groups[:len(leaders)] == leaders and len(leaders) == 5 * 2
    for i, group in enumerate(groups[len(leaders):], start=len(leaders)):
        leader = executor.futures[groups.index(group)]
        assert id(leader) in executor.finished_before[i]  # held back until its leader ended
    assert len(executor.order) == 60


def test_local_executor_leaves_the_parents_thread_settings_as_they_were(monkeypatch):
    # the parent's Numba refuses to compile once NUMBA_NUM_THREADS changed under its threads
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    with runner.local_executor(processes=1) as executor:
        assert executor.submit(os.getenv, "NUMBA_NUM_THREADS").result() == "1"
        assert executor.submit(os.getenv, "OMP_NUM_THREADS").result() == "2"
    assert "NUMBA_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "2"
