import math

import numpy as np
import pytest

from lowbit.hwsim import pe as hwpe
from lowbit.hwsim import quant
from lowbit.hwsim.pe import kinds, protocol

from lowbit.models.cost import cycles

SEED = 20261123


# preset -> {pe: (native weight format, native activation format)} for every PE it runs on
EXPECTED_MAPPINGS = {
    "fp16": {"fp16_mac": ("float16", "float16")},
    "int4-g128-a16": {"fp16_bit_serial": ("int4", "float16")},
    "int8": {"int_mac": ("int8", "int8"), "bit_serial": ("int8", "int8")},
    "int4-pc": {p: ("int4", "int8") for p in ("int_mac", "lut", "bit_serial")},
    "int4-g128": {p: ("int4", "int8") for p in ("int_mac", "lut", "bit_serial")},
    # asymmetric: uint2 codes 0..3 need a 3-bit two's-complement weight
    "int2-g64": {p: ("int3", "int8") for p in ("int_mac", "lut", "bit_serial")},
    # mx_mac runs per-channel FP8 too (unit block scales, the rescale outside as on fp8_mac)
    "fp8-e4m3": {p: ("float8_e4m3fn", "float8_e4m3fn") for p in ("fp8_mac", "mx_mac")},
    "fp8-e5m2": {p: ("float8_e5m2", "float8_e5m2") for p in ("fp8_mac", "mx_mac")},
    "mxfp8": {p: ("float8_e4m3fn", "float8_e4m3fn") for p in ("fp8_mac", "mx_mac")},
    "mxfp6": {"fp8_mac": ("float8_e4m3fn", "float8_e4m3fn"),   # e2m3 values lie in e4m3
              "mx_mac": ("float6_e2m3fn", "float6_e2m3fn")},
    "mxfp4": {"fp8_mac": ("float8_e4m3fn", "float8_e4m3fn"),   # e2m1 values lie in e4m3
              "mx_mac": ("float4_e2m1fn", "float4_e2m1fn")},
    "log2_4": {"shift_add": ("log2_4", "int8")},
    # ±1 (and 0) are int2 values and log2_3 values (its largest magnitude is 1)
    "binary": {**{p: ("int2", "int8") for p in ("int_mac", "lut", "bit_serial")},
               "shift_add": ("log2_3", "int8")},
    # binary activations are int2 values too; ±1 lie in e4m3 (fp8_mac) and e2m1 (mx_mac), each
    # taking both operands
    "binary-a1": {**{p: ("int2", "int2") for p in ("int_mac", "lut", "bit_serial")},
                  "shift_add": ("log2_3", "int2"), "fp8_mac": ("float8_e4m3fn", "float8_e4m3fn"),
                  "mx_mac": ("float4_e2m1fn", "float4_e2m1fn"), "xnor": ("binary", "binary")},
    "ternary": {**{p: ("int2", "int8") for p in ("int_mac", "lut", "bit_serial")},
                "shift_add": ("log2_3", "int8")},
    # LLM families: weight-only (A16) schemes run on the FP16 bit-serial PE only, their
    # asymmetric codes as uintN (no wider intN); a PTQ method or a KV-cache format leaves the
    # GEMM operand formats as they are.
    **{name: {"fp16_bit_serial": (f"uint{name[1]}", "float16")}
       for name in ("w4a16-g128", "w4a16-g128-gptq", "w4a16-g128-awq", "w3a16-g128",
                    "w3a16-g128-gptq", "w3a16-g128-awq", "w2a16-g64", "w2a16-g64-gptq")},
    **{name: {"int_mac": ("int8", "int8"), "bit_serial": ("int8", "int8")}
       for name in ("w8a8-smoothquant", "w8a8-kv8", "w8a8-kv4")},
    # int4 x int4; int4 values lie in e4m3 as well, and in e3m2 (-8 .. 7 are all e3m2 values)
    **{name: {**{p: ("int4", "int4") for p in ("int_mac", "lut", "bit_serial")},
              "fp8_mac": ("float8_e4m3fn", "float8_e4m3fn"),
              "mx_mac": ("float6_e3m2fn", "float6_e3m2fn")} for name in ("w4a4", "w4a4-rotation")},
}


# shared_lut has lut's native formats: it runs every scheme lut runs, mapped alike
for _pes in EXPECTED_MAPPINGS.values():
    if "lut" in _pes:
        _pes["shared_lut"] = _pes["lut"]


def test_every_preset_is_listed():
    assert set(EXPECTED_MAPPINGS) == set(quant.preset_names())


