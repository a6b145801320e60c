"""Per-layer sensitivity: the measured degradation when only one layer takes a scheme, cached;
and a diagonal-Fisher estimate of it, compared by rank correlation.

    table = measured(subject, schemes)          # {layer: {scheme label: degradation}}
    guess = fisher_estimate(subject, schemes)   # same shape, from gradients
    spearman(table, guess)                      # scipy.stats.spearmanr over (layer, scheme) pairs

Measured: lowbit.models.mixed.subjects.Subject.degradation({layer: scheme}) for every layer and
scheme, through Subject.degradations once per Subject.batch_group (an LLM: every layer and
scheme of one decoder block in batched forwards that start at that block). Cached in
``$LOWBIT_CACHE_DIR/sensitivity-<subject slug>.json`` (else ``~/.cache/lowbit/``): a fingerprint
(VERSION, the digest of the MEASURED_BY sources, the model's data and files as the fidelity
cache fingerprints them, the subject's identity: its token count) and {layer: {scheme key:
value}}; written after every group, so a long run (SmolLM2: 210 layers) resumes where it
stopped. One writer at a time per file (a stated limit: the measuring run is one process).

Estimate (HAWQ/Fisher-style, second order around the float32 model): for layer l with float
output y and quantized output y_q on the probe's calibration inputs,
    estimate(l, scheme) = 1/2 * sum over samples and outputs of F_diag * (y_q - y)^2 / samples
with F_diag estimated by the squared gradient of the subject's probe with respect to y, averaged
over ``draws`` draws (lowbit.models.mixed.subjects states the probes). It covers the weight and
the activation quantization of the layer alike (both show in y_q - y). One forward and backward
pass per draw for every layer at once, then one layer forward per (layer, scheme).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from lowbit.models.mixed import subjects as subjects_mod

VERSION = 1
# The sources a measured sensitivity runs through (the quantizer, the PTQ methods, the models'
# forward passes): narrower than the fidelity cache's, so that hours of SmolLM2 measurements
# survive edits elsewhere in lowbit.models.fidelity. lowbit.models.mixed itself is covered by
# VERSION (bump it when a change there changes measured values).
MEASURED_BY = ("hwsim/quant", "hwsim/formats", "models/ptq.py", "models/fidelity/llm.py",
               "models/fidelity/quantized.py", "models/fidelity/digits_cnn.py",
               "models/fidelity/minilm.py")
FISHER_DRAWS = 4
FISHER_SEED = 0


@functools.cache      # repr of a Scheme is slow, and a search asks once per layer and scheme
def scheme_key(scheme) -> str:
    from lowbit.models.fidelity import cache
    return cache.key("layer", scheme).split("|", 1)[1]


def cache_path(subject, kind: str = "sensitivity") -> Path:
    """The cache file of ``kind`` ("sensitivity", "estimate" or "assignments") for ``subject``."""
    from lowbit.models.fidelity import cache
    return cache.default_path().with_name(f"{kind}-{subjects_mod.slug(subject)}.json")


def fingerprint(subject) -> str:
    from lowbit.models.fidelity import cache
    return (f"v{VERSION}|{cache.fingerprint(subject.model, sources=MEASURED_BY)}|"
            f"{subject.identity()}")


def _stored(subject, kind: str) -> dict:
    """The cache file's content ({"values": {...}, "layers": [...] or absent}), or {} when it
    is missing or its fingerprint is stale."""
    path = cache_path(subject, kind)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"{kind} cache {path} is not valid JSON ({exc}); delete it to "
                         f"recompute") from None
    return stored if stored.get("fingerprint") == fingerprint(subject) else {}


def _load(subject, kind: str = "sensitivity") -> dict:
    return _stored(subject, kind).get("values", {})


def _save(subject, values: dict, kind: str = "sensitivity", layers: list | None = None) -> None:
    """Write ``values`` (and the subject's whole layer list, when given) atomically."""
    path = cache_path(subject, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {"fingerprint": fingerprint(subject), "values": values}
    if layers is not None:
        content["layers"] = list(layers)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(content, out, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _assignment_key(assignment: dict) -> str:
    pairs = sorted((layer, scheme_key(scheme)) for layer, scheme in assignment.items())
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]


def measured_assignment(subject, assignment: dict) -> float:
    """Measured degradation of ``assignment`` (layer -> Scheme) end to end, cached in the
    subject's "assignments" file by the SHA-256 of its (layer, scheme key) pairs."""
    key, values = _assignment_key(assignment), _load(subject, "assignments")
    if key not in values:
        values[key] = subject.degradation(assignment)
        _save(subject, values, "assignments")
    return values[key]


def measured_sweep_fidelity(subject, assignment: dict) -> tuple[float, str]:
    """Subject.sweep_fidelity of ``assignment``, cached like measured_assignment (in the
    subject's "fidelity" file)."""
    key, values = _assignment_key(assignment), _load(subject, "fidelity")
    if key not in values:
        values[key] = list(subject.sweep_fidelity(assignment))
        _save(subject, values, "fidelity")
    value, metric = values[key]
    return value, metric


def cached_layers(subject, schemes) -> list[str] | None:
    """The subject's layers, in its order, read from the sensitivity cache without loading
    the model, when the cache holds every layer's sensitivity under every scheme of
    ``schemes``; None otherwise (a partly measured subject, or a cache without the layer
    list)."""
    content = _stored(subject, "sensitivity")
    layers, values = content.get("layers"), content.get("values", {})
    keys = [scheme_key(s) for s in schemes]
    if not layers or any(key not in values.get(layer, {}) for layer in layers for key in keys):
        return None
    return sorted(layers, key=subject.sort_key)


def measured_layers(subject, schemes) -> list[str]:
    """The layers whose sensitivity under every scheme of ``schemes`` is cached (all of the
    subject's or the part a run has measured so far), in the subject's order."""
    keys = [scheme_key(s) for s in schemes]
    return sorted((layer for layer, row in _load(subject).items()
                   if all(key in row for key in keys)), key=subject.sort_key)


def measured(subject, schemes, *, compute: bool = True, progress=None,
             layers: list[str] | None = None) -> dict:
    """{layer: {scheme label: degradation}} with only that layer quantized, for every layer of
    ``subject`` and every Scheme in ``schemes``; from the cache, measuring (and storing) what is
    missing. ``compute=False``: ValueError naming what is missing instead of measuring.
    ``progress(layer)`` is called after each measured layer. ``layers``: the subject's layer
    names when the caller has them (cached_layers), so that the model need not be loaded; with
    ``compute=False`` also a part of them (read only)."""
    for scheme in schemes:
        subjects_mod.check_scheme(scheme)
    content = _stored(subject, "sensitivity")
    values = content.get("values", {})
    whole = compute or layers is None    # then ``layers`` is the subject's whole list
    layers = subject.layer_names() if layers is None else list(layers)
    missing = [(layer, scheme) for layer in layers for scheme in schemes
               if scheme_key(scheme) not in values.get(layer, {})]
    if missing and not compute:
        layer = missing[0][0]
        raise ValueError(f"no cached sensitivity of layer {layer} under "
                         f"{', '.join(s.label for name, s in missing if name == layer)} for "
                         f"{subject.identity()}; measure it first (lowbit search --measure)")
    groups: dict = {}
    for layer, scheme in missing:
        groups.setdefault(subject.batch_group(layer), []).append((layer, scheme))
    for pairs in groups.values():        # one subject.degradations call per group
        for (layer, scheme), value in zip(pairs, subject.degradations(pairs)):
            values.setdefault(layer, {})[scheme_key(scheme)] = value
        _save(subject, values, layers=layers)
        if progress is not None:
            for name in dict.fromkeys(layer for layer, _ in pairs):
                progress(name)
    columns = [(s.label, scheme_key(s)) for s in schemes]    # a label costs a spec's checks
    table = {layer: {label: values[layer][key] for label, key in columns} for layer in layers}
    if whole and content.get("layers") != layers:   # every layer is in: record the list
        _save(subject, values, layers=layers)           # for cached_layers
    return table


def fisher_estimate(subject, schemes, draws: int = FISHER_DRAWS, seed: int = FISHER_SEED) -> dict:
    """{layer: {scheme label: estimated degradation}} (module docstring)."""
    import torch
    network, layers = subject.network(), subject.layers()
    inputs, outputs, squared = {}, {}, {}

    def record(name):
        def hook(module, args, out):
            inputs[name] = args[0].detach()
            out.retain_grad()
            outputs[name] = out
        return hook

    hooks = [module.register_forward_hook(record(name)) for name, module in layers.items()]
    generator = torch.Generator().manual_seed(seed)
    try:
        for _ in range(draws):
            network.zero_grad(set_to_none=True)
            subject.probe(network, generator).backward()
            for name, out in outputs.items():
                squared[name] = squared.get(name, 0.0) + out.grad.detach() ** 2 / draws
    finally:
        for hook in hooks:
            hook.remove()
        network.zero_grad(set_to_none=True)
    table = {}
    with torch.no_grad():
        for name, module in layers.items():
            reference = module(inputs[name])
            table[name] = {}
            for scheme in schemes:
                error = subject.quantize_layer(name, scheme)(inputs[name]) - reference
                table[name][scheme.label] = float(0.5 * (squared[name] * error ** 2).sum()
                                                  / subject.samples)
    return table


def cached_estimate(subject, schemes) -> dict:
    """fisher_estimate with the default draws and seed, cached in the subject's "estimate" file
    (computed and stored for the schemes it lacks)."""
    for scheme in schemes:
        subjects_mod.check_scheme(scheme)
    values = _load(subject, "estimate")
    missing = [s for s in schemes
               if not values or any(scheme_key(s) not in row for row in values.values())]
    if missing:
        fresh = fisher_estimate(subject, missing)
        for layer, row in fresh.items():
            values.setdefault(layer, {}).update(
                {scheme_key(s): row[s.label] for s in missing})
        _save(subject, values, "estimate")
    layers = sorted(values, key=subject.sort_key)
    return {layer: {s.label: values[layer][scheme_key(s)] for s in schemes} for layer in layers}


def spearman(measured_table: dict, estimated_table: dict, scheme: str | None = None) -> float:
    """Spearman rank correlation between two {layer: {scheme: value}} tables over every
    (layer, scheme) pair they share, or only those of scheme label ``scheme`` (the ranking of
    the layers under one scheme; scipy.stats.spearmanr, ties averaged)."""
    from scipy.stats import spearmanr
    pairs = [(value, estimated_table[layer][label])
             for layer, row in measured_table.items() for label, value in row.items()
             if scheme is None or label == scheme]
    if len(pairs) < 3:
        raise ValueError(f"spearman needs at least 3 (layer, scheme) pairs, got {len(pairs)}")
    first, second = np.array(pairs).T
    return float(spearmanr(first, second).statistic)
