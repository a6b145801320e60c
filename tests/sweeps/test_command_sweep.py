"""`lowbit sweep` end to end (subprocesses): outputs, exit codes, and resuming after a sweep
is interrupted (Ctrl-C, the sweep killed, a worker killed, a torn last record) with nothing
lost, nothing duplicated and the same final table as an uninterrupted run."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lowbit.sweeps.config import CONFIG_DIR
from lowbit.sweeps.store import read

N_POINTS = 60  # the double config: 5 schemes x 4 PEs x 2 lanes x 2 workloads, 8 dropped + 8 n/a
N_ROWS = 52


@pytest.fixture
def reference(cli, double_config, tmp_path):
    """An uninterrupted run's table: the yardstick for every resumed run."""
    out = tmp_path / "reference"
    result = cli("sweep", "--config", str(double_config), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return (out / "table.csv").read_bytes()


def store_lines(out) -> list[dict]:
    path = out / "points.jsonl"
    return [json.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def assert_complete(out, reference: bytes) -> None:
    keys = [record["key"] for record in store_lines(out)]
    assert len(keys) == len(set(keys)) == N_POINTS  # no duplicates, nothing lost
    assert (out / "table.csv").read_bytes() == reference


def test_tiny_config_end_to_end(cli, double_env, tmp_path):
    """The built-in tiny.toml, its evaluator swapped for the double."""
    text = (CONFIG_DIR / "tiny.toml").read_text()
    (tmp_path / "tiny.toml").write_text(
        text.replace('"lowbit.models.evaluator:COST_MODEL"', '"sweep_double:DOUBLE"'))
    result = cli("sweep", "--config", "tiny.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "tiny"  # the default results directory
    table = (out / "table.csv").read_text().splitlines()
    assert table[0].startswith("scheme,pe,lanes,array,workload,")
    assert len(table) == 1 + 3 * 3  # 3 schemes x 3 PEs, all applicable on the double
    assert "[########################] 9/9 100%" in result.stderr
    report = (out / "report.md").read_text()
    assert "# Sweep `tiny`" in report and "## resnet18" in report
    assert "**Winner: " in report
    png = (out / "pareto_resnet18.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert "GPU: " in result.stderr


def test_builtin_tiny_config_with_the_real_evaluator(cli, tmp_path, monkeypatch):
    """The shipped tiny.toml through lowbit.models.evaluator, real fidelity included (a fresh cache)."""
    from lowbit.models import evaluator
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = cli("sweep", "--config", "tiny", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    with open(out / "table.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(row["scheme"], row["pe"]) for row in rows]
    expected = [(s, p) for s in ("int8", "int4-g128", "ternary")
                for p in ("int_mac", "lut", "bit_serial") if evaluator.applies(s, p)]
    assert pairs == expected and len(pairs) >= 6
    assert "## resnet18" in (out / "report.md").read_text()
    # the table holds what the evaluator returns, to the last bit (floats round-trip via repr)
    row = rows[0]  # evaluated here again, its fidelity read from the cache the sweep filled
    direct = evaluator.evaluate_point({"scheme": row["scheme"], "pe": row["pe"], "lanes": 16,
                                  "array": 64, "workload": "resnet18"})
    for metric in ("fidelity", "energy_j", "latency_s", "edp_js", "cycles"):
        assert row[metric] == str(direct[metric]), metric


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "lowbit sweep: error: --workers must be a positive integer, got 0"),
    (["--limit", "-1"], "lowbit sweep: error: --limit must be a positive integer, got -1"),
    (["--scheduler", "localhost"], "--scheduler must be an address like tcp://HOST:PORT"),
    (["--config", "nope"], "--config: 'nope' is neither a file nor a built-in config"),
    (["--workers", "1", "--lost-worker-timeout", "0"],
     "--lost-worker-timeout must be a finite number of seconds > 0, got 0.0"),
    (["--workers", "1", "--lost-worker-timeout", "nan"],
     "--lost-worker-timeout must be a finite number of seconds > 0, got nan"),
    (["--lost-worker-timeout", "5"],
     "--lost-worker-timeout applies to a Dask sweep only (--workers N or --scheduler ADDR)"),
])
def test_bad_usage_exits_2_naming_the_argument(cli, tmp_path, args, message):
    result = cli("sweep", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_bad_config_exits_2(cli, double_config, tmp_path):
    double_config.write_text(double_config.read_text().replace('"binary"', '"int3"'))
    result = cli("sweep", "--config", str(double_config), cwd=tmp_path)
    assert result.returncode == 2
    assert "axes.schemes[4]: unknown scheme 'int3'" in result.stderr


def test_a_config_where_no_pair_applies_exits_2_naming_the_scheme(cli, tmp_path):
    config = tmp_path / "fp16.toml"
    config.write_text('[axes]\nschemes = ["fp16"]\npes = ["int_mac", "lut"]\nlanes = [16]\n'
                      'arrays = [64]\nworkloads = ["resnet18"]\n')
    result = cli("sweep", "--config", str(config), "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "no (scheme, pe) pair applies" in result.stderr
    assert "fp16 on lut: scheme w16-a16 (weights float16, activations float16)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_evaluator_exits_1(cli, double_config, tmp_path):
    double_config.write_text(double_config.read_text().replace("sweep_double:", "absent_mod:"))
    result = cli("sweep", "--config", str(double_config), cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot load the evaluator" in result.stderr and "absent_mod" in result.stderr


def test_failed_points_exit_1_and_a_rerun_finishes(cli, double_config, tmp_path, reference):
    out = tmp_path / "out"
    args = ("sweep", "--config", str(double_config), "--out", str(out))
    failed = cli(*args, cwd=tmp_path, env_extra={"SWEEP_DOUBLE_FAIL": "log2_4"})
    assert failed.returncode == 1
    assert "lowbit sweep: failed: scheme=log2_4" in failed.stderr
    assert len(store_lines(out)) == N_POINTS - 16
    assert cli(*args, cwd=tmp_path).returncode == 0
    assert_complete(out, reference)


def test_limit_then_fresh(cli, double_config, tmp_path):
    out = tmp_path / "out"
    args = ("sweep", "--config", str(double_config), "--out", str(out))
    assert cli(*args, "--limit", "5", cwd=tmp_path).returncode == 0
    assert len(store_lines(out)) == 5
    resumed = cli(*args, "--resume", "--limit", "5", cwd=tmp_path)
    assert "5 points already in" in resumed.stderr and len(store_lines(out)) == 10
    fresh = cli(*args, "--fresh", "--limit", "3", cwd=tmp_path)
    assert "0 points already in" in fresh.stderr and len(store_lines(out)) == 3


def slow_sweep(double_config, out, tmp_path, seconds_per_point=0.15) -> subprocess.Popen:
    """A sweep whose points take ``seconds_per_point`` each, in its own process group (like a
    shell job)."""
    env = dict(os.environ, SWEEP_DOUBLE_SLEEP=str(seconds_per_point))
    return subprocess.Popen([sys.executable, "-m", "lowbit.sweeps.cli", "sweep", "--config",
                             str(double_config), "--out", str(out)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_records(out, count: int, process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(store_lines(out)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep stored no points in time"
        time.sleep(0.05)


def test_ctrl_c_then_resume(cli, double_config, tmp_path, reference):
    out = tmp_path / "out"
    process = slow_sweep(double_config, out, tmp_path)
    wait_for_records(out, 6, process)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "run again to resume" in stderr
    kept = store_lines(out)  # every line parses: no half-written record
    assert 6 <= len(kept) < N_POINTS
    resumed = cli("sweep", "--config", str(double_config), "--out", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} points already in" in resumed.stderr
    assert_complete(out, reference)


def test_killed_sweep_with_torn_record_then_resume(cli, double_config, tmp_path, reference):
    out = tmp_path / "out"
    process = slow_sweep(double_config, out, tmp_path)
    wait_for_records(out, 4, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    kept = len(read(out / "points.jsonl"))
    # What a crash in the middle of a write leaves behind: half a line.
    with open(out / "points.jsonl", "ab") as handle:
        handle.write(b'{"key":"deadbeef","status":"ok","point":{"sch')
    resumed = cli("sweep", "--config", str(double_config), "--out", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "dropping a torn last record" in resumed.stderr
    assert f"{kept} points already in" in resumed.stderr
    assert_complete(out, reference)


def worker_pids(parent: int) -> list[int]:
    import psutil
    return [child.pid for child in psutil.Process(parent).children()
            if "spawn_main" in " ".join(child.cmdline())]


def alive(pid: int) -> bool:
    import psutil
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_kill_9_of_the_sweep_ends_its_workers(double_config, tmp_path):
    """Only the sweep itself is killed (not its process group, as a shell's kill -9 $! does).
    Each point takes 120 s, so a worker that merely noticed the closed pool pipes after its
    task would outlive the bound below by far."""
    process = slow_sweep(double_config, tmp_path / "out", tmp_path, seconds_per_point=120)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sweep started no pool workers in time"
            time.sleep(0.1)
            workers = worker_pids(process.pid)
        process.kill()
        process.wait(timeout=60)   # not communicate(): live workers hold its pipes open
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], "pool workers outlived the sweep"
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.stdout.close()
        process.stderr.close()


def test_killed_worker_then_resume(cli, double_config, tmp_path, reference):
    out = tmp_path / "out"
    process = slow_sweep(double_config, out, tmp_path)
    wait_for_records(out, 4, process)
    os.kill(worker_pids(process.pid)[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "a worker process died" in stderr and "run again to resume" in stderr
    assert 4 <= len(store_lines(out)) < N_POINTS
    resumed = cli("sweep", "--config", str(double_config), "--out", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_complete(out, reference)


def test_dask_local_cluster_from_the_cli(cli, double_config, tmp_path, reference):
    out = tmp_path / "out"
    result = cli("sweep", "--config", str(double_config), "--out", str(out), "--workers", "2",
                 "--lost-worker-timeout", "30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_complete(out, reference)


def test_dask_scheduler_address_from_the_cli(cli, double_config, tmp_path, reference):
    from distributed import LocalCluster
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        result = cli("sweep", "--config", str(double_config), "--out", str(out),
                     "--scheduler", cluster.scheduler_address, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_complete(out, reference)


def test_unreachable_scheduler_exits_1(cli, double_config, tmp_path):
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("sweep", "--config", str(double_config), "--out", str(tmp_path / "out"),
                 "--scheduler", f"tcp://127.0.0.1:{port}", cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.stderr
