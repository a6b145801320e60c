"""Off-chip memory kinds: energy per bit moved and peak bandwidth.

    from lowbit.models.cost import dram
    dram.energy_per_bit("hbm2")        # J per bit
    dram.bandwidth_bytes_per_s("hbm2") # bytes per second

Raw numbers and sources:
  kind   energy            source of the energy              bandwidth      source of the bandwidth
  ddr4   20.3125 pJ/bit    Horowitz ISSCC 2014 Fig. 1.1.9:   25.6 GB/s      JEDEC JESD79-4 DDR4-3200:
                           DRAM 1.3-2.6 nJ per 64 bits,                     3200 MT/s x 64-bit channel
                           the midpoint / 64 (as energy.py)
  hbm2   3.9 pJ/bit        O'Connor et al., "Fine-Grained     256 GB/s       JEDEC JESD235A HBM2:
                           DRAM", MICRO 2017 (HBM2 access                   2.0 Gb/s per pin x 1024 pins
                           energy; also Accelergy                           per stack
                           hwcomponents' DRAM table)
  hbm2e  6.0 pJ/bit        Micron, "Ultra-Bandwidth          409.6 GB/s     JEDEC JESD235C HBM2E:
                           Solutions" memory comparison                     3.2 Gb/s per pin x 1024 pins
                           table (micron.com/products/                      per stack
                           ultra-bandwidth-solutions):
                           HBM2E "Average Device Power
                           (pJ/bit) 6.0" (GDDR6 7.5,
                           GDDR6X 7.25 in the same table)
The energy is per bit read or written (the model counts bits, not bursts or row activations);
the bandwidth is the peak of one channel (DDR4) or one stack (HBM2, HBM2E): ``channels``
multiplies it. The two HBM energies come from different sources that count differently (O'Connor:
the access energy of an HBM2 die and its I/O; Micron: the device's average power over its bit
rate), so hbm2e costing more per bit than hbm2 reflects the sources, not the generations.

Not offered, for want of a sourced access energy: LPDDR5 (JESD209-5, 6400 MT/s x 16-bit channel
= 12.8 GB/s) and HBM3 (JESD238, 6.4 Gb/s x 1024 = 819.2 GB/s per stack): their bandwidths are
standard, but no vendor datasheet, vendor table, ISSCC/JSSC paper or tool table with a cited
source gave their pJ/bit, and a kind with a guessed energy would rank designs on the guess.
Nor LPDDR4: Accelergy's DRAM table gives 8 pJ/bit but cites only "Public data".
"""
from __future__ import annotations

from lowbit.models.cost.energy import DRAM_64BIT_PJ, PJ

# kind -> (energy in pJ per bit, peak bandwidth in bytes per second per channel or stack)
_KINDS = {
    "ddr4": (DRAM_64BIT_PJ / 64, 3200e6 * 64 / 8),
    "hbm2": (3.9, 2.0e9 * 1024 / 8),
    "hbm2e": (6.0, 3.2e9 * 1024 / 8),
}
KINDS = tuple(_KINDS)


def check_kind(kind) -> None:
    """ValueError naming the allowed kinds unless ``kind`` is one of them."""
    if kind not in _KINDS:
        raise ValueError(f"dram must be one of {', '.join(KINDS)} (kinds with a sourced energy "
                         f"and bandwidth), got {kind!r}")


def energy_per_bit(kind: str) -> float:
    """Energy in J per bit moved to or from memory of kind ``kind``."""
    check_kind(kind)
    return _KINDS[kind][0] * PJ


def bandwidth_bytes_per_s(kind: str, channels: int = 1) -> float:
    """Peak bandwidth in bytes per second of ``channels`` channels (stacks) of ``kind``."""
    check_kind(kind)
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive integer, got {channels!r}")
    return _KINDS[kind][1] * channels
