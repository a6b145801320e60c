"""The FP8 layouts of lowbit.rtl.units.floats are read from lowbit.hwsim.formats: each parameter agrees with
what the format encodes and decodes, and float32's with IEEE binary32 (numpy)."""
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.rtl.units.floats import FLOAT32, FP8_FORMATS, LAYOUTS


@pytest.mark.parametrize("name", FP8_FORMATS)
def test_fp8_layout_matches_the_hwsim_format(name):
    fmt, layout = formats.get(name), LAYOUTS[name]
    values = fmt.decode(np.arange(256))
    assert layout.bits == fmt.bits == 8
    assert values[layout.max_magnitude] == fmt.max
    assert np.isnan(values[layout.nan_code])
    assert values[1 << layout.mbits] == 2.0 ** layout.emin          # smallest normal
    if layout.has_inf:
        assert values[layout.inf_magnitude] == np.inf
    else:
        assert not np.isinf(values).any()


def _as_float32(code: int) -> float:
    return np.array([code], np.uint32).view(np.float32)[0]


def test_float32_layout_is_ieee_binary32():
    assert _as_float32(FLOAT32.max_magnitude) == np.finfo(np.float32).max
    assert _as_float32(FLOAT32.inf_magnitude) == np.inf
    assert np.isnan(_as_float32(FLOAT32.nan_code))
    assert _as_float32(1 << FLOAT32.mbits) == np.finfo(np.float32).smallest_normal
