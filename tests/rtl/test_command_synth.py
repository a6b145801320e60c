"""``lowbit synth``: bad input exits 2; results go to the cache the cost model reads, not the
current folder; --param synthesizes one config (the synthesis itself is tested in
test_synth.py)."""
import json
import re

from lowbit.rtl import results
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
    header, *rows, cached, wrote = capsys.readouterr().out.splitlines()
    assert len(rows) == 4 and cached.startswith("cached 4 config(s) in ")
    assert wrote.startswith("wrote ")
    assert max(len(row.split()[1]) for row in rows) > 58   # a label longer than the old column
    header_ends = [header.index(name) + len(name)
                   for name in ("cells", "flip-flops", "transistors", "ice40 LUTs")]
    for row in rows:   # every config's numbers end where the header's columns end
        assert [match.end() for match in re.finditer(r"\S+", row)][-4:] == header_ends


def test_one_config_goes_to_the_cache_the_cost_model_reads(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LOWBIT_SYNTH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["synth", "--design", "int_mac", "--param", "a_bits=2", "--param",
                     "b_bits=2", "--param", "acc_bits=5"]) == 0
    assert not (tmp_path / "synth.json").exists()
    entry = results.find("synth", "int_mac", {"a_bits": 2, "b_bits": 2, "a_signed": True,
                                             "b_signed": True, "acc_bits": 5,
                                             "overflow": "wrap"})
    assert entry["label"] == "a_bits=2,b_bits=2,acc_bits=5" and entry["tool"].startswith("Yosys")
    header, row, cached = capsys.readouterr().out.splitlines()
    assert row.split()[:2] == ["int_mac", "a_bits=2,b_bits=2,acc_bits=5"]
    assert cached == f"cached 1 config(s) in {tmp_path / 'cache' / 'synth'} (the cost model reads them)"


def test_param_needs_one_design(capsys):
    assert cli.main(["synth", "--param", "a_bits=2"]) == 2
    assert "--param needs exactly one --design NAME, got 0" in capsys.readouterr().err
    assert cli.main(["synth", "--design", "int_mac", "--param", "bits=2"]) == 2
    assert "param 'bits' is not a field of IntMacConfig" in capsys.readouterr().err
