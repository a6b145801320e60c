"""lowbit.models.compare and `lowbit compare` on benchmark rows written by the test itself (hand-made
fixtures, and a synthetic run drawn from a stated ground truth; no recorded result is invented
in the repo)."""
import csv
import math
import statistics

import numpy as np
import pytest

from lowbit.kernels import registry
from lowbit.kernels.weight_only import weight_bytes as weight_only_bytes
from lowbit.models import compare
from lowbit.sweeps import cli

COLUMNS = ["kernel", "k", "n", "m", "status", "median_us", "tops", "weight_bytes", "copy_gbps",
           "device"]


def _write(path, rows, columns=COLUMNS):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


W4 = 4096 * 4096 / 2 + 4096 * 4096 / 64   # int4 codes + fp16 scales per 128


def _fixture_rows(n=4096, wide_us=1.0):
    """One shape (K = 4096, N = ``n``) in the old schema (no l2_copy_gbps); times scale with
    ``wide_us`` so a second shape is not a copy of the first."""
    k = 4096
    rows = []
    for kernel, m, us, wbytes in [("cublas_fp16", 4096, 250.0, 2 * k * n),
                                  ("cublas_fp16", 1, 20.0, 2 * k * n),
                                  ("w4a16_g128", 1, 9.0, W4 * n / 4096),
                                  ("w4a16_g128", 16, 11.0, W4 * n / 4096)]:
        us *= wide_us
        rows.append({"kernel": kernel, "k": k, "n": n, "m": m, "status": "ok", "median_us": us,
                     "tops": 2 * m * n * k / (us * 1e-6) / 1e12, "weight_bytes": wbytes,
                     "copy_gbps": 3000.0, "device": "test fixture"})
    rows.append({**rows[-1], "m": 4096, "status": "skipped: M outside range", "median_us": ""})
    return rows


def _roof(m, n, weight_bytes, peak, bandwidth=3000e9):
    """max(memory, compute) of an fp16 row with K = 4096 (no L2 term: the old schema)."""
    moved = weight_bytes + m * 4096 * 2 + m * n * 2
    return max(moved / bandwidth, 2 * m * n * 4096 / peak)


def test_compare_run_by_hand(tmp_path):
    path = tmp_path / "bench_fixture_20260101T000000Z.csv"
    _write(path, _fixture_rows())
    rows = compare.read_rows(path)
    assert all(math.isnan(row["l2_copy_gbps"]) for row in rows)   # column absent: NaN
    result = compare.compare_run(rows)
    records = result.records
    assert [(r["kernel"], r["m"]) for r in records] == [
        ("cublas_fp16", 4096), ("cublas_fp16", 1), ("w4a16_g128", 1), ("w4a16_g128", 16)]
    assert not result.has_l2_term
    peak = 2 * 4096 ** 3 / 250e-6          # the cuBLAS row's own throughput
    beyond = sorted([250e-6 - _roof(4096, 4096, 2 * 4096 * 4096, peak),
                     20e-6 - _roof(1, 4096, 2 * 4096 * 4096, peak),
                     9e-6 - _roof(1, 4096, W4, peak), 11e-6 - _roof(16, 4096, W4, peak)])
    launch = max(0.0, (beyond[1] + beyond[2]) / 2)
    assert result.model.launch_s == pytest.approx(launch)
    predicted = launch + (W4 + 4096 * 2 + 4096 * 2) / 3000e9    # GEMV: memory-bound
    assert records[2]["predicted_s"] == pytest.approx(predicted)
    assert records[2]["rel_error"] == pytest.approx(abs(predicted - 9e-6) / 9e-6)
    assert records[2]["bound"] == "memory"
    assert records[0]["bound"] == "compute"
    assert records[0]["predicted_s"] == pytest.approx(launch + 2 * 4096 ** 3 / peak)
    middle = sorted(r["rel_error"] for r in records)[1:3]   # 4 records: mean of the middle two
    assert result.in_sample_median == pytest.approx(sum(middle) / 2)
    # one shape: no held-out validation, so no verdict
    assert math.isnan(result.held_out_median) and math.isnan(records[0]["held_out_s"])
    assert result.verdict == ("no verdict: held-out validation needs >= 2 shapes (K, N), "
                              "this run has 1")


