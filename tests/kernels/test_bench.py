"""kernels.bench and ``lowbit bench``: the parts that need no GPU (argument checks, L2
rotation, derived columns, goal verdicts, CSV schema, the no-GPU exit)."""
from __future__ import annotations

import csv
import math

import pytest

from kernels import bench, gpu_unavailable_reason
from sweeps.cli import main as lowbit


def _args(*argv):
    return bench.parse_args(list(argv))


def test_defaults_cover_the_issue_grid():
    args = bench.validated(_args())
    assert args.shapes == [(4096, 4096), (4096, 11008), (11008, 4096)]
    assert args.m == [1, 16, 128, 1024, 4096]
    assert args.runs >= 100
    assert {"cublas_fp16", "torch_int4pack_g128", "torch_int_mm", "torch_scaled_mm_fp8"} <= set(args.kernels)


@pytest.mark.parametrize("argv,message", [
    (["--runs", "99"], "--runs must be >= 100"),
    (["--kernels", "w3a16"], "--kernels: unknown"),
    (["--shapes", "4096by4096"], "--shapes entries must look like"),
    (["--m", "0"], "--m values must be >= 1"),
    (["--warmup", "0"], "--warmup must be >= 1"),
])
def test_bad_arguments(argv, message):
    with pytest.raises(ValueError, match=message):
        bench.validated(_args(*argv))


def test_rotation_defeats_l2():
    l2 = 50 * 2**20
    for set_bytes in (2**20, 22 * 2**20, 90 * 2**20, 2**31):
        count = bench.rotation_count(set_bytes, l2)
        assert count >= 2
        assert (count - 1) * set_bytes >= 2 * l2      # other sets touched between two uses
    with pytest.raises(ValueError, match="must be positive"):
        bench.rotation_count(0, l2)


def _ok(kernel, k, n, m, us, weight_bytes=1000):
    return bench.Row(kernel, k, n, m, "ok", us, us, us, 100, 3, weight_bytes=weight_bytes)


def test_derived_columns_and_goal_verdicts():
    k, n = 4096, 11008
    rows = [_ok("cublas_fp16", k, n, 1, 49.0, 2 * n * k), _ok("w4a16_g128", k, n, 1, 10.0, n * k // 2),
            _ok("w2a16_g128", k, n, 1, 8.0), _ok("cublas_fp16", k, n, 1024, 500.0),
            _ok("w8a8", k, n, 1024, 110.0), _ok("torch_int_mm", k, n, 1024, 100.0),
            bench.Row("w1a16_g128", k, n, 1, "error: boom")]
    bench.add_derived(rows)
    w4 = rows[1]
    assert w4.speedup_vs_cublas_fp16 == pytest.approx(4.9)
    assert w4.tops == pytest.approx(2 * n * k / 10e-6 / 1e12)
    assert w4.weight_gbps == pytest.approx(n * k / 2 / 10e-6 / 1e9)
    verdicts = {(g["goal"], g["k"], g["n"], g["m"]): (g["verdict"], g["measured"])
                for g in bench.evaluate_goals(rows, copy_gbps=2960.0)}
    assert verdicts[("W4A16 M=1 >= 4.5x cuBLAS fp16", k, n, 1)] == ("met", pytest.approx(4.9))
    frac = verdicts[("W4A16 M=1 >= 80% of copy bandwidth", k, n, 1)]
    assert frac[0] == "not met" and frac[1] == pytest.approx(w4.weight_gbps / 2960.0)
    assert verdicts[("W2A16 M=1 >= 7x cuBLAS fp16", k, n, 1)] == ("not met", pytest.approx(49 / 8))
    assert verdicts[("W1A16 M=1 >= 10x cuBLAS fp16", k, n, 1)][0] == "not measured"
    assert verdicts[("W8A8 within 10% of torch._int_mm at M>=1024", k, n, 1024)] == ("met", pytest.approx(100 / 110))
    assert verdicts[("A1W1 M=N=K=4096 >= 3x cuBLAS fp16 ops/s", 4096, 4096, 4096)][0] == "not measured"
    assert len(verdicts) == len(bench.goals())   # every cell reported


def test_csv_schema_round_trip(tmp_path):
    row = _ok("w4a16_g128", 4096, 4096, 1, 10.0)
    bench.add_derived([row])
    record = {**bench.asdict(row), **{c: f"v_{c}" for c in bench.META_COLUMNS}}
    path = tmp_path / "bench.csv"
    bench.write_csv(path, [record], bench.ROW_COLUMNS + bench.META_COLUMNS)
    with path.open() as fh:
        (read,) = list(csv.DictReader(fh))
    assert list(read) == bench.ROW_COLUMNS + bench.META_COLUMNS
    assert float(read["median_us"]) == 10.0 and read["device"] == "v_device"
    assert math.isnan(float(read["speedup_vs_cublas_fp16"]))   # no baseline row


def test_results_readme_documents_every_column():
    text = (bench.RESULTS_DIR / "README.md").read_text()
    for column in bench.ROW_COLUMNS + bench.META_COLUMNS:
        assert column in text, f"kernels/results/README.md does not document {column}"


def test_format_table_aligns_columns():
    table = bench.format_table([{"a": 1.23456, "b": "x"}, {"a": 10.0, "b": "longer"}], ["a", "b"])
    assert table.splitlines() == ["a      b", "1.235  x", "10     longer"]


@pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a GPU is present: this checks the no-GPU exit")
def test_lowbit_bench_without_gpu_exits_1(capsys, tmp_path):
    assert lowbit(["bench", "--out", str(tmp_path)]) == 1
    assert "needs a CUDA GPU" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())                # no CSV without a measurement


def test_lowbit_bench_bad_argument_exits_2(capsys):
    assert lowbit(["bench", "--runs", "3"]) == 2
    assert "--runs must be >= 100" in capsys.readouterr().err
