"""ShiftAddPE vs hwsim.pe.ShiftAddPE: every log code x every int8 activation in every lane (one
beat per dot product, back to back), then random dot products (hwsim.pe.stimulus); every
transfer cycle, output cycle and output value equal."""
import pytest

from hwsim.pe.configs import ShiftAddPEConfig
from rtl.pe.shift_add import ShiftAddPE

DESIGN = "shift_add_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, design_config, random_vectors):
    _, config = design_config
    assert verdict.ok, verdict.report()
    exhaustive = 2 ** (config.act_bits + config.wgt_bits)   # every (activation, code) pair
    assert verdict.vectors >= random_vectors + exhaustive


def test_ports_follow_the_protocol():
    config = ShiftAddPEConfig(lanes=4, act_bits=6, acc_bits=20)
    component = ShiftAddPE(config=config)
    assert len(component.in_act) == 4 * 6
    assert len(component.in_wgt) == 4 * config.wgt_bits
    assert len(component.out_data) == 20
    assert hasattr(component, "in_wbits") == config.runtime_w_bits


def test_component_rejects_a_foreign_config():
    with pytest.raises(ValueError) as info:
        ShiftAddPE(config=None)
    assert str(info.value).startswith("config must be a") and "got NoneType" in str(info.value)
