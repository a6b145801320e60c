"""lowbit.hwsim.quant.granularity: scales shapes, group views along any axis, bad sizes and axes."""
import numpy as np
import pytest

from lowbit.hwsim.quant import QuantSpec, grouping

SHAPE = (3, 64, 5)


@pytest.mark.parametrize("spec,axis,scales_shape", [
    (QuantSpec(format="int8"), 1, (1, 1, 1)),
    (QuantSpec(format="int8", granularity="channel"), 1, (3, 1, 5)),
    (QuantSpec(format="int8", granularity="channel"), -1, (3, 64, 1)),
    (QuantSpec(format="int8", granularity="group", group_size=16), 1, (3, 4, 5)),
    (QuantSpec(format="int8", granularity="group", group_size=1), 0, (3, 64, 5)),
    (QuantSpec(format="float8_e4m3fn", granularity="mx"), -2, (3, 2, 5)),
])
def test_scales_shape(spec, axis, scales_shape):
    assert grouping(SHAPE, spec, axis).scales_shape == scales_shape


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("granularity", ["tensor", "channel", "group"])
def test_groups_are_consecutive_runs_along_the_axis(axis, granularity):
    shape = (4, 6, 2)
    spec = QuantSpec(format="int8", granularity=granularity,
                     group_size=2 if granularity == "group" else None)
    layout = grouping(shape, spec, axis)
    x = np.arange(np.prod(shape)).reshape(shape)
    groups = layout.to_groups(x)
    np.testing.assert_array_equal(layout.from_groups(groups), x)
    if granularity != "tensor":
        moved = np.moveaxis(x, axis, -1)
        # every group is one run of group_length consecutive elements of one slice
        first = moved.reshape(-1, moved.shape[-1])[0, :layout.group_length]
        np.testing.assert_array_equal(groups[0, 0], first)
    per_group = np.arange(groups.shape[0] * groups.shape[1]).reshape(groups.shape[:2])
    scales = layout.scales_from_groups(per_group)
    assert scales.shape == layout.scales_shape
    np.testing.assert_array_equal(layout.scales_to_groups(scales), per_group)


def test_group_must_divide_axis():
    spec = QuantSpec(format="int4", granularity="group", group_size=128)
    with pytest.raises(ValueError, match=r"group_size 128 \(group\) must divide the length 96 of "
                                         r"axis 1 of x \(shape \(4, 96\)\)"):
        grouping((4, 96), spec, -1)
    with pytest.raises(ValueError, match=r"group_size 32 \(mx\) must divide the length 48"):
        grouping((48,), QuantSpec(format="float4_e2m1fn", granularity="mx"), 0)


@pytest.mark.parametrize("axis", [2, -3, 1.0, None, True])
def test_bad_axis(axis):
    with pytest.raises(ValueError, match=r"axis must be an int in -2..1 for a 2-d array"):
        grouping((4, 8), QuantSpec(format="int8"), axis)


@pytest.mark.parametrize("shape", [(), (0, 4), (4, 0)])
def test_empty_shapes_rejected(shape):
    with pytest.raises(ValueError, match="shape must have at least 1 dimension and no zero-length"):
        grouping(shape, QuantSpec(format="int8", granularity="channel"), 0)
