"""lowbit.sweeps.config: loading, and validation errors naming the key, the value and what is allowed."""
from __future__ import annotations

import pytest

from lowbit.sweeps import config
from lowbit.sweeps import evaluator as evaluators

GOOD = """
name = "t"
evaluator = "sweep_double:DOUBLE"
[axes]
schemes = ["int8", "binary"]
pes = ["int_mac", "lut"]
lanes = [8, 16]
arrays = [64]
workloads = ["minilm-l6"]
"""


@pytest.fixture
def write(tmp_path, double_env):
    def write(text: str):
        path = tmp_path / "c.toml"
        path.write_text(text)
        return path
    return write


def load_error(write, text: str) -> str:
    with pytest.raises(ValueError) as info:
        config.load(str(write(text)))
    return str(info.value)


def test_good_config_loads_with_defaults(write):
    loaded = config.load(str(write(GOOD)))
    assert loaded.name == "t"
    assert loaded.evaluator == "sweep_double:DOUBLE"
    assert loaded.axes == {"schemes": ("int8", "binary"), "pes": ("int_mac", "lut"),
                           "lanes": (8, 16), "arrays": (64,), "workloads": ("minilm-l6",)}
    assert loaded.report == config.ReportSettings(min_fidelity=0.99, baseline=("int8", "int_mac"))


def test_name_defaults_to_file_stem(write):
    assert config.load(str(write(GOOD.replace('name = "t"\n', "")))).name == "c"


def test_optional_axes_and_report(write):
    text = GOOD + "group_sizes = [32, 128]\nbatches = [1, 8]\nseq_lens = [64]\n" \
        "[report]\nmin_fidelity = 0.9\nbaseline = {scheme = \"int8\", pe = \"lut\"}\n"
    loaded = config.load(str(write(text)))
    assert loaded.axes["group_sizes"] == (32, 128)
    assert loaded.axes["batches"] == (1, 8) and loaded.axes["seq_lens"] == (64,)
    assert loaded.report == config.ReportSettings(min_fidelity=0.9, baseline=("int8", "lut"))


@pytest.mark.parametrize("old, new, expected", [
    ('name = "t"', 'name = "t"\nspeed = 3', "unknown key 'speed'; allowed keys in the top level"),
    ("lanes = [8, 16]", "lanes = [8, 16]\nlane = [4]",
     "unknown key 'axes.lane'; allowed keys in [axes]: schemes"),
    ("[axes]", "[report]\nfidelity = 1\n[axes]",
     "unknown key 'report.fidelity'; allowed keys in [report]"),
])
def test_unknown_keys_are_named(write, old, new, expected):
    message = load_error(write, GOOD.replace(old, new))
    assert expected in message
    assert "c.toml" in message


