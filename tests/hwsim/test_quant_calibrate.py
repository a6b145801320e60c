"""lowbit.hwsim.quant.calibrate: minmax, percentile and MSE clipping, per group, against by-hand
references that loop over the groups one at a time. The hypothesis test of the s/2 error bound
inside the percentile and MSE clip ranges lives in test_quant_qtensor.py, next to the minmax one
whose strategy it shares."""
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.quant import MSE_CLIP_RATIOS, QuantSpec, dequantize, quantize
from lowbit.hwsim.quant.scales import round_up

SEED = 17


def heavy_tailed(shape, seed=SEED):
    """Student-t data: outliers make percentile and MSE clipping differ from min-max."""
    return np.random.default_rng(seed).standard_t(3, size=shape).astype(np.float32)


def groups_of(x, group_size):
    return x.reshape(x.shape[0], -1, group_size)


def test_mse_ratio_grid_is_as_documented():
    assert len(MSE_CLIP_RATIOS) == 41
    assert (MSE_CLIP_RATIOS[0], MSE_CLIP_RATIOS[1], MSE_CLIP_RATIOS[-1]) == (1.0, 0.98, 0.2)


@pytest.mark.parametrize("fmt", ["int4", "float8_e4m3fn"])
def test_minmax_scale_is_amax_over_max_rounded_up(fmt):
    x = heavy_tailed((6, 64))
    spec = QuantSpec(format=fmt, granularity="group", group_size=16, scale_format="float16")
    q = quantize(x, spec)
    amax = np.abs(groups_of(x, 16)).max(axis=-1).astype(np.float64)
    np.testing.assert_array_equal(q.scales, round_up(amax / formats.get(fmt).max, "float16"))


@pytest.mark.parametrize("percentile", [99.0, 90.0, 100.0])
def test_percentile_symmetric(percentile):
    x = heavy_tailed((6, 64))
    spec = QuantSpec(format="int8", granularity="group", group_size=32, calibration="percentile",
                     percentile=percentile)
    q = quantize(x, spec)
    clips = [[np.percentile(np.abs(g).astype(np.float64), percentile) for g in row]
             for row in groups_of(x, 32)]
    expected = round_up(np.array(clips) / 127, "float32")
    assert q.scales.tolist() == expected.tolist(), f"seed {SEED}"
    if percentile < 100:  # the outliers beyond the clip saturate at ±127 (or -128 below)
        clip = np.repeat(q.scales, 32, axis=-1) * 127
        outside = np.abs(x) > clip + np.repeat(q.scales, 32, axis=-1) / 2
        assert outside.any()
        values = formats.get("int8").decode(q.codes)
        assert set(np.abs(values[outside]).tolist()) <= {127.0, 128.0}


def test_percentile_asymmetric():
    x = heavy_tailed((4, 64)) + 1.0
    spec = QuantSpec(format="int4", granularity="channel", symmetric=False,
                     calibration="percentile",
                     percentile=95.0)
    q = quantize(x, spec)
    for row, s, z in zip(x, q.scales[:, 0], q.zero_points[:, 0]):
        lo = min(np.percentile(row.astype(np.float64), 5.0), 0.0)
        hi = max(np.percentile(row.astype(np.float64), 95.0), 0.0)
        expected_s = round_up(np.array([(hi - lo) / 15]), "float32")[0]
        assert s == expected_s and z == np.clip(np.rint(-lo / np.float64(s)), 0, 15)


def reference_mse_scale(group, fmt_name, scale_format):
    """Loop over the ratios for one group: the first scale with the least squared error."""
    fmt = formats.get(fmt_name)
    amax = np.abs(group).max().astype(np.float64)
    best = None
    for ratio in MSE_CLIP_RATIOS:
        s = np.float64(round_up(np.array([ratio * amax / fmt.max]), scale_format)[0])
        x_hat = fmt.decode(fmt.encode(group.astype(np.float64) / s, saturate=True)) * s
        error = float(np.sum((group.astype(np.float64) - x_hat) ** 2))
        if best is None or error < best[0]:
            best = (error, s)
    return best[1]


@pytest.mark.parametrize("fmt", ["int2", "int4", "float4_e2m1fn"])
def test_mse_symmetric_matches_a_per_group_search(fmt):
    x = heavy_tailed((4, 64))
    spec = QuantSpec(format=fmt, granularity="group", group_size=32, scale_format="bfloat16",
                     calibration="mse")
    q = quantize(x, spec)
    expected = [[reference_mse_scale(g, fmt, "bfloat16") for g in row] for row in groups_of(x, 32)]
    assert q.scales.astype(np.float64).tolist() == expected, f"seed {SEED}"


@pytest.mark.parametrize("symmetric", [True, False])
def test_mse_never_worse_than_minmax_and_usually_better(symmetric):
    x = heavy_tailed((32, 128))
    base = dict(granularity="group", group_size=64, symmetric=symmetric)
    errors = {}
    for calibration in ("minmax", "mse"):
        q = quantize(x, QuantSpec(format="int3", calibration=calibration, **base))
        errors[calibration] = np.square(dequantize(q).astype(np.float64) - x).reshape(
            32, 2, 64).sum(axis=-1)
    # float32 rounding of x_hat aside, the per-group error can only go down
    assert (errors["mse"] <= errors["minmax"] * (1 + 1e-6)).all(), f"seed {SEED}"
    assert errors["mse"].sum() < 0.9 * errors["minmax"].sum(), f"seed {SEED}"


def reference_mse_asymmetric(row):
    """Loop over the ratios for one int4 row: (scale, zero point) with the least error."""
    uint4 = formats.get("uint4")
    x = row.astype(np.float64)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    best = None
    for ratio in MSE_CLIP_RATIOS:
        s = np.float64(round_up(np.array([ratio * (hi - lo) / 15]), "float32")[0])
        z = np.clip(np.rint(-ratio * lo / s), 0, 15)
        x_hat = (uint4.decode(uint4.encode(x / s + z, saturate=True)) - z) * s
        error = float(np.sum((x - x_hat) ** 2))
        if best is None or error < best[0]:
            best = (error, s, z)
    return best[1:]


def test_mse_asymmetric_matches_a_per_row_search():
    x = heavy_tailed((3, 64)) + 2.0
    spec = QuantSpec(format="int4", granularity="channel", symmetric=False, calibration="mse")
    q = quantize(x, spec)
    expected = [reference_mse_asymmetric(row) for row in x]
    assert q.scales[:, 0].astype(np.float64).tolist() == [s for s, _ in expected]
    assert q.zero_points[:, 0].tolist() == [z for _, z in expected]


def test_all_zero_groups_get_scale_one_with_every_calibrator():
    x = np.zeros((2, 16), np.float32)
    x[1] = np.linspace(-1, 1, 16)
    for calibration in ("minmax", "percentile", "mse"):
        for symmetric in (True, False):
            q = quantize(x, QuantSpec(format="int4", granularity="channel", symmetric=symmetric,
                                      calibration=calibration))
            assert q.scales[0, 0] == 1.0
            assert (dequantize(q)[0] == 0).all()
