"""lowbit.hwsim.bench.units: every case's two sides agree, and the runner reports each case once."""
import io

import numpy as np

from lowbit.hwsim.bench import units


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


def test_every_case_result_holds_one_value_per_dot_product():
    """macs / dots is each case's dot-product length, as its name or module constant says."""
    lengths = {"int_dot": units.INT_LENGTH, "log_dot": units.INT_LENGTH,
               "lut_dot": units.INT_LENGTH, "bitserial_dot": units.INT_LENGTH,
               "xnor_dot": units.BINARY_LENGTH, "binary_weight_dot": units.BINARY_LENGTH,
               "binary_weight_sums": units.BINARY_GROUP, "fp8_mac": 256, "mx_dot": 256}
    cases = units.all_cases(2048, 1)
    assert {case["unit"].split()[0] for case in cases} == set(lengths)
    for case in cases:
        dots = units.dots_per_call(case["numba"]())
        assert case["macs"] == dots * lengths[case["unit"].split()[0]], case["unit"]


def test_runner_prints_one_line_per_case_including_other_modules():
    out = io.StringIO()
    assert units.run(n=2048, seed=1, repeats=1, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:4] == ["unit", "n/dot", "numba", "MAC/s"]
    assert "numba dot/s" in lines[0] and "numpy dot/s" in lines[0]
    cases = units.all_cases(2048, 1)
    assert len(lines) == 1 + len(cases) and len(cases) > len(units.cases(2048, 1))
    for line, case in zip(lines[1:], cases):
        assert line.startswith(case["unit"]) and line.endswith("True")
        length, mac_s, dot_s, numpy_mac_s, numpy_dot_s = line[44:].split()[:5]
        # dot/s = MAC/s / length on both sides (to the 4 printed digits)
        assert abs(float(mac_s) / int(length) / float(dot_s) - 1) < 1e-3, line
        assert abs(float(numpy_mac_s) / int(length) / float(numpy_dot_s) - 1) < 1e-3, line


def test_a_differing_case_fails_the_run():
    case = {"unit": "deliberately wrong", "macs": 4, "numba": lambda: np.array([1]),
            "numpy": lambda: np.array([2])}
    out = io.StringIO()
    assert units.run_cases([case], repeats=1, out=out) == 1
    assert out.getvalue().splitlines()[1].endswith("False")


def test_units_fp8_main_runs_its_cases_through_the_runner(capsys):
    from lowbit.hwsim.bench import units_fp8
    assert units.main(["--n", "512", "--repeats", "1"], prog="python -m lowbit.hwsim.bench.units_fp8",
                      collect=units_fp8.cases) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == \
        [case["unit"].split(",")[0] for case in units_fp8.cases(512, 0)]
