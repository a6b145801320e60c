import pytest

from lowbit.hwsim import quant

from lowbit.models.fidelity import cache


@pytest.fixture
def seeded_cache(monkeypatch, tmp_path):
    """A fidelity cache in tmp_path holding stated values for some presets, so cost tests do
    not run the models (the real fidelity path is tested in test_fidelity_*.py). Returns a
    function seed(model, preset, value)."""
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))

    def seed(model: str, preset: str, value: float) -> None:
        field = cache.MODELS[model][1]
        cache._store(cache.default_path(), cache.key(model, quant.preset(preset)),
                     {"fingerprint": cache.fingerprint(model), "result": {field: value}})
    return seed
