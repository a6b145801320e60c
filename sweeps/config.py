"""Sweep configs: TOML files that name the axes of a design space and how to evaluate it.

A config (built-in ones live in ``sweeps/configs/``, addressed by file stem) looks like::

    name = "default"                          # optional; the file stem otherwise
    description = "what this sweep answers"   # optional
    evaluator = "lowbit.models.evaluator:COST_MODEL"  # optional; "module:name"

    [axes]                 # every list non-empty, without duplicates
    schemes = ["int8", "int4-g128"]           # lowbit.hwsim.quant.preset_names()
    pes = ["int_mac", "lut"]                  # lowbit.hwsim.pe.kinds.names()
    lanes = [16]                              # positive integers the PEs accept
    arrays = [64]                             # PEs in the array, positive integers, or
    areas_mm2 = [8.0]                         # area budgets the array is sized to (equal-area
                                              # comparison), or
    throughputs_gmacs = [500.0]               # peak GMAC/s targets the array is sized to meet
                                              # (equal-throughput comparison): exactly one of
                                              # the three axes
    workloads = ["minilm-l6"]                 # lowbit.models.workloads.names()
    group_sizes = [32, 128]                   # optional axis, positive integers
    batches = [1]                             # optional axis, positive integers
    seq_lens = [128]                          # optional axis, positive integers (an LLM's
                                              # prompt length)
    generated = [128]                         # optional axis: tokens an LLM generates
    nodes = [45, 7]                           # optional axis: technology nodes in nm
    drams = ["ddr4"]                          # optional axis: DRAM kinds
    acc_bits = [16, 32]                       # optional PE arithmetic axes (fidelity through the
    overflows = ["wrap", "saturate"]          # PE's own accumulator, lowbit.hwsim.gemm): integer
    acc_mbits = [13, 23]                      # accumulator width and overflow policy, float
    acc_roundings = ["rne", "rtz"]            # accumulation fraction bits and rounding
    lut_table_bits = [9, 12]                  # optional: stored LUT table entry width (lut,
                                              # shared_lut; lowbit.hwsim.gemm_lut)

    [fidelity_models]      # optional: workload -> the model measuring its fidelity
    llama2-7b = "models/my-llama"             # a model folder or .gguf file (relative to this
                                              # file's folder), or "smollm2"; LLM workloads only

    [report]               # optional
    min_fidelity = 0.99                       # winners must reach this fidelity (0 < bar
                                              # <= 1), or per fidelity metric:
                                              # {cosine = 0.98, top1 = 0.97}
    baseline = {scheme = "int8", pe = "int_mac"}   # what the report compares winners against
                                                   # (names from the vocabulary)

The evaluator ("module:name", default lowbit.models.evaluator:COST_MODEL, the project's cost
model) is the sweep's model of the world: an object keeping the lowbit.sweeps.evaluator.Evaluator
contract. Its vocabulary names the schemes, PEs, workloads (and fidelity metrics, technology
nodes, DRAM kinds, overflow policies and accumulation roundings, when it lists them) a config may use; its ``applies`` drops the pairs it cannot run (a config where
no pair applies is refused with each pair's ``why_not``); its ``check_lanes`` says
whether every lane count fits every PE it meets. ``[fidelity_models]`` needs an evaluator with
the optional ``check_fidelity_model`` (the cost model has it): each named workload must be one
of the sweep's, and its points carry the model as their "fidelity_model" key, so the model is
part of every result's key in the store. So does a model the evaluator's optional
``environment_fidelity_model`` reports for a workload the table does not name (the cost model:
LOWBIT_LLM_FIDELITY_MODEL), so a change of the environment never reuses a stored result.

Every validation error is a ValueError naming the file, the offending key and value, and what
is allowed there.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from lowbit.sweeps import evaluator as evaluators
from lowbit.sweeps.evaluator import Evaluator

CONFIG_DIR = Path(__file__).parent / "configs"

_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_TOP_KEYS = ("name", "description", "evaluator", "axes", "fidelity_models", "report")
# axis key in the TOML -> key of a design point
AXES = {
    "schemes": "scheme",
    "pes": "pe",
    "lanes": "lanes",
    "arrays": "array",
    "workloads": "workload",
    "group_sizes": "group_size",
    "batches": "batch",
    "seq_lens": "seq_len",
    "areas_mm2": "area_mm2",
    "throughputs_gmacs": "throughput_gmacs",
    "generated": "generated",
    "nodes": "node",
    "drams": "dram",
    "acc_bits": "acc_bits",
    "overflows": "overflow",
    "acc_mbits": "acc_mbits",
    "acc_roundings": "acc_rounding",
    "lut_table_bits": "lut_table_bits",
}
_REQUIRED_AXES = ("schemes", "pes", "lanes", "workloads")
# exactly one of these sizes the array
_ARRAY_AXES = ("arrays", "areas_mm2", "throughputs_gmacs")
# named axis -> what one of its names is called in messages
_NAMED_AXES = {"schemes": "scheme", "pes": "PE kind", "workloads": "workload",
               "nodes": "technology node", "drams": "DRAM kind",
               "overflows": "overflow policy", "acc_roundings": "accumulation rounding"}
_REPORT_KEYS = ("min_fidelity", "baseline")
# axes of positive numbers (not integers) -> their unit in messages
_POSITIVE_NUMBER_AXES = {"areas_mm2": "mm²", "throughputs_gmacs": "GMAC/s"}


@dataclass(frozen=True)
class ReportSettings:
    """What the report calls a winner: fidelity at least ``min_fidelity`` (one bar, or a bar
    per fidelity metric, since a cosine and a top-1 accuracy are not on one scale); numbers are
    also given relative to ``baseline`` (a (scheme, pe) pair) when the sweep contains it."""
    min_fidelity: float | dict = 0.99
    baseline: tuple[str, str] | None = ("int8", "int_mac")

    def bar(self, metric: str) -> float | None:
        """The fidelity bar for rows whose fidelity_metric is ``metric``; None if the config
        gives per-metric bars and none for this metric."""
        if isinstance(self.min_fidelity, dict):
            return self.min_fidelity.get(metric)
        return self.min_fidelity

    def describe(self) -> str:
        if isinstance(self.min_fidelity, dict):
            return ", ".join(f"{metric} >= {bar:g}" for metric, bar in self.min_fidelity.items())
        return f">= {self.min_fidelity:g}"


@dataclass(frozen=True)
class SweepConfig:
    """One validated sweep. ``axes`` maps each axis in AXES order to a tuple of its values;
    optional axes that the file leaves out are absent, and their point key is then absent
    from every point."""
    name: str
    description: str
    evaluator: str
    axes: dict
    report: ReportSettings
    source: str  # the file it came from, for messages
    fidelity_models: dict = field(default_factory=dict)  # workload -> checked model


def config_names() -> list[str]:
    """The built-in configs, by name (file stem in sweeps/configs)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def resolve(spec: str) -> Path:
    """A config given as a path or as a built-in name -> its file."""
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ValueError(f"--config: no such file {spec!r}")
        return path
    builtin = CONFIG_DIR / f"{spec}.toml"
    if not builtin.is_file():
        raise ValueError(f"--config: {spec!r} is neither a file nor a built-in config; "
                         f"built-in configs: {', '.join(config_names())}")
    return builtin


