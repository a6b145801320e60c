"""The mixed-precision pipeline on a synthetic subject with a known optimum, and the causal-LM
subject on the tiny LLaMA."""
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from lowbit.hwsim import quant
from lowbit.models.fidelity.quantized import QuantLinear
from lowbit.models.mixed import layer_costs, sensitivity, study, subjects

SCHEMES = ("int8", "int4-g128", "int2-g64")
KINDS = ("q", "k", "v", "o", "intermediate", "output")
SAMPLES = 32


class Independent(subjects.Subject):
    """Six linear layers, each on its own seeded input, named and kinded as one MiniLM block.
    Degradation = mean over samples of sum over layers of |y_q - y|^2 / 2: exactly additive
    over layers, and its Gauss-Newton diagonal is 1, so the Fisher estimate is exact."""
    model, metric, samples = "independent-linears", "half squared error", SAMPLES
    kind_order = KINDS

    def __init__(self):
        generator = torch.Generator().manual_seed(1)
        self._network = nn.ModuleDict()
        self._inputs = {}
        for index, kind in enumerate(KINDS):
            linear = nn.Linear(16, 8)
            with torch.no_grad():
                linear.weight.copy_(torch.randn(8, 16, generator=generator) * 4.0 ** index)
            self._network[kind] = linear
            self._inputs[kind] = torch.randn(SAMPLES, 16, generator=generator)
        with torch.no_grad():
            self._reference = {k: self._network[k](x) for k, x in self._inputs.items()}

    def network(self):
        return self._network

    def layers(self):
        return dict(self._network.items())

    def quantize_layer(self, name, scheme):
        return QuantLinear(self._network[name], scheme)

    def _outputs(self, network):
        return {kind: network[kind](x) for kind, x in self._inputs.items()}

    def evaluate(self, network):
        outputs = self._outputs(network)
        return float(sum(0.5 * ((outputs[k] - self._reference[k]) ** 2).sum() for k in KINDS)
                     / SAMPLES)

    def probe(self, network, generator):
        outputs = self._outputs(network)
        return sum((torch.randint(0, 2, y.shape, generator=generator) * 2.0 - 1.0) * y
                   for y in outputs.values()).sum()

    def kind(self, name):
        return name

    def description(self):
        return "six independent linear layers"


@pytest.fixture
def cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LOWBIT_CACHE_DIR", str(tmp_path))
    return tmp_path


def _presets():
    return [quant.preset(name) for name in SCHEMES]


def test_the_fisher_estimate_equals_the_measured_sensitivity_where_it_is_exact(cache_dir):
    subject = Independent()
    measured = sensitivity.measured(subject, _presets())
    estimate = sensitivity.fisher_estimate(subject, _presets(), draws=1)
    for layer in KINDS:
        for label, value in measured[layer].items():
            assert estimate[layer][label] == pytest.approx(value, rel=1e-5)
    assert sensitivity.spearman(measured, estimate) == pytest.approx(1.0)
    for preset in _presets():
        assert sensitivity.spearman(measured, estimate, preset.label) == pytest.approx(1.0)


def test_sensitivities_are_cached_and_a_missing_one_is_named(cache_dir):
    subject = Independent()
    with pytest.raises(ValueError, match="no cached sensitivity of layer q"):
        sensitivity.measured(subject, _presets(), compute=False)


    class Interrupted(Exception):
        pass

    def stop_after_two(layer):
        if layer == "k":
            raise Interrupted
    with pytest.raises(Interrupted):   # a run stopped after two layers: they stay cached
        sensitivity.measured(subject, _presets(), progress=stop_after_two)
    assert sensitivity.cached_layers(subject, _presets()) is None
    assert sensitivity.measured_layers(subject, _presets()) == ["q", "k"]
    part = sensitivity.measured(subject, _presets(), compute=False, layers=["q", "k"])
    assert list(part) == ["q", "k"] and sensitivity.cached_layers(subject, _presets()) is None
    first = sensitivity.measured(subject, _presets())
    assert sensitivity.cache_path(subject).is_file()
    assert sensitivity.measured(subject, _presets(), compute=False) == first
    assert sensitivity.cached_layers(subject, _presets()) == list(KINDS)


def test_a_whole_model_choice_is_refused_per_layer():
    subject = Independent()
    with pytest.raises(ValueError, match="KV-cache format"):
        subject.degradation({"q": quant.preset("w8a8-kv8")})
    with pytest.raises(ValueError, match="method must be one of"):
        subject.degradation({"q": quant.preset("w8a8-smoothquant")})


