"""lowbit.hwsim.pe.protocol: its accumulator wrap is the units' one (a single implementation), and the
accept / output cycle formulas of the module docstring."""
from lowbit.hwsim.pe import protocol
from lowbit.hwsim.units import integer


def test_wrap_is_the_units_wrap():
    assert protocol.wrap is integer.wrap
    assert protocol.wrap(1 << 15, 16) == -(1 << 15)


def test_accept_and_output_cycles():
    # occupancies 3, 1, 2 offered at 0, 0, 10: accepts 0, 3, 10; a last beat at 10 (c = 2)
    # makes out_valid rise at 10 + 2 - 1 + LATENCY.
    assert protocol.accept_cycles([3, 1, 2], [0, 0, 10]) == [0, 3, 10]
    assert protocol.accept_cycles([2, 2]) == [0, 2]
    assert protocol.output_cycle(10, 2) == 10 + 2 - 1 + protocol.LATENCY == 12
