"""fp16_bit_serial PE vs its lowbit.hwsim.pe model: random dot products of float16 codes with corners
(lowbit.hwsim.pe.stimulus.fp16_codes: zeros, subnormals, max, inf, NaN, values near 1 that round,
tie and cancel), random per-beat w_bits 1..max_weight_bits with garbage above it, random lengths, offers and
bubbles; every transfer cycle, output cycle and
output value (float32 bits) equal."""
DESIGN = "fp16_bit_serial_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, random_vectors):
    assert verdict.ok, verdict.report()
    assert verdict.vectors >= random_vectors
