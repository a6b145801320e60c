"""Workloads as lists of weight GEMMs: what one inference multiplies.

    from lowbit.models import workloads
    workloads.names()                               # every workload
    workloads.get("llama2-7b", batch=1, seq_len=128)  # [Gemm(M, K, N, count), ...]
    workloads.llm_phases("llama2-7b", batch=1, prompt_len=128, generated=128)  # prefill, decode

A :class:`Gemm` is ``Y[M, N] = X[M, K] @ W[K, N]`` executed ``count`` times per inference, with W
a weight matrix (torch ``nn.Linear`` stores it as ``[N, K]``; K is the reduction axis that
quantization groups run along). Only weight GEMMs are listed: the attention score and context
products (activation x activation) hold no weights, so weight quantization and the weight-code PEs
do not apply to them; ``get`` leaves them out of every workload alike (``llm_phases`` lists
them for LLM serving). Norms, softmax, activations
functions and embedding lookups are not GEMMs and are left out too.

Transformers run one forward pass over ``batch`` sequences of ``seq_len`` tokens (a prefill), so
M = batch * seq_len for every projection, the LM head included (a forward pass computes logits
for every position). Convolutional networks take ``batch`` 224x224 RGB images; each convolution
is its im2col GEMM: M = batch * H_out * W_out, K = C_in * kh * kw, N = C_out. ``seq_len`` does not
apply to them and is ignored.

Architectures (sources): LLaMA-2-7B (Touvron et al. 2023, "Llama 2", Table 1; HF config
meta-llama/Llama-2-7b-hf), LLaMA-3-8B (HF config meta-llama/Meta-Llama-3-8B: grouped-query
attention with 8 KV heads, FFN 14336, vocabulary 128256), BERT-base (Devlin et al. 2019: 12 layers,
hidden 768, FFN 3072, with the pooler), all-MiniLM-L6-v2 (its config.json: 6 layers, hidden 384,
FFN 1536; sentence-transformers mean pooling, so the BERT pooler is unused and left out),
ResNet-18/50 (He et al. 2016, torchvision layout: stride on the 3x3 convolution of a bottleneck).

LLM serving (llm_phases, the decoder-only LLaMA workloads): ``batch`` sequences, each a prompt of
``prompt_len`` tokens followed by ``generated`` generated tokens.
  prefill  one step over the prompts: weight GEMMs with M = batch * prompt_len; attention per
           layer, per sequence and per query head QK^T (M = prompt_len, K = head_dim,
           N = prompt_len) and PV (M = prompt_len, K = prompt_len, N = head_dim), dense: the causal
           mask's upper triangle is computed and discarded, as a dense kernel does. It writes the
           prompt's K and V to the KV cache.
  decode   one step per generated token: weight GEMMs with M = batch; step t (0-based) attends
           to the context of prompt_len + t cached tokens plus its own: QK^T (M = 1, K = head_dim,
           N = prompt_len + t + 1) and PV (M = 1, K = prompt_len + t + 1, N = head_dim) per
           sequence and query head. It reads the prompt_len + t cached tokens' K and V and writes
           its own token's once.
KV-cache elements count K and V of every layer: kv_heads * head_dim values per token per layer
each (grouped-query attention: a KV head is read once and shared by its group's query heads).
Attention products multiply two activations (the query or the softmax probabilities by the
cached keys or values): they hold no weights.
"""
from __future__ import annotations

from typing import NamedTuple


class Gemm(NamedTuple):
    """One weight GEMM: X[M, K] @ W[K, N], executed ``count`` times per inference."""
    M: int
    K: int
    N: int
    count: int


# name -> (hidden, layers, q heads, kv heads, ffn, vocab); LLaMA blocks: q, k, v, o, gate, up, down.
_LLAMA = {
    "llama2-7b": (4096, 32, 32, 32, 11008, 32000),
    "llama3-8b": (4096, 32, 32, 8, 14336, 128256),
}
# Decoder-only LLMs: their fidelity proxy is a causal LM (lowbit.models.fidelity.proxy).
CAUSAL_LM = tuple(_LLAMA)
# name -> (hidden, layers, ffn, has pooler); BERT blocks: q, k, v, o, intermediate, output.
_BERT = {
    "bert-base": (768, 12, 3072, True),
    "minilm-l6": (384, 6, 1536, False),
}
# name -> (block kind, blocks per stage); stage widths 64, 128, 256, 512.
_RESNET = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}
_IMAGE_SIZE = 224
_CLASSES = 1000

# The family each workload belongs to decides which proxy model measures its fidelity
# (lowbit.models.evaluator).
FAMILY = {**{name: "transformer" for name in (*_LLAMA, *_BERT)},
          **{name: "cnn" for name in _RESNET}}


