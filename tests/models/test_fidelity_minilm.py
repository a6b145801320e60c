"""The real MiniLM model, through the hwsim codes, on every shipped sentence (end to end)."""
import numpy as np
import pytest

from lowbit.hwsim import quant

from lowbit.models.fidelity import minilm
from lowbit.models.fidelity.quantized import quantized_layers


def test_shipped_sentences():
    texts = minilm.sentences()
    assert len(texts) >= 200
    assert len(set(texts)) == len(texts)


@pytest.fixture(scope="module")
def results():
    return {name: minilm.evaluate(quant.preset(name))
            for name in ("int8", "int4-g128", "binary")}


def test_fidelity_makes_sense(results):
    # INT8 near lossless, 4-bit groups lose a little, binary weights lose most of it.
    assert results["int8"]["mean_cosine"] > 0.97
    assert results["int8"]["retrieval_unchanged"] > 0.7
    assert 0.85 < results["int4-g128"]["mean_cosine"] < results["int8"]["mean_cosine"]
    assert results["binary"]["mean_cosine"] < 0.5
    assert results["binary"]["retrieval_unchanged"] < results["int4-g128"]["retrieval_unchanged"]
    assert all(r["n_sentences"] == len(minilm.sentences()) for r in results.values())


def test_weight_only_int8_is_nearly_lossless():
    scheme = quant.Scheme(weight="int8", act="float32", granularity="channel")
    result = minilm.evaluate(scheme, minilm.sentences()[:40])
    assert result["mean_cosine"] > 0.999


def test_every_linear_is_quantized_and_its_codes_are_used():
    texts = minilm.sentences()[:8]
    model = minilm.quantized_model(quant.preset("int8"))
    layers = quantized_layers(model)
    assert len(layers) == 37  # 6 layers x 6 linears + the (unused) pooler
    before = minilm.embed(model, texts)
    layers[0].qweight.codes[:, :] = 0  # zero every code of the first query projection
    after = minilm.embed(model, texts)
    assert not np.array_equal(before, after)


def test_compare_by_hand():
    reference = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    quantized = np.array([[2.0, 0.0], [0.0, 3.0], [0.8, 0.6]])  # scale is ignored
    result = minilm.compare(reference, quantized)
    assert result["mean_cosine"] == pytest.approx((1 + 1 + 0.96) / 3)
    # nearest neighbours: reference 0->2, 1->2, 2->1; quantized 0->2, 1->2, 2->0
    assert result["retrieval_unchanged"] == pytest.approx(2 / 3)


def test_too_few_sentences():
    with pytest.raises(ValueError, match="texts must hold at least 2 sentences"):
        minilm.evaluate(quant.preset("int8"), ["alone"])


def test_loading_draws_no_progress_bar(monkeypatch, capfd):
    monkeypatch.setattr(minilm, "_MODEL", None)   # force a fresh load in this process
    capfd.readouterr()
    minilm.load_float_model()
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.err and "it/s" not in captured.err