@pytest.mark.parametrize("name", sorted(EXPECTED_MAPPINGS))
def test_scheme_mapping(name):
    scheme = quant.preset(name)
    for pe in kinds.names():
        expected = EXPECTED_MAPPINGS[name].get(pe)
        if expected is None:
            with pytest.raises(cycles.NotApplicable, match=f"does not run on the {pe} PE"):
                cycles.map_scheme(pe, scheme)
        else:
            mapping = cycles.map_scheme(pe, scheme)
            assert (mapping.weight_format, mapping.act_format) == expected


@pytest.mark.parametrize("pe, name, lanes, occupancy", [
    ("int_mac", "int4-g128", 16, 1),
    ("bit_serial", "int4-g128", 16, 4),   # ceil(4 / 1 bit per cycle)
    ("bit_serial", "int8", 16, 8),
    ("bit_serial", "int2-g64", 4, 3),
    ("lut", "int4-pc", 16, 4),            # one bit-plane a cycle
    ("lut", "ternary", 8, 2),
    ("shift_add", "log2_4", 16, 1),
    ("fp8_mac", "mxfp4", 16, 1),
    ("mx_mac", "mxfp4", 16, 1),           # pipelined: a beat per cycle
    ("shared_lut", "int4-pc", 16, 4),     # lut's bit-planes, every column in parallel
    ("xnor", "binary-a1", 16, 1),
    ("fp16_mac", "fp16", 16, 1),           # a beat without last; the reduction: reduces_lanes
    ("fp16_bit_serial", "w4a16-g128", 16, 4),   # uint4: 4 planes
    ("fp16_bit_serial", "w3a16-g128", 16, 3),
    ("fp16_bit_serial", "int4-g128-a16", 16, 4),
])
def test_occupancy_comes_from_the_hwsim_model(pe, name, lanes, occupancy):
    assert cycles.beat_occupancy(cycles.map_scheme(pe, quant.preset(name)), lanes) == occupancy


def test_dot_length():
    assert cycles.dot_length(quant.preset("int4-g128").weight_spec, 4096) == 128
    assert cycles.dot_length(quant.preset("mxfp8").weight_spec, 4096) == 32
    assert cycles.dot_length(quant.preset("int8").weight_spec, 4096) == 4096
    # mx_mac applies the block scales itself: one dot product over all of K
    assert cycles.dot_length(quant.preset("mxfp8").weight_spec, 4096, "mx_mac") == 4096
    assert cycles.dot_length(quant.preset("mxfp8").weight_spec, 4096, "fp8_mac") == 32
    assert cycles.dot_length(quant.preset("fp8-e4m3").weight_spec, 4096, "mx_mac") == 4096


def test_mx_mac_latency_ends_the_gemm():
    mapping = cycles.map_scheme("mx_mac", quant.preset("mxfp6"))
    assert cycles.pe_latency(mapping, 16) == 3
    # M=1, K=64, N=4 on 2 PEs: 2 rounds of one 4-beat dot product, + 3 cycles of pipeline
    assert cycles.gemm_cycles(1, 64, 4, 64, 16, 2, 1, latency=3) == 2 * 4 + 3


def test_gemm_cycles_by_hand():
    # M=2, K=64, N=3: 6 dot products of 64 -> 4 beats of 16 lanes at 4 cycles each = 16 cycles;
    # 4 PEs take them in ceil(6/4) = 2 rounds: 32 cycles, + 1 output latency.
    assert cycles.gemm_cycles(2, 64, 3, 64, 16, 4, 4) == 33
    # grouped: dot length 16 -> 4 partial dots per output, one beat each at 1 cycle
    assert cycles.gemm_cycles(1, 64, 2, 16, 16, 1, 1) == 8 + 1


def test_gemm_cycles_count_column_blocks_by_hand():
    # M=1, K=128, N=10 on 2 PEs of 16 lanes, 4 cycles a beat: a dot product is 8 beats = 32
    # cycles; one column: 10 dot products in 5 rounds; 4 columns: blocks of columns 0-3, 4-7 and
    # 8-9 (a partial block) in 2 rounds
    assert cycles.gemm_cycles(1, 128, 10, 128, 16, 2, 4) == 5 * 32 + 1
    assert cycles.gemm_cycles(1, 128, 10, 128, 16, 2, 4, columns=4) == 2 * 32 + 1
    assert [cycles.column_blocks(n, 4) for n in (1, 4, 5, 8)] == [1, 1, 2, 2]


def test_fp8_mac_reduction_cycles():
    # fp8_mac runs as independent lanes; ceil(log2(lanes used)) pairwise fp32 levels after each dot
    assert kinds.get(cycles.map_scheme("fp8_mac", quant.preset("mxfp8")).pe).reduces_lanes
    assert not kinds.get(cycles.map_scheme("int_mac", quant.preset("int8")).pe).reduces_lanes
    assert [cycles.reduction_cycles(lanes) for lanes in (1, 2, 8, 16, 12)] == [0, 1, 3, 4, 4]
    # MX block of 32 on 16 lanes: 2 one-cycle beats + 4 reduction cycles per dot; M=1, N=4,
    # K=64 -> 8 dots on 4 PEs = 2 rounds of 6 cycles, + 1 output latency
    assert cycles.gemm_cycles(1, 64, 4, 32, 16, 4, 1, lane_reduction=True) == 2 * 6 + 1
    # on 64 lanes a block of 32 uses 32 of them: one beat + 5 levels, not 6
    assert cycles.gemm_cycles(1, 64, 4, 32, 64, 4, 1, lane_reduction=True) == 2 * 6 + 1