class Step(NamedTuple):
    """One forward step of LLM serving: its weight GEMMs, its attention products (activation x
    activation GEMMs) and the KV-cache elements it writes and reads (see the module docstring)."""
    weight_gemms: list[Gemm]
    attention: list[Gemm]
    kv_written: int
    kv_read: int


class Phase(NamedTuple):
    """A phase of LLM serving: "prefill" (one step) or "decode" (one step per generated token);
    ``tokens`` is the tokens it processes (prefill: batch * prompt_len) or generates (decode:
    batch * generated)."""
    name: str
    tokens: int
    steps: tuple[Step, ...]


LLM_NAMES = tuple(sorted(_LLAMA))


def names() -> list[str]:
    """Every workload name, sorted."""
    return sorted(FAMILY)


def get(name: str, batch: int = 1, seq_len: int = 128) -> list[Gemm]:
    """The weight GEMMs of one inference of ``name`` (shapes merged: equal shapes add counts)."""
    _check_positive_int(batch, "batch")
    _check_positive_int(seq_len, "seq_len")
    if name in _LLAMA:
        gemms = _llama(batch * seq_len, *_LLAMA[name])
    elif name in _BERT:
        gemms = _bert(batch, batch * seq_len, *_BERT[name])
    elif name in _RESNET:
        gemms = _resnet(batch, *_RESNET[name])
    else:
        raise ValueError(f"workload must be one of {', '.join(names())}, got {name!r}")
    return _merge(gemms)


def llm_phases(name: str, batch: int = 1, prompt_len: int = 128,
               generated: int = 128) -> tuple[Phase, Phase]:
    """(prefill, decode) of serving ``batch`` prompts of ``prompt_len`` tokens and generating
    ``generated`` tokens each with LLM ``name`` (one of LLM_NAMES)."""
    head_size = head_dim(name)
    for value, argname in ((batch, "batch"), (prompt_len, "prompt_len"), (generated, "generated")):
        _check_positive_int(value, argname)
    _, layers, heads, kv_heads, _, _ = _LLAMA[name]
    kv_per_token = 2 * layers * kv_heads * head_size  # K and V of every layer
    per_head = batch * heads * layers
    prefill = Step(_merge(_llama(batch * prompt_len, *_LLAMA[name])),
                   [Gemm(prompt_len, head_size, prompt_len, per_head),
                    Gemm(prompt_len, prompt_len, head_size, per_head)],
                   kv_written=batch * prompt_len * kv_per_token, kv_read=0)
    step_gemms = _merge(_llama(batch, *_LLAMA[name]))
    decode = []
    for step in range(generated):
        context = prompt_len + step + 1  # the cached tokens and the step's own
        decode.append(Step(step_gemms,
                           [Gemm(1, head_size, context, per_head),
                            Gemm(1, context, head_size, per_head)],
                           kv_written=batch * kv_per_token,
                           kv_read=batch * (prompt_len + step) * kv_per_token))
    return (Phase("prefill", batch * prompt_len, (prefill,)),
            Phase("decode", batch * generated, tuple(decode)))


def transformer_layers(name: str) -> dict[str, tuple[int, int, int]]:
    """kind -> (K, N, count) of every weight layer of transformer ``name``: the per-block kinds
    (LLaMA: q, k, v, o, gate, up, down; BERT: q, k, v, o, intermediate, output) with count = the
    blocks, and the layers outside the blocks ("head": a LLaMA's LM head; "pooler": BERT-base's,
    whose GEMM has M = batch, not batch * seq_len), count 1. The same shapes ``get`` lists."""
    if name in _LLAMA:
        hidden, layers, heads, kv_heads, ffn, vocab = _LLAMA[name]
        kv_width = hidden // heads * kv_heads
        shapes = {"q": (hidden, hidden), "k": (hidden, kv_width), "v": (hidden, kv_width),
                  "o": (hidden, hidden), "gate": (hidden, ffn), "up": (hidden, ffn),
                  "down": (ffn, hidden)}
        return {**{kind: (k, n, layers) for kind, (k, n) in shapes.items()},
                "head": (hidden, vocab, 1)}
    if name in _BERT:
        hidden, layers, ffn, pooler = _BERT[name]
        shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden),
                  "o": (hidden, hidden), "intermediate": (hidden, ffn), "output": (ffn, hidden)}
        kinds = {kind: (k, n, layers) for kind, (k, n) in shapes.items()}
        return {**kinds, "pooler": (hidden, hidden, 1)} if pooler else kinds
    raise ValueError(f"name must be one of {', '.join(sorted((*_LLAMA, *_BERT)))} (the "
                     f"transformer workloads), got {name!r}")


