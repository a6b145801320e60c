"""Energy per arithmetic operation and per memory access, from Horowitz, "Computing's energy
problem (and what we can do about it)", ISSCC 2014, Figure 1.1.9 (45 nm, 0.9 V).

Raw numbers (the table below keeps them as published, in pJ; every function returns joules):

  operation                   energy     operation                   energy
  8-bit integer add           0.03 pJ    8-bit integer multiply      0.2 pJ
  32-bit integer add          0.1 pJ     32-bit integer multiply     3.1 pJ
  16-bit float add            0.4 pJ     16-bit float multiply       1.1 pJ
  32-bit float add            0.9 pJ     32-bit float multiply       3.7 pJ
  SRAM 64-bit read, 8 KB      10 pJ      SRAM 64-bit read, 32 KB     20 pJ
  SRAM 64-bit read, 1 MB      100 pJ     DRAM 64-bit access          1300-2600 pJ

Bit-width scaling rules (stated, and checked against the table in the tests):
  - Integer adder (ripple/carry-select, one full adder per bit): energy grows linearly with the
    width. Between the two published points (8 and 32 bits) linear interpolation; below 8 bits
    proportional to the width (E_add8 * n / 8). Range: 1..32 bits.
  - Integer multiplier (array of a*b partial-product cells): energy grows with the number of
    partial-product bits a*b, anchored at the 8x8 point: E = E_mul8 * a * b / 64. The rule predicts
    3.2 pJ for 32x32 where Horowitz measured 3.1 pJ (3 % off). Range: 1..32 bits per operand.
  - Float multiplier: dominated by the significand multiplier. A power law in the significand
    width s (mantissa bits + 1) through the fp16 (s=11, 1.1 pJ) and fp32 (s=24, 3.7 pJ) points:
    E = 1.1 pJ * (s / 11) ** p with p = ln(3.7/1.1) / ln(24/11) = 1.55. Range: s in 2..24.
  - Float adder: the fp32 accumulator adder is used as published (0.9 pJ); narrower float adders
    are not modelled (no PE here adds in a float format narrower than fp32).
  - DRAM: the midpoint of the published 1.3-2.6 nJ range per 64 bits (1.95 nJ); SRAM per the
    buffer size, which must be one of the three published sizes (no interpolation).
Energies of memory accesses are per bit moved (the 64-bit access energy / 64), so a partial word
costs its share: the model counts bits, not transactions.
"""
from __future__ import annotations

import math
import types

from lowbit.hwsim.pe import kinds

PJ = 1e-12
SOURCE = "Horowitz, ISSCC 2014, 'Computing's energy problem', Fig. 1.1.9, 45 nm"

# (operation, bits) -> energy in pJ, exactly as published.
HOROWITZ_45NM_PJ = {
    ("int_add", 8): 0.03,
    ("int_add", 32): 0.1,
    ("int_mult", 8): 0.2,
    ("int_mult", 32): 3.1,
    ("fp_add", 16): 0.4,
    ("fp_add", 32): 0.9,
    ("fp_mult", 16): 1.1,
    ("fp_mult", 32): 3.7,
}
# SRAM buffer size in bytes -> energy of one 64-bit read in pJ.
SRAM_64BIT_READ_PJ = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}
DRAM_64BIT_PJ_RANGE = (1300.0, 2600.0)
DRAM_64BIT_PJ = sum(DRAM_64BIT_PJ_RANGE) / 2

# Significand widths (mantissa + hidden bit) of the published float points.
_FP16_SIGNIFICAND, _FP32_SIGNIFICAND = 11, 24
FP_MULT_EXPONENT = math.log(HOROWITZ_45NM_PJ[("fp_mult", 32)] / HOROWITZ_45NM_PJ[("fp_mult", 16)]) \
    / math.log(_FP32_SIGNIFICAND / _FP16_SIGNIFICAND)


def _check_bits(bits, argname: str, low: int, high: int) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int) or not low <= bits <= high:
        raise ValueError(f"{argname} must be an integer in {low}..{high} (the range the "
                         f"scaling rule covers), got {bits!r}")


def int_add(bits: int) -> float:
    """Energy in J of one ``bits``-wide integer addition (linear in width, see module doc)."""
    _check_bits(bits, "bits", 1, 32)
    e8, e32 = HOROWITZ_45NM_PJ[("int_add", 8)], HOROWITZ_45NM_PJ[("int_add", 32)]
    if bits <= 8:
        return e8 * bits / 8 * PJ
    return (e8 + (e32 - e8) * (bits - 8) / (32 - 8)) * PJ


def int_mult(a_bits: int, b_bits: int) -> float:
    """Energy in J of one a_bits x b_bits integer multiplication (scales with a*b)."""
    _check_bits(a_bits, "a_bits", 1, 32)
    _check_bits(b_bits, "b_bits", 1, 32)
    return HOROWITZ_45NM_PJ[("int_mult", 8)] * a_bits * b_bits / 64 * PJ