def test_held_out_by_hand():
    narrow, wide = _fixture_rows(), _fixture_rows(n=11008, wide_us=2.5)
    result = compare.compare_run(narrow + wide)
    assert result.shapes == ((4096, 4096), (4096, 11008))

    def peak_of(rows):
        return max(row["tops"] for row in rows if row["kernel"] == "cublas_fp16") * 1e12

    def launch_from(rows, n):
        beyond = sorted(row["median_us"] * 1e-6 - _roof(row["m"], n, row["weight_bytes"], peak_of(rows))
                        for row in rows[:4])
        return max(0.0, (beyond[1] + beyond[2]) / 2)
    # the two shapes' cuBLAS peaks differ, so a fold that borrowed the other shape's would show
    assert peak_of(narrow) < 0.95 * peak_of(wide)
    # each shape's rows are predicted by the roofline of the other shape's rows: its t_launch
    # and its peak
    gemv_narrow, gemv_wide = result.records[2], result.records[6]
    assert gemv_narrow["held_out_s"] == pytest.approx(
        launch_from(wide, 11008) + _roof(1, 4096, W4, peak_of(wide)))
    assert gemv_wide["held_out_s"] == pytest.approx(
        launch_from(narrow, 4096) + _roof(1, 11008, W4 * 11008 / 4096, peak_of(narrow)))
    gemm_narrow = result.records[0]             # cuBLAS M = 4096: compute-bound
    assert gemm_narrow["held_out_s"] == pytest.approx(
        launch_from(wide, 11008) + 2 * 4096 ** 3 / peak_of(wide))
    by_hand = []
    for rows, n, other, n_other in ((narrow, 4096, wide, 11008), (wide, 11008, narrow, 4096)):
        for row in rows[:4]:
            held = launch_from(other, n_other) + _roof(row["m"], n, row["weight_bytes"], peak_of(other))
            by_hand.append(abs(held - row["median_us"] * 1e-6) / (row["median_us"] * 1e-6))
    assert [r["held_out_error"] for r in result.records] == pytest.approx(by_hand)
    assert result.held_out_median == pytest.approx(statistics.median(by_hand))
    assert result.verdict == "not met"          # 38 %: two shapes of a hand-made fixture


