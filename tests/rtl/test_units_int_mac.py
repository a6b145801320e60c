"""IntMac vs lowbit.hwsim.units.integer.int_mac, every config exhaustively: 4x4 configs take every
operand pair in 16 shuffled passes through the accumulator (wrap and saturate, signed and
unsigned), the 8x8 config all 65,536 pairs once; the accumulator compared after every cycle."""
import pytest

from lowbit.rtl.units.int_mac import IntMac, IntMacConfig

DESIGN = "int_mac"


def test_matches_hwsim_exhaustively(verdict, design_config):
    _, config = design_config
    assert verdict.ok, verdict.report()
    pairs = (1 << config.a_bits) * (1 << config.b_bits)
    assert verdict.vectors == (16 * pairs if pairs <= 256 else pairs)


def test_the_8x8_bench_drives_every_operand_pair():
    from lowbit.rtl.verify.benches import make_bench
    config = IntMacConfig(a_bits=8, b_bits=8, acc_bits=32, overflow="wrap")
    cycles = make_bench(DESIGN, config, seed=0, vectors=10).job["vectors"]
    assert sorted((a, b) for a, b, _, _ in cycles) == [(a, b) for a in range(256)
                                                        for b in range(256)]


def test_ports():
    component = IntMac(config=IntMacConfig(a_bits=3, b_bits=5, acc_bits=12))
    assert (len(component.a), len(component.b), len(component.acc)) == (3, 5, 12)


@pytest.mark.parametrize("kwargs, message", [
    ({"a_bits": 9}, "a_bits must be an integer in 1..8, got 9"),
    ({"acc_bits": 1}, "acc_bits must be an integer in 2..64, got 1"),
    ({"b_signed": "yes"}, "b_signed must be True or False, got 'yes'"),
    ({"overflow": "error"}, "overflow must be one of ('wrap', 'saturate'), got 'error'"),
    ({"acc_bits": 64, "overflow": "saturate"},
     "acc_bits must be an integer in 2..63 for overflow='saturate', got 64"),
    ({"a_signed": 1}, "a_signed must be True or False, got 1"),
])
def test_config_rejects(kwargs, message):
    with pytest.raises(ValueError) as info:
        IntMacConfig(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
@pytest.mark.parametrize("acc_bits", [1, 2, 63, 64, 65])
def test_config_accepts_exactly_what_the_hwsim_oracle_accepts(acc_bits, overflow):
    from lowbit.hwsim.units.integer import int_mac
    try:
        int_mac(0, 1, 1, a_bits=8, b_bits=8, acc_bits=acc_bits, overflow=overflow)
    except ValueError as oracle_refusal:
        with pytest.raises(ValueError) as info:
            IntMacConfig(acc_bits=acc_bits, overflow=overflow)
        assert str(info.value) == str(oracle_refusal)
    else:
        IntMacConfig(acc_bits=acc_bits, overflow=overflow)
