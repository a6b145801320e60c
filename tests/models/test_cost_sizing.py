"""Equal-area sizing (lowbit.models.cost.sizing) by hand."""
import pytest

from lowbit.models.cost import sizing


def test_largest_array_that_fits_rounds_down():
    # (8 - 3.5) / 0.014 = 321.4 -> 321 PEs
    assert sizing.array_for_area(8e-6, 0.014e-6, 3.5e-6) == 321
    # exactly 100 PEs fit
    assert sizing.array_for_area(1.5e-6, 0.01e-6, 0.5e-6) == 100


def test_budget_below_buffer_plus_one_pe_is_refused():
    with pytest.raises(ValueError, match="must hold the 3.5 mm\\^2 buffer and at least one"):
        sizing.array_for_area(3.5e-6, 0.014e-6, 3.5e-6)


@pytest.mark.parametrize("pe, buffer", [(0.0, 1e-6), (float("nan"), 1e-6), (1e-8, -1.0)])
def test_bad_areas_are_refused(pe, buffer):
    with pytest.raises(ValueError, match="pe_area_m2 must be > 0"):
        sizing.array_for_area(8e-6, pe, buffer)


def test_smallest_array_that_meets_a_throughput_rounds_up():
    # 100 GMAC/s on PEs of 16 lanes x 600 MHz / 1 cycle per beat = 9.6 GMAC/s: 10.42 -> 11 PEs
    assert sizing.array_for_throughput(100e9, 9.6e9, 0.01e-6, 3.5e-6) == 11
    # the same target on bit-serial PEs of 16 lanes / 8 cycles per beat x 600 MHz = 1.2 GMAC/s:
    # 83.3 -> 84 PEs
    assert sizing.array_for_throughput(100e9, 1.2e9, 0.01e-6, 3.5e-6) == 84


def test_a_quotient_rounded_past_an_integer_is_not_rounded_up():
    # this target over this rate divides to 739.0000000000001 in floating point, yet 739 PEs
    # reach it (739 x rate >= target): 739 PEs, not 740
    target, rate = 2507931245613.2407, 3393682335.065278
    assert target / rate > 739 and 739 * rate >= target
    assert sizing.array_for_throughput(target, rate, 1e-8, 0.0) == 739
    assert sizing.array_for_throughput(0.1e9, 0.1e9, 1e-8, 0.0) == 1


def test_reticle_limit_by_hand():
    assert sizing.RETICLE_LIMIT_M2 == pytest.approx(858e-6, rel=1e-12)
    # 1,000 TMAC/s at 10 GMAC/s per PE: 100,000 PEs of 0.01 mm^2 + 3.5 mm^2 = 1003.5 mm^2 > 858
    with pytest.raises(ValueError, match=r"needs 100000 PEs .* 1003.5 mm\^2 die: larger than the "
                                         r"858 mm\^2 limit \(reticle, 26 x 33 mm\)"):
        sizing.array_for_throughput(1e15, 10e9, 0.01e-6, 3.5e-6)
    # 85,450 PEs + the buffer = 858 mm^2 exactly: allowed
    assert sizing.array_for_throughput(85_450 * 10e9, 10e9, 0.01e-6, 3.5e-6) == 85_450


@pytest.mark.parametrize("target, rate", [(0.0, 1e9), (1e9, 0.0), (float("nan"), 1e9)])
def test_bad_rates_are_refused(target, rate):
    with pytest.raises(ValueError, match="target_macs_per_s and pe_macs_per_s must be > 0"):
        sizing.array_for_throughput(target, rate, 1e-8, 0.0)
