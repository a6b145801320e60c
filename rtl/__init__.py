"""Synthesizable Amaranth 0.5 RTL of lowbit's arithmetic units and processing elements.

Every design is built from the same frozen config dataclass as its hwsim golden model (the PE
configs are hwsim.pe's own classes) and is proven equal to it, outputs and cycle counts, by the
cocotb testbenches of :mod:`rtl.verify` on Icarus Verilog.

  rtl.registry   every design by name, with its config class and verified/synthesized configs
  rtl.units      IntMac, Fp8Mul, Fp8Mac, XnorPopcount (and the float helpers they share)
  rtl.pe         IntMacPE, ShiftAddPE, BitSerialPE, LutPE (ports: hwsim.pe.protocol)
  rtl.export     deterministic Verilog (``lowbit rtl export``)
  rtl.verify     the cocotb flow (``lowbit verify``, ``pytest tests/rtl``)
  rtl.synth      yosys statistics (``lowbit synth``); committed numbers in rtl/data/synth.json
"""
