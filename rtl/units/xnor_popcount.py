"""XnorPopcount: the dot product of two n-element ±1 vectors as 2 * popcount(XNOR) - n.
Combinational. Contract: :func:`lowbit.hwsim.units.binary.xnor_dot` (bit 1 = +1, bit 0 = -1)."""
from __future__ import annotations

from dataclasses import dataclass

from amaranth import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lowbit.rtl.pe.common import adder_tree

N_RANGE = range(1, 4097)


@dataclass(frozen=True, kw_only=True)
class XnorPopcountConfig:
    """n: vector length in elements, 1..4096."""
    n: int = 64

    def __post_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n not in N_RANGE:
            raise ValueError(f"n must be an integer in {N_RANGE.start}..{N_RANGE.stop - 1}, "
                             f"got {self.n!r}")


class XnorPopcount(wiring.Component):
    """Binary dot product (combinational).

    Ports (widths in bits):
      a    In n                  ±1 vector, element i at bit i (1 = +1, 0 = -1)
      b    In n                  ±1 vector, same packing
      dot  Out n.bit_length()+1  2 * popcount(~(a ^ b)) - n, two's complement
    """

    def __init__(self, *, config: XnorPopcountConfig):
        if not isinstance(config, XnorPopcountConfig):
            raise ValueError(f"config must be an XnorPopcountConfig, "
                             f"got {type(config).__name__}")
        self.config = config
        n = config.n
        super().__init__({"a": In(n), "b": In(n), "dot": Out(signed(n.bit_length() + 1))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.dot.eq(xnor_dot(self.a, self.b))
        return m


def xnor_dot(a, b):
    """2 * popcount(~(a ^ b)) - n of two n-bit Amaranth values: the XnorPopcount logic as an
    expression, for a design that builds it into its own module (XnorPE: a submodule would leave
    a hierarchy cell in the flattened netlists of lowbit.rtl.synth and lowbit.rtl.timing)."""
    n = len(a)
    same = ~(a ^ b)
    return (adder_tree([same[i] for i in range(n)]) << 1) - n
