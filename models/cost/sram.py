"""On-chip SRAM buffer: read and write energy per bit and area, as a function of capacity and
access width, at 45 nm, from CACTI.

    from lowbit.models.cost import sram
    sram.read_energy_per_bit(1024 * 1024, 64)   # J per bit read
    sram.area_m2(256 * 1024, 128)               # m^2

Source: CACTI 7.0 (Balasubramonian, Kahng, Muralimanohar, Shafiee, Srinivas, "CACTI 7: New tools
for interconnect exploration in innovative off-chip memories", ACM TACO 14(2), 2017; the
HewlettPackard/cacti repository, commit 1ffd8df, "7.0.3DD"), run on its shipped cache.cfg with
only these lines changed: size = capacity, block size = width / 8 bytes, associativity 1, cache
type "ram" (a scratchpad: no tag array), technology 0.045 um, output/input bus width = width.
Everything else is cache.cfg's: one bank, one read-write port, ITRS high-performance cells and
periphery, 360 K, optimized for energy x delay^2. Raw numbers (CACTI's units: nJ per access and
mm^2; "Total dynamic read/write energy per access" and "Data array: Area"), in the table below.

Check against the literature: Horowitz (ISSCC 2014, 45 nm) gives 10, 20 and 100 pJ per 64-bit
read of 8 KB, 32 KB and 1 MB; CACTI gives 6.0, 17.0 and 77.2 pJ (0.60x, 0.85x, 0.77x).

How each parameter scales each cost:
  energy per bit = CACTI energy per access / width. At a fixed width it grows with capacity
                   (longer bitlines and wordlines, deeper decoders: 64-bit reads 8 KB -> 1 MB
                   x12.8); at a fixed capacity it falls with width (the decode is shared by more
                   bits: 1 MB, 64 -> 512 bits per access, per bit x0.58).
  area           = CACTI data-array area, cells and periphery (8 KB at 64 bits: 74 % cells);
                   about linear in capacity.
Interpolation (stated, tested): widths must be one of WIDTHS_BITS (CACTI picks a different array
organization per width, so its numbers are not smooth in width and are not interpolated in it).
A capacity between two tabulated ones (powers of two) is interpolated as a power law between the
two neighbours at that width: log(value) linear in log(capacity). Capacities outside 8 KiB..1 MiB
are refused, not extrapolated.
"""
from __future__ import annotations

import math

SOURCE = "CACTI 7.0 (HewlettPackard/cacti 1ffd8df), 45 nm, ram, 1 bank, 1 RW port, itrs-hp"
NJ, MM2 = 1e-9, 1e-6

# (capacity in bytes, access width in bits) -> (read nJ per access, write nJ per access,
#                                              data-array area in mm^2), as CACTI printed them.
_CACTI_45NM = {
    (8192, 64): (0.00604792, 0.00741363, 0.0294029),
    (8192, 128): (0.00759887, 0.0130463, 0.0312118),
    (8192, 256): (0.0107091, 0.02432, 0.0350725),
    (8192, 512): (0.0285301, 0.0417828, 0.058195),
    (16384, 64): (0.00890893, 0.0117713, 0.0549288),
    (16384, 128): (0.0104599, 0.0215615, 0.0567377),
    (16384, 256): (0.0135701, 0.0411501, 0.0605984),
    (16384, 512): (0.0311724, 0.0583942, 0.0828863),
    (32768, 64): (0.016998, 0.0144836, 0.106242),
    (32768, 128): (0.0198103, 0.0255351, 0.109648),
    (32768, 256): (0.0254355, 0.0476387, 0.117),
    (32768, 512): (0.0366941, 0.0918541, 0.132126),
    (65536, 64): (0.0212026, 0.0186882, 0.234013),
    (65536, 128): (0.0384217, 0.0333929, 0.212119),
    (65536, 256): (0.0362792, 0.0810989, 0.215375),
    (65536, 512): (0.0475378, 0.158574, 0.2305),
    (131072, 64): (0.0374928, 0.0242248, 0.435513),
    (131072, 128): (0.0466211, 0.0415923, 0.466709),
    (131072, 256): (0.0656439, 0.0770935, 0.538593),
    (131072, 512): (0.0919007, 0.18154, 0.444702),
    (262144, 64): (0.0459623, 0.0326943, 0.894782),
    (262144, 128): (0.0623325, 0.0573037, 0.977111),
    (262144, 256): (0.0997503, 0.123173, 0.989868),
    (262144, 512): (0.15265, 0.242289, 1.22216),
    (524288, 64): (0.0599027, 0.0466347, 1.77514),
    (524288, 128): (0.0887251, 0.0836963, 1.93343),
    (524288, 256): (0.145156, 0.135099, 2.04645),
    (524288, 512): (0.241555, 0.288401, 2.0824),
    (1048576, 64): (0.0771867, 0.0639187, 3.56541),
    (1048576, 128): (0.120656, 0.115627, 3.88963),
    (1048576, 256): (0.207748, 0.19769, 4.18418),
    (1048576, 512): (0.360915, 0.407762, 4.5024),
}
CAPACITIES_BYTES = tuple(sorted({capacity for capacity, _ in _CACTI_45NM}))
WIDTHS_BITS = tuple(sorted({width for _, width in _CACTI_45NM}))


def _check(capacity_bytes, width_bits) -> None:
    if width_bits not in WIDTHS_BITS or isinstance(width_bits, bool):
        raise ValueError(f"width_bits must be one of {', '.join(map(str, WIDTHS_BITS))} (the "
                         f"widths CACTI was run at), got {width_bits!r}")
    low, high = CAPACITIES_BYTES[0], CAPACITIES_BYTES[-1]
    if (isinstance(capacity_bytes, bool) or not isinstance(capacity_bytes, int)
            or not low <= capacity_bytes <= high):
        raise ValueError(f"capacity_bytes must be an integer in {low}..{high} (the capacities "
                         f"CACTI was run at; not extrapolated), got {capacity_bytes!r}")


def _interpolated(capacity_bytes: int, width_bits: int, column: int) -> float:
    """Column ``column`` of the table at ``capacity_bytes``: the tabulated value, or the power
    law through the two tabulated capacities around it (module docstring)."""
    _check(capacity_bytes, width_bits)
    if (capacity_bytes, width_bits) in _CACTI_45NM:
        return _CACTI_45NM[capacity_bytes, width_bits][column]
    low = max(c for c in CAPACITIES_BYTES if c < capacity_bytes)
    high = min(c for c in CAPACITIES_BYTES if c > capacity_bytes)
    v_low, v_high = _CACTI_45NM[low, width_bits][column], _CACTI_45NM[high, width_bits][column]
    t = math.log(capacity_bytes / low) / math.log(high / low)
    return v_low * (v_high / v_low) ** t


def read_energy_per_bit(capacity_bytes: int, width_bits: int) -> float:
    """Energy in J per bit read from a ``capacity_bytes`` SRAM read ``width_bits`` at a time."""
    return _interpolated(capacity_bytes, width_bits, 0) * NJ / width_bits


def write_energy_per_bit(capacity_bytes: int, width_bits: int) -> float:
    """Energy in J per bit written to a ``capacity_bytes`` SRAM ``width_bits`` at a time."""
    return _interpolated(capacity_bytes, width_bits, 1) * NJ / width_bits


def area_m2(capacity_bytes: int, width_bits: int) -> float:
    """Area in m^2 of a ``capacity_bytes`` SRAM with ``width_bits``-wide access (cells and
    periphery)."""
    return _interpolated(capacity_bytes, width_bits, 2) * MM2
