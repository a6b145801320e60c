"""hwsim: bit-accurate software models of number formats, arithmetic units and processing
elements. It is the oracle for the RTL and the GPU kernels and imports none of them."""
