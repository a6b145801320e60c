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