def test_a_group_that_does_not_divide_k_ends_in_a_shorter_dot_product():
    assert cycles.dot_segments(128, 4096) == [(128, 32)]
    assert cycles.dot_segments(128, 147) == [(128, 1), (19, 1)]       # ResNet stem, g128
    assert cycles.dot_segments(32, 147) == [(32, 4), (19, 1)]         # ResNet stem, MX
    assert cycles.dot_segments(128, 64) == [(64, 1)]                  # a group longer than K
    # K=147, g=128, 16 lanes, 1-cycle beats, M=1, N=2 on 1 PE: per output 8 beats + 2 beats
    assert cycles.gemm_cycles(1, 147, 2, 128, 16, 1, 1) == 2 * 8 + 2 * 2 + 1
    # a group longer than K costs what per-channel (dot_len = K) costs
    assert cycles.gemm_cycles(3, 64, 5, 128, 16, 4, 1) == cycles.gemm_cycles(3, 64, 5, 64, 16, 4, 1)
    # fp8 reduction of the short group: 19 elements on 16 lanes use all 16 (4 levels); on 64
    # lanes 19 of them (5 levels) against 6 for the full block of 128
    assert cycles.gemm_cycles(1, 147, 1, 128, 64, 1, 1, lane_reduction=True) == (2 + 6) + (1 + 5) + 1


def _dot_products(K, dot_len):
    """The element ranges (start, stop) of one output row cut into scale groups of ``dot_len``,
    by slicing the row (not by dot_segments): the last group is shorter when dot_len does not
    divide K."""
    return [(start, min(start + dot_len, K)) for start in range(0, K, dot_len)]


def _beats(model, start, stop, lanes, w_bits, rng):
    """One dot product over elements start..stop-1 as beats of ``lanes``; the lanes past stop
    in the last beat carry zero activations (a short last beat)."""
    beats = []
    for first in range(start, stop, lanes):
        used = min(lanes, stop - first)
        act = np.zeros(lanes, dtype=np.int64)
        scaled = getattr(model.config, "block_scales", False)   # mx_mac: codes and scales
        act[:used] = rng.integers(0, 1 << model.config.act_bits, used) if scaled \
            else rng.integers(-128, 128, used)
        scales = {"act_scale": 127, "wgt_scale": 127} if scaled else {}
        wgt = rng.integers(0, 1 << model.config.wgt_bits, protocol.wgt_shape(model.config))
        beats.append(hwpe.Beat(act=act, wgt=wgt.astype(np.uint8), last=first + lanes >= stop,
                               w_bits=w_bits, **scales))
    return beats


