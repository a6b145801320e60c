"""Fp8Mul: one FP8 x FP8 multiplier with two outputs, the exact product as float32 bits and the
product rounded to the same FP8 format (RNE, saturating or not). Combinational.
Contract: :func:`lowbit.hwsim.units.fp8.fp8_mul_exact` and :func:`lowbit.hwsim.units.fp8.fp8_mul`."""

from dataclasses import dataclass

from amaranth import Const, Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lowbit.rtl.units.floats import FP8_FORMATS, LAYOUTS, exact_product, float32_code, round_to_layout


@dataclass(frozen=True, kw_only=True)
class Fp8MulConfig:
    """fmt: float8_e4m3fn or float8_e5m2 (both operands); saturate: the OCP overflow mode of
    the rounded output (True: +-max; False: NaN for E4M3, +-inf for E5M2)."""
    fmt: str = "float8_e4m3fn"
    saturate: bool = False

    def __post_init__(self):
        if self.fmt not in FP8_FORMATS:
            raise ValueError(f"fmt must be one of {FP8_FORMATS}, got {self.fmt!r}")
        if not isinstance(self.saturate, bool):
            raise ValueError(f"saturate must be True or False, got {self.saturate!r}")


def beyond_max(sign, fmt: str, saturate: bool):
    """The code of an overflowing or infinite result (OCP OFP8 overflow rule)."""
    layout = LAYOUTS[fmt]
    if saturate:
        return Mux(sign, (1 << 7) | layout.max_magnitude, layout.max_magnitude)
    if layout.has_inf:   # E5M2
        return Mux(sign, 0x80 | layout.inf_magnitude, layout.inf_magnitude)
    return Const(layout.nan_code, 8)   # E4M3: no inf, overflow is NaN


class Fp8Mul(wiring.Component):
    """FP8 multiplier (combinational).

    Ports (widths in bits):
      a      In 8    operand code in ``fmt``
      b      In 8    operand code in ``fmt``
      exact  Out 32  float32 bits of the exact product a*b (NaN 0x7FC00000)
      prod   Out 8   a*b rounded to ``fmt``: RNE, then the overflow rule of ``saturate``;
                     NaN is the canonical code (0x7F E4M3, 0x7E E5M2)
    """
    a: In(8)
    b: In(8)
    exact: Out(32)
    prod: Out(8)

    def __init__(self, *, config: Fp8MulConfig):
        if not isinstance(config, Fp8MulConfig):
            raise ValueError(f"config must be an Fp8MulConfig, got {type(config).__name__}")
        self.config = config
        super().__init__()

    def elaborate(self, platform):
        fmt, saturate = self.config.fmt, self.config.saturate
        layout = LAYOUTS[fmt]
        m = Module()
        prod = exact_product(m, self.a, self.b, layout, layout, "mul")
        m.d.comb += self.exact.eq(float32_code(m, prod, "exact"))
        code, overflow = round_to_layout(m, sign=prod.sign, sig=prod.sig, exp=prod.exp,
                                         sticky=0, layout=layout, name="rne")
        with m.If(prod.nan):
            m.d.comb += self.prod.eq(layout.nan_code)
        with m.Elif(prod.inf | overflow):
            m.d.comb += self.prod.eq(beyond_max(prod.sign, fmt, saturate))
        with m.Else():
            m.d.comb += self.prod.eq(code)
        return m
