"""``lowbit verify``: the summary table of a real (small) run; bad input exits 2."""
from sweeps import cli


def test_verify_prints_the_summary_table(capsys, tmp_path):
    code = cli.main(["verify", "--design", "int_mac", "--vectors", "200",
                     "--build-dir", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split()[:4] == ["design", "config", "vectors", "mismatches"]
    rows = [line.split() for line in out[1:5]]
    assert [row[0] for row in rows] == ["int_mac"] * 4
    assert [row[2] for row in rows] == ["4096", "4096", "4096", "200"]   # 4x4: exhaustive
    assert all(row[3] == "0" for row in rows)
    assert out[5].startswith("4 configs, 12,488 vectors, 0 mismatches")


def test_unknown_design_exits_2(capsys):
    assert cli.main(["verify", "--design", "nope"]) == 2
    assert "unknown design 'nope'" in capsys.readouterr().err