def test_the_study_finds_the_enumerated_optimum_and_predicts_exactly(cache_dir):
    subject = Independent()
    measured = sensitivity.measured(subject, _presets())
    # uniform int4-g128 just fits: float32 sums vary run to run in their last digits
    budget = (1 + 1e-6) * sum(row[quant.preset("int4-g128").label] for row in measured.values())
    request = study.Request(workload="minilm-l6", pe="bit_serial", max_loss=budget,
                            schemes=SCHEMES, measure=True, validate=True)
    result = study.run(request, subject=subject)
    costs = result.layer_costs
    best = None
    for assignment in itertools.product(SCHEMES, repeat=len(KINDS)):
        loss = sum(measured[k][quant.preset(s).label] for k, s in zip(KINDS, assignment))
        energy = costs.total(list(assignment))["energy_j"]
        if loss <= budget and (best is None or energy < best):
            best = energy
    assert result.chosen.costs["energy_j"] == pytest.approx(best, rel=1e-4)
    # additive by construction: the end-to-end measurement equals the prediction
    for design in [*result.uniform, result.chosen, *result.front]:
        assert design.measured == pytest.approx(design.predicted, rel=1e-5, abs=1e-12)
    verdict = study.verdict(result)
    assert verdict["best_uniform"].name == "uniform int4-g128"
    assert verdict["beats"] == (verdict["best_mixed"] is not None)


def test_the_command_writes_the_table_plot_and_report(cache_dir, tmp_path):
    from lowbit.sweeps.commands import search as command
    subject = Independent()
    request = study.Request(workload="minilm-l6", pe="bit_serial", max_cost_ratio=0.7,
                            schemes=SCHEMES, measure=True)
    result = study.run(request, subject=subject)
    assert result.chosen.costs["energy_j"] <= 0.7 * result.uniform[0].costs["energy_j"]
    rows = command.layer_rows(result)
    assert [row["layer"] for row in rows] == list(KINDS)
    assert {row["bits"] for row in rows} <= {8, 4, 3}   # int2-g64's uint2 codes run as int3
    shares = sum(row["cost_share"] for row in rows)
    assert 0 < shares <= 1
    kinds = command.kind_rows(result)
    assert [row["kind"] for row in kinds] == [*KINDS, "fixed"]
    for end in ("share_widest", "share_narrowest"):   # the kinds and the fixed part: the whole
        assert sum(row[end] for row in kinds) == pytest.approx(1.0)
    assert all(sum(row[f"chosen:{name}"] for name in SCHEMES) == 1 for row in kinds[:-1])
    assert kinds[0]["sens:int2-g64"] == pytest.approx(
        result.sensitivity[0, SCHEMES.index("int2-g64")])
    command.pareto_plot(result, tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").stat().st_size > 10_000
    text = command.report(result, ["pareto.png"])
    assert "six independent linear layers" in text and "uniform int8" in text
    assert ("Mixed beats the best uniform" in text) != ("No mixed design reaches" in text)


def test_the_llm_subject_replays_blocks_bit_for_bit(tiny_llama):
    subject = subjects.get(tiny_llama, 64)
    names = subject.layer_names()
    assert len(names) == 2 * 7 and [subject.kind(n) for n in names[:7]] == list(
        ("q", "k", "v", "o", "gate", "up", "down"))
    assert sorted(names, key=subject.sort_key) == names
    late = {names[-1]: quant.preset("int2-g64")}
    replayed = subject.degradation(late)
    assert replayed == subjects.Subject.measure(subject, late, subject.evaluate) > 0
    estimate = sensitivity.fisher_estimate(subject, [quant.preset("int8"),
                                                     quant.preset("int2-g64")], draws=1)
    assert all(np.isfinite(list(row.values())).all() for row in estimate.values())
    assert all(row["w2g64z-a8c"] > row["w8c-a8c"] for row in estimate.values())


def test_layer_costs_stand_in_for_the_workload_layers():
    subject = Independent()
    chip = layer_costs.Chip(pe="bit_serial")
    table = layer_costs.layer_costs(subject, "minilm-l6", list(SCHEMES), chip)
    # one synthetic block stands for minilm-l6's six: factor 6; the wider scheme costs more
    assert table.energy.shape == (6, 3)
    assert (table.energy[:, 0] > table.energy[:, 1]).all()
    assert table.fixed_energy == pytest.approx(0.0, abs=1e-12 * table.energy.sum())


def test_the_llm_subject_measures_a_block_s_variants_in_one_batch(tiny_llama, monkeypatch):
    subject = subjects.get(tiny_llama, 64)
    names = subject.layer_names()
    pairs = [(name, quant.preset(scheme)) for name in (names[0], names[3], names[9], names[13])
             for scheme in ("int8", "int2-g64")]
    alone = [subject.degradation({layer: scheme}) for layer, scheme in pairs]
    monkeypatch.setattr(subjects, "VARIANT_TOKENS", 64 * 3)  # forwards of 3, 1 variants
    batched = subject.degradations(pairs)
    assert batched == pytest.approx(alone, rel=1e-5) and min(alone) > 0
    assert [subject.batch_group(name) for name in names] == [0] * 7 + [1] * 7
