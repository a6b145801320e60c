"""DRAM kinds (lowbit.models.cost.dram): the published numbers and the refusals."""
import pytest

from lowbit.models.cost import dram


def test_ddr4_is_horowitz_midpoint_and_ddr4_3200():
    assert dram.energy_per_bit("ddr4") == pytest.approx((1300 + 2600) / 2 / 64 * 1e-12)
    assert dram.bandwidth_bytes_per_s("ddr4") == 25.6e9


def test_hbm2_is_oconnor_and_jesd235a():
    assert dram.energy_per_bit("hbm2") == pytest.approx(3.9e-12)
    assert dram.bandwidth_bytes_per_s("hbm2") == 256e9


def test_hbm2e_is_micron_and_jesd235c():
    # Micron's memory comparison table: HBM2E 6.0 pJ/bit; JESD235C: 3.2 Gb/s x 1024 pins / 8
    assert dram.energy_per_bit("hbm2e") == pytest.approx(6.0e-12)
    assert dram.bandwidth_bytes_per_s("hbm2e") == 409.6e9


def test_channels_multiply_bandwidth():
    assert dram.bandwidth_bytes_per_s("hbm2", channels=4) == 4 * 256e9


@pytest.mark.parametrize("kind", ["hbm3", "lpddr5", "lpddr4", "HBM2E", "DDR4", None])
def test_unknown_kind_refused_naming_the_allowed(kind):
    with pytest.raises(ValueError, match=r"dram must be one of ddr4, hbm2, hbm2e \("):
        dram.energy_per_bit(kind)


@pytest.mark.parametrize("channels", [0, -1, 1.5, True])
def test_bad_channels_refused(channels):
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        dram.bandwidth_bytes_per_s("ddr4", channels)
