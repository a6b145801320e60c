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