def _simulated_gemm_cycles(model, M, K, N, dot_len, lanes, array, w_bits, rng):
    """Cycles until the last output of a GEMM run on ``array`` copies of a hwsim PE model. Every
    output's row is cut into groups of dot_len; the full-length dot products of all outputs are
    dealt round-robin to the PEs first, then the short ones (the cost model's rounds of their
    own), which are offered only once every PE has finished the full-length ones. A PE with
    columns takes the outputs of a block of that many columns in one dot product."""
    groups = _dot_products(K, dot_len)
    phases = [[(start, stop) for start, stop in groups if stop - start == dot_len],
              [(start, stop) for start, stop in groups if stop - start < dot_len]]
    streams = [[[] for _ in range(array)] for _ in phases]   # [phase][pe] -> beats
    for phase, phase_groups in zip(streams, phases):
        blocks = -(-N // protocol.columns(model.config))
        dots = [group for _ in range(M * blocks) for group in phase_groups]
        for i, (start, stop) in enumerate(dots):
            phase[i % array] += _beats(model, start, stop, lanes, w_bits, rng)
    # the cycle the slowest PE can take a beat after its full-length dot products
    barrier = 0
    for beats in streams[0]:
        if beats:
            barrier = max(barrier, model.run(beats).accepts[-1] + model.occupancy(beats[-1]))
    finish = 0
    for full, short in zip(*streams):
        if full or short:
            trace = model.run(full + short, offers=[0] * len(full) + [barrier] * len(short))
            finish = max(finish, trace.outputs[-1][0] + 1)
    return finish


def test_dot_products_by_hand():
    assert _dot_products(27, 27) == [(0, 27)]
    assert _dot_products(27, 10) == [(0, 10), (10, 20), (20, 27)]
    assert _dot_products(8, 16) == [(0, 8)]


@pytest.mark.parametrize("K, dot_len", [
    (24, 24),   # every beat full
    (27, 27),   # a short last beat (27 is not a multiple of the lanes)
    (27, 10),   # groups ending in a short beat, and a partial last group of 7
    (27, 8),    # full-beat groups and a partial last group of 3
])
@pytest.mark.parametrize("pe, name, lanes, array", [
    ("bit_serial", "int4-pc", 4, 3), ("lut", "int2-g64", 8, 2), ("int_mac", "int8", 4, 5),
    ("shift_add", "log2_4", 4, 2), ("mx_mac", "mxfp6", 4, 3),
    ("shared_lut", "int2-g64", 8, 2),
])
def test_gemm_cycles_equal_a_hwsim_pe_run(pe, name, lanes, array, K, dot_len):
    rng = np.random.default_rng(SEED)
    mapping = cycles.map_scheme(pe, quant.preset(name))
    model = cycles.pe_model(mapping, lanes)
    w_bits = mapping.w_bits if model.config.runtime_w_bits else None
    M, N = 2, 5
    expected = _simulated_gemm_cycles(model, M, K, N, dot_len, lanes, array, w_bits, rng)
    occupancy = cycles.beat_occupancy(mapping, lanes)
    latency = cycles.pe_latency(mapping, lanes)
    columns = protocol.columns(model.config)
    assert cycles.gemm_cycles(M, K, N, dot_len, lanes, array, occupancy,
                              latency=latency, columns=columns) == expected, \
        f"seed {SEED}, K {K}, dot_len {dot_len}"


@pytest.mark.parametrize("pe, name, lanes, array, K, dot_len", [
    ("fp16_mac", "fp16", 4, 3, 24, 24), ("fp16_mac", "fp16", 4, 2, 27, 27),
    ("fp16_mac", "fp16", 5, 2, 20, 10), ("fp16_bit_serial", "w4a16-g128", 4, 3, 32, 8),
    ("fp16_bit_serial", "w2a16-g64", 4, 2, 27, 27)])
def test_fp16_gemm_cycles_equal_a_hwsim_pe_run(pe, name, lanes, array, K, dot_len):
    # dot products of at least ``lanes`` elements (the fp16_mac reduction's condition, see
    # lowbit.models.cost.cycles), dealt round-robin to ``array`` PEs, float16 ones as operands
    mapping = cycles.map_scheme(pe, quant.preset(name))
    model = cycles.pe_model(mapping, lanes)
    runtime = model.config.runtime_w_bits
    M, N = 2, 5
    streams = [[] for _ in range(array)]
    for d in range(M * N * (K // dot_len)):
        for first in range(0, dot_len, lanes):
            streams[d % array].append(hwpe.Beat(
                act=np.full(lanes, 0x3C00), wgt=np.zeros(lanes, np.uint16),
                last=first + lanes >= dot_len, w_bits=mapping.w_bits if runtime else None,
                w_format="uint" if runtime else None))
    finish = max(model.run(beats).outputs[-1][0] + 1 for beats in streams if beats)
    occupancy = cycles.beat_occupancy(mapping, lanes)
    assert cycles.gemm_cycles(M, K, N, dot_len, lanes, array, occupancy,
                              kinds.get(pe).reduces_lanes) == finish


def test_bad_pe():
    with pytest.raises(ValueError, match="pe must be one of int_mac, lut"):
        cycles.map_scheme("systolic", quant.preset("int8"))


def test_mx_on_mx_mac_is_one_dot_product_over_k_with_no_rescale_outside():
    from lowbit.models.cost import dataflow, energy
    from lowbit.models.workloads import Gemm
    hardware = dataflow.Hardware(clock_hz=1e8)
    gemm = [Gemm(M=2, K=96, N=3, count=1)]
    scheme = quant.preset("mxfp8")
    on_mx = dataflow.gemm_costs(scheme, cycles.map_scheme("mx_mac", scheme), gemm, 16, 2,
                                hardware)
    # 6 dot products of 96 elements = 6 beats each, 3 rounds on 2 PEs, + latency 3
    assert on_mx["cycles"] == 3 * 6 + 3
    assert on_mx["energy_rescale_j"] == 0.0
    on_fp8 = dataflow.gemm_costs(scheme, cycles.map_scheme("fp8_mac", scheme), gemm, 16, 2,
                                 hardware)
    # fp8_mac: 18 block dot products of 2 beats + 4 reduction cycles, 9 rounds, + 1
    assert on_fp8["cycles"] == 9 * (2 + 4) + 1
    assert on_fp8["energy_rescale_j"] == pytest.approx(18 * energy.rescale_energy("mx"))
