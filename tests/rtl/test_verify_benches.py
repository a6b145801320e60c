"""The comparison side of the benches: a corrupted observation is reported with its vector,
input, expected and got (the simulation side is exercised by the test_units_* / test_pe_*
files)."""
import copy

import pytest

from lowbit.hwsim.pe.configs import BitSerialPEConfig
from lowbit.rtl.units.fp8_mac import Fp8MacConfig
from lowbit.rtl.units.fp8_mul import Fp8MulConfig
from lowbit.rtl.units.int_mac import IntMacConfig
from lowbit.rtl.units.xnor_popcount import XnorPopcountConfig
from lowbit.rtl.verify.benches import make_bench


def test_unit_bench_flags_exactly_the_corrupted_vector():
    bench = make_bench("fp8_mul", Fp8MulConfig(), seed=1, vectors=1, limit=300)
    pairs = bench.job["vectors"]
    from lowbit.hwsim.units.fp8 import fp8_mul, fp8_mul_exact
    observed = [[int(fp8_mul_exact(a, b, "float8_e4m3fn", "float8_e4m3fn")),
                 int(fp8_mul(a, b, "float8_e4m3fn", False))] for a, b in pairs]
    assert bench.compare({"outputs": observed}).mismatches == 0
    observed[257][1] ^= 1   # flip the rounded product's LSB of pair (1, 1)
    tally = bench.compare({"outputs": observed})
    assert (tally.vectors, tally.mismatches) == (300, 1)
    (failure,) = tally.failures
    assert failure["vector"] == 257 and failure["input"] == {"a": "0x1", "b": "0x1"}
    assert failure["expected"]["prod"] != failure["got"]["prod"]


def test_pe_bench_flags_a_late_output_and_a_late_transfer():
    config = BitSerialPEConfig(lanes=2, acc_bits=16)
    bench = make_bench("bit_serial_pe", config, seed=7, vectors=50)
    trace = bench.trace
    faithful = {"accepts": list(trace.accepts),
                "outputs": [[c, v & 0xFFFF] for c, v in trace.outputs]}
    assert bench.compare(faithful).mismatches == 0
    late = copy.deepcopy(faithful)
    late["outputs"][10][0] += 1
    late["accepts"][-1] += 1
    tally = bench.compare(late)
    assert tally.vectors == 50 and tally.mismatches == 2
    assert tally.failures[0]["vector"] == 10
    assert tally.failures[0]["expected"]["output"][0] + 1 == tally.failures[0]["got"]["output"][0]


def _int_mac_register(cycles, config):
    """The IntMac port semantics cycle by cycle, straight from lowbit.hwsim.units.integer.int_mac."""
    from lowbit.hwsim.units.integer import decode_int_codes, int_mac
    acc, observed = 0, []
    for a, b, en, clear in cycles:
        if en:
            acc = int_mac(0 if clear else acc, int(decode_int_codes(a, config.a_bits)),
                          int(decode_int_codes(b, config.b_bits)), a_bits=config.a_bits,
                          b_bits=config.b_bits, acc_bits=config.acc_bits,
                          overflow=config.overflow)
        elif clear:
            acc = 0
        observed.append([acc % (1 << config.acc_bits)])
    return observed


def _fp8_mac_register(cycles, config):
    """The Fp8Mac port semantics cycle by cycle, straight from lowbit.hwsim.units.fp8.fp8_mac."""
    import numpy as np
    from lowbit.hwsim.units.fp8 import fp8_mac
    acc, observed = 0, []
    for a, b, en, clear in cycles:
        if en:
            start = np.array([0 if clear else acc], np.uint32).view(np.float32)
            acc = int(fp8_mac(np.array([[a]]), np.array([[b]]), config.fmt_a, config.fmt_b,
                              acc=start)[0])
        elif clear:
            acc = 0
        observed.append([acc])
    return observed


def test_fp8_mac_stimulus_has_idle_and_clear_only_cycles_and_matches_the_register():
    config = Fp8MacConfig(fmt_a="float8_e4m3fn", fmt_b="float8_e5m2")
    bench = make_bench("fp8_mac", config, seed=3, vectors=300)
    cycles = bench.job["vectors"]
    kinds = {(en, clear) for _, _, en, clear in cycles}
    assert kinds == {(1, 1), (1, 0), (0, 0), (0, 1)}
    observed = _fp8_mac_register(cycles, config)
    tally = bench.compare({"outputs": observed})
    assert (tally.vectors, tally.mismatches) == (300, 0)
    idle = next(i for i, (_, _, en, clear) in enumerate(cycles) if not en and not clear)
    observed[idle][0] ^= 1   # an idle cycle that changed the accumulator
    assert bench.compare({"outputs": observed}).mismatches == 1


@pytest.mark.parametrize("design, config, expected_vectors", [
    ("fp8_mul", Fp8MulConfig(), 65536),
    ("int_mac", IntMacConfig(a_bits=4, b_bits=4, acc_bits=8), 16 * 256),
    ("int_mac", IntMacConfig(), 65536),
    ("xnor_popcount", XnorPopcountConfig(n=64), 6 + 500),   # 6 corner pairs
    ("fp8_mac", Fp8MacConfig(), 500),
])
def test_a_simulation_that_observed_nothing_fails_every_vector(design, config,
                                                               expected_vectors):
    tally = make_bench(design, config, seed=5, vectors=500).compare({"outputs": []})
    assert tally.vectors == tally.mismatches == expected_vectors
    assert tally.failures[0]["vector"] == 0


def test_int_mac_stimulus_matches_the_register_cycle_by_cycle():
    config = IntMacConfig(a_bits=4, b_bits=4, acc_bits=8, overflow="saturate")
    bench = make_bench("int_mac", config, seed=11, vectors=1)
    observed = _int_mac_register(bench.job["vectors"], config)
    assert bench.compare({"outputs": observed}).mismatches == 0
    assert bench.compare({"outputs": observed[:-3]}).mismatches == 3


def test_mx_bench_covers_every_pair_and_scale_sum_and_flags_a_flipped_float_bit():
    from lowbit.hwsim.pe.configs import MxMacPEConfig
    config = MxMacPEConfig(lanes=16, fmt="float4_e2m1fn")
    bench = make_bench("mx_mac_pe", config, seed=3, vectors=20)
    beats = bench.job["beats"]
    # every (act, wgt) code pair once in the one-beat dots at unit scales (4-bit lanes)
    pairs = {((act >> 4 * lane) & 15, (wgt >> 4 * lane) & 15)
             for act, wgt, _, _, sa, sb in beats[:16] for lane in range(16)}
    assert len(pairs) == 256 and {(b[4], b[5]) for b in beats[:16]} == {(127, 127)}
    sums = {sa + sb for *_, sa, sb in beats[16:16 + 509]}
    assert sums == set(range(509))
    trace = bench.trace
    faithful = {"accepts": list(trace.accepts), "outputs": [list(out) for out in trace.outputs]}
    assert bench.compare(faithful).mismatches == 0
    assert any(value >= 1 << 31 for _, value in trace.outputs)   # negative floats: unsigned
    flipped = copy.deepcopy(faithful)
    flipped["outputs"][3][1] ^= 1
    tally = bench.compare(flipped)
    assert tally.mismatches == 1 and tally.failures[0]["vector"] == 3
