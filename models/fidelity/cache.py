"""Fidelity results cached by (model, scheme) in one JSON file, so sweeps compute each once.

``model`` is "minilm", "digits_cnn", or a causal LM (lowbit.models.fidelity.llm): "smollm2" or
the path of a local model folder or GGUF file. A scheme's PTQ method is one of its fields, so
the key covers (model, scheme, method); an LLM's fingerprint adds the data hash (the evaluation
and calibration text, token counts) and the model files' names, sizes and modification times.

Location: ``path`` argument, else ``$LOWBIT_CACHE_DIR/fidelity.json``, else
``~/.cache/lowbit/fidelity.json``. The key is ``"<model>|<scheme label>|<scheme digest>"``: the
label keeps the file readable, the digest (SHA-256 of the scheme's repr, every field) keeps two
schemes with one label apart. Each entry stores the model's full result dict plus a fingerprint
of what produced it: a version number, the SHA-256 of every Python source under hwsim/quant,
hwsim/formats, models/fidelity and models/ptq.py (so a rounding, encoding or method change
recomputes) and, for MiniLM,
the sentences; a stale fingerprint is recomputed. Writers in parallel processes take an exclusive
lock on ``<file>.lock`` and replace the file atomically, so concurrent sweeps never lose or tear
an entry.

A result computed through a PE's arithmetic (``arithmetic``, a lowbit.hwsim.gemm.PEArithmetic;
see lowbit.models.fidelity.quantized.pe_arithmetic) is its own entry: the key ends in
``|pe:<arithmetic label>`` and the fingerprint adds the digest of the bit-exact GEMMs and the
units they follow (ARITHMETIC_SOURCES), the code that result also depends on.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path

# Bump when a model's evaluation changes, so cached results are recomputed.
VERSION = 1
# model -> (metric reported as "fidelity", result key holding it)
MODELS = {"minilm": ("cosine", "mean_cosine"), "digits_cnn": ("top1", "top1")}
# A causal LM's fidelity: reference perplexity / quantized perplexity (1 / ppl_ratio), so that
# higher is better as for the others; the full result keeps ppl_ratio, kl and top1.
LLM_METRIC = "ref_ppl/ppl"
_ROOT = Path(__file__).resolve().parents[2]
# The code a cached result depends on: the quantizer, the element formats, the model wrappers,
# the PTQ methods.
FINGERPRINT_SOURCES = ("hwsim/quant", "hwsim/formats", "models/fidelity", "models/ptq.py")
# and, for results through a PE's arithmetic, the bit-exact GEMM and the units it follows
ARITHMETIC_SOURCES = ("hwsim/gemm.py", "hwsim/gemm_scales.py", "hwsim/gemm_mx.py",
                      "hwsim/gemm_lut.py",
                      "hwsim/units/integer.py", "hwsim/units/fp8.py", "hwsim/units/mx.py",
                      "hwsim/units/lut.py")


def default_path() -> Path:
    base = os.environ.get("LOWBIT_CACHE_DIR") or Path.home() / ".cache" / "lowbit"
    return Path(base) / "fidelity.json"


def key(model: str, scheme, arithmetic=None) -> str:
    digest = hashlib.sha256(repr(scheme).encode()).hexdigest()[:12]
    suffix = "" if arithmetic is None else f"|pe:{arithmetic.label}"
    return f"{model}|{scheme.label}|{digest}{suffix}"


def _check_model(model: str) -> None:
    if model not in MODELS and not is_llm(model):
        raise ValueError(f"model must be one of {', '.join(MODELS)}, 'smollm2', or the path of "
                         f"a local causal LM (model folder or .gguf file); got {model!r}")


def is_llm(model) -> bool:
    """Whether ``model`` names a causal LM that lowbit.models.fidelity.llm evaluates."""
    from lowbit.models.fidelity import llm
    if not isinstance(model, str) or model in MODELS:
        return False
    try:
        llm.model_source(model)
    except ValueError:
        return False
    return True


def source_digest(sources=FINGERPRINT_SOURCES) -> str:
    """SHA-256 (16 hex digits) over the relative path and bytes of every .py file in
    ``sources`` (folders, searched recursively, or files), in sorted path order."""
    digest = hashlib.sha256()
    for source in sources:
        root = _ROOT / source
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(model: str, arithmetic=None, sources=FINGERPRINT_SOURCES) -> str:
    """What produced a cached result of ``model``: version, the digest of ``sources``, MiniLM
    sentences, an LLM's text and files, the PE arithmetic's sources."""
    text = f"v{VERSION}|{source_digest(sources)}"
    if arithmetic is not None:
        text += f"|{source_digest(ARITHMETIC_SOURCES)}"
    if model == "minilm":
        from lowbit.models.fidelity import minilm
        text += "|" + hashlib.sha256(minilm.SENTENCES_PATH.read_bytes()).hexdigest()[:16]
    elif is_llm(model):
        from lowbit.models.fidelity import llm
        text += f"|{llm.text_digest()}|{llm.files_digest(model)}"
    return text


def compute(model: str, scheme, arithmetic=None) -> dict:
    """Run the model's evaluation (no cache), through ``arithmetic`` when given."""
    from lowbit.models.fidelity.quantized import pe_arithmetic
    with pe_arithmetic(arithmetic):
        return _compute(model, scheme)


