"""The dataflow model of one design point: how many cycles, joules and seconds a workload's GEMMs
take on an array of PEs, and the bits they move between DRAM, SRAM and the array.

Costs per inference, on the chip a ``Hardware`` describes (its clock, technology node, DRAM kind
and SRAM buffer):
  - cycles from the hwsim PE cycle models (lowbit.models.cost.cycles, which also states the fp8_mac
    lane-and-reduction timing); latency = per GEMM the larger of compute time at the clock the
    PE reaches (lowbit.models.cost.timing) and DRAM time at the DRAM kind's bandwidth
    (lowbit.models.cost.dram; compute and DRAM streaming overlap), summed over the GEMMs;
  - energy = energy_mac_j (the PE kind's MAC-energy rule, lowbit.models.cost.energy; on fp8_mac
    also the min(lanes, length) - 1 fp32 additions that reduce each dot product's lane sums)
    + energy_rescale_j (per dot product; none for MX on mx_mac, whose MAC rule prices its
    per-block scale add, conversion and fp32 add) + energy_sram_j + energy_dram_j. Arithmetic and SRAM
    energies are at 45 nm scaled to the node (lowbit.models.cost.technology.energy_factor);
    DRAM energy is off-chip and not scaled.

Dataflow (one, stated): weight-stationary tiles on an R x C grid of the ``array`` PEs.
Per GEMM of M x K x N with b_w stored bits per weight (traffic.bits_per_weight: element +
scales + zero points) and b_a bits per input activation (traffic.bits_per_activation: the
scheme's own activation element + its per-token / MX / per-tensor scales):
  R PEs share a weight column (rows m of one M tile), C = floor(array / R) PEs share an
  activation row (columns n of one N tile); each PE accumulates its output in its own
  accumulator register (the PE's acc), so partial sums never leave the array. R is chosen per
  GEMM in 1..min(M, array) to minimize the SRAM bits below (smallest R on a tie): R = 1 for
  M = 1 (decode: every weight read once), about sqrt(array * b_w / b_a) for a long prefill.
  SRAM (one buffer of hardware.buffer_bytes read hardware.buffer_width_bits at a time; its
  read energy per bit from CACTI, lowbit.models.cost.sram):
    weight bits read  = b_w * K * N * ceil(M / R)   (each weight beat is broadcast to the R
                                                     PEs of its column, once per M tile)
    act bits read     = b_a * M * K * ceil(N / C)   (each activation beat is broadcast to the
                                                     C PEs of its row, once per N tile)
    Filling the buffer from DRAM is not counted (<= 100/1950 of the DRAM energy of those bits).
  DRAM (the DRAM kind's energy per bit and bandwidth), loop order M tile outer:
    the buffer keeps an M tile of activation rows resident beside a weight tile of at least
    one column of K: M_t = min(M, floor((buffer_bytes * 8 - b_w * K) / (b_a * K)));
    activations cross DRAM once (b_a * M * K), weights once per M tile
    (b_w * K * N * ceil(M / M_t): once whenever the activations fit, as for M = 1 and for
    LLaMA-2-7B's K = 4096 projections at M = 128), outputs once (M * N * OUTPUT_BITS).
The cycle count (lowbit.models.cost.cycles.gemm_cycles) packs the M * N * ceil(K / dot_len) dot products
(the last of each output shorter when dot_len does not divide K) onto the array without the
grid's edge losses, so it is exact when R divides M and C divides N.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lowbit.hwsim.pe import kinds
from lowbit.models.cost import cycles, dram, energy, sram, technology, traffic
from lowbit.models.cost.llm import OUTPUT_BITS

SRAM_BUFFER_BYTES = 1024 * 1024
SRAM_WIDTH_BITS = 64


@dataclass(frozen=True, kw_only=True)
class Hardware:
    """The chip a design point runs on: ``clock_hz`` (what its PE reaches), ``node_nm``
    (lowbit.models.cost.technology.NODES_NM), ``dram`` (lowbit.models.cost.dram.KINDS) with
    ``dram_channels`` channels or stacks, and one SRAM buffer of ``buffer_bytes`` read
    ``buffer_width_bits`` at a time (the ranges of lowbit.models.cost.sram)."""
    clock_hz: float
    node_nm: int = 45
    dram: str = "ddr4"
    dram_channels: int = 1
    buffer_bytes: int = SRAM_BUFFER_BYTES
    buffer_width_bits: int = SRAM_WIDTH_BITS

    def __post_init__(self):
        if not self.clock_hz > 0:
            raise ValueError(f"clock_hz must be > 0, got {self.clock_hz!r}")
        technology.check_node(self.node_nm)
        dram.bandwidth_bytes_per_s(self.dram, self.dram_channels)      # checks kind, channels
        sram.area_m2(self.buffer_bytes, self.buffer_width_bits)        # checks the SRAM range

    @property
    def logic_scale(self) -> float:
        """Multiplier of a 45 nm arithmetic or SRAM energy at this node."""
        return technology.energy_factor(self.node_nm)

    @property
    def dram_bytes_per_s(self) -> float:
        return dram.bandwidth_bytes_per_s(self.dram, self.dram_channels)

    @property
    def dram_bit_j(self) -> float:
        return dram.energy_per_bit(self.dram)

    @property
    def sram_read_bit_j(self) -> float:
        return sram.read_energy_per_bit(self.buffer_bytes, self.buffer_width_bits) * self.logic_scale

    @property
    def buffer_area_m2(self) -> float:
        return sram.area_m2(self.buffer_bytes, self.buffer_width_bits) * \
            technology.area_factor(self.node_nm)


def memory_bits(M: int, K: int, N: int, array: int, weight_bpw: float,
                act_bpa: float, buffer_bytes: int = SRAM_BUFFER_BYTES) -> dict:
    """{"grid_rows", "sram_weight", "sram_act", "dram_weight", "dram_act", "dram_out"}: the
    grid's R and the bits one M x K x N GEMM moves under the module's weight-stationary
    dataflow (formulas in the module docstring), with ``weight_bpw`` bits per weight,
    ``act_bpa`` bits per activation and a ``buffer_bytes`` buffer."""
    weight, act = weight_bpw * K * N, act_bpa * M * K
    rows = min(range(1, min(M, array) + 1),
               key=lambda r: weight * math.ceil(M / r) + act * math.ceil(N / (array // r)))
    cols = array // rows
    m_tile = min(M, math.floor((buffer_bytes * 8 - weight_bpw * K) / (act_bpa * K)))
    if m_tile < 1:
        raise ValueError(f"K must let one activation row and one weight column fit the "
                         f"{buffer_bytes}-byte buffer, got K={K}")
    return {"grid_rows": rows, "sram_weight": weight * math.ceil(M / rows),
            "sram_act": act * math.ceil(N / cols), "dram_weight": weight * math.ceil(M / m_tile),
            "dram_act": act, "dram_out": M * N * OUTPUT_BITS}


def gemm_costs(scheme, mapping, gemms, lanes: int, array: int, hardware: Hardware) -> dict:
    """Totals over ``gemms`` (lowbit.models.workloads GEMMs) of one design point on
    ``hardware``: "cycles", "latency_s", "weight_bits" and the energy terms "energy_mac_j",
    "energy_rescale_j", "energy_sram_j", "energy_dram_j" (the module docstring states the
    model)."""
    scale = hardware.logic_scale
    per_mac = energy.mac_energy(cycles.pe_config(mapping, lanes), mapping.w_bits) * scale
    row = kinds.get(mapping.pe)
    granularity = scheme.weight_spec.granularity
    # mx_mac applies MX block scales inside (its MAC-energy rule prices them): no rescale
    in_pe = granularity == "mx" and row.block_scales
    per_rescale = 0.0 if in_pe else energy.rescale_energy(granularity) * scale
    per_reduction_add = energy.fp32_add() * scale
    occupancy = cycles.beat_occupancy(mapping, lanes)
    pe_latency = cycles.pe_latency(mapping, lanes)
    lane_reduction = row.reduces_lanes
    sram_bit, dram_bit = hardware.sram_read_bit_j, hardware.dram_bit_j
    totals = dict.fromkeys(("cycles", "latency_s", "weight_bits", "energy_mac_j",
                            "energy_rescale_j", "energy_sram_j", "energy_dram_j"), 0.0)
    for g in gemms:
        dot_len = cycles.dot_length(scheme.weight_spec, g.K, mapping.pe)
        segments = cycles.dot_segments(dot_len, g.K)
        dots = g.M * g.N * sum(count for _, count in segments)
        # fp8_mac: lanes used - 1 fp32 additions reduce each dot product's lane sums
        reduction_adds = g.M * g.N * sum(count * (min(lanes, length) - 1)
                                         for length, count in segments) if lane_reduction else 0
        gemm_cycles = cycles.gemm_cycles(g.M, g.K, g.N, dot_len, lanes, array, occupancy,
                                         lane_reduction, pe_latency)
        bpw = traffic.bits_per_weight(scheme.weight_spec, g.K, g.N)
        bits = memory_bits(g.M, g.K, g.N, array, bpw,
                           traffic.bits_per_activation(scheme.act_spec, g.M, g.K),
                           hardware.buffer_bytes)
        dram_bits = bits["dram_weight"] + bits["dram_act"] + bits["dram_out"]
        latency = max(gemm_cycles / hardware.clock_hz, dram_bits / 8 / hardware.dram_bytes_per_s)
        totals["cycles"] += g.count * gemm_cycles
        totals["latency_s"] += g.count * latency
        totals["weight_bits"] += g.count * bpw * g.K * g.N
        totals["energy_mac_j"] += g.count * (g.M * g.K * g.N * per_mac
                                             + reduction_adds * per_reduction_add)
        totals["energy_rescale_j"] += g.count * dots * per_rescale
        totals["energy_sram_j"] += g.count * (bits["sram_weight"] + bits["sram_act"]) * sram_bit
        totals["energy_dram_j"] += g.count * dram_bits * dram_bit
    totals["cycles"] = int(totals["cycles"])
    return totals
