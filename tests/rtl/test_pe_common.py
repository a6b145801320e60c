"""What every PE shares (lowbit.rtl.pe.common): the protocol's ports sized from the config, and the
refusal of a config of another class."""
import pytest

from lowbit.hwsim.pe.configs import BitSerialPEConfig, IntMacPEConfig, LutPEConfig, ShiftAddPEConfig
from lowbit.rtl.pe.bit_serial import BitSerialPE
from lowbit.rtl.pe.common import pe_ports
from lowbit.rtl.pe.int_mac import IntMacPE
from lowbit.rtl.pe.lut import LutPE
from lowbit.rtl.pe.shift_add import ShiftAddPE

PES = [(IntMacPE, IntMacPEConfig), (ShiftAddPE, ShiftAddPEConfig),
       (BitSerialPE, BitSerialPEConfig), (LutPE, LutPEConfig)]
IDS = [component.__name__ for component, _ in PES]


@pytest.mark.parametrize("component_class, config_class", PES, ids=IDS)
def test_ports_follow_the_protocol(component_class, config_class):
    config = config_class(lanes=4, act_bits=6, acc_bits=20)
    component = component_class(config=config)
    assert len(component.in_act) == 4 * 6
    assert len(component.in_wgt) == 4 * config.wgt_bits
    assert len(component.out_data) == 20
    assert hasattr(component, "in_wbits") == config.runtime_w_bits
    assert set(component.signature.members) == set(pe_ports(config))


@pytest.mark.parametrize("component_class, config_class", PES, ids=IDS)
def test_component_rejects_a_foreign_config(component_class, config_class):
    foreign = next(other for _, other in PES if other is not config_class)()
    for config in (None, foreign):
        with pytest.raises(ValueError) as info:
            component_class(config=config)
        article = "an" if config_class.__name__[0] in "AEIOU" else "a"
        assert str(info.value) == (f"config must be {article} {config_class.__name__}, "
                                   f"got {type(config).__name__}")
