import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lowbit.models import workloads
from lowbit.models.fidelity import proxy


def test_llm_workloads_take_smollm2_and_the_others_keep_theirs(monkeypatch):
    monkeypatch.delenv(proxy.LLM_MODEL_ENV, raising=False)
    assert [proxy.workload_model(w) for w in workloads.CAUSAL_LM] == ["smollm2", "smollm2"]
    assert proxy.workload_model("bert-base") == "minilm"
    assert proxy.workload_model("minilm-l6") == "minilm"
    assert proxy.workload_model("resnet18") == "digits_cnn"


def test_the_environment_names_another_causal_lm(monkeypatch, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv(proxy.LLM_MODEL_ENV, str(tmp_path))
    assert proxy.workload_model("llama3-8b") == str(tmp_path)
    assert proxy.workload_model("bert-base") == "minilm"
    monkeypatch.setenv(proxy.LLM_MODEL_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="LOWBIT_LLM_FIDELITY_MODEL must be 'smollm2' or"):
        proxy.workload_model("llama2-7b")


def test_unknown_workload_lists_the_names():
    with pytest.raises(ValueError, match="workload must be one of bert-base"):
        proxy.workload_model("gpt9")


_ONE_LLM_POINT = ('evaluator = "lowbit.models.evaluator:COST_MODEL"\n[axes]\n'
                  'schemes = ["int8"]\npes = ["int_mac"]\nlanes = [16]\narrays = [16]\n'
                  'workloads = ["llama2-7b"]\ngenerated = [1]\n')


def _sweep(config: Path, out: Path, cwd, *args, **environ) -> subprocess.CompletedProcess:
    """``lowbit sweep`` in a subprocess (the runner binds sys.stderr when first imported), its
    caches under ``out``'s parent; ``environ``: variables to set (None: unset)."""
    env = dict(os.environ, LOWBIT_CACHE_DIR=str(out.parent / "cache"))
    env.pop(proxy.LLM_MODEL_ENV, None)
    env.update({name: value for name, value in environ.items() if value is not None})
    return subprocess.run([sys.executable, "-m", "lowbit.sweeps.cli", "sweep", "--config",
                           str(config), "--out", str(out), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "points.jsonl").read_text().splitlines()]


def test_a_sweep_measures_an_llm_workload_on_the_model_its_config_names(tiny_llama, tmp_path):
    def sweep(*args):
        return _sweep(config, out, Path(tiny_llama).parent, *args)
    config = tmp_path / "llm.toml"
    config.write_text(_ONE_LLM_POINT + f'[fidelity_models]\nllama2-7b = "{tiny_llama}"\n')
    out = tmp_path / "out"
    result = sweep()
    assert result.returncode == 0, result.stderr
    (record,) = _records(out)
    assert record["point"]["fidelity_model"] == tiny_llama
    with open(out / "table.csv", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["fidelity_model"] == tiny_llama and row["fidelity_metric"] == "ref_ppl/ppl"
    # the same model named on the command line, relative to the working directory: same key
    result = sweep("--fidelity-model", f"llama2-7b={Path(tiny_llama).name}")
    assert result.returncode == 0, result.stderr
    assert f"1 points already in {out / 'points.jsonl'}, 0 to evaluate" in result.stderr
    result = sweep("--fidelity-model", "resnet18=x")
    assert result.returncode == 2
    assert "--fidelity-model resnet18=x: workload 'resnet18' is not in this sweep" in result.stderr


def test_the_environment_model_is_part_of_the_point_key(tiny_llama, tmp_path):
    """Two models named by LOWBIT_LLM_FIDELITY_MODEL into one results store: the second run
    measures its own model instead of reusing the first one's result."""
    other = shutil.copytree(tiny_llama, tmp_path / "other-llama")
    config = tmp_path / "llm.toml"
    config.write_text(_ONE_LLM_POINT)
    out = tmp_path / "out"
    for model in (tiny_llama, str(other)):
        result = _sweep(config, out, tmp_path, **{proxy.LLM_MODEL_ENV: model})
        assert result.returncode == 0, result.stderr
        assert f"0 points already in {out / 'points.jsonl'}, 1 to evaluate" in result.stderr
    assert [record["point"]["fidelity_model"] for record in _records(out)] == [tiny_llama,
                                                                               str(other)]


def test_a_sweep_refuses_an_environment_model_that_is_no_causal_lm(tmp_path, monkeypatch,
                                                                   capsys):
    from lowbit.sweeps import cli
    config = tmp_path / "llm.toml"
    config.write_text(_ONE_LLM_POINT)
    monkeypatch.setenv(proxy.LLM_MODEL_ENV, str(tmp_path / "nowhere"))
    assert cli.main(["sweep", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "LOWBIT_LLM_FIDELITY_MODEL must be 'smollm2' or" in capsys.readouterr().err