@pytest.mark.parametrize("old, new, expected", [
    ("lanes = [8, 16]", "lanes = [8, -16]", "axes.lanes[1] must be a positive integer, got -16"),
    ("lanes = [8, 16]", "lanes = [8, 0]", "axes.lanes[1] must be a positive integer, got 0"),
    ("lanes = [8, 16]", "lanes = [true]", "axes.lanes[0] must be a positive integer, got True"),
    ("arrays = [64]", "arrays = [6.5]", "axes.arrays[0] must be a positive integer, got 6.5"),
    ("arrays = [64]", "arrays = [[8, 8]]", "axes.arrays[0] must be a positive integer"),
    ("arrays = [64]", "arrays = 64", "axes.arrays must be a non-empty list, got 64"),
    ("arrays = [64]", "arrays = []", "axes.arrays must be a non-empty list, got []"),
    ("lanes = [8, 16]", "lanes = [8, 8]", "axes.lanes lists 8 twice"),
    ("arrays = [64]", "", "axes must have exactly one of axes.arrays (PEs), axes.areas_mm2 "),
    ("arrays = [64]", "arrays = [64]\nareas_mm2 = [8.0]", "exactly one of axes.arrays"),
    ("arrays = [64]", "areas_mm2 = [8.0]\nthroughputs_gmacs = [100.0]", "exactly one of axes.arrays"),
    ("arrays = [64]", "throughputs_gmacs = [-1]",
     "axes.throughputs_gmacs[0] must be a positive number of GMAC/s, got -1"),
    ("arrays = [64]", "areas_mm2 = [0]", "axes.areas_mm2[0] must be a positive number of mm²"),
    ("arrays = [64]", 'areas_mm2 = ["8"]', "axes.areas_mm2[0] must be a positive number of mm²"),
    ("arrays = [64]", "arrays = [64]\ngenerated = [0]", "axes.generated[0] must be a positive integer"),
    ('name = "t"', "name = 3", "name must be a string, got 3"),
    ('name = "t"', 'name = "../up"', "name must be letters, digits, '_', '-' or '.' (not first), "
                                     "got '../up'"),
    ('evaluator = "sweep_double:DOUBLE"', 'evaluator = "sweep_double"',
     "evaluator must be 'module:name', got 'sweep_double'"),
    ("[axes]", "[report]\nmin_fidelity = \"high\"\n[axes]",
     "report.min_fidelity must be a number or a table {metric = number}, got 'high'"),
    ("[axes]", "[report]\nbaseline = {scheme = \"int8\"}\n[axes]", "report.baseline must be"),
    ("[axes]", "[report]\nmin_fidelity = {cosine = \"x\"}\n[axes]",
     "report.min_fidelity.cosine must be a number or a table {metric = number}, got 'x'"),
    ("[axes]", "[report]\nmin_fidelity = {}\n[axes]",
     "report.min_fidelity must not be an empty table"),
])
def test_bad_values_are_named(write, old, new, expected):
    assert expected in load_error(write, GOOD.replace(old, new))


@pytest.mark.parametrize("old, new, expected", [
    ('"binary"]', '"int3"]', "axes.schemes[1]: unknown scheme 'int3'; allowed: int8, int4-pc"),
    ('"lut"]', '"systolic"]', "axes.pes[1]: unknown PE kind 'systolic'; allowed: int_mac, lut"),
    ('["minilm-l6"]', '["gpt5"]', "axes.workloads[0]: unknown workload 'gpt5'; allowed: minilm-l6"),
])
def test_unknown_names_are_rejected_by_name(write, old, new, expected):
    assert expected in load_error(write, GOOD.replace(old, new))


def test_per_metric_fidelity_bars(write):
    text = GOOD + "[report]\nmin_fidelity = {cosine = 0.98, top1 = 0.9}\n"
    loaded = config.load(str(write(text)))
    assert loaded.report.bar("cosine") == 0.98 and loaded.report.bar("top1") == 0.9
    assert loaded.report.bar("f1") is None
    assert loaded.report.describe() == "cosine >= 0.98, top1 >= 0.9"
    assert config.ReportSettings().bar("anything") == 0.99


def test_missing_axes_table(write):
    assert "missing table [axes]" in load_error(write, 'name = "x"\n')


def test_invalid_toml(write):
    assert "not valid TOML" in load_error(write, "axes = [\n")


def test_unknown_builtin_name_lists_the_builtins():
    with pytest.raises(ValueError, match=r"--config: 'nope' is neither a file nor a built-in "
                                         r"config; built-in configs: .*default.*tiny"):
        config.load("nope")


def test_missing_toml_file(tmp_path):
    with pytest.raises(ValueError, match="--config: no such file"):
        config.load(str(tmp_path / "absent.toml"))


def test_missing_evaluator_module_is_an_import_error(write):
    with pytest.raises(ImportError):
        config.load(str(write(GOOD.replace("sweep_double:", "no_such_module_xyz:"))))


def test_evaluator_that_the_module_lacks(write):
    with pytest.raises(ImportError, match="sweep_double has no nope"):
        config.load(str(write(GOOD.replace("sweep_double:DOUBLE", "sweep_double:nope"))))


