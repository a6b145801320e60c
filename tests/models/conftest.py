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


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> str:
    """The folder of a tiny randomly initialised LLaMA-architecture causal LM with a byte-level
    BPE tokenizer trained on the stdlib text the LLM fidelity reads: no network, loads in a
    second."""
    import torch

    from lowbit.models.fidelity import llm
    folder = tmp_path_factory.mktemp("tiny-llama")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(llm.text_streams(), trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=bpe).save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=bpe.get_vocab_size(), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=llm.SEQ_LEN)
    LlamaForCausalLM(config).save_pretrained(folder)
    return str(folder)
