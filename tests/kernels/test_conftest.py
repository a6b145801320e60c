"""The kernel tests' ``rng`` fixture: a constant seed by default, KERNEL_TEST_SEED overrides it,
and the seed used is printed so a failure can be rerun."""
from pathlib import Path

import numpy as np


def _default_seed(request) -> int:
    """conftest.DEFAULT_SEED: pytest registers each conftest module as a plugin under its path
    (with --import-mode=importlib it is not importable by name)."""
    conftest = request.config.pluginmanager.get_plugin(str(Path(__file__).with_name("conftest.py")))
    return conftest.DEFAULT_SEED


def _rng_and_output(request, capsys):
    rng = request.getfixturevalue("rng")
    return rng, capsys.readouterr().out


def test_rng_defaults_to_a_constant_seed(monkeypatch, request, capsys):
    monkeypatch.delenv("KERNEL_TEST_SEED", raising=False)
    seed = _default_seed(request)
    assert isinstance(seed, int)
    rng, out = _rng_and_output(request, capsys)
    assert rng.integers(0, 1 << 62, 4).tolist() == np.random.default_rng(seed).integers(0, 1 << 62, 4).tolist()
    assert f"seed {seed} (rerun with KERNEL_TEST_SEED={seed})" in out


def test_kernel_test_seed_overrides_the_default(monkeypatch, request, capsys):
    monkeypatch.setenv("KERNEL_TEST_SEED", "77")
    rng, out = _rng_and_output(request, capsys)
    assert rng.integers(0, 1 << 62, 4).tolist() == np.random.default_rng(77).integers(0, 1 << 62, 4).tolist()
    assert "test_kernel_test_seed_overrides_the_default: seed 77 (rerun with KERNEL_TEST_SEED=77)" in out