def head_dim(name: str) -> int:
    """Elements per attention head of LLM ``name``: the reduction length of QK^T."""
    if name not in _LLAMA:
        raise ValueError(f"name must be one of {', '.join(LLM_NAMES)} (the LLM workloads), "
                         f"got {name!r}")
    hidden, _, heads, _, _, _ = _LLAMA[name]
    return hidden // heads


def weight_count(gemms: list[Gemm]) -> int:
    """Number of weights the GEMMs hold (each distinct layer's K * N, times its count)."""
    return sum(g.K * g.N * g.count for g in gemms)


def mac_count(gemms: list[Gemm]) -> int:
    """Multiply-accumulates the GEMMs perform."""
    return sum(g.M * g.K * g.N * g.count for g in gemms)


def _check_positive_int(value, argname: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{argname} must be a positive integer, got {value!r}")


def _llama(tokens: int, hidden: int, layers: int, heads: int, kv_heads: int, ffn: int,
           vocab: int) -> list[Gemm]:
    kv_width = hidden // heads * kv_heads
    return [
        Gemm(tokens, hidden, hidden, layers),     # q
        Gemm(tokens, hidden, kv_width, layers),   # k
        Gemm(tokens, hidden, kv_width, layers),   # v
        Gemm(tokens, hidden, hidden, layers),     # o
        Gemm(tokens, hidden, ffn, 2 * layers),    # gate, up
        Gemm(tokens, ffn, hidden, layers),        # down
        Gemm(tokens, hidden, vocab, 1),           # LM head
    ]


def _bert(batch: int, tokens: int, hidden: int, layers: int, ffn: int,
          pooler: bool) -> list[Gemm]:
    gemms = [
        Gemm(tokens, hidden, hidden, 4 * layers),  # q, k, v, attention output
        Gemm(tokens, hidden, ffn, layers),         # intermediate
        Gemm(tokens, ffn, hidden, layers),         # output
    ]
    if pooler:
        gemms.append(Gemm(batch, hidden, hidden, 1))  # pooler: the [CLS] token only
    return gemms


def _conv(batch: int, size: int, c_in: int, c_out: int, kernel: int, stride: int) -> tuple[Gemm, int]:
    """im2col GEMM of a square convolution with 'same'-style padding kernel // 2; returns the
    GEMM and the output size."""
    out = (size + 2 * (kernel // 2) - kernel) // stride + 1
    return Gemm(batch * out * out, c_in * kernel * kernel, c_out, 1), out


def _resnet(batch: int, block: str, stages: tuple[int, ...]) -> list[Gemm]:
    expansion = 1 if block == "basic" else 4
    stem, size = _conv(batch, _IMAGE_SIZE, 3, 64, 7, 2)
    gemms = [stem]
    size = (size + 2 - 3) // 2 + 1  # 3x3 max-pool, stride 2, padding 1
    c_in = 64
    for stage, blocks in enumerate(stages):
        width = 64 << stage
        for index in range(blocks):
            stride = 2 if stage > 0 and index == 0 else 1
            block_gemms, out = _block(batch, size, c_in, width, expansion, stride)
            if stride != 1 or c_in != width * expansion:  # projection shortcut (1x1 conv)
                block_gemms.append(_conv(batch, size, c_in, width * expansion, 1, stride)[0])
            gemms += block_gemms
            size, c_in = out, width * expansion
    gemms.append(Gemm(batch, c_in, _CLASSES, 1))  # fully connected classifier
    return gemms


def _block(batch: int, size: int, c_in: int, width: int, expansion: int,
           stride: int) -> tuple[list[Gemm], int]:
    if expansion == 1:  # basic block: 3x3 (stride), 3x3
        first, out = _conv(batch, size, c_in, width, 3, stride)
        return [first, _conv(batch, out, width, width, 3, 1)[0]], out
    reduce, _ = _conv(batch, size, c_in, width, 1, 1)  # bottleneck: 1x1, 3x3 (stride), 1x1
    middle, out = _conv(batch, size, width, width, 3, stride)
    return [reduce, middle, _conv(batch, out, width, width * expansion, 1, 1)[0]], out


def _merge(gemms: list[Gemm]) -> list[Gemm]:
    counts: dict[tuple[int, int, int], int] = {}
    for g in gemms:
        counts[(g.M, g.K, g.N)] = counts.get((g.M, g.K, g.N), 0) + g.count
    return [Gemm(m, k, n, c) for (m, k, n), c in counts.items()]
