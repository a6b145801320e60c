"""Bit-exact arithmetic units: Numba kernels on element codes, each with a plain-Python
reference beside it and a docstring that is the hardware contract.

Modules are imported by name (``from lowbit.hwsim.units import fp8``) so that importing the package
compiles no kernels: fp8 and mx (floating point, :mod:`lowbit.hwsim.units.reference_fp` holds their
plain-Python references), integer, log, binary, lut, bitserial.
"""
