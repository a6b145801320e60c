"""Arithmetic units: IntMac (:mod:`.int_mac`), Fp8Mul (:mod:`.fp8_mul`), Fp8Mac
(:mod:`.fp8_mac`), XnorPopcount (:mod:`.xnor_popcount`); float bit-field helpers in
:mod:`.floats`. Each unit's contract is the lowbit.hwsim.units function named in its docstring."""
