"""Cycle-level processing-element models: the golden models the RTL is held to.
The port protocol shared with the RTL is in :mod:`hwsim.pe.protocol`."""
