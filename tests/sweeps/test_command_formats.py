"""`lowbit formats` through the real dispatcher: lowbit.sweeps.cli.main([...]) with captured output."""
import math

import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.sweeps.cli import main
from lowbit.sweeps.commands.formats import SUMMARY_FIELDS


def run_cli(capsys, *argv):
    code = main(["formats", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def parse_value(text):
    if text in ("nan", "-nan"):
        return math.copysign(math.nan, -1.0 if text == "-nan" else 1.0)
    return float(text)


def test_listing_has_one_row_per_format_with_its_attributes(capsys):
    code, lines, err = run_cli(capsys)
    assert code == 0 and err == ""
    assert lines[0].split() == SUMMARY_FIELDS
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == formats.names()
    for name, bits, kind, max_, min_normal, min_subnormal, has_inf, has_nan in rows:
        fmt = formats.get(name)
        assert (int(bits), kind, has_inf, has_nan) == (fmt.bits, fmt.kind, str(fmt.has_inf),
                                                       str(fmt.has_nan))
        assert (float(max_), float(min_normal), float(min_subnormal)) == (
            fmt.max, fmt.min_normal, fmt.min_subnormal)


def test_e4m3fn_table_spot_codes(capsys):
    code, lines, _ = run_cli(capsys, "float8_e4m3fn")
    assert code == 0
    assert lines[0].startswith("name float8_e4m3fn, bits 8, kind float, max 448.0,")
    rows = {row[0]: row[1:] for row in (line.split() for line in lines[2:])}
    assert len(rows) == 256
    assert rows["0x00"] == ["00000000", "0.0"]
    assert rows["0x01"] == ["00000001", "0.001953125"]
    assert rows["0x38"] == ["00111000", "1.0"]
    assert rows["0x7e"] == ["01111110", "448.0"]
    assert rows["0x7f"] == ["01111111", "nan"]
    assert rows["0x80"] == ["10000000", "-0.0"]
    assert rows["0xff"] == ["11111111", "-nan"]


@pytest.mark.parametrize("name", formats.names())
def test_every_format_table_reads_back_to_its_values(capsys, name):
    fmt = formats.get(name)
    code, lines, _ = run_cli(capsys, name)
    assert code == 0
    assert lines[1].split() == ["code", "bits", "value"]
    rows = [line.split() for line in lines[2:]]
    assert len(rows) == fmt.n_codes
    assert [int(row[0], 16) for row in rows] == list(range(fmt.n_codes))
    assert [int(row[1], 2) for row in rows] == list(range(fmt.n_codes))
    assert all(len(row[1]) == fmt.bits for row in rows)
    printed = np.array([parse_value(row[2]) for row in rows])
    values = fmt.values()
    # exact, sign of zero and of NaN included
    assert np.array_equal(printed, values, equal_nan=True)
    assert np.array_equal(np.signbit(printed), np.signbit(values))


def test_unknown_name_is_bad_usage_naming_the_known_formats(capsys):
    code, lines, err = run_cli(capsys, "float9_e5m3")
    assert code == 2 and lines == []
    assert err.startswith("lowbit formats: error: unknown format 'float9_e5m3'; known formats: ")
    assert all(name in err for name in formats.names())


def test_closed_pipe_ends_quietly_with_the_sigpipe_status():
    """`lowbit formats float8_e4m3fn | head`: the reader is gone. The read end is closed
    before the command starts, so its first write meets the closed pipe however large the
    pipe buffer is."""
    import os
    import signal
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-P", "-m", "lowbit.sweeps.cli", "formats",
                               "float8_e4m3fn"], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 128 + signal.SIGPIPE