def test_builtin_names_resolve_to_files():
    assert {"default", "tiny"} <= set(config.config_names())
    assert config.resolve("default") == config.CONFIG_DIR / "default.toml"


def test_evaluator_must_keep_the_whole_contract(write, monkeypatch):
    import sweep_double
    monkeypatch.delattr(sweep_double.DOUBLE, "pareto_front")
    monkeypatch.delattr(sweep_double.DOUBLE, "check_lanes")
    with pytest.raises(ImportError, match="'sweep_double:DOUBLE' lacks check_lanes, pareto_front"):
        config.load(str(write(GOOD)))


def test_the_project_evaluator_keeps_the_contract():
    from lowbit.models.evaluator import COST_MODEL
    from lowbit.sweeps.evaluator import Evaluator
    assert isinstance(COST_MODEL, Evaluator)
    assert evaluators.load(evaluators.DEFAULT) is COST_MODEL


# The project's own evaluator (lowbit.models.evaluator): names and limits come from models, not copies.
REAL = GOOD.replace('evaluator = "sweep_double:DOUBLE"\n', "").replace(
    '["minilm-l6"]', '["resnet18"]')


@pytest.mark.parametrize("report_table, expected", [
    ("min_fidelity = {cosin = 0.98}",
     "unknown key 'report.min_fidelity.cosin'; allowed keys in [report.min_fidelity]: cosine, "
     "top1"),
    ("min_fidelity = 7.0", "report.min_fidelity must be in (0, 1] (0 < bar <= 1), got 7.0"),
    ("min_fidelity = 0", "report.min_fidelity must be in (0, 1] (0 < bar <= 1), got 0"),
    ("min_fidelity = {top1 = 97}",
     "report.min_fidelity.top1 must be in (0, 1] (0 < bar <= 1), got 97"),
    ('baseline = {scheme = "int9", pe = "int_mac"}',
     "report.baseline.scheme: unknown scheme 'int9'; allowed: "),
    ('baseline = {scheme = "int8", pe = "gpu"}',
     "report.baseline.pe: unknown PE kind 'gpu'; allowed: int_mac, lut, shift_add, bit_serial, "
     "fp8_mac"),
    ('baseline = "int8"', "report.baseline must be {scheme = \"...\", pe = \"...\"}, got 'int8'"),
])
def test_report_settings_are_checked_against_the_evaluator(write, report_table, expected):
    message = load_error(write, REAL + f"[report]\n{report_table}\n")
    assert expected in message and "c.toml" in message


@pytest.mark.parametrize("axis, expected", [
    ("nodes = [28]", "axes.nodes[0]: unknown technology node 28; allowed: 45, 20, 16, 14, 10, 7"),
    ('drams = ["hbm3"]', "axes.drams[0]: unknown DRAM kind 'hbm3'; allowed: ddr4, hbm2, hbm2e"),
])
def test_nodes_and_drams_are_checked_against_the_evaluator(write, axis, expected):
    assert expected in load_error(write, REAL.replace("[axes]", f"[axes]\n{axis}"))


def test_a_bar_of_exactly_one_is_allowed(write):
    loaded = config.load(str(write(REAL + "[report]\nmin_fidelity = {top1 = 1}\n")))
    assert loaded.report.bar("top1") == 1.0


@pytest.mark.parametrize("lanes, pes, expected", [
    ("[16, 300]", '["int_mac"]', "axes.lanes[1]: 300 lanes do not fit the int_mac PE (scheme "
                                 "int8): lanes must be an integer in 1..256, got 300"),
    # int8 does not run on the LUT PE (at most 4 weight bits), binary does
    ("[8, 6]", '["int_mac", "lut"]', "axes.lanes[1]: 6 lanes do not fit the lut PE (scheme "
                                     "binary): lanes must be a multiple of group_size=4, got 6"),
])
def test_lanes_are_checked_at_load_time_against_the_pe_configs(write, lanes, pes, expected):
    text = REAL.replace("lanes = [8, 16]", f"lanes = {lanes}").replace(
        'pes = ["int_mac", "lut"]', f"pes = {pes}")
    assert expected in load_error(write, text)


