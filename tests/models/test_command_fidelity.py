import csv

import pytest

from lowbit.sweeps import cli


@pytest.fixture
def tiny_model(tiny_llama, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path / "cache"))
    return tiny_llama


def test_fidelity_prints_the_table_and_writes_csv(tiny_model, tmp_path, capsys):
    out = tmp_path / "fidelity.csv"
    argv = ["fidelity", "--model", tiny_model, "--schemes", "w4a16-g128,w4a16-g128-gptq",
            "--out", str(out)]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "ppl_ratio" in text and "w4a16-g128-gptq" in text and "Q4_1" not in text
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["scheme"], r["method"], r["calib_tokens"]) for r in rows] == \
        [("w4a16-g128", "rtn", "0"), ("w4a16-g128-gptq", "gptq", "8192")]
    assert float(rows[0]["llama2_7b_ppl_ratio"]) == pytest.approx(5.73 / 5.47)
    first = out.read_text()
    assert cli.main(argv) == 0                      # from the cache: the same table
    assert out.read_text() == first


def test_fidelity_bad_input_names_the_argument(tiny_model, capsys):
    assert cli.main(["fidelity", "--model", "/no/such/model"]) == 2
    assert "--model must be 'smollm2' or a local causal LM" in capsys.readouterr().err
    assert cli.main(["fidelity", "--model", tiny_model, "--schemes", "int9"]) == 2
    assert "--schemes must name values among fp16" in capsys.readouterr().err
