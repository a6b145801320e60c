"""Every RTL design by name: its component, its config class and the configs it is verified and
synthesized in. The PE configs are lowbit.hwsim.pe's own classes, so one object builds the golden model
and the hardware.

    from lowbit.rtl import registry
    registry.names()                              # every design name
    design = registry.get("bit_serial_pe")        # ValueError naming the known designs
    config = design.parse_params({"lanes": "4"})  # strings from the command line -> config
    component = design.build(config)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lowbit.hwsim.pe.configs import (MX_FORMATS, BitSerialPEConfig, Fp16BitSerialPEConfig,
                                     Fp16MacPEConfig, IntMacPEConfig, LutPEConfig, MxMacPEConfig,
                                     ShiftAddPEConfig, SharedLutPEConfig, XnorPEConfig)
from lowbit.rtl.pe.bit_serial import BitSerialPE
from lowbit.rtl.pe.fp16_bit_serial import Fp16BitSerialPE
from lowbit.rtl.pe.fp16_mac import Fp16MacPE
from lowbit.rtl.pe.int_mac import IntMacPE
from lowbit.rtl.pe.lut import LutPE, SharedLutPE
from lowbit.rtl.pe.mx_mac import MxMacPE
from lowbit.rtl.pe.shift_add import ShiftAddPE
from lowbit.rtl.pe.xnor import XnorPE
from lowbit.rtl.units.fp8_mac import Fp8Mac, Fp8MacConfig
from lowbit.rtl.units.fp8_mul import Fp8Mul, Fp8MulConfig
from lowbit.rtl.units.int_mac import IntMac, IntMacConfig
from lowbit.rtl.units.xnor_popcount import XnorPopcount, XnorPopcountConfig


@dataclass(frozen=True)
class Design:
    """name: registry key; component: the wiring.Component class (``component(config=...)``);
    config: its frozen config dataclass; configs: the configs verified and synthesized;
    kind: "unit" or "pe" (which testbench drives it)."""
    name: str
    component: type
    config: type
    configs: tuple
    kind: str

    def build(self, config):
        return self.component(config=config)

    def parse_params(self, params: dict) -> object:
        """A config from {field: string} (command-line ``--param k=v``); unknown fields and
        unparsable values raise ValueError naming the field and the allowed values."""
        fields = {f.name: f for f in dataclasses.fields(self.config)}
        kwargs = {}
        for key, text in params.items():
            if key not in fields:
                raise ValueError(f"param {key!r} is not a field of {self.config.__name__}; "
                                 f"allowed: {', '.join(fields)}")
            kwargs[key] = _parse_value(key, text, type(getattr(self.config(), key)))
        return self.config(**kwargs)


def _parse_value(key: str, text: str, kind: type):
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"param {key} must be true or false, got {text!r}")
        return text.lower() in ("true", "1")
    if kind is int:
        try:
            return int(text, 0)
        except ValueError:
            raise ValueError(f"param {key} must be an integer, got {text!r}") from None
    return text


def config_label(config) -> str:
    """A short stable label of a config: its non-default fields, e.g. "lanes=4,acc_bits=24"."""
    default = type(config)()
    parts = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(config)
             if getattr(config, f.name) != getattr(default, f.name)]
    return ",".join(parts) or "default"


_DESIGNS = [
    Design("int_mac", IntMac, IntMacConfig, (
        IntMacConfig(a_bits=4, b_bits=4, acc_bits=8, overflow="wrap"),
        IntMacConfig(a_bits=4, b_bits=4, acc_bits=8, overflow="saturate"),
        IntMacConfig(a_bits=4, b_bits=4, a_signed=False, b_signed=False, acc_bits=10,
                     overflow="saturate"),
        IntMacConfig(a_bits=8, b_bits=8, acc_bits=32, overflow="wrap"),
    ), "unit"),
    Design("fp8_mul", Fp8Mul, Fp8MulConfig, tuple(
        Fp8MulConfig(fmt=fmt, saturate=sat)
        for fmt in ("float8_e4m3fn", "float8_e5m2") for sat in (False, True)), "unit"),
    Design("fp8_mac", Fp8Mac, Fp8MacConfig, (
        Fp8MacConfig(fmt_a="float8_e4m3fn", fmt_b="float8_e4m3fn"),
        Fp8MacConfig(fmt_a="float8_e5m2", fmt_b="float8_e5m2"),
        Fp8MacConfig(fmt_a="float8_e4m3fn", fmt_b="float8_e5m2"),
    ), "unit"),
    Design("xnor_popcount", XnorPopcount, XnorPopcountConfig, (
        XnorPopcountConfig(n=8), XnorPopcountConfig(n=64), XnorPopcountConfig(n=256),
    ), "unit"),
    # PEs: a lanes sweep 1/4/16 at the default widths (what the cost model scales), the other
    # weight widths / formats the cost model (lowbit.models.cost.cycles.pe_model) builds at 16 lanes,
    # and variants; the acc_bits=12 configs make the accumulator wrap in the random tests.
    Design("int_mac_pe", IntMacPE, IntMacPEConfig, (
        *(IntMacPEConfig(lanes=lanes) for lanes in (1, 4, 16)),
        *(IntMacPEConfig(lanes=16, w_bits=w_bits) for w_bits in (1, 2, 3, 4)),
        IntMacPEConfig(lanes=4, w_bits=4, acc_bits=12, signed=False),
        IntMacPEConfig(lanes=16, act_bits=2, w_bits=2),   # W1A1 (binary-a1) as int2 x int2
        IntMacPEConfig(lanes=16, act_bits=4, w_bits=4),   # W4A4 (w4a4, w4a4-rotation)
        # the accumulator widths of sweeps/configs/accumulator.toml (int8 and int4 weights)
        *(IntMacPEConfig(lanes=16, w_bits=w_bits, acc_bits=acc_bits)
          for w_bits in (8, 4) for acc_bits in (21, 16)),
    ), "pe"),
    Design("shift_add_pe", ShiftAddPE, ShiftAddPEConfig, (
        *(ShiftAddPEConfig(lanes=lanes) for lanes in (1, 4, 16)),
        ShiftAddPEConfig(lanes=16, weight_format="log2_3"),
        ShiftAddPEConfig(lanes=16, weight_format="log2_5"),
        ShiftAddPEConfig(lanes=4, weight_format="log2_3", acc_bits=12),
        ShiftAddPEConfig(lanes=16, act_bits=2, weight_format="log2_3"),   # W1A1 (binary-a1)
    ), "pe"),
    Design("bit_serial_pe", BitSerialPE, BitSerialPEConfig, (
        *(BitSerialPEConfig(lanes=lanes) for lanes in (1, 4, 16)),
        BitSerialPEConfig(lanes=4, bits_per_cycle=2, acc_bits=12),
        # narrower activations / weights than the lanes=4 config: synth growth with bit width
        BitSerialPEConfig(lanes=4, act_bits=4),
        BitSerialPEConfig(lanes=4, max_weight_bits=4),
        BitSerialPEConfig(lanes=16, act_bits=2),   # W1A1 (binary-a1) with int2 activations
        BitSerialPEConfig(lanes=16, act_bits=4),   # W4A4 (w4a4, w4a4-rotation)
    ), "pe"),
    Design("lut_pe", LutPE, LutPEConfig, (
        *(LutPEConfig(lanes=lanes) for lanes in (4, 8, 16)),
        LutPEConfig(lanes=8, group_size=2, acc_bits=12, table="symmetric"),
        LutPEConfig(lanes=8, table="symmetric"),   # at the default group_size=4
        # narrower activations / weights than the lanes=8 config: synth growth with bit width
        LutPEConfig(lanes=8, act_bits=4),
        LutPEConfig(lanes=8, max_weight_bits=2),
        LutPEConfig(lanes=16, act_bits=2),   # W1A1 (binary-a1) with int2 activations
        LutPEConfig(lanes=16, act_bits=4),   # W4A4 (w4a4, w4a4-rotation)
    ), "pe"),
    # shared_lut: a lanes sweep 4/8/16 at the costed columns=4 (lowbit.hwsim.pe.kinds), more
    # columns at 8 lanes (area growth per column), and symmetric tables with acc_bits=12 (the
    # accumulators wrap in the random tests).
    Design("shared_lut_pe", SharedLutPE, SharedLutPEConfig, (
        *(SharedLutPEConfig(lanes=lanes) for lanes in (4, 8, 16)),
        SharedLutPEConfig(lanes=8, columns=8),
        SharedLutPEConfig(lanes=8, columns=2, group_size=2, acc_bits=12, table="symmetric"),
        SharedLutPEConfig(lanes=16, act_bits=2),   # W1A1 (binary-a1) with int2 activations
        SharedLutPEConfig(lanes=16, act_bits=4),   # W4A4 (w4a4, w4a4-rotation)
    ), "pe"),
    # xnor: lanes=4 takes every (act, wgt) beat, its acc_bits=4 accumulator wraps; 16 is what
    # the cost model builds, 64 a wide one (more lanes than one 64-bit word of hwsim's packing).
    Design("xnor_pe", XnorPE, XnorPEConfig, (
        XnorPEConfig(lanes=4, acc_bits=4),
        XnorPEConfig(lanes=16),
        XnorPEConfig(lanes=64),
    ), "pe"),
    # the MX PE at 16 lanes (what the cost model costs; a block is two beats) in every element
    # format, and at 32 lanes (a block is one beat)
    Design("mx_mac_pe", MxMacPE, MxMacPEConfig, (
        *(MxMacPEConfig(lanes=16, fmt=fmt) for fmt in MX_FORMATS),
        MxMacPEConfig(lanes=32, fmt="float4_e2m1fn"),
    ), "pe"),
    # FP16 PEs (issue 18): the lanes=16 configs the cost model builds; lanes=4 for a second
    # synthesized lane count; the narrow fixed_bits config makes the accumulator wrap.
    Design("fp16_mac_pe", Fp16MacPE, Fp16MacPEConfig, (
        *(Fp16MacPEConfig(lanes=lanes) for lanes in (1, 4, 16)),
    ), "pe"),
    Design("fp16_bit_serial_pe", Fp16BitSerialPE, Fp16BitSerialPEConfig, (
        *(Fp16BitSerialPEConfig(lanes=lanes) for lanes in (1, 4, 16)),
        Fp16BitSerialPEConfig(lanes=4, max_weight_bits=4, fixed_bits=48),
    ), "pe"),
]
_BY_NAME = {design.name: design for design in _DESIGNS}


def names() -> list[str]:
    """Every design name, in registry order (units first, then PEs)."""
    return list(_BY_NAME)


def get(name: str) -> Design:
    """The design registered as ``name``; ValueError naming the known designs otherwise."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown design {name!r}; known designs: {', '.join(names())}") from None
