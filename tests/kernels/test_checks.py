"""The wrappers' launch-side checks, against the CuPy stand-in of conftest.py (no GPU): device
arrays read with 16-byte vector loads must be 16-byte aligned, grid.y (over M) must stay within
CUDA's limit, ``out`` must not share memory with an input, and row_popcount checks k."""
from __future__ import annotations

import pytest

from lowbit.kernels import integer, weight_only
from lowbit.kernels.integer import MAX_GRID_Y, MAX_K

K, N = 256, 40


def _weights(array, **placed):
    """int4 g128 weights [N, K]; ``placed`` gives an array's address (name -> ptr)."""
    return weight_only.WeightOnlyLinear(
        fmt="int4", n=N, k=K, group_size=128, zero_points=None,
        packed=array((N, K // 2), "uint8", ptr=placed.get("packed")),
        scales=array((N, K // 128), "float16", ptr=placed.get("scales")))


def _planes(array, ptr=None, n_planes=4):
    return integer.BitPlaneWeights(fmt="int4", n=N, k=K, n_planes=n_planes,
                                   planes=array((N * n_planes, K // 32), "uint32", ptr=ptr))


# -- alignment ----------------------------------------------------------------------------------
def _call_with_one_array_at(array, case, ptr):
    """Call the wrapper of ``case`` ("wrapper argument") with that argument at address ``ptr``."""
    calls = {
        "linear x": lambda: weight_only.linear(array((2, K), "float16", ptr=ptr), _weights(array)),
        "linear packed": lambda: weight_only.linear(array((2, K), "float16"), _weights(array, packed=ptr)),
        "int8_gemm a": lambda: integer.int8_gemm(array((2, K), "int8", ptr=ptr), array((N, K), "int8")),
        "int8_gemm b": lambda: integer.int8_gemm(array((2, K), "int8"), array((N, K), "int8", ptr=ptr)),
        "a1w1_gemm a": lambda: integer.a1w1_gemm(array((2, K // 8), "uint8", ptr=ptr),
                                                 array((N, K // 8), "uint8"), K),
        "a1w1_gemm b": lambda: integer.a1w1_gemm(array((2, K // 8), "uint8"),
                                                 array((N, K // 8), "uint8", ptr=ptr), K),
        "row_popcount bits": lambda: integer.row_popcount(array((N, K // 8), "uint8", ptr=ptr), K),
        "bitplane_gemm x": lambda: integer.bitplane_gemm(array((2, K), "int8", ptr=ptr), _planes(array)),
        "lut_gemm x": lambda: integer.lut_gemm(array((2, K), "int8", ptr=ptr), _planes(array)),
        "lut_gemm planes": lambda: integer.lut_gemm(array((2, K), "int8"), _planes(array, ptr)),
    }
    calls[case]()


ALIGNMENT_CASES = ["linear x", "linear packed", "int8_gemm a", "int8_gemm b", "a1w1_gemm a", "a1w1_gemm b",
                   "row_popcount bits", "bitplane_gemm x", "lut_gemm x", "lut_gemm planes"]


@pytest.mark.parametrize("case", ALIGNMENT_CASES)
@pytest.mark.parametrize("offset", [1, 2, 8])
def test_misaligned_device_arrays_are_refused(launches, case, offset):
    name = case.split()[1]
    with pytest.raises(ValueError, match=f"{name} must start at a 16-byte aligned device address"):
        _call_with_one_array_at(launches.array, case, (1 << 40) + offset)
    assert not launches


@pytest.mark.parametrize("case", ALIGNMENT_CASES)
def test_16_byte_aligned_views_are_accepted(launches, case):
    # 16-byte aligned but not 256 (no fresh allocation): a row slice, for example.
    _call_with_one_array_at(launches.array, case, (1 << 40) + 16 * 37)
    assert launches


def test_scales_are_read_one_by_one_and_need_no_vector_alignment(launches):
    # Scales 2 bytes past an aligned address (a row slice of a one-group-per-row scale array,
    # for example): the kernel reads them as single fp16 values, so they are accepted.
    weight_only.linear(launches.array((2, K), "float16"), _weights(launches.array, scales=(1 << 40) + 2))
    assert launches


# -- row_popcount's k ---------------------------------------------------------------------------
@pytest.mark.parametrize("k,message", [(100, "k must be a multiple of 128"), (0, "k must be a positive int"),
                                       (MAX_K + 1, "k must be <= ")])
def test_row_popcount_checks_k_like_a1w1(launches, k, message):
    with pytest.raises(ValueError, match=message):
        integer.row_popcount(launches.array((4, max(k // 8, 1)), "uint8"), k)
    assert not launches


# -- bitplane_gemm's int32 weight plane rows ---------------------------------------------------------
@pytest.mark.parametrize("fmt, n_planes", [("int2", 2), ("int4", 4)])
def test_bitplane_gemm_refuses_plane_rows_past_int32(launches, fmt, n_planes):
    largest_n = integer.INT32_MAX // n_planes

    def weights(n):
        return integer.BitPlaneWeights(fmt=fmt, n=n, k=K, n_planes=n_planes,
                                       planes=launches.array((n * n_planes, K // 32), "uint32"))
    with pytest.raises(ValueError, match=rf"w.n \* n_planes must be <= 2147483647 for bitplane_gemm .*"
                                         rf"got {largest_n + 1} \* {n_planes}"):
        integer.bitplane_gemm(launches.array((2, K), "int8"), weights(largest_n + 1))
    assert not launches
    integer.bitplane_gemm(launches.array((2, K), "int8"), weights(largest_n))
    assert launches


# -- grid.y limit -------------------------------------------------------------------------------
def _launch_at_m(array, case, m):
    """One launch of ``case`` with M activation rows."""
    if case == "linear":      # M > 32: the MT = 4 kernel, 64 rows per block
        weight_only.linear(array((m, K), "float16"), _weights(array))
    elif case == "int8_gemm":
        integer.int8_gemm(array((m, K), "int8"), array((N, K), "int8"))
    elif case in ("a1w1_gemm popc", "a1w1_gemm mma"):
        integer.a1w1_gemm(array((m, K // 8), "uint8"), array((N, K // 8), "uint8"), K,
                          method=case.split()[1])
    elif case == "bitplane_gemm":
        integer.bitplane_gemm(array((m, K), "int8"), _planes(array))
    else:
        integer.lut_gemm(array((m, K), "int8"), _planes(array))


# case -> the largest M its launches allow: MAX_GRID_Y blocks of its M tile. bitplane_gemm's
# activation planes come from int8_bitplanes, one activation row per block along y.
LARGEST_M = {"linear": 64 * MAX_GRID_Y, "int8_gemm": 128 * MAX_GRID_Y, "a1w1_gemm popc": 8 * MAX_GRID_Y,
             "a1w1_gemm mma": 128 * MAX_GRID_Y, "bitplane_gemm": MAX_GRID_Y, "lut_gemm": 8 * MAX_GRID_Y}


@pytest.mark.parametrize("case", list(LARGEST_M))
def test_grid_y_beyond_the_cuda_limit_is_refused(launches, case):
    largest = LARGEST_M[case]
    _launch_at_m(launches.array, case, largest)
    assert max(grid[1] for _, _, grid in launches if len(grid) == 2) == MAX_GRID_Y == 65535
    launches.clear()
    with pytest.raises(ValueError, match=rf"M must be <= {largest} .*CUDA limit is 65535 blocks\), "
                                         rf"got M = {largest + 1}"):
        _launch_at_m(launches.array, case, largest + 1)
    assert not launches


# -- out overlapping an input -------------------------------------------------------------------
def test_linear_refuses_out_sharing_memory_with_x_or_the_weights(launches):
    array = launches.array
    w = _weights(array)
    x = array((2, K), "float16", ptr=1 << 44)    # far from every other stand-in array
    out_bytes = 2 * N * 2
    overlapping = {  # out's address -> the input it overlaps
        x.data.ptr: "x",                             # out inside x (the linear(x, w, out=x) mistake)
        x.data.ptr + x.nbytes - 2: "x",              # out's first element is x's last
        x.data.ptr - out_bytes + 2: "x",             # out's last element is x's first
        w.packed.data.ptr + 16: "w.packed",
        w.scales.data.ptr: "w.scales",
    }
    for ptr, name in overlapping.items():
        with pytest.raises(ValueError, match=f"out must not share memory with {name}"):
            weight_only.linear(x, w, out=array((2, N), "float16", ptr=ptr))
    assert not launches
    for ptr in (x.data.ptr + x.nbytes, x.data.ptr - out_bytes):   # right after x, right before it
        weight_only.linear(x, w, out=array((2, N), "float16", ptr=ptr))
    assert len(launches) == 2


def test_integer_wrappers_refuse_out_sharing_memory_with_an_input(launches):
    array = launches.array
    a, b = array((2, K), "int8"), array((N, K), "int8")
    bits_a, bits_b = array((2, K // 8), "uint8"), array((N, K // 8), "uint8")
    pop_b = array((N,), "int32")
    x, w = array((2, K), "int8"), _planes(array)
    cases = [
        (lambda out: integer.int8_gemm(a, b, out=out), a, "a"),
        (lambda out: integer.int8_gemm(a, b, out=out), b, "b"),
        (lambda out: integer.a1w1_gemm(bits_a, bits_b, K, out=out), bits_b, "b"),
        (lambda out: integer.a1w1_gemm(bits_a, bits_b, K, method="mma", b_popcount=pop_b, out=out), pop_b,
         "b_popcount"),
        (lambda out: integer.bitplane_gemm(x, w, out=out), x, "x"),
        (lambda out: integer.lut_gemm(x, w, out=out), w.planes, "w.planes"),
    ]
    for call, inside, name in cases:
        with pytest.raises(ValueError, match=f"out must not share memory with {name}"):
            call(array((2, N), "int32", ptr=inside.data.ptr))
        call(array((2, N), "int32"))   # a separate output is accepted
    assert {name for _, name, _ in launches} >= {"int8_gemm", "a1w1_gemm_popc", "a1w1_gemm_mma",
                                                 "bitplane_gemm_p4", "lut_gemm_p4_lm8"}
