"""The dataflow model of one design point: how many cycles, joules and seconds a workload's GEMMs
take on an array of PEs, and the bits they move between DRAM, SRAM and the array.

Costs per inference:
  - cycles from the hwsim PE cycle models (lowbit.models.cost.cycles, which also states the fp8_mac
    lane-and-reduction timing); latency = per GEMM the larger of compute time at CLOCK_HZ and
    DRAM time at DRAM_BYTES_PER_S (compute and DRAM streaming overlap), summed over the GEMMs;
  - energy = energy_mac_j (lowbit.models.cost.energy.mac_energy per MAC; on fp8_mac also the
    min(lanes, length) - 1 fp32 additions that reduce each dot product's lane sums)
    + energy_rescale_j (per dot product) + energy_sram_j + energy_dram_j.

Dataflow (one, stated): weight-stationary tiles on an R x C grid of the ``array`` PEs.
Per GEMM of M x K x N with b_w stored bits per weight (traffic.bits_per_weight: element +
scales + zero points) and b_a bits per input activation (traffic.bits_per_activation: the
scheme's own activation element + its per-token / MX / per-tensor scales):
  R PEs share a weight column (rows m of one M tile), C = floor(array / R) PEs share an
  activation row (columns n of one N tile); each PE accumulates its output in its own
  accumulator register (the PE's acc), so partial sums never leave the array. R is chosen per
  GEMM in 1..min(M, array) to minimize the SRAM bits below (smallest R on a tie): R = 1 for
  M = 1 (decode: every weight read once), about sqrt(array * b_w / b_a) for a long prefill.
  SRAM (one SRAM_BUFFER_BYTES buffer, Horowitz's 1 MB read energy per bit):
    weight bits read  = b_w * K * N * ceil(M / R)   (each weight beat is broadcast to the R
                                                     PEs of its column, once per M tile)
    act bits read     = b_a * M * K * ceil(N / C)   (each activation beat is broadcast to the
                                                     C PEs of its row, once per N tile)
    Filling the buffer from DRAM is not counted (<= 100/1950 of the DRAM energy of those bits).
  DRAM (Horowitz's DRAM energy per bit; DRAM_BYTES_PER_S), loop order M tile outer:
    the buffer keeps an M tile of activation rows resident beside a weight tile of at least
    one column of K: M_t = min(M, floor((SRAM_BUFFER_BYTES * 8 - b_w * K) / (b_a * K)));
    activations cross DRAM once (b_a * M * K), weights once per M tile
    (b_w * K * N * ceil(M / M_t): once whenever the activations fit, as for M = 1 and for
    LLaMA-2-7B's K = 4096 projections at M = 128), outputs once (M * N * OUTPUT_BITS).
The cycle count (lowbit.models.cost.cycles.gemm_cycles) packs the M * N * ceil(K / dot_len) dot products
(the last of each output shorter when dot_len does not divide K) onto the array without the
grid's edge losses, so it is exact when R divides M and C divides N.
"""
from __future__ import annotations

import math

from lowbit.hwsim.pe import kinds
from lowbit.models.cost import cycles, energy, traffic

CLOCK_HZ = 1e9  # an assumed clock, stated; cycles are reported too so any clock can be applied
# One DDR4-3200 channel: 3200 MT/s x 8 bytes (JEDEC JESD79-4 speed bin).
DRAM_BYTES_PER_S = 25.6e9
SRAM_BUFFER_BYTES = 1024 * 1024
# Bits an output activation is written back with before the next layer quantizes it again.
OUTPUT_BITS = 16


def memory_bits(M: int, K: int, N: int, array: int, weight_bpw: float,
                act_bpa: float) -> dict:
    """{"grid_rows", "sram_weight", "sram_act", "dram_weight", "dram_act", "dram_out"}: the
    grid's R and the bits one M x K x N GEMM moves under the module's weight-stationary
    dataflow (formulas in the module docstring), with ``weight_bpw`` bits per weight and
    ``act_bpa`` bits per activation."""
    weight, act = weight_bpw * K * N, act_bpa * M * K
    rows = min(range(1, min(M, array) + 1),
               key=lambda r: weight * math.ceil(M / r) + act * math.ceil(N / (array // r)))
    cols = array // rows
    m_tile = min(M, math.floor((SRAM_BUFFER_BYTES * 8 - weight_bpw * K) / (act_bpa * K)))
    if m_tile < 1:
        raise ValueError(f"K must let one activation row and one weight column fit the "
                         f"{SRAM_BUFFER_BYTES}-byte buffer, got K={K}")
    return {"grid_rows": rows, "sram_weight": weight * math.ceil(M / rows),
            "sram_act": act * math.ceil(N / cols), "dram_weight": weight * math.ceil(M / m_tile),
            "dram_act": act, "dram_out": M * N * OUTPUT_BITS}


def gemm_costs(scheme, mapping, gemms, lanes: int, array: int) -> dict:
    """Totals over ``gemms`` (lowbit.models.workloads GEMMs) of one design point: "cycles",
    "latency_s", "weight_bits" and the energy terms "energy_mac_j", "energy_rescale_j",
    "energy_sram_j", "energy_dram_j" (the module docstring states the model)."""
    per_mac = energy.mac_energy(cycles.pe_config(mapping, lanes), mapping.w_bits)
    per_rescale = energy.rescale_energy(scheme.weight_spec.granularity)
    occupancy = cycles.beat_occupancy(mapping, lanes)
    lane_reduction = kinds.get(mapping.pe).reduces_lanes
    sram_bit, dram_bit = energy.sram_read_per_bit(SRAM_BUFFER_BYTES), energy.dram_per_bit()
    totals = dict.fromkeys(("cycles", "latency_s", "weight_bits", "energy_mac_j",
                            "energy_rescale_j", "energy_sram_j", "energy_dram_j"), 0.0)
    for g in gemms:
        dot_len = cycles.dot_length(scheme.weight_spec, g.K)
        segments = cycles.dot_segments(dot_len, g.K)
        dots = g.M * g.N * sum(count for _, count in segments)
        # fp8_mac: lanes used - 1 fp32 additions reduce each dot product's lane sums
        reduction_adds = g.M * g.N * sum(count * (min(lanes, length) - 1)
                                         for length, count in segments) if lane_reduction else 0
        gemm_cycles = cycles.gemm_cycles(g.M, g.K, g.N, dot_len, lanes, array, occupancy,
                                         lane_reduction)
        bpw = traffic.bits_per_weight(scheme.weight_spec, g.K, g.N)
        bits = memory_bits(g.M, g.K, g.N, array, bpw,
                           traffic.bits_per_activation(scheme.act_spec, g.M, g.K))
        dram_bits = bits["dram_weight"] + bits["dram_act"] + bits["dram_out"]
        latency = max(gemm_cycles / CLOCK_HZ, dram_bits / 8 / DRAM_BYTES_PER_S)
        totals["cycles"] += g.count * gemm_cycles
        totals["latency_s"] += g.count * latency
        totals["weight_bits"] += g.count * bpw * g.K * g.N
        totals["energy_mac_j"] += g.count * (g.M * g.K * g.N * per_mac
                                             + reduction_adds * energy.fp32_add())
        totals["energy_rescale_j"] += g.count * dots * per_rescale
        totals["energy_sram_j"] += g.count * (bits["sram_weight"] + bits["sram_act"]) * sram_bit
        totals["energy_dram_j"] += g.count * dram_bits * dram_bit
    totals["cycles"] = int(totals["cycles"])
    return totals
