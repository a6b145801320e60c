"""Per-layer costs of a workload on one PE under each candidate scheme: the numbers the search
adds up, from the project's cost model (lowbit.models.cost), per phase for LLM workloads.

    chip = Chip(pe="bit_serial", lanes=16, area_mm2=8.0)
    names = candidates("bit_serial")             # presets one bit_serial array runs at run time
    table = layer_costs(subject, "llama2-7b", names, chip)
    table.energy[l, s], table.latency[l, s]      # J, s of layer l under scheme s
    table.total(assignment, "energy_j")          # fixed part + the assigned layers

Candidates. A mixed assignment runs on one array, so every scheme of it must run on the same
hardware: the presets that run on PE kind ``pe`` (lowbit.models.evaluator.applies) and whose
mapping builds the same PE config (the kind's registry row ``build_config``: a bit-serial or LUT
PE takes any weight width up to its maximum at run time, an int_mac PE only its own), with no
KV-cache format and a per-layer PTQ method (lowbit.models.mixed.subjects.check_scheme). Default:
the largest such group, the first in preset order on a tie. Nothing here names a PE kind: a new
row in lowbit.hwsim.pe.kinds is searched as it is.

Stand-ins. Each subject layer stands for workload GEMMs of its kind
(lowbit.models.workloads.transformer_layers): a SmolLM2 layer of kind q for 1/30 of LLaMA-2-7B's
32 q projections (factor = workload blocks / subject blocks), a MiniLM layer for 1/6 of
minilm-l6's (factor 1) or of bert-base's 12; the digits CNN's four layers are costed as
themselves (workload "digits-cnn": its im2col GEMMs per ``batch`` images of 8x8). The layers
outside the blocks (an LLM's LM head, BERT's pooler) are not quantized by the fidelity proxy and
take the widest candidate in every assignment, uniform ones included.

Costs of one layer (its GEMM, count 1, times its factor), from the same functions the evaluator
uses (array sized to ``area_mm2`` beside the SRAM buffer, the clock the PE's timing reaches):
  not an LLM  lowbit.models.cost.dataflow.gemm_costs of the GEMM at M = batch * seq_len
  LLM         prefill: gemm_costs at M = batch * prompt; decode, for each of ``generated`` steps:
              gemm_costs' arithmetic and SRAM energy at M = batch, plus its weights' DRAM bits
              (lowbit.models.cost.traffic.weight_bits) at the DRAM energy, as
              lowbit.models.cost.serving.decode_costs counts them; decode latency per layer
              max(cycles / clock, weight bits / bandwidth), a per-layer roofline
The fixed part (attention, KV cache, the layers outside the blocks, DRAM traffic of activations)
is the whole workload's cost at the widest candidate minus its layers' costs. Energy is then
exact: the layers plus the fixed part of a uniform assignment equal the workload's energy at that
scheme (with the outside layers at the widest). Latency is exact for non-LLM workloads and for
LLM prefill; LLM decode steps are costed as one roofline over the whole step by serving.py, which
per-layer rooflines over-estimate where a step is compute-bound in some layers and memory-bound
in others (batch-1 decode is memory-bound throughout: no difference there).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lowbit.models import evaluator, workloads
from lowbit.models.cost import (area, cycles, dataflow, llm, serving, sizing, technology, timing,
                                traffic)

DIGITS_WORKLOAD = "digits-cnn"
GENERATED_TOKENS = evaluator.GENERATED_TOKENS   # what the evaluator serves
OBJECTIVES = ("energy_j", "latency_s", "edp_js")


@dataclass(frozen=True, kw_only=True)
class Chip:
    """The design the layers run on (the evaluator's point keys of the same names)."""
    pe: str
    lanes: int = 16
    area_mm2: float = 8.0
    node: int = 45
    dram: str = "ddr4"
    batch: int = 1
    seq_len: int = 128
    generated: int = GENERATED_TOKENS


@dataclass(frozen=True)
class LayerCosts:
    """Costs of ``layers`` (subject layer names) under ``schemes`` (preset names): energy and
    latency [layer, scheme] in J and s, the fixed part, and what produced them."""
    layers: list
    schemes: list
    kinds: list
    energy: np.ndarray
    latency: np.ndarray
    fixed_energy: float
    fixed_latency: float
    w_bits: dict          # preset -> weight bits the PE runs (its native format's width)
    array: int
    clock_hz: float
    workload: str
    area_m2: float        # the array and its SRAM buffer

    def total(self, assignment: list[str]) -> dict:
        """{"energy_j", "latency_s", "edp_js"} of one preset per layer, in layer order."""
        index = [self.schemes.index(name) for name in assignment]
        rows = np.arange(len(self.layers))
        energy = self.fixed_energy + float(self.energy[rows, index].sum())
        latency = self.fixed_latency + float(self.latency[rows, index].sum())
        return {"energy_j": energy, "latency_s": latency, "edp_js": energy * latency}


def _scheme(name: str):
    from lowbit.hwsim import quant
    return quant.preset(name)


def _mapping_config(pe: str, name: str, lanes: int):
    mapping = cycles.map_scheme(pe, _scheme(name))
    return mapping, cycles.pe_config(mapping, lanes)


def candidates(pe: str, schemes: list[str] | None = None, lanes: int = 16) -> list[str]:
    """The presets one array of PE kind ``pe`` runs (module docstring), in preset order; with
    ``schemes`` given, those, checked to run on one PE config (ValueError naming them)."""
    from lowbit.hwsim import quant
    from lowbit.models.evaluator import applies
    from lowbit.models.mixed.subjects import PER_LAYER_METHODS
    names = quant.preset_names() if schemes is None else list(schemes)
    unknown = [name for name in names if name not in quant.preset_names()]
    if unknown:
        raise ValueError(f"schemes must be presets ({', '.join(quant.preset_names())}); "
                         f"unknown {unknown}")
    usable = [name for name in names if applies(name, pe) and _scheme(name).kv is None
              and _scheme(name).method in PER_LAYER_METHODS]
    groups: dict = {}
    for name in usable:
        groups.setdefault(repr(_mapping_config(pe, name, lanes)[1]), []).append(name)
    if schemes is None:
        if not groups:
            raise ValueError(f"no preset runs per layer on the {pe} PE")
        return max(groups.values(), key=len)   # max keeps the first of equal lengths
    if len(usable) < len(names) or len(groups) != 1:
        raise ValueError(f"schemes must all run per layer on one {pe} PE config (a preset "
                         f"without KV format, method in {', '.join(PER_LAYER_METHODS)}); "
                         f"got {names}, of which {len(usable)} run on {len(groups)} config(s): "
                         f"{list(groups.values())}")
    return names


def hardware(chip: Chip, widest: str) -> tuple[dataflow.Hardware, int, float]:
    """(the chip, its PE count, one PE's area in m² at the node) sized as the evaluator sizes
    an area budget."""
    mapping, _ = _mapping_config(chip.pe, widest, chip.lanes)
    clock, note = timing.pe_clock(mapping, chip.lanes, chip.node)
    pe_area, area_note = area.pe_area(mapping, chip.lanes)
    if math.isnan(clock) or math.isnan(pe_area):
        raise ValueError(f"the {chip.pe} PE with {chip.lanes} lanes has no clock or area: "
                         f"{note}; {area_note}")
    chip_hardware = dataflow.Hardware(clock_hz=clock, node_nm=chip.node, dram=chip.dram)
    pe_area *= technology.area_factor(chip.node)
    array = sizing.array_for_area(chip.area_mm2 * 1e-6, pe_area, chip_hardware.buffer_area_m2)
    return chip_hardware, array, pe_area


def _energy(costs: dict) -> float:
    return sum(value for key, value in costs.items() if key.startswith("energy_")
               and key != "energy_kv_j")


def _gemm_cost(name, gemm, chip, chip_hardware, array, llm_workload: bool) -> tuple[float, float]:
    """(energy, latency) of one layer GEMM (count 1) under preset ``name`` (module docstring)."""
    scheme = _scheme(name)
    mapping, _ = _mapping_config(chip.pe, name, chip.lanes)
    if not llm_workload:
        costs = dataflow.gemm_costs(scheme, mapping, [gemm], chip.lanes, array, chip_hardware)
        return _energy(costs), costs["latency_s"]
    K, N = gemm.K, gemm.N
    prefill = dataflow.gemm_costs(scheme, mapping, [workloads.Gemm(chip.batch * chip.seq_len, K,
                                                                   N, 1)],
                                  chip.lanes, array, chip_hardware)
    step = dataflow.gemm_costs(scheme, mapping, [workloads.Gemm(chip.batch, K, N, 1)],
                               chip.lanes, array, chip_hardware)
    weight_bits = traffic.weight_bits(scheme.weight_spec, [workloads.Gemm(1, K, N, 1)])
    step_energy = step["energy_mac_j"] + step["energy_rescale_j"] + step["energy_sram_j"] \
        + weight_bits * chip_hardware.dram_bit_j
    step_latency, _ = llm.roofline_seconds(step["cycles"], chip_hardware.clock_hz, weight_bits,
                                           chip_hardware.dram_bytes_per_s)
    return (_energy(prefill) + chip.generated * step_energy,
            prefill["latency_s"] + chip.generated * step_latency)


def workload_totals(name: str, workload: str, chip: Chip, chip_hardware, array) -> tuple[float, float]:
    """(energy, latency) of the whole ``workload`` with every layer under preset ``name``, as
    lowbit.models.evaluator costs it."""
    scheme = _scheme(name)
    mapping, _ = _mapping_config(chip.pe, name, chip.lanes)
    if workload in workloads.LLM_NAMES:
        prefill, decode = workloads.llm_phases(workload, batch=chip.batch,
                                               prompt_len=chip.seq_len, generated=chip.generated)
        kv_bits = llm.kv_bits_per_element(None, workloads.head_dim(workload))
        phases = [serving.prefill_costs(scheme, mapping, prefill, chip.lanes, array,
                                        chip_hardware, kv_bits),
                  serving.decode_costs(scheme, mapping, decode, chip.lanes, array,
                                       chip_hardware, kv_bits)]
        return sum(_energy(p) for p in phases), sum(p["latency_s"] for p in phases)
    costs = dataflow.gemm_costs(scheme, mapping, workloads.get(workload, batch=chip.batch,
                                                               seq_len=chip.seq_len),
                                chip.lanes, array, chip_hardware)
    return _energy(costs), costs["latency_s"]


def stand_ins(subject, names: list[str], workload: str,
              chip: Chip) -> list[tuple[workloads.Gemm, float]]:
    """(GEMM, factor) each of ``subject``'s layers ``names`` stands for in ``workload`` (module
    docstring)."""
    if workload == DIGITS_WORKLOAD:
        if subject.model != "digits_cnn":
            raise ValueError(f"workload {DIGITS_WORKLOAD!r} is the digits CNN's own; its "
                             f"subject is digits_cnn, not {subject.model}")
        return [(workloads.Gemm(rows * chip.batch, k, n, 1), 1.0)
                for rows, k, n in subject.gemm_shapes()]
    try:
        shapes = workloads.transformer_layers(workload)
    except ValueError:
        raise ValueError(f"workload must be a transformer ({', '.join(workloads.LLM_NAMES)}, "
                         f"bert-base, minilm-l6) or {DIGITS_WORKLOAD!r}: the digits CNN's four "
                         f"layers do not stand for a ResNet's; got {workload!r}") from None
    kinds = [subject.kind(name) for name in names]
    missing = sorted(set(kinds) - set(shapes))
    if missing:
        raise ValueError(f"{subject.model}'s layer kinds {missing} have no counterpart in "
                         f"workload {workload!r}")
    blocks = len(names) / len(set(kinds))
    tokens = chip.batch * chip.seq_len
    return [(workloads.Gemm(tokens, shapes[kind][0], shapes[kind][1], 1),
             shapes[kind][2] / blocks) for kind in kinds]


def layer_costs(subject, workload: str, schemes: list[str], chip: Chip,
                layers: list[str] | None = None) -> LayerCosts:
    """Per-layer energy and latency of ``subject``'s ``layers`` (default: all, in order; given,
    the model need not be loaded) standing in for ``workload`` under each of ``schemes``
    (candidates of one PE config; the widest, by weight bits, takes the layers outside the
    blocks) on ``chip`` (module docstring)."""
    layers = subject.layer_names() if layers is None else list(layers)
    if not schemes:
        raise ValueError("schemes must name at least one candidate preset")
    candidates(chip.pe, schemes, chip.lanes)
    w_bits = {name: _mapping_config(chip.pe, name, chip.lanes)[0].w_bits for name in schemes}
    widest = max(schemes, key=lambda name: (w_bits[name], -schemes.index(name)))
    chip_hardware, array, pe_area = hardware(chip, widest)
    is_llm = workload in workloads.LLM_NAMES
    gemms = stand_ins(subject, layers, workload, chip)
    energy = np.zeros((len(gemms), len(schemes)))
    latency = np.zeros_like(energy)
    cache: dict = {}
    for row, (gemm, factor) in enumerate(gemms):
        for col, name in enumerate(schemes):
            key = (gemm, name)
            if key not in cache:
                cache[key] = _gemm_cost(name, gemm, chip, chip_hardware, array, is_llm)
            energy[row, col], latency[row, col] = (factor * value for value in cache[key])
    widest_col = schemes.index(widest)
    if workload == DIGITS_WORKLOAD:
        fixed_energy = fixed_latency = 0.0
    else:
        total_energy, total_latency = workload_totals(widest, workload, chip, chip_hardware,
                                                      array)
        fixed_energy = total_energy - float(energy[:, widest_col].sum())
        fixed_latency = total_latency - float(latency[:, widest_col].sum())
    return LayerCosts(layers=layers, schemes=list(schemes),
                      kinds=[subject.kind(name) for name in layers],
                      energy=energy, latency=latency, fixed_energy=fixed_energy,
                      fixed_latency=fixed_latency, w_bits=w_bits, array=array,
                      clock_hz=chip_hardware.clock_hz, workload=workload,
                      area_m2=array * pe_area + chip_hardware.buffer_area_m2)
