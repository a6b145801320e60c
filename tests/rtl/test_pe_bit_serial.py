"""BitSerialPE vs hwsim.pe.BitSerialPE: random dot products (hwsim.pe.stimulus: random activations,
weights, runtime precision, lengths, offers and bubbles); every transfer cycle, output cycle and
output value equal."""
import pytest

from hwsim.pe.configs import BitSerialPEConfig
from rtl.pe.bit_serial import BitSerialPE

DESIGN = "bit_serial_pe"


def test_matches_hwsim_cycle_for_cycle(verdict, random_vectors):
    assert verdict.ok, verdict.report()
    assert verdict.vectors >= random_vectors


def test_ports_follow_the_protocol():
    config = BitSerialPEConfig(lanes=4, act_bits=6, acc_bits=20)
    component = BitSerialPE(config=config)
    assert len(component.in_act) == 4 * 6
    assert len(component.in_wgt) == 4 * config.wgt_bits
    assert len(component.out_data) == 20
    assert hasattr(component, "in_wbits") == config.runtime_w_bits


def test_component_rejects_a_foreign_config():
    with pytest.raises(ValueError) as info:
        BitSerialPE(config=None)
    assert str(info.value).startswith("config must be a") and "got NoneType" in str(info.value)
