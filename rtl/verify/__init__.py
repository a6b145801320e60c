"""cocotb verification of every RTL design against its hwsim golden model.

:mod:`lowbit.rtl.verify.runner` builds a design's Verilog, compiles it with Icarus once per config and
runs the testbench (:mod:`lowbit.rtl.verify.tb_units` for the arithmetic units, :mod:`lowbit.rtl.verify.tb_pe`
for the processing elements) in a simulator subprocess; the testbench writes a JSON summary
that the runner returns as a :class:`lowbit.rtl.verify.runner.Result`. Used by ``pytest tests/rtl``
and ``lowbit verify``.
"""
