import pytest

from lowbit.models import workloads
from lowbit.models.workloads import Gemm


def test_names():
    assert workloads.names() == ["bert-base", "llama2-7b", "llama3-8b", "minilm-l6", "resnet18",
                                 "resnet50"]


# Published parameter counts minus what is not a GEMM weight (embeddings, norms, biases, BN).
@pytest.mark.parametrize("name, weights", [
    # 6,738,415,616 total - 32000*4096 embedding - 4096*(2*32+1) RMSNorm weights
    ("llama2-7b", 6_738_415_616 - 32000 * 4096 - 4096 * 65),
    # 8,030,261,248 total - 128256*4096 embedding - 4096*65 RMSNorm weights
    ("llama3-8b", 8_030_261_248 - 128256 * 4096 - 4096 * 65),
    # 12 * (4*768^2 + 2*768*3072) + pooler 768^2
    ("bert-base", 12 * (4 * 768 ** 2 + 2 * 768 * 3072) + 768 ** 2),
    ("minilm-l6", 6 * (4 * 384 ** 2 + 2 * 384 * 1536)),
    # torchvision: 11,689,512 total - 9,600 BN parameters - 1,000 fc bias
    ("resnet18", 11_689_512 - 9_600 - 1_000),
    # torchvision: 25,557,032 total - 53,120 BN parameters - 1,000 fc bias
    ("resnet50", 25_557_032 - 53_120 - 1_000),
])
def test_weight_counts_match_published_models(name, weights):
    assert workloads.weight_count(workloads.get(name)) == weights


def test_transformer_macs_are_tokens_times_weights():
    for name in ("llama2-7b", "llama3-8b", "minilm-l6"):
        gemms = workloads.get(name, batch=3, seq_len=50)
        assert workloads.mac_count(gemms) == 150 * workloads.weight_count(gemms)


def test_bert_pooler_runs_once_per_sequence():
    gemms = workloads.get("bert-base", batch=2, seq_len=10)
    assert Gemm(2, 768, 768, 1) in gemms
    assert Gemm(20, 768, 768, 48) in gemms


def test_llama3_grouped_query_attention_shapes():
    gemms = workloads.get("llama3-8b", batch=1, seq_len=4)
    assert Gemm(4, 4096, 1024, 64) in gemms        # k and v: 8 KV heads x 128
    assert Gemm(4, 4096, 14336, 64) in gemms       # gate and up
    assert Gemm(4, 4096, 128256, 1) in gemms       # LM head


def test_resnet18_im2col_shapes_by_hand():
    gemms = workloads.get("resnet18", batch=2)
    assert Gemm(2 * 112 * 112, 3 * 49, 64, 1) in gemms       # 7x7/2 stem
    assert Gemm(2 * 56 * 56, 64 * 9, 64, 4) in gemms          # stage 1: four 3x3 convs
    assert Gemm(2 * 28 * 28, 64, 128, 1) in gemms             # stage 2 projection, 1x1/2
    assert Gemm(2 * 7 * 7, 512 * 9, 512, 3) in gemms          # stage 4
    assert Gemm(2, 512, 1000, 1) in gemms


def test_resnet_macs_match_published_counts():
    # He et al. 2016 Table 1: 1.8 and 3.8-4.1 GFLOPs (multiply-adds) at 224x224
    assert abs(workloads.mac_count(workloads.get("resnet18")) / 1e9 - 1.814) < 0.001
    assert abs(workloads.mac_count(workloads.get("resnet50")) / 1e9 - 4.089) < 0.001


def test_cnn_ignores_seq_len():
    assert workloads.get("resnet50", seq_len=7) == workloads.get("resnet50", seq_len=512)


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "gpt5"}, "workload must be one of bert-base"),
    ({"name": "bert-base", "batch": 0}, "batch must be a positive integer"),
    ({"name": "bert-base", "seq_len": 2.5}, "seq_len must be a positive integer"),
    ({"name": "bert-base", "batch": True}, "batch must be a positive integer"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        workloads.get(**kwargs)


def test_llm_phases_prefill_shapes_and_kv_by_hand():
    prefill, decode = workloads.llm_phases("llama2-7b", batch=2, prompt_len=5, generated=3)
    (step,) = prefill.steps
    assert prefill.tokens == 10 and decode.tokens == 6
    assert step.weight_gemms == workloads.get("llama2-7b", batch=2, seq_len=5)
    # per sequence, query head and layer: QK^T 5 x 128 x 5, PV 5 x 5 x 128; 2 x 32 x 32 of them
    assert step.attention == [Gemm(5, 128, 5, 2048), Gemm(5, 5, 128, 2048)]
    assert step.kv_written == 2 * 5 * (2 * 32 * 4096) and step.kv_read == 0


def test_llm_phases_decode_grows_the_context():
    _, decode = workloads.llm_phases("llama3-8b", batch=1, prompt_len=5, generated=3)
    assert len(decode.steps) == 3
    kv_per_token = 2 * 32 * 8 * 128                      # GQA: 8 KV heads of 128
    for t, step in enumerate(decode.steps):
        assert step.weight_gemms == workloads.get("llama3-8b", batch=1, seq_len=1)
        assert step.attention == [Gemm(1, 128, 6 + t, 32 * 32), Gemm(1, 6 + t, 128, 32 * 32)]
        assert step.kv_read == (5 + t) * kv_per_token
        assert step.kv_written == kv_per_token


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "bert-base"}, "name must be one of llama2-7b, llama3-8b"),
    ({"name": "llama2-7b", "prompt_len": 0}, "prompt_len must be a positive integer"),
    ({"name": "llama2-7b", "generated": 1.5}, "generated must be a positive integer"),
])
def test_llm_phases_refuse_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        workloads.llm_phases(**kwargs)
