import json

import pytest

from lowbit.hwsim import quant

from lowbit.models.fidelity import cache


@pytest.fixture
def calls(monkeypatch):
    """Count the evaluations the cache asks for (the real computation still runs)."""
    made = []
    real = cache.compute

    def counting(model, scheme, arithmetic=None):
        made.append((model, scheme.label))
        return real(model, scheme, arithmetic)

    monkeypatch.setattr(cache, "compute", counting)
    return made


def test_miss_computes_then_hit_reads(tmp_path, calls):
    path = tmp_path / "fid.json"
    scheme = quant.preset("int8")
    value, metric = cache.fidelity("digits_cnn", scheme, path)
    again = cache.fidelity("digits_cnn", scheme, path)
    assert again == (value, metric) and metric == "top1"
    assert calls == [("digits_cnn", scheme.label)]
    stored = json.loads(path.read_text())
    assert list(stored) == [cache.key("digits_cnn", scheme)]
    assert stored[cache.key("digits_cnn", scheme)]["result"]["top1"] == value


def test_entries_accumulate_and_stale_ones_are_recomputed(tmp_path, calls):
    path = tmp_path / "fid.json"
    a, b = quant.preset("int8"), quant.preset("binary")
    cache.result("digits_cnn", a, path)
    cache.result("digits_cnn", b, path)
    assert len(json.loads(path.read_text())) == 2
    data = json.loads(path.read_text())
    data[cache.key("digits_cnn", a)]["fingerprint"] = "v0"
    path.write_text(json.dumps(data))
    cache.result("digits_cnn", a, path)
    assert calls == [("digits_cnn", a.label), ("digits_cnn", b.label), ("digits_cnn", a.label)]


def test_default_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    assert cache.default_path() == tmp_path / "fidelity.json"
    monkeypatch.delenv("LOWBIT_CACHE_DIR")
    assert cache.default_path().parts[-3:] == (".cache", "lowbit", "fidelity.json")


def test_schemes_sharing_a_label_get_different_keys():
    a = quant.Scheme(weight="int4", act="int8", calibration="minmax")
    b = quant.Scheme(weight="int4", act="int8", calibration="mse")
    assert cache.key("minilm", a) != cache.key("minilm", b)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="model must be one of minilm, digits_cnn"):
        cache.fidelity("gpt", quant.preset("int8"), tmp_path / "f.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        cache.result("digits_cnn", quant.preset("int8"), broken)


def test_fingerprint_follows_the_quantization_sources(monkeypatch, tmp_path):
    # A copy of the fingerprinted folders and files: editing any of their sources changes the
    # fingerprint, so a rounding or PTQ-method change recomputes every cached result.
    def code_file(source):
        return tmp_path / source if source.endswith(".py") else tmp_path / source / "code.py"

    for source in cache.FINGERPRINT_SOURCES:
        code_file(source).parent.mkdir(parents=True, exist_ok=True)
        code_file(source).write_text("x = 1\n")
    monkeypatch.setattr(cache, "_ROOT", tmp_path)
    before = cache.fingerprint("digits_cnn")
    for source in cache.FINGERPRINT_SOURCES:
        code_file(source).write_text("x = 2\n")
        after = cache.fingerprint("digits_cnn")
        assert after != before, source
        before = after
    (tmp_path / "hwsim" / "quant" / "notes.txt").write_text("not code")
    (tmp_path / "models" / "other.py").write_text("not fingerprinted")
    assert cache.fingerprint("digits_cnn") == before
    assert set(cache.FINGERPRINT_SOURCES) == {"hwsim/quant", "hwsim/formats", "models/fidelity",
                                              "models/ptq.py"}


def test_provenance():
    assert cache.provenance("minilm") == {"fidelity_model": "all-MiniLM-L6-v2",
                                          "fidelity_samples": 206}
    assert cache.provenance("digits_cnn") == {"fidelity_model": "digits-cnn",
                                              "fidelity_samples": 540}
    with pytest.raises(ValueError, match="model must be one of minilm, digits_cnn"):
        cache.provenance("gpt")


def test_pe_arithmetic_results_are_entries_of_their_own(monkeypatch, tmp_path):
    """digits CNN int8 through a 16-bit wrapping accumulator: its own key and fingerprint, a
    different top-1 than fake quantization, and a second call reads the cache."""
    from lowbit.hwsim import gemm
    scheme = quant.preset("int8")
    arithmetic = gemm.PEArithmetic(acc_bits=16)
    assert cache.key("digits_cnn", scheme, arithmetic) == \
        cache.key("digits_cnn", scheme) + "|pe:acc16-wrap/m23-rne"
    assert cache.fingerprint("digits_cnn", arithmetic) != cache.fingerprint("digits_cnn")
    path = tmp_path / "fidelity.json"
    narrow = cache.result("digits_cnn", scheme, path, arithmetic)["top1"]
    assert narrow < cache.result("digits_cnn", scheme, path)["top1"] - 0.5
    monkeypatch.setattr(cache, "compute", lambda *args: pytest.fail("recomputed"))
    assert cache.result("digits_cnn", scheme, path, arithmetic)["top1"] == narrow