def _compute(model: str, scheme) -> dict:
    _check_model(model)
    if model == "minilm":
        from lowbit.models.fidelity import minilm
        return minilm.evaluate(scheme)
    if is_llm(model):
        from lowbit.models.fidelity import llm
        return llm.evaluate(scheme, model=model)
    from lowbit.models.fidelity import digits_cnn
    return digits_cnn.evaluate(scheme)


def result(model: str, scheme, path: str | Path | None = None, arithmetic=None) -> dict:
    """The cached result dict of (model, scheme[, PE arithmetic]), computed and stored on a
    miss."""
    _check_model(model)
    path = Path(path) if path is not None else default_path()
    entry_key, stamp = key(model, scheme, arithmetic), fingerprint(model, arithmetic)
    entry = _read(path).get(entry_key)
    if entry is not None and entry.get("fingerprint") == stamp:
        return entry["result"]
    computed = compute(model, scheme, arithmetic)
    _store(path, entry_key, {"fingerprint": stamp, "result": computed})
    return computed


def fidelity(model: str, scheme, path: str | Path | None = None,
             arithmetic=None) -> tuple[float, str]:
    """(fidelity value, metric name) of (model, scheme[, PE arithmetic]): MiniLM mean cosine,
    CNN top-1, or an LLM's reference / quantized perplexity."""
    _check_model(model)
    if is_llm(model):
        return 1.0 / float(result(model, scheme, path, arithmetic)["ppl_ratio"]), LLM_METRIC
    metric, field = MODELS[model]
    return float(result(model, scheme, path, arithmetic)[field]), metric


def provenance(model: str) -> dict:
    """The proxy model behind ``model``'s fidelity and how many samples it is measured on:
    {"fidelity_model", "fidelity_samples"} (MiniLM: the shipped sentences; digits CNN: the
    test images; an LLM: the evaluation tokens)."""
    _check_model(model)
    if model == "minilm":
        from lowbit.models.fidelity import minilm
        return {"fidelity_model": minilm.MODEL_NAME, "fidelity_samples": len(minilm.sentences())}
    if is_llm(model):
        from lowbit.models.fidelity import llm
        return {"fidelity_model": llm.model_name(model), "fidelity_samples": llm.EVAL_TOKENS}
    from lowbit.models.fidelity import digits_cnn
    return {"fidelity_model": digits_cnn.MODEL_NAME,
            "fidelity_samples": digits_cnn.test_samples()}


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"fidelity cache {path} is not valid JSON ({exc}); delete it to "
                         f"recompute") from None


def _store(path: Path, entry_key: str, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # read-modify-write under the lock: no lost entries
        data = _read(path)
        data[entry_key] = entry
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fidelity-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