def fp_mult(significand_bits: int) -> float:
    """Energy in J of one float multiplication whose significand (mantissa + hidden bit) is
    ``significand_bits`` wide (power law through the fp16 and fp32 points)."""
    _check_bits(significand_bits, "significand_bits", 2, _FP32_SIGNIFICAND)
    ratio = significand_bits / _FP16_SIGNIFICAND
    return HOROWITZ_45NM_PJ[("fp_mult", 16)] * ratio ** FP_MULT_EXPONENT * PJ


def fp32_add() -> float:
    """Energy in J of one fp32 addition."""
    return HOROWITZ_45NM_PJ[("fp_add", 32)] * PJ


def sram_read_per_bit(buffer_bytes: int) -> float:
    """Energy in J per bit read from an SRAM buffer of one of the published sizes."""
    if buffer_bytes not in SRAM_64BIT_READ_PJ:
        sizes = ", ".join(str(size) for size in SRAM_64BIT_READ_PJ)
        raise ValueError(f"buffer_bytes must be one of {sizes} (the sizes Horowitz publishes), "
                         f"got {buffer_bytes!r}")
    return SRAM_64BIT_READ_PJ[buffer_bytes] / 64 * PJ


def dram_per_bit() -> float:
    """Energy in J per bit moved to or from DRAM (midpoint of the published range)."""
    return DRAM_64BIT_PJ / 64 * PJ


# -- per-MAC energy of each PE kind, composed from the operations above ---------------------------
# Each PE kind's row (lowbit.hwsim.pe.kinds) names the operations one multiply-accumulate costs
# on it (acc_bits-wide integer accumulator, or fp32 for fp8_mac); the rules, priced here:
#   int_mac     one act_bits x w_bits multiply + one acc_bits add
#   bit_serial  ceil(w_bits / bits_per_cycle) cycles, each an act_bits x bits_per_cycle
#               partial product + one acc_bits add
#   lut         (T-MAC) per group of g activations a table of 2^g sums built with 2^g - g - 1
#               adds of act_bits + g bits, shared by the g lanes; then per weight bit-plane one
#               acc_bits add: ((2^g - g - 1) * add(act_bits + g) + w_bits * add(acc_bits)) / g
#   shared_lut  the lut rule with each table built once per group per column block of
#               ``columns`` output columns and looked up once per column:
#               ((2^g - g - 1) * add(act_bits + g) / columns + w_bits * add(acc_bits)) / g
#   xnor        per beat of ``lanes`` MACs: lanes XNORs (each priced as a 1-bit add, an upper
#               bound), the popcount tree (level l: ceil(lanes / 2^l) adds of l bits), one
#               add of lanes.bit_length() + 1 bits (2 * popcount - lanes) and one acc_bits add,
#               divided by lanes
#   shift_add   the shifter counted as one adder of the shifted width act_bits + 2^(w_bits-1) - 2
#               (a log-depth mux tree has about an adder's cells; an assumption) + one acc_bits add
#   fp8_mac     one float multiply of the format's significand + one fp32 add
#   mx_mac      one significand x significand integer multiply + the alignment shifter (one
#               adder of the product width) + one adder-tree add of the block-sum width; per
#               block of 32, shared by its MACs: a 9-bit scale add, the float32 conversion (one
#               block-sum-wide add) and one fp32 add (adds wider than 32 bits: 32-bit slices)
#   fp16_mac    one fp16 multiply (significand 11 bits: Horowitz's 1.1 pJ) + one fp32 add; the
#               lanes - 1 fp32 adds of each dot product's reduction are counted as fp8_mac's
#   fp16_bit_serial  the 47-bit lane alignment shifter (as one adder of that width) + per weight
#               bit one 47-bit add in the plane's adder tree + fixed_bits / lanes of the
#               accumulator add (adds wider than 32 bits: 32-bit slices)
# Multiplexers, registers and wires are not in Horowitz's table and are not counted for any PE.

# The priced operations a kind's rule may use.
OPERATIONS = types.SimpleNamespace(int_add=int_add, int_mult=int_mult, fp_mult=fp_mult,
                                   fp32_add=fp32_add)


def mac_energy(config, w_bits: int) -> float:
    """Energy in J of one multiply-accumulate on the PE ``config`` (a lowbit.hwsim.pe config)
    with weights ``w_bits`` wide, by its kind's rule (above)."""
    return kinds.for_config(config).mac_energy(OPERATIONS, config, w_bits)


def rescale_energy(granularity: str) -> float:
    """Energy in J of applying the scales to one dot product's result and adding it to the fp32
    output: an fp32 multiply and an fp32 add; for MX the scales are powers of two, so the multiply
    is an 8-bit exponent add."""
    multiply = int_add(8) if granularity == "mx" else fp_mult(24)
    return multiply + fp32_add()
