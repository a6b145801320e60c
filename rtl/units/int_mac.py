"""IntMac: an integer multiply-accumulate unit, a_bits x b_bits into an acc_bits register that
wraps or saturates after every addition. Contract: :func:`lowbit.hwsim.units.integer.int_mac`."""
from __future__ import annotations

from dataclasses import dataclass

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lowbit.hwsim.units.integer import check_acc_bits, check_bits, check_flag, check_overflow

# "error" is hwsim's software check that the accumulator can never overflow; hardware has no
# way to raise, so a circuit either wraps or saturates.
HARDWARE_OVERFLOW = ("wrap", "saturate")


@dataclass(frozen=True, kw_only=True)
class IntMacConfig:
    """a_bits, b_bits: operand widths, each signed (two's complement) or not (a_signed,
    b_signed); acc_bits; overflow "wrap" or "saturate" (clamp after every addition). The ranges
    are lowbit.hwsim.units.integer's (operands 1..8 bits, acc_bits 2..64, 2..63 for "saturate"),
    checked by its own validators so the hardware accepts exactly what the oracle does."""
    a_bits: int = 8
    b_bits: int = 8
    a_signed: bool = True
    b_signed: bool = True
    acc_bits: int = 32
    overflow: str = "wrap"

    def __post_init__(self):
        check_bits(self.a_bits, "a_bits")
        check_bits(self.b_bits, "b_bits")
        check_flag(self.a_signed, "a_signed")
        check_flag(self.b_signed, "b_signed")
        acc_bits = check_acc_bits(self.acc_bits)
        if self.overflow not in HARDWARE_OVERFLOW:
            raise ValueError(f"overflow must be one of {HARDWARE_OVERFLOW}, "
                             f"got {self.overflow!r}")
        check_overflow(self.overflow, acc_bits)   # the width limit of "saturate"


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
