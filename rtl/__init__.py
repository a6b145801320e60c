"""Synthesizable Amaranth 0.5 RTL of lowbit's arithmetic units and processing elements.

Every design is built from the same frozen config dataclass as its hwsim golden model (the PE
configs are lowbit.hwsim.pe's own classes) and is proven equal to it, outputs and cycle counts, by the
cocotb testbenches of :mod:`lowbit.rtl.verify` on Icarus Verilog.

  lowbit.rtl.registry   every design by name, with its config class and verified/synthesized configs
  lowbit.rtl.units      IntMac, Fp8Mul, Fp8Mac, XnorPopcount (and the float helpers they share)
  lowbit.rtl.pe         IntMacPE, ShiftAddPE, BitSerialPE, LutPE (ports: lowbit.hwsim.pe.protocol)
  lowbit.rtl.export     deterministic Verilog (``lowbit rtl export``)
  lowbit.rtl.verify     the cocotb flow (``lowbit verify``, ``pytest tests/rtl``)
  lowbit.rtl.synth      yosys statistics (``lowbit synth``); committed numbers in rtl/data/synth.json
  lowbit.rtl.timing     critical paths; committed numbers in rtl/data/timing.json
  lowbit.rtl.results    the one place the cost model reads both: committed, cached, or on demand
"""
