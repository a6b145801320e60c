"""lowbit.hwsim.bench.formats: a tiny end-to-end run prints every ratio and cast line for every
float format; the encode it times equals ml_dtypes' bit for bit, and a wrong result is refused
before any timing."""
import io
import re

import ml_dtypes
import numba
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.bench.formats import bench_input, float_format_names, main, mismatch, run

SEED = 5


def test_encode_and_decode_equal_ml_dtypes_on_the_bench_input():
    fmt = formats.get("float8_e4m3fn")
    x = bench_input(1 << 16, SEED)
    codes_ml = x.astype(ml_dtypes.float8_e4m3fn)
    # What the docstring says the input covers: some subnormal codes (exponent field 0, nonzero
    # mantissa), nothing beyond 448.
    codes = codes_ml.view(np.uint8)
    assert ((codes & 0x78 == 0) & (codes & 0x07 != 0)).sum() >= 3
    assert np.abs(x).max() < 448
    assert np.array_equal(fmt.encode(x), codes_ml.view(np.uint8)), f"seed {SEED}"
    assert mismatch(fmt, x, codes_ml) is None


class _FlipOneEncodedBit:
    """float8_e4m3fn with one bit of the first code flipped: a wrong result to refuse."""
    name, kind = "float8_e4m3fn", "float"

    def __init__(self):
        self.fmt = formats.get("float8_e4m3fn")

    def encode(self, x):
        codes = self.fmt.encode(x)
        codes[0] ^= 1
        return codes

    def decode(self, codes):
        return self.fmt.decode(codes)


def test_a_wrong_encode_is_reported():
    x = bench_input(64, SEED)
    assert mismatch(_FlipOneEncodedBit(), x, x.astype(ml_dtypes.float8_e4m3fn)) == "encode"


def test_a_wrong_result_is_never_timed(monkeypatch, capsys):
    wrong, real_get = _FlipOneEncodedBit(), formats.get
    monkeypatch.setattr(formats, "get",
                        lambda name: wrong if name == "float8_e4m3fn" else real_get(name))
    out = io.StringIO()
    assert run(n=64, repeats=1, seed=SEED, out=out) == 1
    assert out.getvalue() == ""
    assert "float8_e4m3fn encode differs from ml_dtypes (n=64, seed=5)" in \
        capsys.readouterr().err


def test_every_float_format_is_timed():
    assert float_format_names() == ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn",
                                    "float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu"]


def test_tiny_run_prints_every_ratio_and_cast_line():
    out = io.StringIO()
    assert run(n=1000, repeats=1, seed=SEED, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("float32 -> float formats, n = 1000, median of 1; ")
    assert lines[1].split() == ["ml_dtypes", "hwsim", "ratio", "cast", "of", "cast"]
    threads = sorted({1, numba.config.NUMBA_NUM_THREADS})
    labels = [f"{name} {op} {'1 thread' if t == 1 else f'{t} threads'}"
              for name in float_format_names() for t in threads for op in ("encode", "decode")]
    assert len(lines) == 2 + len(labels)
    for line, label in zip(lines[2:], labels):
        match = re.fullmatch(rf"{label} +(\d+\.\d{{3}})ms +(\d+\.\d{{3}})ms +(\d+\.\d)x"
                             rf" +(\d+\.\d{{3}})ms +(\d+)%", line)
        assert match, line
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored


@pytest.mark.parametrize("argv,message", [(["--n", "0"], "--n must be >= 1, got 0"),
                                          (["--repeats", "0"], "--repeats must be >= 1, got 0")])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.rstrip().endswith(f"error: {message}")