def test_lanes_that_fit_every_pe_they_meet_load(write):
    # 6 lanes is no multiple of the LUT group, but no LUT PE is in this sweep
    text = REAL.replace("lanes = [8, 16]", "lanes = [6]").replace(
        'pes = ["int_mac", "lut"]', 'pes = ["int_mac", "bit_serial"]')
    assert config.load(str(write(text))).axes["lanes"] == (6,)


def test_an_evaluator_may_state_its_own_lane_limits(write, monkeypatch):
    import sweep_double

    def check_lanes(scheme, pe, lanes):
        if lanes > 8:
            raise ValueError(f"lanes must be at most 8, got {lanes}")
    monkeypatch.setattr(sweep_double.DOUBLE, "check_lanes", check_lanes)
    assert ("axes.lanes[1]: 16 lanes do not fit the int_mac PE (scheme int8): lanes must be at "
            "most 8, got 16") in load_error(write, GOOD)


def test_pe_kinds_are_the_registrys():
    from lowbit.hwsim.pe import kinds
    from lowbit.models.fidelity.cache import LLM_METRIC, MODELS
    names = evaluators.load(evaluators.DEFAULT).vocabulary()
    assert names["pes"] == tuple(kinds.KINDS)
    assert names["fidelity_metrics"] == (*(metric for metric, _ in MODELS.values()), LLM_METRIC)
    assert not hasattr(config, "PE_KINDS")


def test_a_grid_where_no_pair_applies_is_refused_naming_each_scheme_and_its_need(write):
    # fp16 and int4-g128-a16 take float16 activations, which no PE kind takes
    text = REAL.replace('schemes = ["int8", "binary"]', 'schemes = ["fp16", "int4-g128-a16"]')
    message = load_error(write, text)
    assert "axes.schemes x axes.pes: no (scheme, pe) pair applies" in message
    assert ("int4-g128-a16 on lut: scheme w4g128-a16 (weights int4, activations float16) does "
            "not run on the lut PE: its activations float16 fit none of int1..int8") in message
    assert ("fp16 on int_mac: scheme w16-a16 (weights float16, activations float16) does not "
            "run on the int_mac PE: its weights float16 fit none of int1..int8 and its "
            "activations float16 none of int1..int8") in message


def test_the_evaluator_explains_a_rejected_pair(write):
    text = GOOD.replace('schemes = ["int8", "binary"]', 'schemes = ["fp8-e4m3"]').replace(
        'pes = ["int_mac", "lut"]', 'pes = ["lut"]')
    assert "fp8-e4m3 on lut: the double runs no fp8-e4m3 on lut" in load_error(write, text)


def test_the_accumulator_config_sweeps_pe_arithmetic_into_the_point_key():
    from lowbit.sweeps import grid
    loaded = config.load("accumulator")
    assert loaded.axes["acc_bits"] == (32, 21, 16) and loaded.axes["overflows"] == ("wrap",)
    points, _ = grid.expand(loaded)
    assert {point["acc_bits"] for point in points} == {32, 21, 16}
    assert len({grid.point_key(loaded.evaluator, point) for point in points}) == len(points)


def test_the_lut_table_config_sweeps_table_widths_into_the_point_key():
    from lowbit.sweeps import grid
    loaded = config.load("lut_table")
    assert loaded.axes["lut_table_bits"] == (10, 8, 6)
    points, _ = grid.expand(loaded)
    assert {point["lut_table_bits"] for point in points} == {10, 8, 6}
    assert len({grid.point_key(loaded.evaluator, point) for point in points}) == len(points)


