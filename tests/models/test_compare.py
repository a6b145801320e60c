"""models.compare and `lowbit compare` on a benchmark CSV written by the test itself (a fixture
in tmp_path with the kernels/results schema; no recorded result is invented in the repo)."""
import csv

import pytest

from models import compare
from sweeps import cli

COLUMNS = ["kernel", "k", "n", "m", "status", "median_us", "tops", "weight_bytes", "copy_gbps",
           "device"]


def _write(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _fixture_rows():
    k = n = 4096
    rows = []
    for kernel, m, us, tops, wbytes in [("cublas_fp16", 4096, 250.0, 550.0, 2 * k * n),
                                        ("cublas_fp16", 1, 20.0, 1.7, 2 * k * n),
                                        ("w4a16_g128", 1, 9.0, 3.7, k * n / 2 + k * n / 64),
                                        ("w4a16_g128", 16, 11.0, 49.0, k * n / 2 + k * n / 64)]:
        rows.append({"kernel": kernel, "k": k, "n": n, "m": m, "status": "ok", "median_us": us,
                     "tops": tops, "weight_bytes": wbytes, "copy_gbps": 3000.0,
                     "device": "test fixture"})
    rows.append({**rows[-1], "m": 4096, "status": "skipped: M outside range", "median_us": ""})
    return rows


def test_compare_run_by_hand(tmp_path):
    path = tmp_path / "bench_fixture_20260101T000000Z.csv"
    _write(path, _fixture_rows())
    records = compare.compare_run(compare.read_rows(path))
    assert [(r["kernel"], r["m"]) for r in records] == [
        ("cublas_fp16", 4096), ("cublas_fp16", 1), ("w4a16_g128", 1), ("w4a16_g128", 16)]
    bandwidth, peak = 3000e9, 550e12
    weight = 4096 * 4096 / 2 + 4096 * 4096 / 64

    def roof(m, weight_bytes):
        moved = weight_bytes + m * 4096 * 2 + m * 4096 * 2
        return max(moved / bandwidth, 2 * m * 4096 * 4096 / peak)
    beyond = sorted([250e-6 - roof(4096, 2 * 4096 * 4096), 20e-6 - roof(1, 2 * 4096 * 4096),
                     9e-6 - roof(1, weight), 11e-6 - roof(16, weight)])
    launch = max(0.0, (beyond[1] + beyond[2]) / 2)
    predicted = launch + (weight + 4096 * 2 + 4096 * 2) / bandwidth    # GEMV: memory-bound
    assert records[2]["predicted_s"] == pytest.approx(predicted)
    assert records[2]["rel_error"] == pytest.approx(abs(predicted - 9e-6) / 9e-6)
    assert records[2]["bound"] == "memory"
    assert records[0]["bound"] == "compute"
    assert records[0]["predicted_s"] == pytest.approx(launch + 2 * 4096 ** 3 / peak)
    middle = sorted(r["rel_error"] for r in records)[1:3]   # 4 records: mean of the middle two
    assert compare.median_error(records) == pytest.approx(sum(middle) / 2)


def test_cli_without_results(tmp_path, capsys):
    assert cli.main(["compare", "--results", str(tmp_path)]) == 1
    assert "no GPU benchmark results are recorded" in capsys.readouterr().err


def test_cli_with_results(tmp_path, capsys):
    _write(tmp_path / "bench_fixture_20260101T000000Z.csv", _fixture_rows())
    out = tmp_path / "plots"
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "median abs error" in text and "w4a16_g128" in text
    png = out / "bench_fixture_20260101T000000Z_roofline.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_csv(tmp_path):
    path = tmp_path / "bench_x.csv"
    path.write_text("kernel,m\nw8a8,1\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        compare.read_rows(path)
