"""``lowbit synth``: bad input exits 2 (the synthesis itself is tested in test_synth.py)."""
import json
import re

from lowbit.sweeps import cli


def test_unknown_design_exits_2(capsys, tmp_path):
    assert cli.main(["synth", "--design", "nope", "--out", str(tmp_path / "s.json")]) == 2
    assert "unknown design 'nope'" in capsys.readouterr().err


def test_synth_writes_one_design_once_in_aligned_columns(capsys, tmp_path):
    out = tmp_path / "s.json"
    assert cli.main(["synth", "--design", "int_mac", "--design", "int_mac",
                     "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert list(document["designs"]) == ["int_mac"]
    assert len(document["designs"]["int_mac"]) == 4
    header, *rows, wrote = capsys.readouterr().out.splitlines()
    assert len(rows) == 4 and wrote.startswith("wrote ")
    assert max(len(row.split()[1]) for row in rows) > 58   # a label longer than the old column
    header_ends = [header.index(name) + len(name)
                   for name in ("cells", "flip-flops", "transistors", "ice40 LUTs")]
    for row in rows:   # every config's numbers end where the header's columns end
        assert [match.end() for match in re.finditer(r"\S+", row)][-4:] == header_ends
