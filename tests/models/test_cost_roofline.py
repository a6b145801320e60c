import pytest

from models.cost import roofline


def test_predict_by_hand():
    model = roofline.Roofline(bandwidth_bytes_per_s=2e12, peak_ops_per_s={"fp16": 5e14},
                              launch_s=3e-6)
    # GEMV 1 x 4096 x 4096 with 8.5 MB of int4 weights: memory-bound
    weight_bytes = 4096 * 4096 / 2 + 4096 * 32 * 2
    moved = weight_bytes + 4096 * 2 + 4096 * 2
    assert roofline.kernel_bytes("fp16", 1, 4096, 4096, weight_bytes) == moved
    assert model.predict("fp16", 1, 4096, 4096, weight_bytes) == pytest.approx(3e-6 + moved / 2e12)
    # M = 4096: compute-bound, 2 M N K / peak
    big = model.predict("fp16", 4096, 4096, 4096, weight_bytes)
    assert big == pytest.approx(3e-6 + 2 * 4096 ** 3 / 5e14)
    with pytest.raises(ValueError, match="op_class 'int8' has no measured peak"):
        model.predict("int8", 1, 8, 8, 64)
    with pytest.raises(ValueError, match="op_class must be one of fp16, int8"):
        roofline.kernel_bytes("fp4", 1, 8, 8, 64)


def _row(kernel, m, median_us, tops, status="ok", copy_gbps=3000.0):
    return {"kernel": kernel, "status": status, "m": m, "k": 4096, "n": 4096,
            "median_us": median_us, "tops": tops, "weight_bytes": 1e6, "copy_gbps": copy_gbps}


def test_fit_takes_peaks_from_the_peers():
    rows = [_row("cublas_fp16", 4096, 200.0, 600.0), _row("cublas_fp16", 1, 12.0, 2.8),
            _row("torch_int_mm", 4096, 110.0, 1200.0), _row("w4a16_g128", 1, 8.0, 4.2),
            _row("a1w1", 1, 5.0, 0.0, status="error: boom")]
    model = roofline.fit(rows)
    assert model.bandwidth_bytes_per_s == 3000e9
    assert model.peak_ops_per_s == {"fp16": 600e12, "int8": 1200e12}
    # time beyond the roof of each ok row (bytes: weights + activations + outputs at 3 TB/s)
    def roof(m, peak, act_bytes, out_bytes):
        moved = 1e6 + m * 4096 * act_bytes + m * 4096 * out_bytes
        return max(moved / 3000e9, 2 * m * 4096 * 4096 / peak)
    beyond = sorted([200e-6 - roof(4096, 600e12, 2, 2), 12e-6 - roof(1, 600e12, 2, 2),
                     110e-6 - roof(4096, 1200e12, 1, 4), 8e-6 - roof(1, 600e12, 2, 2)])
    assert model.launch_s == pytest.approx((beyond[1] + beyond[2]) / 2)
    assert model.launch_s > 0
    with pytest.raises(ValueError, match="rows hold no 'ok' measurement"):
        roofline.fit([_row("a1w1", 1, 5.0, 0.0, status="skipped")])
