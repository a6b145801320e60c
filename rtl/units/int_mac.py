"""IntMac: an integer multiply-accumulate unit, a_bits x b_bits into an acc_bits register that
wraps or saturates after every addition. Contract: :func:`hwsim.units.integer.int_mac`."""
from __future__ import annotations

from dataclasses import dataclass

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

OPERAND_BITS = range(1, 9)
ACC_BITS = range(2, 65)
OVERFLOW = ("wrap", "saturate")


@dataclass(frozen=True, kw_only=True)
class IntMacConfig:
    """a_bits, b_bits: operand widths 1..8, each signed (two's complement) or not
    (a_signed, b_signed, as in hwsim.units.integer); acc_bits 2..64; overflow "wrap" or
    "saturate" (clamp after every addition)."""
    a_bits: int = 8
    b_bits: int = 8
    a_signed: bool = True
    b_signed: bool = True
    acc_bits: int = 32
    overflow: str = "wrap"

    def __post_init__(self):
        for name, allowed in (("a_bits", OPERAND_BITS), ("b_bits", OPERAND_BITS),
                              ("acc_bits", ACC_BITS)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
                raise ValueError(f"{name} must be an integer in {allowed.start}.."
                                 f"{allowed.stop - 1}, got {value!r}")
        for name in ("a_signed", "b_signed"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.overflow not in OVERFLOW:
            raise ValueError(f"overflow must be one of {OVERFLOW}, got {self.overflow!r}")


class IntMac(wiring.Component):
    """Integer MAC (one product per cycle, accumulator registered).

    Ports (widths in bits):
      a      In a_bits    operand (two's complement if a_signed)
      b      In b_bits    operand (two's complement if b_signed)
      en     In 1         accumulate a*b at this clock edge
      clear  In 1         start from 0: with en, acc <= 0 + a*b; without, acc <= 0
      acc    Out acc_bits the accumulator, two's complement (reset value 0)
    """

    def __init__(self, *, config: IntMacConfig):
        if not isinstance(config, IntMacConfig):
            raise ValueError(f"config must be an IntMacConfig, got {type(config).__name__}")
        self.config = config
        super().__init__({"a": In(config.a_bits), "b": In(config.b_bits), "en": In(1),
                          "clear": In(1), "acc": Out(config.acc_bits)})

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        a = self.a.as_signed() if cfg.a_signed else self.a
        b = self.b.as_signed() if cfg.b_signed else self.b
        start = Mux(self.clear, 0, self.acc.as_signed())
        exact = Signal(signed(cfg.acc_bits + 18), name="exact")   # |a*b| < 2^16: never wraps
        m.d.comb += exact.eq(start + a * b)
        if cfg.overflow == "saturate":
            lo, hi = -(1 << (cfg.acc_bits - 1)), (1 << (cfg.acc_bits - 1)) - 1
            total = Mux(exact > hi, hi, Mux(exact < lo, lo, exact))
        else:
            total = exact   # truncating to acc_bits wraps modulo 2^acc_bits
        with m.If(self.en):
            m.d.sync += self.acc.eq(total)
        with m.Elif(self.clear):
            m.d.sync += self.acc.eq(0)
        return m