def load(spec: str) -> SweepConfig:
    """Read and validate a config given as a path or built-in name."""
    path = resolve(spec)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, source=str(path), default_name=path.stem)


def parse(data: dict, *, source: str, default_name: str) -> SweepConfig:
    """Validate a config's parsed TOML; names are checked against the evaluator's vocabulary."""
    _check_keys(data, _TOP_KEYS, source, "")
    name = _string(data.get("name", default_name), source, "name")
    # the name becomes the results directory results/<name>
    if not _NAME.match(name):
        raise ValueError(f"{source}: name must be letters, digits, '_', '-' or '.' (not first), "
                         f"got {name!r}")
    description = _string(data.get("description", ""), source, "description")
    evaluator = _string(data.get("evaluator", evaluators.DEFAULT), source, "evaluator")
    evaluators.split(evaluator, f"{source}: evaluator")
    axes_table = data.get("axes")
    if not isinstance(axes_table, dict):
        raise ValueError(f"{source}: missing table [axes] with keys {', '.join(_REQUIRED_AXES)}")
    model = evaluators.load(evaluator)
    names = _vocabulary(model)
    axes = _parse_axes(axes_table, source, names)
    _check_lanes(axes, source, model)
    report = _parse_report(data.get("report", {}), source, names)
    table = data.get("fidelity_models", {})
    if not isinstance(table, dict):
        raise ValueError(f"{source}: fidelity_models must be a table {{workload = \"model\"}}, "
                         f"got {table!r}")
    check = getattr(model, "check_fidelity_model", None)
    fidelity_models = {**_environment_models(model, axes),
                       **{workload: _fidelity_model(name, workload, axes, evaluator, check,
                                                    Path(source).parent,
                                                    f"{source}: fidelity_models.{workload}")
                          for workload, name in table.items()}}
    return SweepConfig(name=name, description=description, evaluator=evaluator, axes=axes,
                       report=report, source=source, fidelity_models=fidelity_models)