@pytest.mark.parametrize("line,message", [
    ('overflows = ["clamp"]', "unknown overflow policy 'clamp'; allowed: wrap, saturate"),
    ('acc_roundings = ["rtn"]', "unknown accumulation rounding 'rtn'; allowed: rne, rtz"),
    ("acc_mbits = [0]", "axes.acc_mbits\\[0\\] must be a positive integer"),
])
def test_pe_arithmetic_axes_are_checked_against_the_cost_models_vocabulary(tmp_path, line,
                                                                          message):
    text = (config.CONFIG_DIR / "accumulator.toml").read_text()
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('overflows = ["wrap"]', line))
    with pytest.raises(ValueError, match=message):
        config.load(str(path))


LLM_SWEEP = """
evaluator = "lowbit.models.evaluator:COST_MODEL"
[axes]
schemes = ["int8"]
pes = ["int_mac"]
lanes = [16]
arrays = [64]
workloads = ["llama2-7b", "resnet18"]
"""


@pytest.fixture
def model_folder(tmp_path):
    """A folder that passes for a local causal LM (it holds config.json)."""
    folder = tmp_path / "my-llama"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def test_fidelity_models_are_checked_and_made_absolute(write, model_folder):
    loaded = config.load(str(write(LLM_SWEEP + '[fidelity_models]\nllama2-7b = "my-llama"\n')))
    assert loaded.fidelity_models == {"llama2-7b": str(model_folder)}  # relative to the file
    assert config.load(str(write(LLM_SWEEP))).fidelity_models == {}
    smol = config.load(str(write(LLM_SWEEP + '[fidelity_models]\nllama2-7b = "smollm2"\n')))
    assert smol.fidelity_models == {"llama2-7b": "smollm2"}


@pytest.mark.parametrize("table, expected", [
    ('llama3-8b = "my-llama"', "fidelity_models.llama3-8b: workload 'llama3-8b' is not in this "
                               "sweep; its workloads: llama2-7b, resnet18"),
    ('resnet18 = "my-llama"', "fidelity_models.resnet18: only the decoder-only LLM workloads "
                              "(llama2-7b, llama3-8b) take a fidelity model; 'resnet18' keeps "
                              "digits_cnn"),
    ('llama2-7b = "nowhere"', "fidelity_models.llama2-7b: the fidelity model of llama2-7b must be "
                              "'smollm2' or the path of a local causal LM"),
    ("llama2-7b = 3", "fidelity_models.llama2-7b must be a string"),
])
def test_bad_fidelity_models_name_the_key(write, model_folder, table, expected):
    assert expected in load_error(write, LLM_SWEEP + f"[fidelity_models]\n{table}\n")


def test_fidelity_models_need_a_table_and_an_evaluator_that_takes_them(write, model_folder):
    assert "fidelity_models must be a table {workload = \"model\"}" in load_error(
        write, 'fidelity_models = "x"\n' + LLM_SWEEP)
    double = GOOD + '[fidelity_models]\nminilm-l6 = "my-llama"\n'
    assert "evaluator 'sweep_double:DOUBLE' takes no fidelity models" in load_error(write, double)


def test_command_line_fidelity_models_add_and_replace(write, model_folder, monkeypatch):
    loaded = config.load(str(write(LLM_SWEEP + '[fidelity_models]\nllama2-7b = "smollm2"\n')))
    monkeypatch.chdir(model_folder.parent)
    replaced = config.with_fidelity_models(loaded, ["llama2-7b=my-llama"], "--fidelity-model")
    assert replaced.fidelity_models == {"llama2-7b": str(model_folder)}
    assert loaded.fidelity_models == {"llama2-7b": "smollm2"}
    for bad, message in [("my-llama", "--fidelity-model must be WORKLOAD=MODEL"),
                         ("llama2-7b=", "--fidelity-model must be WORKLOAD=MODEL"),
                         ("resnet18=my-llama", "--fidelity-model resnet18=my-llama: only the")]:
        with pytest.raises(ValueError, match=message):
            config.with_fidelity_models(loaded, [bad], "--fidelity-model")
