"""Kernel tiling as data (lowbit.kernels.weight_only.tile_shape, lowbit.kernels.integer.*_tile_shape,
lowbit.kernels.registry.tile_shape): the tile shapes by hand, the grid each launch computes from them
(launched against a stand-in for CuPy that records the grid, so no GPU is needed) equal to the
grid the .cu file's header states, in that kernel's own rows."""
from __future__ import annotations

import math
import pytest

from lowbit.kernels import integer, registry, weight_only


@pytest.mark.parametrize("m,tile", [(1, (16, 16)), (16, (16, 16)), (17, (32, 16)), (32, (32, 16)),
                                    (33, (64, 16)), (4096, (64, 16))])
def test_weight_only_tile_shape(m, tile):
    assert weight_only.tile_shape(m) == tile


def test_integer_tile_shapes():
    assert integer.int8_tile_shape() == (128, 128)
    assert [integer.a1w1_tile_shape(m) for m in (1, 15, 16, 4096)] == [(8, 8), (8, 8), (128, 128), (128, 128)]
    assert integer.a1w1_tile_shape(1, "mma") == (128, 128) and integer.a1w1_tile_shape(4096, "popc") == (8, 8)
    # 128 plane rows of A = 16 int8 activation rows; 128 plane rows of B = 128 / P weight rows
    assert [integer.bitplane_tile_shape(p) for p in (1, 2, 4)] == [(16, 128), (16, 64), (16, 32)]
    assert [integer.lut_tile_shape(m) for m in (1, 2, 128)] == [(1, 256), (8, 256), (8, 256)]
    with pytest.raises(ValueError, match="bitplane_gemm needs 1, 2 or 4 weight planes"):
        integer.bitplane_tile_shape(3)
    with pytest.raises(ValueError, match="method must be one of"):
        integer.a1w1_tile_shape(1, "xor")


def test_tile_grid_by_hand():
    assert integer.tile_grid((64, 16), 1000, 11008) == (688, 16)     # 11008 / 16, ceil(1000 / 64)
    assert integer.tile_grid((8, 256), 1, 4096) == (16, 1)
    assert integer.tile_grid((128, 128), 129, 1) == (1, 2)


def test_bench_maps_every_kernel_to_its_launch_tiling():
    kernels = registry.KERNELS
    for spec in kernels.values():
        tile = registry.tile_shape(spec, 16)
        assert (tile is None) == spec.peer, spec.name       # peers: tiling unknown
    assert registry.tile_shape(kernels["w4a16_g128"], 1024) == (64, 16)
    assert registry.tile_shape(kernels["w8a8"], 1) == (128, 128)
    assert registry.tile_shape(kernels["a1w1"], 1) == (8, 8)
    assert registry.tile_shape(kernels["bitplane_w4a8"], 1) == (16, 32)   # int4: 4 planes
    assert registry.tile_shape(kernels["lut_w4a8"], 1) == (1, 256)


def _ceil(a, b):
    return -(-a // b)


# (M, N) pairs: GEMV, the boundaries of the M tiles, N not a multiple of any tile
SIZES = [(1, 4096), (15, 100), (16, 11008), (17, 37), (33, 300), (129, 4096), (4096, 11008)]


@pytest.mark.parametrize("m,n", SIZES)
def test_weight_only_launch_grid(launches, m, n):
    k = 256
    w = weight_only.WeightOnlyLinear(fmt="int4", n=n, k=k, group_size=128,
                                     packed=launches.array((n, k // 2), "uint8"),
                                     scales=launches.array((n, k // 128), "float16"), zero_points=None)
    weight_only.linear(launches.array((m, k), "float16"), w)
    (_, name, grid), = launches
    mt = int(name.rsplit("_mt", 1)[1])
    # wq_gemm.cu: grid (ceil(N / (NT*8)), ceil(M / (MT*16))), NT = 2
    assert grid == (_ceil(n, 16), _ceil(m, 16 * mt))
    m_tile, n_tile = weight_only.tile_shape(m)
    assert grid == (math.ceil(n / n_tile), math.ceil(m / m_tile))


@pytest.mark.parametrize("m,n", SIZES)
def test_int8_and_a1w1_launch_grids(launches, m, n):
    k = 128
    integer.int8_gemm(launches.array((m, k), "int8"), launches.array((n, k), "int8"))
    integer.a1w1_gemm(launches.array((m, k // 8), "uint8"), launches.array((n, k // 8), "uint8"), k)
    grids = {name: grid for _, name, grid in launches}
    # int_gemm.cu: grid (ceil(rows_b / 128), ceil(rows_a / 128)); popc: (ceil(N / 8), ceil(M / MB)), MB = 8
    assert grids["int8_gemm"] == (_ceil(n, 128), _ceil(m, 128))
    a1w1 = "a1w1_gemm_popc" if m < 16 else "a1w1_gemm_mma"
    assert grids[a1w1] == ((_ceil(n, 8), _ceil(m, 8)) if m < 16 else (_ceil(n, 128), _ceil(m, 128)))
    for name, tile in (("int8_gemm", integer.int8_tile_shape()), (a1w1, integer.a1w1_tile_shape(m))):
        assert grids[name] == (math.ceil(n / tile[1]), math.ceil(m / tile[0]))


@pytest.mark.parametrize("n_planes", [1, 2, 4])
@pytest.mark.parametrize("m,n", SIZES)
def test_bit_plane_launch_grids(launches, m, n, n_planes):
    k = 128
    fmt = {1: "binary", 2: "int2", 4: "int4"}[n_planes]
    w = integer.BitPlaneWeights(fmt=fmt, n=n, k=k, n_planes=n_planes,
                                planes=launches.array((n * n_planes, k // 32), "uint32"))
    x = launches.array((m, k), "int8")
    integer.bitplane_gemm(x, w)
    integer.lut_gemm(x, w)
    grids = {name: grid for _, name, grid in launches}
    # int_gemm.cu in plane rows: rows_a = 8 M activation planes, rows_b = P N weight planes
    assert grids[f"bitplane_gemm_p{n_planes}"] == (_ceil(n * n_planes, 128), _ceil(8 * m, 128))
    tile = integer.bitplane_tile_shape(n_planes)
    assert grids[f"bitplane_gemm_p{n_planes}"] == (math.ceil(n / tile[1]), math.ceil(m / tile[0]))
    # lut_gemm.cu: grid (ceil(N / 256), ceil(M / LM)), LM in the kernel's name
    lut_name = next(name for name in grids if name.startswith("lut_gemm"))
    lm = int(lut_name.rsplit("_lm", 1)[1])
    assert grids[lut_name] == (_ceil(n, 256), _ceil(m, lm))
    tile = integer.lut_tile_shape(m)
    assert grids[lut_name] == (math.ceil(n / tile[1]), math.ceil(m / tile[0]))