def _environment_models(model, axes: dict) -> dict:
    """{workload: model} the evaluator's optional ``environment_fidelity_model`` sets for the
    sweep's workloads (a config's table and --fidelity-model override them)."""
    environment = getattr(model, "environment_fidelity_model", None)
    if environment is None:
        return {}
    models = {workload: environment(workload) for workload in axes["workloads"]}
    return {workload: name for workload, name in models.items() if name is not None}


def with_fidelity_models(config: SweepConfig, assignments, where: str) -> SweepConfig:
    """``config`` with each "WORKLOAD=MODEL" of ``assignments`` (a relative path is relative to
    the working directory) added to, or replacing in, its fidelity models; checked as the
    config's table is, errors naming ``where``."""
    models = dict(config.fidelity_models)
    check = getattr(evaluators.load(config.evaluator), "check_fidelity_model", None)
    for assignment in assignments:
        workload, model = split_assignment(assignment, where)
        models[workload] = _fidelity_model(model, workload, config.axes, config.evaluator, check,
                                           Path.cwd(), f"{where} {assignment}")
    return replace(config, fidelity_models=models)


def split_assignment(assignment: str, where: str) -> tuple[str, str]:
    """"WORKLOAD=MODEL" -> (workload, model); ValueError naming ``where`` otherwise."""
    workload, sep, model = assignment.partition("=")
    if not (sep and workload and model):
        raise ValueError(f"{where} must be WORKLOAD=MODEL (MODEL: a model folder, a .gguf file "
                         f"or 'smollm2'), got {assignment!r}")
    return workload, model


def _fidelity_model(model, workload: str, axes: dict, evaluator: str, check, base: Path,
                    where: str) -> str:
    """One fidelity model entry, checked: a workload of the sweep, an evaluator that takes
    fidelity models, and the model as that evaluator's ``check_fidelity_model`` returns it
    (a path relative to ``base`` made absolute first)."""
    if workload not in axes["workloads"]:
        raise ValueError(f"{where}: workload {workload!r} is not in this sweep; its workloads: "
                         f"{', '.join(axes['workloads'])}")
    if check is None:
        raise ValueError(f"{where}: evaluator {evaluator!r} takes no fidelity models (it has no "
                         f"check_fidelity_model)")
    if not isinstance(model, str):
        raise ValueError(f"{where} must be a string (a model folder, a .gguf file or "
                         f"'smollm2'), got {model!r}")
    relative = base / model
    try:
        return check(workload, str(relative) if relative.exists() else model)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _vocabulary(evaluator: Evaluator) -> dict[str, tuple[str, ...] | None]:
    """The evaluator's scheme, PE, workload and fidelity metric names as tuples
    ("fidelity_metrics" is None when the evaluator does not list them)."""
    names = evaluator.vocabulary()
    vocab = {key: tuple(names[key]) for key in ("schemes", "pes", "workloads")}
    optional = {key: None if names.get(key) is None else tuple(names[key])
                for key in ("fidelity_metrics", "nodes", "drams", "overflows", "acc_roundings")}
    return {**vocab, **optional}


