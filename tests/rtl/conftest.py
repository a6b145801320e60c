"""Shared fixtures of the RTL tests.

A test module that sets ``DESIGN = "<registry name>"`` and asks for the ``verdict`` fixture
is run once per registered config of that design. All simulations of the collected tests
start together on LOWBIT_RTL_WORKERS threads (default 2: each simulation is a subprocess),
so the suite uses both cores of a CI machine; each test then waits for its own verdict.
Sample counts and seeds: LOWBIT_RTL_VECTORS, LOWBIT_RTL_SEED (see lowbit.rtl.verify.runner).
"""
from __future__ import annotations

import os

import pytest

from lowbit.rtl import registry
from lowbit.rtl.verify.runner import verify_many


def pytest_configure(config):
    # The port tests build components only to read their signatures; Amaranth warns about
    # every component that is never elaborated.
    config.addinivalue_line("filterwarnings",
                            "ignore::amaranth.hdl.UnusedElaboratable")


def pytest_generate_tests(metafunc):
    if "design_config" in metafunc.fixturenames:
        name = metafunc.module.DESIGN
        configs = registry.get(name).configs
        metafunc.parametrize("design_config", [(name, config) for config in configs],
                             ids=[registry.config_label(config) for config in configs])


@pytest.fixture(scope="session")
def rtl_build_root(tmp_path_factory):
    return tmp_path_factory.mktemp("rtl_build")


@pytest.fixture(scope="session")
def all_verdicts(request, rtl_build_root):
    """Futures of every (design, config) verification the collected tests ask for."""
    jobs, seen = [], set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "design_config" not in callspec.params:
            continue
        name, config = callspec.params["design_config"]
        if (name, config) not in seen:
            seen.add((name, config))
            jobs.append((name, config))
    workers = int(os.environ.get("LOWBIT_RTL_WORKERS", "2"))
    return verify_many(jobs, rtl_build_root, workers=workers)


@pytest.fixture
def verdict(design_config, all_verdicts):
    """The lowbit.rtl.verify.runner.Result of this test's design config."""
    name, config = design_config
    return all_verdicts[(name, registry.config_label(config))].result()


@pytest.fixture
def random_vectors():
    """The random-vector count the runner used (LOWBIT_RTL_VECTORS)."""
    from lowbit.rtl.verify.runner import DEFAULT_VECTORS, env_int
    return env_int("LOWBIT_RTL_VECTORS", DEFAULT_VECTORS)
