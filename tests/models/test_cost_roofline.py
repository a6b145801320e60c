import math

import pytest

from lowbit.models.cost import roofline

# int4 weights of a 4096 x 4096 layer, group 128: codes + fp16 scales
W4_BYTES = 4096 * 4096 // 2 + 4096 * 32 * 2        # 8650752
W8_BYTES = 4096 * 4096                              # 16777216


def _model(l2_bandwidth=8e12, launch_s=3e-6):
    return roofline.Roofline(bandwidth_bytes_per_s=2e12, l2_bandwidth_bytes_per_s=l2_bandwidth,
                             peak_ops_per_s={"fp16": 5e14, "int8": 4e14}, launch_s=launch_s,
                             m_range=(1, 4096), k_range=(4096, 11008), n_range=(4096, 11008))


def test_byte_counts_by_hand():
    # GEMV: 8650752 weight bytes + 4096 fp16 activations + 4096 fp16 outputs
    assert roofline.hbm_bytes("fp16", 1, 4096, 4096, W4_BYTES) == 8667136
    # tile (64, 16) at M = 1024: weights once per M tile (16 of them), activations (8 MiB) once
    # per N tile (256 of them), outputs once: 138412032 + 2147483648 + 8388608
    assert roofline.l2_bytes("fp16", 1024, 4096, 4096, W4_BYTES, (64, 16)) == 2294284288
    # int8 tile (128, 128) at M = 4096: 32 M tiles, 32 N tiles, int32 outputs
    assert roofline.l2_bytes("int8", 4096, 4096, 4096, W8_BYTES, (128, 128)) == 1140850688
    with pytest.raises(ValueError, match="op_class must be one of fp16, int8"):
        roofline.hbm_bytes("fp4", 1, 8, 8, 64)
    with pytest.raises(ValueError, match=r"tile must be \(m_tile, n_tile\), two positive ints, got \(0, 16\)"):
        roofline.l2_bytes("fp16", 1, 8, 8, 64, (0, 16))


def test_hbm_binds_the_gemv():
    # memory 8667136 / 2e12 = 4.333568 us; L2 (16, 16): 8650752 + 2097152 + 8192 = 10756096 B
    # / 8e12 = 1.344512 us; compute 2 * 4096^2 / 5e14 = 0.067 us
    got = _model().predict("fp16", 1, 4096, 4096, W4_BYTES, tile=(16, 16))
    assert got.bound == "memory"
    assert got.seconds == pytest.approx(3e-6 + 4.333568e-6)


def test_l2_binds_activations_reread_per_narrow_n_tile():
    # L2 2294284288 / 8e12 = 286.785536 us; compute 2 * 1024 * 4096^2 / 5e14 = 68.719476736 us;
    # memory (8650752 + 2 * 8388608) / 2e12 = 12.713984 us
    got = _model().predict("fp16", 1024, 4096, 4096, W4_BYTES, tile=(64, 16))
    assert got.bound == "l2"
    assert got.seconds == pytest.approx(3e-6 + 286.785536e-6)
    # No L2 term for a peer (tiling unknown) or for a run without the L2 measurement: compute.
    compute = pytest.approx(3e-6 + 68.719476736e-6)
    peer = _model().predict("fp16", 1024, 4096, 4096, W4_BYTES, tile=None)
    unmeasured = _model(l2_bandwidth=math.nan).predict("fp16", 1024, 4096, 4096, W4_BYTES, tile=(64, 16))
    for got in (peer, unmeasured):
        assert got.bound == "compute" and got.seconds == compute


def test_compute_binds_the_square_int8_gemm():
    # compute 2 * 4096^3 / 4e14 = 343.59738368 us; L2 1140850688 / 8e12 = 142.606336 us;
    # memory (16777216 + 16777216 + 67108864) / 2e12 = 50.331648 us
    got = _model().predict("int8", 4096, 4096, 4096, W8_BYTES, tile=(128, 128))
    assert got.bound == "compute"
    assert got.seconds == pytest.approx(3e-6 + 343.59738368e-6)
    with pytest.raises(ValueError, match="op_class 'fp8' has no measured peak in this run "
                                         r"\(measured: fp16, int8\)"):
        _model().predict("fp8", 1, 4096, 4096, 64)


@pytest.mark.parametrize("shape,message", [
    ((8192, 4096, 4096), r"M=8192 is outside the range of the run this roofline was fitted on "
                         r"\(M in 1\.\.4096\); it does not extrapolate"),
    ((1, 2048, 4096), r"K=2048 is outside .* \(K in 4096\.\.11008\)"),
    ((1, 4096, 16384), r"N=16384 is outside .* \(N in 4096\.\.11008\)"),
])
def test_predict_refuses_shapes_outside_the_run(shape, message):
    with pytest.raises(ValueError, match=message):
        _model().predict("fp16", *shape, W4_BYTES, tile=(16, 16))


