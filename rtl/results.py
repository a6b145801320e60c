"""One place for the RTL results the cost model reads: synthesis statistics (lowbit.rtl.synth)
and critical paths (lowbit.rtl.timing) per design config.

    from lowbit.rtl import results
    entry = results.obtain("synth", "lut_pe", {"lanes": 4, ...})   # None: none, none made
    results.records("timing", "lut_pe")                            # every entry of a design

Two layers, read in this order:
  committed  rtl/data/synth.json and rtl/data/timing.json, shipped with the package
             (regenerated with ``lowbit synth --out rtl/data/synth.json`` and
             ``python -P -m lowbit.rtl.timing``);
  cache      one JSON file per (kind, design, config) under ``cache_dir()``:
             $LOWBIT_SYNTH_CACHE_DIR, else $LOWBIT_CACHE_DIR/synth, else ~/.cache/lowbit/synth.
             ``lowbit synth`` writes each config it synthesizes here, and so does synthesis on
             demand. Each file is written whole and renamed into place, so sweep workers that
             synthesize at the same time never read a torn file.
An entry is what lowbit.rtl.synth.synthesize (kind "synth") or lowbit.rtl.timing.time_config
(kind "timing") returns: {"config": the config's fields, "label", ...numbers}; a cached one also
names the yosys that made it ("tool").

On demand: ``obtain`` synthesizes a config neither layer has (kind "synth": the generic and cmos
flows the area model reads, not the slow ice40 one; kind "timing": the NAND-mapped critical
path) and caches it, unless the environment sets LOWBIT_SYNTH_ON_DEMAND=0 (the test suite
does, so that no test waits on yosys unless it asks to).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

KINDS = ("synth", "timing")
COMMITTED = {"synth": Path(__file__).parent / "data" / "synth.json",
             "timing": Path(__file__).parent / "data" / "timing.json"}
ON_DEMAND_ENV = "LOWBIT_SYNTH_ON_DEMAND"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def cache_dir() -> Path:
    """The folder of the cached entries (module docstring)."""
    explicit = os.environ.get("LOWBIT_SYNTH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("LOWBIT_CACHE_DIR") or Path.home() / ".cache" / "lowbit"
    return Path(base) / "synth"


def on_demand() -> bool:
    """Whether ``obtain`` may run yosys: LOWBIT_SYNTH_ON_DEMAND unset or anything but "0"."""
    return os.environ.get(ON_DEMAND_ENV, "1") != "0"


@functools.lru_cache(maxsize=None)
def _committed(kind: str) -> dict:
    path = COMMITTED[kind]
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"designs": {}}


def _entry_path(kind: str, design: str, config: dict) -> Path:
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return cache_dir() / kind / design / f"{hashlib.sha256(text.encode()).hexdigest()[:20]}.json"


def _cached(kind: str, design: str) -> list[dict]:
    folder = cache_dir() / kind / design
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def records(kind: str, design: str) -> list[dict]:
    """Every entry of ``design`` for ``kind``: the committed ones, then the cached ones."""
    _check_kind(kind)
    return [*_committed(kind)["designs"].get(design, []), *_cached(kind, design)]


def find(kind: str, design: str, config: dict) -> dict | None:
    """The entry of ``design`` at ``config`` (a dict of its fields), committed first; None when
    neither layer has it."""
    _check_kind(kind)
    for entry in _committed(kind)["designs"].get(design, []):
        if entry["config"] == config:
            return entry
    path = _entry_path(kind, design, config)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def store(kind: str, design: str, entry: dict) -> Path:
    """Write ``entry`` to the cache (replacing an older entry of the same config)."""
    _check_kind(kind)
    path = _entry_path(kind, design, entry["config"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False,
                                     encoding="utf-8") as handle:
        json.dump(entry, handle, indent=1, sort_keys=True)
    os.replace(handle.name, path)
    return path


def obtain(kind: str, design: str, config: dict) -> dict | None:
    """``find``, else (when ``on_demand()``) synthesize the config now, cache and return its
    entry; None when it is in neither layer and on-demand synthesis is off."""
    entry = find(kind, design, config)
    if entry is not None or not on_demand():
        return entry
    from lowbit.rtl import registry
    built = registry.get(design).config(**config)
    with tempfile.TemporaryDirectory(prefix=f"lowbit-{kind}-") as workdir:
        if kind == "synth":
            from lowbit.rtl.synth import synthesize
            entry = synthesize(design, built, workdir, flows=("generic", "cmos"))
        else:
            from lowbit.rtl.timing import time_config
            entry = time_config(design, built, workdir)
    from lowbit.rtl.synth import yosys_version
    entry["tool"] = yosys_version()
    store(kind, design, entry)
    return entry
