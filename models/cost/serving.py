"""LLM serving costs of one design point: the prefill and decode phases of
lowbit.models.workloads.llm_phases on the array and chip of lowbit.models.cost.dataflow.

Weight GEMMs. Prefill: dataflow.gemm_costs (each GEMM its own roofline). Decode: per step the
weight GEMMs' cycles and arithmetic and SRAM energy from dataflow.gemm_costs, and the step's DRAM
traffic from lowbit.models.cost.llm (weights once + KV cache read + the step's K and V written;
activations stay on chip); the step takes max(compute, DRAM) time (llm.roofline_seconds), with
compute = weight GEMM cycles + attention cycles.

Attention products (QK^T and PV, activation x activation; a stated datapath). They run on an
attention datapath beside the PE array with array x lanes multiply-accumulators of the operand
widths, one MAC per lane per cycle (the peak MAC rate of a one-cycle PE array of the same size),
so every PE kind gets the same attention time; the weight-code PEs (lut, shift_add) cannot
multiply two activations, and this keeps the comparison about the weight GEMMs. Its area is not
counted in the design's area (a lower bound, the same for every PE kind at one array size).
Cycles: lowbit.models.cost.cycles.gemm_cycles with occupancy 1 and one dot product over the whole
reduction (the per-token K scales apply per dot product of QK^T; V's per-token scales are folded
into the probabilities before P is quantized). Energy per MAC: an integer multiply of the
activation width by itself + a 32-bit add (both operands in the activation format the PE gets:
the cache stores K and V as lowbit.models.cost.llm states and they are consumed in the
activation format), for binary activations an XNOR (priced as a 1-bit add, as the xnor PE's
rule in lowbit.hwsim.pe.kinds) + a 32-bit add, or for float activations a float multiply of
their significand + an fp32 add. Prefill attention reads K and V as the projections produce them (on chip); decode attention
reads the cache, counted in the step's DRAM traffic and once more as SRAM reads.

KV cache writes. Prefill writes the prompt's K and V to DRAM once, after its GEMMs (time and
energy added to the phase); decode writes each step's own K and V inside the step's roofline.
"""
from __future__ import annotations

from lowbit.hwsim import formats
from lowbit.hwsim.pe.kinds import ACC_BITS
from lowbit.hwsim.quant import ieee
from lowbit.models.cost import cycles, dataflow, energy, llm

_PHASE_TERMS = ("energy_mac_j", "energy_rescale_j", "energy_sram_j", "energy_dram_j",
                "energy_attention_j")


def attention_mac_energy(act_format: str) -> float:
    """Energy in J at 45 nm of one attention MAC on operands in ``act_format`` (module
    docstring)."""
    if act_format in ieee.IEEE_FORMATS:     # float16 activations (the W*A16 schemes)
        return energy.fp_mult(ieee.FIELDS[act_format][1] + 1) + energy.fp32_add()
    fmt = formats.get(act_format)
    if fmt.kind == "int":
        return energy.int_mult(fmt.bits, fmt.bits) + energy.int_add(ACC_BITS)
    if fmt.kind == "binary":
        return energy.int_add(1) + energy.int_add(ACC_BITS)
    return energy.fp_mult(fmt.mbits + 1) + energy.fp32_add()


def attention_cycles(gemms, lanes: int, array: int) -> int:
    """Cycles of the attention products ``gemms`` on the attention datapath (module docstring)."""
    return sum(g.count * cycles.gemm_cycles(g.M, g.K, g.N, g.K, lanes, array, 1) for g in gemms)


def attention_macs(gemms) -> int:
    return sum(g.count * g.M * g.K * g.N for g in gemms)


def prefill_costs(scheme, mapping, phase, lanes: int, array: int,
                  hardware: dataflow.Hardware, kv_bits: float) -> dict:
    """Energy terms, "cycles", "latency_s" of the prefill ``phase`` (one step)."""
    (step,) = phase.steps
    costs = dataflow.gemm_costs(scheme, mapping, step.weight_gemms, lanes, array, hardware)
    attention = attention_cycles(step.attention, lanes, array)
    kv_write_bits = step.kv_written * kv_bits
    costs["energy_attention_j"] = attention_macs(step.attention) * hardware.logic_scale \
        * attention_mac_energy(mapping.act_format)
    costs["energy_dram_j"] += kv_write_bits * hardware.dram_bit_j
    costs["energy_kv_j"] = kv_write_bits * hardware.dram_bit_j
    costs["cycles"] += attention
    costs["latency_s"] += attention / hardware.clock_hz \
        + kv_write_bits / 8 / hardware.dram_bytes_per_s
    costs["memory_bound_steps"] = 0
    return costs


def decode_costs(scheme, mapping, phase, lanes: int, array: int,
                 hardware: dataflow.Hardware, kv_bits: float) -> dict:
    """Energy terms, "cycles", "latency_s" and "memory_bound_steps" of the decode ``phase``."""
    weights = dataflow.gemm_costs(scheme, mapping, phase.steps[0].weight_gemms, lanes, array,
                                  hardware)   # every decode step has the same weight GEMMs
    per_attention_mac = attention_mac_energy(mapping.act_format) * hardware.logic_scale
    totals = dict.fromkeys(_PHASE_TERMS + ("energy_kv_j", "cycles", "latency_s"), 0.0)
    totals["memory_bound_steps"] = 0
    for step in phase.steps:
        bits = llm.decode_step_dram_bits(step, scheme.weight_spec, kv_bits, hardware.buffer_bytes)
        step_cycles = weights["cycles"] + attention_cycles(step.attention, lanes, array)
        seconds, bound = llm.roofline_seconds(step_cycles, hardware.clock_hz, sum(bits.values()),
                                              hardware.dram_bytes_per_s)
        kv_bits_moved = bits["kv_read"] + bits["kv_write"]
        totals["cycles"] += step_cycles
        totals["latency_s"] += seconds
        totals["memory_bound_steps"] += bound == "memory"
        totals["energy_mac_j"] += weights["energy_mac_j"]
        totals["energy_rescale_j"] += weights["energy_rescale_j"]
        totals["energy_sram_j"] += weights["energy_sram_j"] + bits["kv_read"] * hardware.sram_read_bit_j
        totals["energy_dram_j"] += sum(bits.values()) * hardware.dram_bit_j
        totals["energy_kv_j"] += kv_bits_moved * hardware.dram_bit_j
        totals["energy_attention_j"] += attention_macs(step.attention) * per_attention_mac
    totals["cycles"] = int(totals["cycles"])
    return totals


def phase_metrics(name: str, tokens: int, costs: dict) -> dict:
    """Flat ``{name}_*`` metrics of one phase: energy (total and terms), latency, cycles, tokens
    per second and joules per token."""
    total = sum(costs[term] for term in _PHASE_TERMS)
    row = {f"{name}_energy_j": total, f"{name}_latency_s": costs["latency_s"],
           f"{name}_cycles": costs["cycles"], f"{name}_energy_kv_j": costs["energy_kv_j"],
           f"{name}_memory_bound_steps": costs["memory_bound_steps"]}
    row.update({f"{name}_{term}": costs[term] for term in _PHASE_TERMS})
    row.update({f"{name}_{key}": value
                for key, value in llm.phase_rates(tokens, total, costs["latency_s"]).items()})
    return row
