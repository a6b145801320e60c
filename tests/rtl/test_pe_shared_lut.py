"""SharedLutPE vs lowbit.hwsim.pe.SharedLutPE: corner beats (activations at min, max and 0 against
every column at the weight min, -1, 0 and max, at every w_bits), then random dot products
(lowbit.hwsim.pe.stimulus); every transfer cycle, output cycle and every column's output value
equal."""
from lowbit.hwsim.pe.configs import SharedLutPEConfig
from lowbit.rtl.pe.lut import SharedLutPE

DESIGN = "shared_lut_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, design_config, random_vectors):
    _, config = design_config
    assert verdict.ok, verdict.report()
    corners = config.max_weight_bits * 3 * 4   # w_bits x activations x column rotations
    assert verdict.vectors >= random_vectors + corners


def test_ports_carry_every_column():
    config = SharedLutPEConfig(lanes=8, columns=3, act_bits=6, max_weight_bits=3, acc_bits=20)
    component = SharedLutPE(config=config)
    assert (len(component.in_act), len(component.in_wgt)) == (8 * 6, 3 * 8 * 3)
    assert (len(component.out_data), len(component.in_wbits)) == (3 * 20, 4)
