"""hwsim.bench.units: every case's two sides agree, and the runner reports each case once."""
import io

import numpy as np

from hwsim.bench import units


def test_every_case_returns_the_same_result_from_numba_and_numpy():
    for case in units.cases(4096, seed=3):
        assert set(case) == {"unit", "macs", "numba", "numpy"}
        assert case["macs"] >= 1
        assert units.same_result(case["numba"](), case["numpy"]()), case["unit"]


def test_same_result_compares_bits():
    assert units.same_result(np.array([0.0]), np.array([0.0]))
    assert not units.same_result(np.array([0.0]), np.array([-0.0]))
    assert not units.same_result(np.array([1, 2]), np.array([1, 3]))
    assert not units.same_result(np.array([1]), np.array([[1]]))


def test_runner_prints_one_line_per_case_including_other_modules():
    out = io.StringIO()
    assert units.run(n=2048, seed=1, repeats=1, out=out) == 0
    lines = out.getvalue().splitlines()
    names = [case["unit"] for case in units.all_cases(2048, 1)]
    assert len(lines) == 1 + len(names) and len(names) > len(units.cases(2048, 1))
    assert all(line.startswith(name) and line.endswith("True") for line, name in
               zip(lines[1:], names))
