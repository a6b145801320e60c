"""Per-layer costs against the evaluator, the candidate rule, and mixed design points."""
import dataclasses

import pytest

from lowbit.hwsim.pe import kinds
from lowbit.models import evaluator
from lowbit.models.mixed import layer_costs, point

CHIP = layer_costs.Chip(pe="bit_serial", lanes=16, area_mm2=8.0)
SCHEMES = ["int8", "int4-g128", "int2-g64"]


class Names:
    """A subject seen only through its layer names and kinds (no model)."""

    def __init__(self, kinds_per_block, blocks, model="names"):
        self.model = model
        self._names = [f"model.layers.{b}.{kind}" for b in range(blocks) for kind in kinds_per_block]

    def layer_names(self):
        return list(self._names)

    def kind(self, name):
        return name.rpartition(".")[2]


@pytest.fixture
def no_fidelity(monkeypatch):
    monkeypatch.setattr(evaluator, "_fidelity",
                        lambda workload, scheme, *model_and_arithmetic: (1.0, "none", {}))


def _point(scheme, workload):
    return {"scheme": scheme, "pe": CHIP.pe, "lanes": CHIP.lanes, "area_mm2": CHIP.area_mm2,
            "workload": workload}


def test_candidates_are_the_presets_one_pe_config_runs():
    assert layer_costs.candidates("bit_serial") == ["int8", "int4-pc", "int4-g128", "int2-g64",
                                                    "binary", "ternary"]
    assert "int8" not in layer_costs.candidates("lut")          # the LUT PE holds 4 bits
    assert layer_costs.candidates("int_mac") == ["int4-pc", "int4-g128"]  # one width per config
    with pytest.raises(ValueError, match="one int_mac PE config"):
        layer_costs.candidates("int_mac", ["int8", "int4-g128"])
    with pytest.raises(ValueError, match="one bit_serial PE config"):
        layer_costs.candidates("bit_serial", ["int8", "w8a8-kv8"])   # a KV format is model-wide


def test_a_new_pe_kind_is_searched_from_its_registry_row(monkeypatch):
    copy = dataclasses.replace(kinds.KINDS["bit_serial"], name="bit_serial_copy")
    monkeypatch.setitem(kinds.KINDS, "bit_serial_copy", copy)
    assert layer_costs.candidates("bit_serial_copy") == layer_costs.candidates("bit_serial")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_uniform_layer_costs_add_up_to_the_evaluators_workload(no_fidelity, scheme):
    # MiniLM-L6 has no layer outside its blocks: every uniform assignment is exact
    subject = Names(("q", "k", "v", "o", "intermediate", "output"), blocks=6)
    table = layer_costs.layer_costs(subject, "minilm-l6", SCHEMES, CHIP)
    row = evaluator.evaluate_point(_point(scheme, "minilm-l6"))
    totals = table.total([scheme] * 36)
    assert totals["energy_j"] == pytest.approx(row["energy_j"], rel=1e-9)
    assert totals["latency_s"] == pytest.approx(row["latency_s"], rel=1e-9)
    assert table.array == row["array"] and table.clock_hz == row["clock_hz"]
    assert table.area_m2 == pytest.approx(row["area_m2"], rel=1e-12)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_llm_layer_energy_is_exact_per_phase_with_the_head_at_the_widest(no_fidelity, scheme):
    # 3 proxy blocks stand for LLaMA-2-7B's 32; the LM head stays at int8 (the widest)
    subject = Names(("q", "k", "v", "o", "gate", "up", "down"), blocks=3)
    table = layer_costs.layer_costs(subject, "llama2-7b", SCHEMES, CHIP)
    row = evaluator.evaluate_point(_point(scheme, "llama2-7b"))
    hardware, array, _ = layer_costs.hardware(CHIP, "int8")
    head = layer_costs.workloads.Gemm(1, 4096, 32000, 1)

    def head_energy(name):
        return layer_costs._gemm_cost(name, head, CHIP, hardware, array, True)[0]

    expected = row["energy_j"] - head_energy(scheme) + head_energy("int8")
    assert table.total([scheme] * 21)["energy_j"] == pytest.approx(expected, rel=1e-9)


def test_a_workload_without_stand_ins_is_refused():
    with pytest.raises(ValueError, match="digits CNN's four layers do not stand for"):
        layer_costs.layer_costs(Names(("q",), 1), "resnet18", SCHEMES, CHIP)


def test_a_mixed_design_point_is_costed_and_measured(monkeypatch, tmp_path, tiny_llama,
                                                    no_fidelity):
    from lowbit.models.mixed import subjects
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    names = subjects.get(tiny_llama).layer_names()
    layers = {name: SCHEMES[i % 3] for i, name in enumerate(names)}
    record = {"workload": "llama2-7b", "pe": "bit_serial", "model": tiny_llama,
              "sweep_samples": 512, "schemes": SCHEMES, "layers": layers}
    scheme = point.save("tiny-mix", record)
    assert scheme in point.MIXED.vocabulary()["schemes"]
    from lowbit.sweeps import config
    toml = tmp_path / "mixed.toml"
    toml.write_text(f'evaluator = "lowbit.models.mixed.point:MIXED"\n[axes]\n'
                    f'schemes = ["int8", "{scheme}"]\npes = ["bit_serial"]\nlanes = [16]\n'
                    f'areas_mm2 = [8.0]\nworkloads = ["llama2-7b"]\n')
    assert config.load(str(toml)).axes["schemes"] == ("int8", scheme)
    assert point.MIXED.applies(scheme, "bit_serial") and not point.MIXED.applies(scheme, "lut")
    row = point.MIXED.evaluate(_point(scheme, "llama2-7b"))
    assert row["fidelity_metric"] == "ref_ppl/ppl" and 0 < row["fidelity"] < 2
    uniform = [point.MIXED.evaluate(_point(name, "llama2-7b"))["energy_j"] for name in SCHEMES]
    assert min(uniform) < row["energy_j"] < max(uniform)
    with pytest.raises(point.NotApplicable, match="searched for llama2-7b"):
        point.MIXED.evaluate(_point(scheme, "llama3-8b"))
    with pytest.raises(ValueError, match="stored mixed assignments .*mixed:tiny-mix"):
        point.load("mixed:unknown")
