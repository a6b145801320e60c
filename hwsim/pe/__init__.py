"""Cycle-level processing-element models: the golden models the RTL is held to.
The port protocol shared with the RTL is in :mod:`lowbit.hwsim.pe.protocol`.

    from lowbit.hwsim.pe import BitSerialPE, BitSerialPEConfig, Beat
    pe = BitSerialPE(BitSerialPEConfig(lanes=16, act_bits=8, max_weight_bits=8,
                                       bits_per_cycle=1, acc_bits=32))
    trace = pe.run(beats, offers)   # trace.accepts, trace.outputs [(cycle, value)], trace.values
"""
from lowbit.hwsim.pe.bit_serial import BitSerialPE
from lowbit.hwsim.pe.configs import (BitSerialPEConfig, Fp8MacPEConfig, Fp16BitSerialPEConfig,
                                     Fp16MacPEConfig, IntMacPEConfig, LutPEConfig, MxMacPEConfig,
                                     ShiftAddPEConfig, SharedLutPEConfig, XnorPEConfig)
from lowbit.hwsim.pe.fp8_mac import Fp8MacPE
from lowbit.hwsim.pe.fp16_bit_serial import Fp16BitSerialPE
from lowbit.hwsim.pe.fp16_mac import Fp16MacPE
from lowbit.hwsim.pe.int_mac import IntMacPE
from lowbit.hwsim.pe.lut import LutPE, SharedLutPE
from lowbit.hwsim.pe.mx_mac import MxMacPE
from lowbit.hwsim.pe.protocol import LATENCY, Beat, Trace, accept_cycles, output_cycle, wrap
from lowbit.hwsim.pe.shift_add import ShiftAddPE
from lowbit.hwsim.pe.xnor import XnorPE

__all__ = ["Beat", "Trace", "LATENCY", "accept_cycles", "output_cycle", "wrap",
           "IntMacPE", "IntMacPEConfig", "ShiftAddPE", "ShiftAddPEConfig", "BitSerialPE",
           "BitSerialPEConfig", "LutPE", "LutPEConfig", "Fp8MacPE", "Fp8MacPEConfig",
           "MxMacPE", "MxMacPEConfig", "SharedLutPE", "SharedLutPEConfig", "XnorPE",
           "XnorPEConfig", "Fp16MacPE", "Fp16MacPEConfig", "Fp16BitSerialPE",
           "Fp16BitSerialPEConfig"]
