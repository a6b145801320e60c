"""Cost terms of LLM serving (lowbit.models.workloads.llm_phases): the KV cache's bits, a decode
step's DRAM traffic, the roofline time of a step, and per-phase tokens per second and joules per
token.

KV-cache element bits. The cache stores K and V in the scheme's KV format: an integer format
with one scale per token and head (lowbit.hwsim.quant Scheme.kv_spec: "channel" granularity over
a row of head_dim elements), so an element costs its bits plus scale_bits / head_dim (int8 with
fp32 scales and head_dim 128: 8 + 32/128 = 8.25 bits). Without a KV format the cache keeps K and V
as the projections output them, OUTPUT_BITS = 16 bits (FP16), the width every output activation
is written back with.

A decode step's DRAM traffic (bits), stated:
    weights   every weight once (lowbit.models.cost.traffic.weight_bits of the step's GEMMs:
              elements + scales + zero points); no buffer holds a 7B model, and each step
              streams it again
    kv_read   the cached tokens' K and V, once: kv_read elements x KV bits
    kv_write  the step's own token's K and V, once: kv_written elements x KV bits
A decode step's activations (batch rows) stay in the on-chip buffer between layers and never
reach DRAM; decode_step_dram_bits refuses a step whose largest activation tensor does not fit.
Its time is the roofline: max(compute cycles / clock, DRAM bits / 8 / bandwidth), so a
memory-bound batch-1 step takes exactly (weight + KV bytes) / bandwidth.
"""
from __future__ import annotations

from lowbit.models.cost import traffic
from lowbit.models.workloads import Step

# Bits an output activation (and an unquantized K or V) is written with.
OUTPUT_BITS = 16


def kv_bits_per_element(kv_spec, head_dim: int) -> float:
    """Stored bits per KV-cache element: ``kv_spec`` (a lowbit.hwsim.quant QuantSpec scaled per
    token and head, or None for an unquantized cache) over rows of ``head_dim`` elements."""
    if kv_spec is None:
        return float(OUTPUT_BITS)
    if kv_spec.granularity != "channel":
        raise ValueError(f"kv_spec.granularity must be 'channel' (one scale per token and head), "
                         f"got {kv_spec.granularity!r}")
    return traffic.bits_per_activation(kv_spec, 1, head_dim)


def decode_step_dram_bits(step: Step, weight_spec, kv_bits: float,
                          buffer_bytes: int) -> dict[str, float]:
    """{"weight", "kv_read", "kv_write"}: DRAM bits of one decode step (module docstring), with
    weights quantized by ``weight_spec`` and ``kv_bits`` bits per KV element. ValueError when
    the step's largest activation tensor (M x max(K, N) at OUTPUT_BITS) exceeds the
    ``buffer_bytes`` buffer, where the stated on-chip activations would not fit."""
    largest = max(g.M * max(g.K, g.N) for g in step.weight_gemms) * OUTPUT_BITS
    if largest > buffer_bytes * 8:
        raise ValueError(f"a decode step's activations ({largest // 8} bytes) must fit the "
                         f"{buffer_bytes}-byte buffer; use a smaller batch")
    return {"weight": traffic.weight_bits(weight_spec, step.weight_gemms),
            "kv_read": step.kv_read * kv_bits, "kv_write": step.kv_written * kv_bits}


def roofline_seconds(compute_cycles: float, clock_hz: float, dram_bits: float,
                     bandwidth_bytes_per_s: float) -> tuple[float, str]:
    """(seconds, bound) of a step whose compute and DRAM streaming overlap: the larger of
    compute_cycles / clock_hz and dram_bits / 8 / bandwidth; bound "compute" or "memory"."""
    if not clock_hz > 0 or not bandwidth_bytes_per_s > 0:
        raise ValueError(f"clock_hz and bandwidth_bytes_per_s must be > 0, got {clock_hz!r}, "
                         f"{bandwidth_bytes_per_s!r}")
    compute, memory = compute_cycles / clock_hz, dram_bits / 8 / bandwidth_bytes_per_s
    return (memory, "memory") if memory >= compute else (compute, "compute")


def phase_rates(tokens: int, energy_j: float, latency_s: float) -> dict[str, float]:
    """{"tokens_per_s", "j_per_token"} of a phase that handles ``tokens`` tokens (prefill: the
    prompt tokens; decode: the generated tokens) in ``latency_s`` seconds for ``energy_j``."""
    if not tokens > 0 or not latency_s > 0:
        raise ValueError(f"tokens and latency_s must be > 0, got {tokens!r}, {latency_s!r}")
    return {"tokens_per_s": tokens / latency_s, "j_per_token": energy_j / tokens}