def test_constructor_checks():
    with pytest.raises(ValueError, match=r"m_range must be \(low, high\) with 1 <= low <= high, got \(8, 4\)"):
        roofline.Roofline(bandwidth_bytes_per_s=2e12, l2_bandwidth_bytes_per_s=math.nan,
                          peak_ops_per_s={}, launch_s=0.0, m_range=(8, 4), k_range=(1, 1), n_range=(1, 1))
    with pytest.raises(ValueError, match="l2_bandwidth_bytes_per_s must be > 0, or NaN"):
        _model(l2_bandwidth=0.0)
    with pytest.raises(ValueError, match="launch_s must be >= 0"):
        _model(launch_s=-1e-6)


def _row(kernel, m, median_us, tops, status="ok", l2_copy_gbps=9000.0):
    return {"kernel": kernel, "status": status, "m": m, "k": 4096, "n": 4096,
            "median_us": median_us, "tops": tops, "weight_bytes": 1e6, "copy_gbps": 3000.0,
            "l2_copy_gbps": l2_copy_gbps}


def _rows():
    return [_row("cublas_fp16", 4096, 200.0, 600.0), _row("cublas_fp16", 1, 12.0, 2.8),
            _row("torch_int_mm", 4096, 110.0, 1200.0), _row("w4a16_g128", 1, 8.0, 4.2),
            _row("a1w1", 8192, 5.0, 0.0, status="error: boom")]


def test_fit_measures_bandwidths_peaks_and_range_and_fits_the_launch():
    model = roofline.fit(_rows())
    assert model.bandwidth_bytes_per_s == 3000e9 and model.l2_bandwidth_bytes_per_s == 9000e9
    assert model.peak_ops_per_s == {"fp16": 600e12, "int8": 1200e12}
    # ranges of the ok rows only (the error row's M = 8192 is not covered)
    assert (model.m_range, model.k_range, model.n_range) == ((1, 4096), (4096, 4096), (4096, 4096))
    # Time beyond the roof of each ok row. The peers have no L2 term. w4a16_g128 at M = 1 has
    # tile (16, 16): memory (1e6 + 8192 + 8192) / 3e12 = 0.338795 us, L2 (1e6 + 4096 * 2 * 256
    # + 8192) / 9e12 = 0.345038 us: L2 binds.
    def peer_roof(m, peak, act_bytes, out_bytes):
        moved = 1e6 + m * 4096 * act_bytes + m * 4096 * out_bytes
        return max(moved / 3000e9, 2 * m * 4096 * 4096 / peak)
    beyond = sorted([200e-6 - peer_roof(4096, 600e12, 2, 2), 12e-6 - peer_roof(1, 600e12, 2, 2),
                     110e-6 - peer_roof(4096, 1200e12, 1, 4), 8e-6 - 3105344 / 9000e9])
    assert model.launch_s == pytest.approx((beyond[1] + beyond[2]) / 2)
    assert model.launch_s > 0
    assert roofline.predict_row(model, _rows()[3]).bound == "l2"
    with pytest.raises(ValueError, match="rows hold no 'ok' measurement"):
        roofline.fit([_row("a1w1", 1, 5.0, 0.0, status="skipped")])


def test_a_run_without_the_l2_measurement_gets_no_l2_term():
    rows = [{key: value for key, value in row.items() if key != "l2_copy_gbps"} for row in _rows()]
    model = roofline.fit(rows)
    assert math.isnan(model.l2_bandwidth_bytes_per_s)
    w4 = roofline.predict_row(model, rows[3])
    assert w4.bound == "memory"
    assert w4.seconds == pytest.approx(model.launch_s + (1e6 + 8192 + 8192) / 3000e9)


def test_with_fitted_launch_uses_only_the_rows_given():
    rows = _rows()
    base = roofline.measured_roofline(rows)
    assert base.launch_s == 0.0
    # fitted on the w4a16 row alone: its own time beyond its L2 roof
    alone = roofline.with_fitted_launch(base, [rows[3]])
    assert alone.launch_s == pytest.approx(8e-6 - 3105344 / 9000e9)
    assert alone.peak_ops_per_s == base.peak_ops_per_s and alone.m_range == base.m_range
    assert roofline.with_fitted_launch(base, [rows[4]]).launch_s == 0.0   # nothing predictable