# -- a synthetic run from a stated ground truth ----------------------------------------------
SHAPES = ((4096, 4096), (4096, 11008), (11008, 4096))   # the (K, N)
M_GRID = (1, 16, 128, 1024, 4096)
COPY_GBPS, L2_COPY_GBPS, LAUNCH_S, NOISE = 3000.0, 9000.0, 4e-6, 0.02
PEAKS = {"fp16": 700e12, "int8": 1400e12}
# kernel -> (operation class, activation bytes, output bytes, weight bytes of (K, N))
TRUTH = {"cublas_fp16": ("fp16", 2, 2, lambda k, n: 2 * n * k),
         "torch_int_mm": ("int8", 1, 4, lambda k, n: n * k),
         "w4a16_g128": ("fp16", 2, 2, lambda k, n: weight_only_bytes("int4", n, k, 128)),
         "w8a16": ("fp16", 2, 2, lambda k, n: weight_only_bytes("int8", n, k, k)),
         "w8a8": ("int8", 1, 4, lambda k, n: n * k),
         "lut_w4a8": ("int8", 1, 4, lambda k, n: n * k // 2)}


def _true_time(kernel, m, k, n):
    """(seconds, bound): launch + the largest of HBM, L2 (our kernels, tiled as their launch
    is) and compute time, written out here independently of lowbit.models.cost.roofline."""
    op_class, act, out, weight = TRUTH[kernel]
    w = weight(k, n)
    terms = {"memory": (w + m * k * act + m * n * out) / (COPY_GBPS * 1e9),
             "compute": 2 * m * n * k / PEAKS[op_class]}
    tile = registry.tile_shape(registry.KERNELS[kernel], m)
    if tile is not None:
        m_tile, n_tile = tile
        terms["l2"] = ((w * math.ceil(m / m_tile) + m * k * act * math.ceil(n / n_tile) + m * n * out)
                       / (L2_COPY_GBPS * 1e9))
    bound = max(terms, key=terms.get)
    return LAUNCH_S + terms[bound], bound


def _synthetic_run(seed=6):
    """Rows of every kernel in TRUTH x SHAPES x M_GRID with multiplicative log-normal noise of
    NOISE (seeded), and the true bound of each ok row in row order."""
    rng = np.random.default_rng(seed)
    rows, bounds = [], []
    for k, n in SHAPES:
        for m in M_GRID:
            for kernel in TRUTH:
                meta = {"kernel": kernel, "k": k, "n": n, "m": m, "copy_gbps": COPY_GBPS,
                        "l2_copy_gbps": L2_COPY_GBPS, "device": "synthetic"}
                max_m = registry.KERNELS[kernel].max_m
                if max_m is not None and m > max_m:
                    rows.append({**meta, "status": "skipped: M > 128", "median_us": math.nan,
                                 "tops": math.nan, "weight_bytes": 0})
                    continue
                seconds, bound = _true_time(kernel, m, k, n)
                seconds *= math.exp(NOISE * rng.standard_normal())
                rows.append({**meta, "status": "ok", "median_us": seconds * 1e6,
                             "tops": 2 * m * n * k / seconds / 1e12,
                             "weight_bytes": TRUTH[kernel][3](k, n)})
                bounds.append(bound)
    return rows, bounds


def test_synthetic_run_recovers_the_truth():
    rows, bounds = _synthetic_run()
    result = compare.compare_run(rows)
    assert len(result.records) == len(bounds) and result.has_l2_term
    assert result.model.launch_s == pytest.approx(LAUNCH_S, rel=0.1)
    assert [r["bound"] for r in result.records] == bounds
    # held out, the error is the noise's: median |N(0, NOISE)| = 0.67 NOISE
    assert NOISE / 4 < result.held_out_median < 1.5 * NOISE
    assert result.verdict == "met"


def test_without_the_l2_term_the_l2_bound_rows_miss():
    rows, bounds = _synthetic_run()
    l2_bound = [i for i, bound in enumerate(bounds) if bound == "l2"]
    assert len(l2_bound) >= 10       # weight-only at M >= 128 re-reads activations per 16 rows of N
    with_l2 = compare.compare_run(rows).records
    without = compare.compare_run([{key: value for key, value in row.items() if key != "l2_copy_gbps"}
                                   for row in rows]).records
    error_with = statistics.median(with_l2[i]["held_out_error"] for i in l2_bound)
    error_without = statistics.median(without[i]["held_out_error"] for i in l2_bound)
    assert error_with < 1.5 * NOISE
    assert error_without > 0.3 and error_without > 10 * error_with


def _slowed(rows, shape, factor):
    """``rows`` with every ok row of ``shape`` ``factor`` times slower (time and throughput)."""
    return [{**row, "median_us": row["median_us"] * factor, "tops": row["tops"] / factor}
            if (row["k"], row["n"]) == shape and row["status"] == "ok" else row for row in rows]


def test_held_out_fit_excludes_the_held_out_rows():
    rows, _ = _synthetic_run()
    shape = (4096, 11008)
    clean, dirty = compare.compare_run(rows), compare.compare_run(_slowed(rows, shape, 50))
    for before, after in zip(clean.records, dirty.records):
        if (before["k"], before["n"]) == shape:
            assert after["held_out_s"] == pytest.approx(before["held_out_s"], rel=1e-12)
        else:   # the other shapes' folds include the poisoned rows
            assert after["held_out_s"] > before["held_out_s"] * 1.01
    # in-sample sees the poison (a third of the rows: the median moves, but robustly little)
    assert dirty.model.launch_s > clean.model.launch_s


def test_a_row_that_sets_the_peak_does_not_predict_itself():
    """The peaks are throughputs the rows reached: a shape whose cuBLAS GEMM runs twice as fast
    as on the others sets the fp16 peak, and held out, its row must be predicted from the other
    shapes' (slower) peak: about 2x too slow, not exact."""
    rows, _ = _synthetic_run()
    shape = (4096, 11008)
    fast = [{**row, "median_us": row["median_us"] / 2, "tops": row["tops"] * 2}
            if (row["kernel"], row["k"], row["n"], row["m"]) == ("cublas_fp16", *shape, 4096) else row
            for row in rows]
    record = next(r for r in compare.compare_run(fast).records
                  if (r["kernel"], r["k"], r["n"], r["m"]) == ("cublas_fp16", *shape, 4096))
    assert record["rel_error"] < 0.05                  # in sample it set the peak itself
    assert 0.7 < record["held_out_error"] < 1.3         # held out it did not


def test_a_class_without_a_peak_on_the_other_shapes_is_left_out_held_out():
    rows, _ = _synthetic_run()
    shape = (4096, 4096)
    # torch._int_mm measured on one shape only: int8 rows of that shape have no held-out peak
    only_here = [row for row in rows if row["kernel"] != "torch_int_mm" or (row["k"], row["n"]) == shape]
    result = compare.compare_run(only_here)
    for record in result.records:
        no_peak = record["op_class"] == "int8" and (record["k"], record["n"]) == shape
        assert math.isnan(record["held_out_error"]) == no_peak
    finite = [r["held_out_error"] for r in result.records if not math.isnan(r["held_out_error"])]
    assert result.held_out_median == pytest.approx(statistics.median(finite))


def test_cli_refuses_a_missing_results_folder(tmp_path, capsys):
    missing = tmp_path / "nonexistent"
    assert cli.main(["compare", "--results", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "--results" in err and str(missing) in err


def test_cli_on_an_old_single_shape_run(tmp_path, capsys):
    _write(tmp_path / "bench_fixture_20260101T000000Z.csv", _fixture_rows())
    out = tmp_path / "plots"
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("the L2 term is omitted") == 1
    assert "in-sample median abs error" in text and "w4a16_g128" in text
    assert "held-out validation needs >= 2 shapes" in text
    png = out / "bench_fixture_20260101T000000Z_roofline.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_on_the_synthetic_run(tmp_path, capsys):
    rows, _ = _synthetic_run()
    _write(tmp_path / "bench_synthetic_20260101T000000Z.csv", rows, COLUMNS + ["l2_copy_gbps"])
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(tmp_path / "plots")]) == 0
    text = capsys.readouterr().out
    assert "L2 term is omitted" not in text
    assert "held-out (leave one shape out, 3 shapes) median abs error" in text
    assert "(goal <= 15% on the held-out median: met)" in text and "held_out_s" in text


def test_bad_csv(tmp_path):
    path = tmp_path / "bench_x.csv"
    path.write_text("kernel,m\nw8a8,1\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        compare.read_rows(path)


def test_cli_skips_a_run_with_nothing_to_predict_and_goes_on(tmp_path, capsys):
    # a run (sorted first) with ok rows of w4a16_g128 only: no cublas_fp16 row measures the fp16
    # peak, so nothing is predictable; beside it a predictable run. The goals file of the same
    # run and any other CSV are not benchmark rows and are not read.
    unusable = [row for row in _fixture_rows() if row["kernel"] == "w4a16_g128"]
    _write(tmp_path / "bench_a_skipped_20260101T000000Z.csv", unusable)
    _write(tmp_path / "bench_fixture_20260101T000000Z.csv", _fixture_rows())
    (tmp_path / "goals_fixture_20260101T000000Z.csv").write_text("goal,verdict\nx,met\n")
    (tmp_path / "notes.csv").write_text("not,a,bench\n")
    out = tmp_path / "plots" / "nested"
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    skipped = "bench_a_skipped_20260101T000000Z.csv: no ok row with a measured peak for its class; skipped"
    assert text.startswith(skipped + "\n")
    assert "bench_fixture_20260101T000000Z.csv (test fixture):" in text
    assert sorted(p.name for p in out.iterdir()) == ["bench_fixture_20260101T000000Z_roofline.png"]


def test_a_run_whose_every_kernel_failed_is_skipped_not_an_error():
    failed = [dict(row, status="error") for row in _fixture_rows()]
    assert compare.compare_run(failed) is None


def test_cli_table_has_one_line_per_predictable_row(tmp_path, capsys):
    _write(tmp_path / "bench_fixture_20260101T000000Z.csv", _fixture_rows())
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(tmp_path / "plots")]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["kernel", "op_class", "m"])
    assert lines[header].split() == ["kernel", "op_class", "m", "k", "n", "measured_s",
                                     "predicted_s", "rel_error", "held_out_s", "held_out_error",
                                     "bound"]
    rows = [line.split() for line in lines[header + 1:] if line.split()[:1] in (["cublas_fp16"], ["w4a16_g128"])]
    # the four ok rows of _fixture_rows; the skipped one is not predicted
    assert [(r[0], r[2]) for r in rows] == [("cublas_fp16", "4096"), ("cublas_fp16", "1"),
                                          ("w4a16_g128", "1"), ("w4a16_g128", "16")]


def test_cli_reports_a_bad_csv_as_bad_input(tmp_path, capsys):
    (tmp_path / "bench_x.csv").write_text("kernel,m\nw8a8,1\n")
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(tmp_path / "plots")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lowbit compare: error: path {tmp_path / 'bench_x.csv'} lacks the columns ")
    assert "(kernels/results/README.md)" in err


def test_cli_without_results(tmp_path, capsys):
    out = tmp_path / "plots"
    assert cli.main(["compare", "--results", str(tmp_path), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"lowbit compare: no GPU benchmark results are recorded in {tmp_path} (no bench_*.csv; run "
        "`lowbit bench` on a machine with a CUDA GPU): nothing to compare\n")
    assert not out.exists()
