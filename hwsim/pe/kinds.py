"""One registry row per processing-element kind: everything the other layers need to know about it.

    from lowbit.hwsim.pe import kinds
    kinds.names()                        # ("int_mac", "lut", ..., "fp16_mac", "fp16_bit_serial")
    row = kinds.get("lut")               # ValueError naming the known kinds
    model = row.model(row.build_config(lanes=16, weight_format="int4", act_format="int8"))

The cost model (lowbit.models.cost: cycles, energy, area, dataflow), the evaluator
(lowbit.models.evaluator: its PE vocabulary and applicability) and the RTL verify benches
(lowbit.rtl.verify.benches: the golden model of a PE config) read ``KINDS``;
tests/test_pe_registry.py walks it and checks that every layer covers every row (hwsim model,
cost rules, a synthesized RTL design, a verify bench), naming what is missing. Adding a PE kind = its hwsim model and config, its Amaranth
design, and one row here.

A row's fields:
  name           the kind's name in sweeps and reports
  config         its frozen config class (lowbit.hwsim.pe.configs)
  model          its cycle-level hwsim model class (the golden model)
  native_weights weight formats the PE consumes, narrowest first; a scheme's weights are re-encoded
                 losslessly to the narrowest one holding all their values
  native_acts    activation formats likewise; None: the weight's native format (one format for
                 both operands, as the FP8 PE has); an IEEE name (float16) matches only itself
  build_config   (lanes, weight_format, act_format) -> the config the cost model costs
  rtl_design     the lowbit.rtl.registry design that implements it (or one lane of it, below)
  rtl_per_lane   True when rtl_design is one lane's unit and the PE is ``lanes`` copies of it
                 (fp8_mac: no PE design; lowbit.models.cost.area composes it); default False
  rtl_config     config -> the rtl_design config fields its area is looked up with (default:
                 every field of the PE config, which is the PE design's own config)
  reduces_lanes  whether each dot product ends in a pairwise reduction of lane sums
                 (lowbit.models.cost.cycles states the fp8_mac timing); default False
  block_scales   whether the PE applies MX block scales itself (mx_mac): an MX scheme's dot
                 product then runs over all of K inside the PE, with no rescale outside it
                 (lowbit.models.cost.cycles.dot_length); default False
  mac_energy     (ops, config, w_bits) -> joules of one multiply-accumulate, ``ops`` being
                 lowbit.models.cost.energy (its priced operations), ``w_bits`` the width of the
                 weight format used; the rule states which operations one MAC costs on this PE
                 (the formulas are spelled out in lowbit.models.cost.energy)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from lowbit.hwsim import formats
from lowbit.hwsim.pe.bit_serial import BitSerialPE
from lowbit.hwsim.pe.configs import (FP8_FORMATS, LOG_FORMATS, MX_BLOCK, MX_FORMATS,
                                     BitSerialPEConfig, Fp8MacPEConfig, Fp16BitSerialPEConfig,
                                     Fp16MacPEConfig, IntMacPEConfig, LutPEConfig, MxMacPEConfig,
                                     SharedLutPEConfig, ShiftAddPEConfig, XnorPEConfig)
from lowbit.hwsim.pe.fp8_mac import Fp8MacPE
from lowbit.hwsim.pe.fp16_bit_serial import Fp16BitSerialPE
from lowbit.hwsim.pe.fp16_mac import Fp16MacPE
from lowbit.hwsim.pe.int_mac import IntMacPE
from lowbit.hwsim.pe.lut import LutPE, SharedLutPE
from lowbit.hwsim.pe.mx_mac import MxMacPE, block_sum_bits, product_bits
from lowbit.hwsim.pe.shift_add import ShiftAddPE
from lowbit.hwsim.pe.xnor import XnorPE
from lowbit.hwsim.units.fp16 import LANE_BITS

ACC_BITS = 32                 # integer accumulator width of every integer PE the cost model builds
LUT_GROUP = 4                 # T-MAC activation group size g of the LUT PE
LUT_MAX_WEIGHT_BITS = 4
SHARED_LUT_COLUMNS = 4        # output columns sharing one shared_lut PE's tables
BIT_SERIAL_MAX_WEIGHT_BITS = 8
BIT_SERIAL_BITS_PER_CYCLE = 1

INT_FORMATS = tuple(f"int{bits}" for bits in range(1, 9))
# int and uint of each width, narrowest first: the FP16 bit-serial PE takes both at run time
# (asymmetric W4A16 codes are uint4: 4 planes, not int5's 5)
INT_UINT_FORMATS = tuple(f"{kind}{bits}" for bits in range(1, 9) for kind in ("int", "uint"))


@dataclass(frozen=True, kw_only=True)
class PEKind:
    """One PE kind (the module docstring describes each field)."""
    name: str
    config: type
    model: type
    native_weights: tuple[str, ...]
    native_acts: tuple[str, ...] | None
    build_config: Callable[..., object]
    rtl_design: str
    mac_energy: Callable[..., float]
    rtl_per_lane: bool = False
    rtl_config: Callable[[object], dict] = dataclasses.asdict
    reduces_lanes: bool = False
    block_scales: bool = False


def _bits(name: str) -> int:
    return formats.get(name).bits


# -- MAC-energy rules: which priced operations (lowbit.models.cost.energy) one MAC costs ---------

def _int_mac_energy(ops, config, w_bits: int) -> float:
    # one act_bits x w_bits multiply + one acc_bits add
    return ops.int_mult(config.act_bits, w_bits) + ops.int_add(config.acc_bits)


def _bit_serial_energy(ops, config, w_bits: int) -> float:
    # ceil(w_bits / bits_per_cycle) cycles, each an act_bits x bits_per_cycle partial product + add
    cycles = -(-w_bits // config.bits_per_cycle)
    return cycles * (ops.int_mult(config.act_bits, config.bits_per_cycle)
                     + ops.int_add(config.acc_bits))


def _lut_energy(ops, config, w_bits: int) -> float:
    # T-MAC: per group of g activations a table of 2^g sums built with 2^g - g - 1 adds of
    # act_bits + g bits, shared by the g lanes; then per weight bit-plane one acc_bits add
    g = config.group_size
    table_adds = (1 << g) - g - 1
    return (table_adds * ops.int_add(config.act_bits + g) + w_bits * ops.int_add(config.acc_bits)) / g


def _shared_lut_energy(ops, config, w_bits: int) -> float:
    # the lut rule with each table shared by the PE's columns: per group of g activations the
    # 2^g - g - 1 table adds are made once for all ``columns`` columns (once per group per column
    # block), the w_bits acc_bits lookup adds once per column
    g = config.group_size
    table_adds = (1 << g) - g - 1
    return (table_adds * ops.int_add(config.act_bits + g) / config.columns
            + w_bits * ops.int_add(config.acc_bits)) / g


def _xnor_energy(ops, config, w_bits: int) -> float:
    # per beat of ``lanes`` MACs: lanes XNOR gates (each priced as a 1-bit add: an XNOR is the
    # sum half of a full adder, so this is an upper bound), the popcount adder tree (level l adds
    # l-bit operands: ceil(lanes / 2^l) adds of l bits), the 2 * popcount - lanes correction
    # (one add of the dot product's width) and one acc_bits add
    lanes, level, width, tree = config.lanes, 1, 1, 0.0
    while width < lanes:
        tree += -(-lanes // (2 * width)) * ops.int_add(level)
        level, width = level + 1, width * 2
    correction = ops.int_add(lanes.bit_length() + 1)
    return (lanes * ops.int_add(1) + tree + correction + ops.int_add(config.acc_bits)) / lanes


def _shift_add_energy(ops, config, w_bits: int) -> float:
    # the shifter counted as one adder of the shifted width (a log-depth mux tree has about an
    # adder's cells; an assumption): the activation shifted left by up to (fmax - 1) places
    # (lowbit.hwsim.units.log), + one acc_bits add
    shift_bits = config.act_bits + (1 << (w_bits - 1)) - 2
    return ops.int_add(shift_bits) + ops.int_add(config.acc_bits)


def _fp8_mac_energy(ops, config, w_bits: int) -> float:
    # one float multiply of the format's significand (mantissa + hidden bit) + one fp32 add
    return ops.fp_mult(formats.get(config.fmt).mbits + 1) + ops.fp32_add()


def _wide_add(ops, bits: int) -> float:
    """A ``bits``-wide integer add as a carry chain of 32-bit slices (the adder rule is linear
    in width; the table stops at 32 bits)."""
    slices, rest = divmod(bits, 32)
    return slices * ops.int_add(32) + (ops.int_add(rest) if rest else 0.0)


def _mx_mac_energy(ops, config, w_bits: int) -> float:
    # per element: one significand multiply (mantissa + hidden bit, both operands), the
    # alignment shifter counted as one adder of the product width (as shift_add's), one
    # adder-tree add of the block-sum width (the tree's 31 adders per 32 products, each at most
    # that wide); per block of 32: the 9-bit scale-exponent add, the conversion counted as one
    # block-sum-wide add (leading-one shifter and rounding incrementer) and one fp32 add
    fmt = formats.get(config.fmt)
    per_element = (ops.int_mult(fmt.mbits + 1, fmt.mbits + 1)
                   + _wide_add(ops, product_bits(config.fmt))
                   + _wide_add(ops, block_sum_bits(config.fmt)))
    per_block = ops.int_add(9) + _wide_add(ops, block_sum_bits(config.fmt)) + ops.fp32_add()
    return per_element + per_block / MX_BLOCK


FP16_SIGNIFICAND_BITS = 11


def _fp16_mac_energy(ops, config, w_bits: int) -> float:
    # one fp16 multiply (Horowitz's 16-bit float multiply) + one fp32 add into the lane sum
    return ops.fp_mult(FP16_SIGNIFICAND_BITS) + ops.fp32_add()


def _fp16_bit_serial_energy(ops, config, w_bits: int) -> float:
    # per MAC: the activation's alignment shifter to fixed point, counted as one adder of the
    # aligned lane width (as shift_add counts its shifter), once per beat; then per weight bit
    # one add of the aligned activation in the plane's adder tree and the lane's share of the
    # fixed_bits accumulator add
    align = _wide_add(ops, LANE_BITS)
    per_bit = _wide_add(ops, LANE_BITS) + _wide_add(ops, config.fixed_bits) / config.lanes
    return align + w_bits * per_bit


KINDS: dict[str, PEKind] = {row.name: row for row in (
    PEKind(name="int_mac", config=IntMacPEConfig, model=IntMacPE,
           native_weights=INT_FORMATS, native_acts=INT_FORMATS,
           build_config=lambda lanes, weight_format, act_format: IntMacPEConfig(
               lanes=lanes, act_bits=_bits(act_format), w_bits=_bits(weight_format),
               acc_bits=ACC_BITS),
           rtl_design="int_mac_pe", mac_energy=_int_mac_energy),
    PEKind(name="lut", config=LutPEConfig, model=LutPE,
           native_weights=INT_FORMATS[:LUT_MAX_WEIGHT_BITS], native_acts=INT_FORMATS,
           build_config=lambda lanes, weight_format, act_format: LutPEConfig(
               lanes=lanes, group_size=LUT_GROUP, act_bits=_bits(act_format),
               max_weight_bits=LUT_MAX_WEIGHT_BITS, acc_bits=ACC_BITS),
           rtl_design="lut_pe", mac_energy=_lut_energy),
    PEKind(name="shift_add", config=ShiftAddPEConfig, model=ShiftAddPE,
           native_weights=LOG_FORMATS, native_acts=INT_FORMATS,
           build_config=lambda lanes, weight_format, act_format: ShiftAddPEConfig(
               lanes=lanes, act_bits=_bits(act_format), weight_format=weight_format,
               acc_bits=ACC_BITS),
           rtl_design="shift_add_pe", mac_energy=_shift_add_energy),
    PEKind(name="bit_serial", config=BitSerialPEConfig, model=BitSerialPE,
           native_weights=INT_FORMATS, native_acts=INT_FORMATS,
           build_config=lambda lanes, weight_format, act_format: BitSerialPEConfig(
               lanes=lanes, act_bits=_bits(act_format),
               max_weight_bits=BIT_SERIAL_MAX_WEIGHT_BITS,
               bits_per_cycle=BIT_SERIAL_BITS_PER_CYCLE, acc_bits=ACC_BITS),
           rtl_design="bit_serial_pe", mac_energy=_bit_serial_energy),
    PEKind(name="fp8_mac", config=Fp8MacPEConfig, model=Fp8MacPE,
           native_weights=FP8_FORMATS, native_acts=None,
           build_config=lambda lanes, weight_format, act_format: Fp8MacPEConfig(
               lanes=lanes, fmt=weight_format),
           rtl_design="fp8_mac", rtl_per_lane=True,
           rtl_config=lambda config: {"fmt_a": config.fmt, "fmt_b": config.fmt},
           reduces_lanes=True, mac_energy=_fp8_mac_energy),
    PEKind(name="mx_mac", config=MxMacPEConfig, model=MxMacPE,
           native_weights=MX_FORMATS, native_acts=None,
           build_config=lambda lanes, weight_format, act_format: MxMacPEConfig(
               lanes=lanes, fmt=weight_format),
           rtl_design="mx_mac_pe", block_scales=True, mac_energy=_mx_mac_energy),
    PEKind(name="shared_lut", config=SharedLutPEConfig, model=SharedLutPE,
           native_weights=INT_FORMATS[:LUT_MAX_WEIGHT_BITS], native_acts=INT_FORMATS,
           build_config=lambda lanes, weight_format, act_format: SharedLutPEConfig(
               lanes=lanes, columns=SHARED_LUT_COLUMNS, group_size=LUT_GROUP,
               act_bits=_bits(act_format), max_weight_bits=LUT_MAX_WEIGHT_BITS, acc_bits=ACC_BITS),
           rtl_design="shared_lut_pe", mac_energy=_shared_lut_energy),
    PEKind(name="xnor", config=XnorPEConfig, model=XnorPE,
           native_weights=("binary",), native_acts=("binary",),
           build_config=lambda lanes, weight_format, act_format: XnorPEConfig(
               lanes=lanes, acc_bits=ACC_BITS),
           rtl_design="xnor_pe", mac_energy=_xnor_energy),
    # FP16 PEs (issue 18): the W16A16 baseline and the W4A16/W3A16/W2A16 bit-serial PE
    PEKind(name="fp16_mac", config=Fp16MacPEConfig, model=Fp16MacPE,
           native_weights=("float16",), native_acts=("float16",),
           build_config=lambda lanes, weight_format, act_format: Fp16MacPEConfig(lanes=lanes),
           rtl_design="fp16_mac_pe", reduces_lanes=True, mac_energy=_fp16_mac_energy),
    PEKind(name="fp16_bit_serial", config=Fp16BitSerialPEConfig, model=Fp16BitSerialPE,
           native_weights=INT_UINT_FORMATS, native_acts=("float16",),
           build_config=lambda lanes, weight_format, act_format: Fp16BitSerialPEConfig(
               lanes=lanes, max_weight_bits=BIT_SERIAL_MAX_WEIGHT_BITS),
           rtl_design="fp16_bit_serial_pe", mac_energy=_fp16_bit_serial_energy),
)}


def names() -> tuple[str, ...]:
    """Every PE kind, in registry order."""
    return tuple(KINDS)


def get(name: str) -> PEKind:
    """The row of PE kind ``name``; ValueError naming the known kinds otherwise."""
    if isinstance(name, str) and name in KINDS:
        return KINDS[name]
    raise ValueError(f"pe must be one of {', '.join(KINDS)}, got {name!r}")


def for_config(config) -> PEKind:
    """The row whose config class ``config`` is an instance of (a PE config built elsewhere,
    such as an RTL design's); ValueError naming the known config classes otherwise."""
    for row in KINDS.values():
        if type(config) is row.config:
            return row
    known = ", ".join(row.config.__name__ for row in KINDS.values())
    raise ValueError(f"config must be one of {known}, got {type(config).__name__}")