def _check_keys(table: dict, allowed, source: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            where = f"[{prefix.rstrip('.')}]" if prefix else "the top level"
            raise ValueError(f"{source}: unknown key '{prefix}{key}'; allowed keys in {where}: "
                             f"{', '.join(allowed)}")


def _string(value, source: str, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{source}: {key} must be a string, got {value!r}")
    return value


def _parse_axes(table: dict, source: str, names: dict) -> dict:
    _check_keys(table, tuple(AXES), source, "axes.")
    for key in _REQUIRED_AXES:
        if key not in table:
            raise ValueError(f"{source}: missing axis axes.{key}")
    if sum(key in table for key in _ARRAY_AXES) != 1:
        raise ValueError(f"{source}: axes must have exactly one of axes.arrays (PEs), "
                         f"axes.areas_mm2 (area budgets the array is sized to) and "
                         f"axes.throughputs_gmacs (peak GMAC/s targets the array is sized to "
                         f"meet)")
    axes = {}
    for key in AXES:
        if key not in table:
            continue
        values = table[key]
        if not isinstance(values, list) or not values:
            raise ValueError(f"{source}: axes.{key} must be a non-empty list, got {values!r}")
        axes[key] = tuple(_axis_value(key, i, v, source, names) for i, v in enumerate(values))
        _check_unique(key, axes[key], source)
    return axes


def _axis_value(key: str, index: int, value, source: str, names: dict):
    where = f"{source}: axes.{key}[{index}]"
    if key in _POSITIVE_NUMBER_AXES:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{where} must be a positive number of "
                             f"{_POSITIVE_NUMBER_AXES[key]}, got {value!r}")
        return value
    if key in _NAMED_AXES:
        # an evaluator that lists no nodes or DRAM kinds checks them itself
        allowed = names[key]
        if allowed is not None and (isinstance(value, bool) or value not in allowed):
            raise ValueError(f"{where}: unknown {_NAMED_AXES[key]} {value!r}; "
                             f"allowed: {', '.join(map(str, allowed))}")
        return value
    if not _positive_int(value):
        raise ValueError(f"{where} must be a positive integer, got {value!r}")
    return value


def _positive_int(value) -> bool:
    # bool is an int in Python, but `lanes = true` is a mistake, not 1 lane.
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_lanes(axes: dict, source: str, evaluator: Evaluator) -> None:
    """Some (scheme, PE) pair must apply (else the error says why each does not), and every
    lane count must fit every PE it meets in the grid (pairs the evaluator's ``applies``
    rejects are never run, so they are not checked)."""
    pairs = [(scheme, pe) for pe in axes["pes"] for scheme in axes["schemes"]
             if evaluator.applies(scheme, pe)]
    if not pairs:
        raise ValueError(f"{source}: axes.schemes x axes.pes: "
                         + evaluators.no_pair_applies(axes["schemes"], axes["pes"], evaluator.why_not))
    for index, lanes in enumerate(axes["lanes"]):
        for scheme, pe in pairs:
            try:
                evaluator.check_lanes(scheme, pe, lanes)
            except ValueError as exc:
                raise ValueError(f"{source}: axes.lanes[{index}]: {lanes} lanes do not fit the "
                                 f"{pe} PE (scheme {scheme}): {exc}") from None


def _check_unique(key: str, values: tuple, source: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{source}: axes.{key} lists {value!r} twice")
        seen.add(value)


def _parse_report(table, source: str, names: dict) -> ReportSettings:
    if not isinstance(table, dict):
        raise ValueError(f"{source}: report must be a table, got {table!r}")
    _check_keys(table, _REPORT_KEYS, source, "report.")
    defaults = ReportSettings()
    min_fidelity = table.get("min_fidelity", defaults.min_fidelity)
    if isinstance(min_fidelity, dict):
        if not min_fidelity:
            raise ValueError(f"{source}: report.min_fidelity must not be an empty table")
        if names["fidelity_metrics"] is not None:
            _check_keys(min_fidelity, names["fidelity_metrics"], source, "report.min_fidelity.")
        min_fidelity = {metric: _bar(bar, source, f"report.min_fidelity.{metric}")
                        for metric, bar in min_fidelity.items()}
    else:
        min_fidelity = _bar(min_fidelity, source, "report.min_fidelity")
    baseline = table.get("baseline", defaults.baseline)
    if "baseline" in table:
        if not isinstance(baseline, dict) or set(baseline) != {"scheme", "pe"} \
                or not all(isinstance(v, str) for v in baseline.values()):
            raise ValueError(f"{source}: report.baseline must be {{scheme = \"...\", "
                             f"pe = \"...\"}}, got {baseline!r}")
        for key, axis in (("scheme", "schemes"), ("pe", "pes")):
            if baseline[key] not in names[axis]:
                raise ValueError(f"{source}: report.baseline.{key}: unknown "
                                 f"{_NAMED_AXES[axis]} {baseline[key]!r}; allowed: "
                                 f"{', '.join(names[axis])}")
        baseline = (baseline["scheme"], baseline["pe"])
    return ReportSettings(min_fidelity=min_fidelity, baseline=baseline)


def _bar(value, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{source}: {key} must be a number or a table {{metric = number}}, "
                         f"got {value!r}")
    # fidelity is a cosine or an accuracy: a bar outside (0, 1] is a typo (7 for 0.7, or 98
    # for a percentage), and 0 would name every design a winner
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{source}: {key} must be in (0, 1] (0 < bar <= 1), got {value!r}")
    return float(value)
