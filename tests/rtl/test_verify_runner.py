"""The runner's report and job handling (the simulations themselves run in the test_units_* and
test_pe_* files): the rerun hint reproduces the run; a repeated job runs once."""
import threading

from lowbit.rtl import registry
from lowbit.rtl.verify import runner


def test_the_rerun_hint_carries_the_seed_and_the_vector_count(monkeypatch):
    monkeypatch.setenv("LOWBIT_RTL_SEED", "42")
    result = runner.Result(design="fp8_mac", config="default", seed=9, vectors=123,
                           mismatches=1, wall_s=1.0, random_vectors=123,
                           failures=[{"vector": 5, "expected": 1, "got": 2}])
    assert not result.ok
    assert result.report().splitlines()[-1] == \
        "  rerun: LOWBIT_RTL_SEED=42 lowbit verify --design fp8_mac --vectors 123"


def test_a_repeated_job_runs_once(monkeypatch, tmp_path):
    calls, lock = [], threading.Lock()

    def fake_verify(name, config, build_root, *, vectors=None):
        with lock:
            calls.append((name, config))
        return name

    monkeypatch.setattr(runner, "verify", fake_verify)
    first, second = registry.get("int_mac").configs[:2]
    jobs = [("int_mac", first), ("int_mac", second), ("int_mac", first)]
    futures = runner.verify_many(jobs, tmp_path, workers=2)
    assert [future.result() for future in futures.values()] == ["int_mac", "int_mac"]
    assert sorted(map(registry.config_label, (c for _, c in calls))) == \
        sorted(map(registry.config_label, (first, second)))
