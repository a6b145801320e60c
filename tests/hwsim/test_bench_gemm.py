"""lowbit.hwsim.bench.gemm: one row per case and shape, rates and times filled in."""
import pytest

from lowbit.hwsim.bench import gemm as bench


def test_run_reports_every_case_on_every_shape():
    rows = bench.run(m=2, repeats=1)
    assert len(rows) == len(bench.CASES) * len(bench.SHAPES)
    for row in rows:
        assert row["bit-exact G MAC/s"] > 0 and row["numpy f32 G MAC/s"] > 0
        assert row["bit-exact wall s"] > 0 and row["bit-exact cpu s"] >= 0
        assert row["M x K x N"].startswith("2 x ")


def test_main_refuses_a_bad_count():
    with pytest.raises(SystemExit, match="--m must be >= 1"):
        bench.main(["--m", "0"])
