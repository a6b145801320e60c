"""The design registry: names, lookup errors, command-line parameter parsing."""
import pytest

from lowbit.hwsim.pe.configs import BitSerialPEConfig
from lowbit.rtl import registry


def test_every_design_has_at_least_three_configs():
    for name in registry.names():
        assert len(registry.get(name).configs) >= 3, name


def test_pe_designs_use_the_hwsim_config_classes():
    assert registry.get("bit_serial_pe").config is BitSerialPEConfig


def test_unknown_design_names_the_known_ones():
    with pytest.raises(ValueError) as info:
        registry.get("fp16_mul")
    assert str(info.value) == f"unknown design 'fp16_mul'; known designs: " \
                              f"{', '.join(registry.names())}"


def test_parse_params_builds_the_config():
    config = registry.get("bit_serial_pe").parse_params({"lanes": "4", "bits_per_cycle": "2"})
    assert config == BitSerialPEConfig(lanes=4, bits_per_cycle=2)
    assert registry.get("fp8_mul").parse_params({"saturate": "true"}).saturate is True


@pytest.mark.parametrize("params, message", [
    ({"lane": "4"}, "param 'lane' is not a field of BitSerialPEConfig; allowed: lanes, "
                    "act_bits, max_weight_bits, bits_per_cycle, acc_bits"),
    ({"lanes": "four"}, "param lanes must be an integer, got 'four'"),
    ({"lanes": "0"}, "lanes must be an integer in 1..256, got 0"),
])
def test_parse_params_rejects(params, message):
    with pytest.raises(ValueError) as info:
        registry.get("bit_serial_pe").parse_params(params)
    assert str(info.value) == message


def test_config_label_names_only_non_default_fields():
    assert registry.config_label(BitSerialPEConfig()) == "default"
    assert registry.config_label(BitSerialPEConfig(lanes=4, acc_bits=24)) == "lanes=4,acc_bits=24"
