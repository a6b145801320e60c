"""Processing elements on the port protocol of :mod:`lowbit.hwsim.pe.protocol`: IntMacPE
(:mod:`.int_mac`), ShiftAddPE (:mod:`.shift_add`), BitSerialPE (:mod:`.bit_serial`), LutPE
(:mod:`.lut`); the shared ports, sequencer and accumulator are in :mod:`.common`."""
