"""IntMacPE vs lowbit.hwsim.pe.IntMacPE: random dot products (lowbit.hwsim.pe.stimulus: random activations,
weights, runtime precision, lengths, offers and bubbles); every transfer cycle, output cycle and
output value equal."""
DESIGN = "int_mac_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, random_vectors):
    assert verdict.ok, verdict.report()
    assert verdict.vectors >= random_vectors

