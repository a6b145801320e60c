import csv
import json

import pytest

from lowbit.sweeps import cli


@pytest.fixture
def tiny_proxy(tiny_llama, tmp_path, monkeypatch) -> str:
    """llama2-7b's fidelity proxy is the tiny LLaMA; caches in tmp_path."""
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LOWBIT_LLM_FIDELITY_MODEL", tiny_llama)
    return tiny_llama


def test_search_prints_the_layer_table_and_writes_every_file(tiny_proxy, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["search", "--workload", "llama2-7b", "--pe", "bit_serial", "--max-cost-ratio", "0.7",
            "--schemes", "int8,int4-g128,int2-g64", "--samples", "64", "--measure",
            "--estimate", "--out", str(out), "--save", "tiny"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "cost_share" in text and "sensitivity" in text and "mixed:tiny" in text
    with open(out / "layers.csv", newline="") as handle:
        layers = list(csv.DictReader(handle))
    assert len(layers) == 14 and {row["bits"] for row in layers} <= {"8", "4", "3"}
    with open(out / "designs.csv", newline="") as handle:
        designs = {row["design"]: row for row in csv.DictReader(handle)}
    chosen = next(row for row in designs.values() if row["kind"] == "mixed")
    widest = designs["uniform int8"]
    assert float(chosen["energy_j"]) <= 0.7 * float(widest["energy_j"])
    assert float(chosen["measured"]) >= 0
    assert (out / "pareto.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "Spearman" in report and "![pareto.png](pareto.png)" in report
    record = json.loads((tmp_path / "cache" / "assignments" / "tiny.json").read_text())
    assert list(record["layers"].values()) == [row["scheme"] for row in layers]
    # cached: a second run measures nothing and chooses the same
    assert cli.main(argv[:-6] + ["--out", str(out), "--save", "tiny"]) == 0
    assert "measured model" not in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--workload", "minilm-l6", "--pe", "bit_serial", "--max-kl", "0.1"], "--max-kl applies"),
    (["--workload", "llama2-7b", "--pe", "nope", "--max-kl", "0.1"], "pe must be one of"),
    (["--workload", "llama2-7b", "--pe", "lut", "--max-kl", "0.1", "--objective", "area"],
     "objective must be one of"),
    (["--workload", "resnet18", "--pe", "lut", "--max-loss", "0.1"], "workload must be"),
    (["--workload", "llama2-7b", "--pe", "lut", "--max-cost-ratio", "0.5", "--objective",
      "edp_js"], "linear objective"),
])
def test_bad_arguments_exit_2_naming_them(argv, words, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    assert cli.main(["search", *argv]) == 2
    assert words in capsys.readouterr().err
