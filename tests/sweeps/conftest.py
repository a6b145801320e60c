"""Shared fixtures: the test-double evaluator (sweep_double.py, next to this file) made
importable here, in worker processes and in CLI subprocesses, and configs that use it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# 5 schemes x 4 PEs x 2 lanes x 2 workloads = 80 points: 20 dropped by applies(), 8 that the
# double declares not applicable (bit_serial at 64 lanes), 52 evaluated.
DOUBLE_CONFIG = """
name = "double"
evaluator = "sweep_double:DOUBLE"
[axes]
schemes = ["int8", "int4-g128", "fp8-e4m3", "log2_4", "binary"]
pes = ["int_mac", "lut", "shift_add", "bit_serial"]
lanes = [16, 64]
arrays = [16]
workloads = ["minilm-l6", "resnet18"]
[report]
min_fidelity = 0.99
baseline = { scheme = "int8", pe = "int_mac" }
"""


@pytest.fixture
def double_env(monkeypatch):
    """sweep_double importable in this process and in every child (spawned pools, Dask
    workers and subprocesses inherit PYTHONPATH)."""
    monkeypatch.syspath_prepend(str(HERE))
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    return HERE


@pytest.fixture
def double_config(tmp_path, double_env):
    """Path of a sweep config over the double: 5 schemes x 4 PEs x 2 lanes x 2 workloads."""
    path = tmp_path / "double.toml"
    path.write_text(DOUBLE_CONFIG)
    return path


@pytest.fixture
def cli(double_env):
    """Run `python -m lowbit.sweeps.cli ARGS` in a subprocess: cli(*args, cwd=DIR, env_extra={})."""
    import subprocess

    def run(*args, cwd, env_extra=None):
        env = dict(os.environ, **(env_extra or {}))
        return subprocess.run([sys.executable, "-m", "lowbit.sweeps.cli", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=180)
    return run
