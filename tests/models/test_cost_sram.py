"""On-chip SRAM (lowbit.models.cost.sram): CACTI's numbers, the interpolation rule, the refusals,
and the check against Horowitz's published 45 nm points."""
import math

import pytest

from lowbit.models.cost import energy, sram

KIB, MIB = 1024, 1024 * 1024


def test_tabulated_points_are_cactis_numbers():
    # CACTI: 1 MB, 64-bit: read 0.0771867 nJ, write 0.0639187 nJ, area 3.56541 mm^2
    assert sram.read_energy_per_bit(MIB, 64) == pytest.approx(0.0771867e-9 / 64, rel=1e-12)
    assert sram.write_energy_per_bit(MIB, 64) == pytest.approx(0.0639187e-9 / 64, rel=1e-12)
    assert sram.area_m2(MIB, 64) == pytest.approx(3.56541e-6, rel=1e-12)


def test_capacity_interpolation_is_a_power_law_between_neighbours():
    # 48 KiB lies between 32 and 64 KiB at t = log(1.5) / log(2); 128-bit area 0.109648 and
    # 0.212119 mm^2
    t = math.log(1.5) / math.log(2)
    expected = 0.109648 * (0.212119 / 0.109648) ** t * 1e-6
    assert sram.area_m2(48 * KIB, 128) == pytest.approx(expected, rel=1e-12)
    # geometric midpoint of 256 KiB and 1 MiB is 512 KiB, a tabulated point: the rule passes
    # through it only by the data, so check the rule at sqrt(256K * 512K) instead
    capacity = 2 ** 18 * 2 ** 0.5
    assert sram.read_energy_per_bit(int(capacity), 256) == pytest.approx(
        math.sqrt(0.0997503 * 0.145156) * 1e-9 / 256, rel=1e-4)


@pytest.mark.parametrize("capacity", [4 * KIB, 2 * MIB, 0, 8192.0, True])
def test_capacity_outside_the_data_is_refused(capacity):
    with pytest.raises(ValueError, match=r"capacity_bytes must be an integer in 8192\.\.1048576"):
        sram.area_m2(capacity, 64)


@pytest.mark.parametrize("width", [32, 96, 1024, "64"])
def test_width_outside_the_data_is_refused(width):
    with pytest.raises(ValueError, match=r"width_bits must be one of 64, 128, 256, 512"):
        sram.read_energy_per_bit(32 * KIB, width)


@pytest.mark.parametrize("capacity", [8 * KIB, 32 * KIB, MIB])
def test_within_a_factor_two_of_horowitz(capacity):
    ratio = sram.read_energy_per_bit(capacity, 64) / energy.sram_read_per_bit(capacity)
    assert 0.5 < ratio < 1.0   # CACTI 0.60x, 0.85x, 0.77x of Horowitz's 10, 20, 100 pJ


def test_energy_grows_with_capacity_at_64_bits():
    values = [sram.read_energy_per_bit(c, 64) for c in sram.CAPACITIES_BYTES]
    assert values == sorted(values)
