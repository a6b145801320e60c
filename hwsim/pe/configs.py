"""One frozen, keyword-only config dataclass per processing element.

The same object builds the hwsim model, the Amaranth component, the cocotb testbench and the cost
entry, so every field is validated here, once, with an exact message naming the field and the
allowed values. ``wgt_bits`` is the width of one lane of the ``in_wgt`` port (see
:mod:`lowbit.hwsim.pe.protocol`); ``runtime_w_bits`` says whether the PE has the ``in_wbits`` port.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowbit.hwsim import formats
from lowbit.hwsim.formats.floats import FP8_FORMATS

LANES = range(1, 257)
ACT_BITS = range(2, 9)        # activations are signed integers (protocol); int1 is no use here
ACC_BITS = range(2, 65)       # the models' int64 arithmetic wraps exactly up to 64 bits
INT_W_BITS = range(1, 9)
LUT_W_BITS = range(1, 5)      # in_wbits is 4 bits wide; a LUT PE holds at most 4 bit-planes
BITS_PER_CYCLE = (1, 2)
GROUP_SIZES = range(2, 9)     # 2^g table entries per group; g = 1 is no table at all
LUT_TABLES = ("full", "symmetric")
LOG_FORMATS = ("log2_3", "log2_4", "log2_5")   # ShiftAddPE's: the base-2 log formats only
LUT_COLUMNS = range(1, 65)    # output columns sharing one SharedLutPE's tables


def _check_range(name: str, value, allowed: range) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ValueError(f"{name} must be an integer in {allowed.start}..{allowed.stop - 1}, "
                         f"got {value!r}")


def _check_choice(name: str, value, allowed: tuple) -> None:
    if isinstance(value, bool) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _check_common(config) -> None:
    _check_range("lanes", config.lanes, LANES)
    _check_range("act_bits", config.act_bits, ACT_BITS)
    _check_range("acc_bits", config.acc_bits, ACC_BITS)


@dataclass(frozen=True, kw_only=True)
class IntMacPEConfig:
    """Bit-parallel integer MAC: ``lanes`` multipliers of act_bits x w_bits and an adder tree.
    ``signed`` selects the weight format: intN (two's complement) or uintN."""
    runtime_w_bits: ClassVar[bool] = False   # has the in_wbits port
    lanes: int = 16
    act_bits: int = 8
    w_bits: int = 8
    acc_bits: int = 32
    signed: bool = True

    def __post_init__(self):
        _check_common(self)
        _check_range("w_bits", self.w_bits, INT_W_BITS)
        if not isinstance(self.signed, bool):
            raise ValueError(f"signed must be True or False, got {self.signed!r}")

    @property
    def wgt_bits(self) -> int:
        return self.w_bits


@dataclass(frozen=True, kw_only=True)
class ShiftAddPEConfig:
    """Power-of-two weights: each lane shifts its activation and conditionally negates it.

    log2-only (``weight_format`` in ``LOG_FORMATS``): the unit :mod:`lowbit.hwsim.units.log` also has
    ``logsqrt2_4``, whose odd powers of √2 need a constant shift-add multiplier (act * 181) per
    lane that this PE, its RTL and its cost entry do not have."""
    runtime_w_bits: ClassVar[bool] = False   # has the in_wbits port
    lanes: int = 16
    act_bits: int = 8
    weight_format: str = "log2_4"
    acc_bits: int = 32

    def __post_init__(self):
        _check_common(self)
        if self.weight_format not in LOG_FORMATS:
            raise ValueError(f"weight_format must be one of {LOG_FORMATS} (ShiftAddPE is "
                             f"log2-only: logsqrt2_4 needs a √2 multiplier per lane), "
                             f"got {self.weight_format!r}")

    @property
    def wgt_bits(self) -> int:
        return int(self.weight_format.removeprefix("log2_"))


@dataclass(frozen=True, kw_only=True)
class BitSerialPEConfig:
    """Bit-serial weights: ``bits_per_cycle`` weight bits of every lane per cycle, LSB first,
    precision chosen per beat (1 .. max_weight_bits)."""
    runtime_w_bits: ClassVar[bool] = True   # has the in_wbits port
    lanes: int = 16
    act_bits: int = 8
    max_weight_bits: int = 8
    bits_per_cycle: int = 1
    acc_bits: int = 32

    def __post_init__(self):
        _check_common(self)
        _check_range("max_weight_bits", self.max_weight_bits, INT_W_BITS)
        _check_choice("bits_per_cycle", self.bits_per_cycle, BITS_PER_CYCLE)

    @property
    def wgt_bits(self) -> int:
        return self.max_weight_bits


@dataclass(frozen=True, kw_only=True)
class LutPEConfig:
    """Table lookup: each group of ``group_size`` lanes builds a table of partial sums of its
    activations ("full": 2^g entries, "symmetric": 2^(g-1)); one weight bit-plane per cycle
    indexes it; precision chosen per beat (1 .. max_weight_bits)."""
    runtime_w_bits: ClassVar[bool] = True   # has the in_wbits port
    lanes: int = 16
    group_size: int = 4
    act_bits: int = 8
    max_weight_bits: int = 4
    acc_bits: int = 32
    table: str = "full"

    def __post_init__(self):
        _check_common(self)
        _check_range("group_size", self.group_size, GROUP_SIZES)
        if self.lanes % self.group_size:
            raise ValueError(f"lanes must be a multiple of group_size={self.group_size}, "
                             f"got {self.lanes}")
        _check_range("max_weight_bits", self.max_weight_bits, LUT_W_BITS)
        _check_choice("table", self.table, LUT_TABLES)

    @property
    def wgt_bits(self) -> int:
        return self.max_weight_bits


@dataclass(frozen=True, kw_only=True)
class SharedLutPEConfig(LutPEConfig):
    """Table lookup shared by ``columns`` output columns (T-MAC, LUT Tensor Core): the tables of
    a LutPEConfig are built once per beat from the beat's activations, and each column indexes
    them with its own weight bit-plane (one plane a cycle), so a beat computes ``columns`` dot
    products over the same activations. in_wgt carries columns x lanes codes (column c, lane i
    at field c * lanes + i), out_data columns accumulators (column c at bits
    [c * acc_bits, (c + 1) * acc_bits))."""
    columns: int = 4

    def __post_init__(self):
        super().__post_init__()
        _check_range("columns", self.columns, LUT_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class XnorPEConfig:
    """Binary x binary: ``lanes`` XNOR gates and a popcount per beat, activations and weights
    both ``binary`` codes (lowbit.hwsim.formats: 0 is +1, 1 is -1), the dot product
    2 * popcount(XNOR) - lanes added to an acc_bits accumulator."""
    runtime_w_bits: ClassVar[bool] = False   # has the in_wbits port
    act_bits: ClassVar[int] = 1     # in_act lanes carry binary codes, like the weights
    wgt_bits: ClassVar[int] = 1
    lanes: int = 16
    acc_bits: int = 32

    def __post_init__(self):
        _check_range("lanes", self.lanes, LANES)
        _check_range("acc_bits", self.acc_bits, ACC_BITS)


@dataclass(frozen=True, kw_only=True)
class Fp8MacPEConfig:
    """FP8 baseline: ``lanes`` exact FP8 x FP8 multipliers (activations and weights both in
    ``fmt``) feeding one float32 adder used lanes times per beat, lane 0 first."""
    runtime_w_bits: ClassVar[bool] = False   # has the in_wbits port
    act_bits: ClassVar[int] = 8     # in_act lanes carry FP8 codes
    wgt_bits: ClassVar[int] = 8
    acc_bits: ClassVar[int] = 32    # out_data carries the float32 accumulator's bit pattern
    lanes: int = 16
    fmt: str = "float8_e4m3fn"

    def __post_init__(self):
        _check_range("lanes", self.lanes, LANES)
        _check_choice("fmt", self.fmt, FP8_FORMATS)


# MxMacPE's element formats (OCP MX v1.0 MXFP8/6/4), narrowest first; its lanes divide the block.
MX_FORMATS = ("float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e4m3fn", "float8_e5m2")
MX_BLOCK = 32
MX_LANES = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True, kw_only=True)
class MxMacPEConfig:
    """Native MX: ``lanes`` exact element multipliers (activations and weights both in ``fmt``)
    feeding a fixed-point adder tree; a block of 32 elements spans 32 / lanes beats, is scaled
    by its two E8M0 exponents, converted to float32 once and added to the float32 accumulator
    (lowbit.hwsim.pe.mx_mac states the arithmetic). in_act / in_wgt lanes are ``fmt``'s width."""
    runtime_w_bits: ClassVar[bool] = False   # has the in_wbits port
    block_scales: ClassVar[bool] = True      # has the in_act_scale / in_wgt_scale ports
    scale_bits: ClassVar[int] = 8            # E8M0 codes
    acc_bits: ClassVar[int] = 32             # out_data carries the float32 accumulator's bits
    block: ClassVar[int] = MX_BLOCK
    lanes: int = 16
    fmt: str = "float8_e4m3fn"

    def __post_init__(self):
        _check_choice("lanes", self.lanes, MX_LANES)
        _check_choice("fmt", self.fmt, MX_FORMATS)

    @property
    def act_bits(self) -> int:
        return formats.get(self.fmt).bits

    @property
    def wgt_bits(self) -> int:
        return formats.get(self.fmt).bits

    @property
    def beats_per_block(self) -> int:
        return MX_BLOCK // self.lanes
FP16_BIT_SERIAL_FIXED_BITS = range(48, 65)   # one fp16 x int8 product needs 48 bits; wraps beyond


@dataclass(frozen=True, kw_only=True)
class Fp16MacPEConfig:
    """FP16 baseline (W16A16): ``lanes`` exact fp16 x fp16 multipliers, each adding into its own
    float32 lane accumulator every beat; after a dot product's last beat the lane adders reduce
    the lane sums pairwise (lowbit.hwsim.units.fp16)."""
    runtime_w_bits: ClassVar[bool] = False   # has the in_wbits port
    act_bits: ClassVar[int] = 16    # in_act lanes carry float16 codes
    wgt_bits: ClassVar[int] = 16    # in_wgt lanes carry float16 codes
    acc_bits: ClassVar[int] = 32    # out_data carries the float32 result's bit pattern
    lanes: int = 16

    def __post_init__(self):
        _check_range("lanes", self.lanes, LANES)


@dataclass(frozen=True, kw_only=True)
class Fp16BitSerialPEConfig:
    """FP16 activations x low-bit weights (W4A16 & co.): one weight bit-plane per cycle, LSB
    first, precision (1 .. max_weight_bits) and weight format (intN, uintN, FP4/FP6) chosen per
    beat; activations aligned to an exact ``fixed_bits``-bit fixed-point accumulator (units of
    2^-28) that is rounded once to float32 per dot product (lowbit.hwsim.units.fp16)."""
    runtime_w_bits: ClassVar[bool] = True    # has the in_wbits port
    runtime_w_format: ClassVar[bool] = True  # has the in_wfmt port
    act_bits: ClassVar[int] = 16    # in_act lanes carry float16 codes
    acc_bits: ClassVar[int] = 32    # out_data carries the float32 result's bit pattern
    lanes: int = 16
    max_weight_bits: int = 8
    fixed_bits: int = 64

    def __post_init__(self):
        _check_range("lanes", self.lanes, LANES)
        _check_range("max_weight_bits", self.max_weight_bits, INT_W_BITS)
        _check_range("fixed_bits", self.fixed_bits, FP16_BIT_SERIAL_FIXED_BITS)

    @property
    def wgt_bits(self) -> int:
        return self.max_weight_bits
