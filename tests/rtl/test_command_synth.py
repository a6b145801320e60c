"""``lowbit synth``: bad input exits 2 (the synthesis itself is tested in test_synth.py)."""
from sweeps import cli


def test_unknown_design_exits_2(capsys, tmp_path):
    assert cli.main(["synth", "--design", "nope", "--out", str(tmp_path / "s.json")]) == 2
    assert "unknown design 'nope'" in capsys.readouterr().err


def test_synth_writes_one_design(capsys, tmp_path):
    out = tmp_path / "s.json"
    assert cli.main(["synth", "--design", "int_mac", "--out", str(out)]) == 0
    import json
    document = json.loads(out.read_text())
    assert list(document["designs"]) == ["int_mac"]
    assert len(document["designs"]["int_mac"]) == 4
    assert "wrote" in capsys.readouterr().out
