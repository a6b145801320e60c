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


def test_a_sweep_measures_an_llm_workload_on_the_model_its_config_names(tiny_llama, tmp_path):
    """End to end in a subprocess (the runner binds sys.stderr when first imported)."""
    import csv
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    def sweep(*args):
        env = dict(os.environ, LOWBIT_CACHE_DIR=str(tmp_path / "cache"))
        return subprocess.run([sys.executable, "-m", "lowbit.sweeps.cli", "sweep", "--config",
                               str(config), "--out", str(out), *args], env=env,
                              cwd=Path(tiny_llama).parent, capture_output=True, text=True,
                              timeout=600)
    config = tmp_path / "llm.toml"
    config.write_text('evaluator = "lowbit.models.evaluator:COST_MODEL"\n[axes]\n'
                      'schemes = ["int8"]\npes = ["int_mac"]\nlanes = [16]\narrays = [16]\n'
                      'workloads = ["llama2-7b"]\ngenerated = [1]\n'
                      f'[fidelity_models]\nllama2-7b = "{tiny_llama}"\n')
    out = tmp_path / "out"
    result = sweep()
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in (out / "points.jsonl").read_text().splitlines()]
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
