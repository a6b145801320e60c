"""Fp8Mac: FP8 x FP8 products accumulated into a float32 register, RNE after every addition.
Contract: :func:`lowbit.hwsim.units.fp8.fp8_mac` (exact products, float32 RNE per add, subnormals kept,
IEEE specials, canonical NaN 0x7FC00000)."""

from dataclasses import dataclass

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lowbit.rtl.units.floats import FP8_FORMATS, LAYOUTS, exact_product, float32_add, float32_code


@dataclass(frozen=True, kw_only=True)
class Fp8MacConfig:
    """fmt_a, fmt_b: float8_e4m3fn or float8_e5m2 each (mixed allowed)."""
    fmt_a: str = "float8_e4m3fn"
    fmt_b: str = "float8_e4m3fn"

    def __post_init__(self):
        for name in ("fmt_a", "fmt_b"):
            if getattr(self, name) not in FP8_FORMATS:
                raise ValueError(f"{name} must be one of {FP8_FORMATS}, "
                                 f"got {getattr(self, name)!r}")


class Fp8Mac(wiring.Component):
    """FP8 multiply, float32 accumulate (one product per cycle, result registered).

    Ports (widths in bits):
      a      In 8    operand code in ``fmt_a``
      b      In 8    operand code in ``fmt_b``
      en     In 1    accumulate a*b at this clock edge
      clear  In 1    start from +0.0: with en, acc <= +0.0 + a*b; without, acc <= +0.0
      acc    Out 32  float32 bits of the accumulator (reset value +0.0)
    """
    a: In(8)
    b: In(8)
    en: In(1)
    clear: In(1)
    acc: Out(32)

    def __init__(self, *, config: Fp8MacConfig):
        if not isinstance(config, Fp8MacConfig):
            raise ValueError(f"config must be an Fp8MacConfig, got {type(config).__name__}")
        self.config = config
        super().__init__()

    def elaborate(self, platform):
        cfg = self.config
        m = Module()
        prod = exact_product(m, self.a, self.b, LAYOUTS[cfg.fmt_a], LAYOUTS[cfg.fmt_b], "mul")
        product = float32_code(m, prod, "product")
        addend = Signal(32, name="addend")
        m.d.comb += addend.eq(Mux(self.clear, 0, self.acc))
        total = float32_add(m, addend, product, "add")
        with m.If(self.en):
            m.d.sync += self.acc.eq(total)
        with m.Elif(self.clear):
            m.d.sync += self.acc.eq(0)
        return m
