"""ShiftAddPE vs lowbit.hwsim.pe.ShiftAddPE: every log code x every int8 activation in every lane (one
beat per dot product, back to back), then random dot products (lowbit.hwsim.pe.stimulus); every
transfer cycle, output cycle and output value equal."""
DESIGN = "shift_add_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, design_config, random_vectors):
    _, config = design_config
    assert verdict.ok, verdict.report()
    exhaustive = 2 ** (config.act_bits + config.wgt_bits)   # every (activation, code) pair
    assert verdict.vectors >= random_vectors + exhaustive

