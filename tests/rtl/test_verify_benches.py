"""The comparison side of the benches: a corrupted observation is reported with its vector,
input, expected and got (the simulation side is exercised by the test_units_* / test_pe_*
files)."""
import copy

from hwsim.pe.configs import BitSerialPEConfig
from rtl.units.fp8_mul import Fp8MulConfig
from rtl.verify.benches import make_bench


def test_unit_bench_flags_exactly_the_corrupted_vector():
    bench = make_bench("fp8_mul", Fp8MulConfig(), seed=1, vectors=1, limit=300)
    pairs = bench.job["vectors"]
    from hwsim.units.fp8 import fp8_mul, fp8_mul_exact
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
