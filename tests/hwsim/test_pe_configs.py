"""lowbit.hwsim.pe.configs: every field validated with an exact message; configs are frozen values."""
import dataclasses

import pytest

from lowbit.hwsim.pe.configs import (BitSerialPEConfig, Fp8MacPEConfig, IntMacPEConfig, LutPEConfig,
                              ShiftAddPEConfig)


@pytest.mark.parametrize("cls,kwargs,message", [
    (IntMacPEConfig, dict(lanes=0), "lanes must be an integer in 1..256, got 0"),
    (IntMacPEConfig, dict(lanes=4.0), "lanes must be an integer in 1..256, got 4.0"),
    (IntMacPEConfig, dict(act_bits=1), "act_bits must be an integer in 2..8, got 1"),
    (IntMacPEConfig, dict(w_bits=9), "w_bits must be an integer in 1..8, got 9"),
    (IntMacPEConfig, dict(acc_bits=65), "acc_bits must be an integer in 2..64, got 65"),
    (IntMacPEConfig, dict(signed=1), "signed must be True or False, got 1"),
    (ShiftAddPEConfig, dict(weight_format="log2_6"),
     "weight_format must be one of ('log2_3', 'log2_4', 'log2_5') (ShiftAddPE is log2-only: "
     "logsqrt2_4 needs a √2 multiplier per lane), got 'log2_6'"),
    (ShiftAddPEConfig, dict(weight_format="logsqrt2_4"),
     "weight_format must be one of ('log2_3', 'log2_4', 'log2_5') (ShiftAddPE is log2-only: "
     "logsqrt2_4 needs a √2 multiplier per lane), got 'logsqrt2_4'"),
    (ShiftAddPEConfig, dict(acc_bits=True), "acc_bits must be an integer in 2..64, got True"),
    (BitSerialPEConfig, dict(bits_per_cycle=4), "bits_per_cycle must be one of (1, 2), got 4"),
    (BitSerialPEConfig, dict(max_weight_bits=0),
     "max_weight_bits must be an integer in 1..8, got 0"),
    (LutPEConfig, dict(max_weight_bits=5), "max_weight_bits must be an integer in 1..4, got 5"),
    (LutPEConfig, dict(lanes=10), "lanes must be a multiple of group_size=4, got 10"),
    (LutPEConfig, dict(group_size=1), "group_size must be an integer in 2..8, got 1"),
    (LutPEConfig, dict(table="half"), "table must be one of ('full', 'symmetric'), got 'half'"),
    (Fp8MacPEConfig, dict(fmt="float8_e4m3"),
     "fmt must be one of ('float8_e4m3fn', 'float8_e5m2'), got 'float8_e4m3'"),
    (Fp8MacPEConfig, dict(lanes=257), "lanes must be an integer in 1..256, got 257"),
])
def test_bad_field_raises_exact_message(cls, kwargs, message):
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    assert str(info.value) == message


def test_configs_are_frozen_keyword_only_and_describe_their_ports():
    config = BitSerialPEConfig(lanes=16, act_bits=8, max_weight_bits=8, bits_per_cycle=1,
                               acc_bits=32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lanes = 8
    with pytest.raises(TypeError):
        IntMacPEConfig(16, 8, 8, 32)
    assert (config.wgt_bits, config.runtime_w_bits) == (8, True)
    assert (IntMacPEConfig(w_bits=4).wgt_bits, IntMacPEConfig().runtime_w_bits) == (4, False)
    assert ShiftAddPEConfig(weight_format="log2_5").wgt_bits == 5
    assert (LutPEConfig(max_weight_bits=3).wgt_bits, LutPEConfig().runtime_w_bits) == (3, True)
    fp8 = Fp8MacPEConfig()
    assert (fp8.act_bits, fp8.wgt_bits, fp8.acc_bits, fp8.runtime_w_bits) == (8, 8, 32, False)
    assert LutPEConfig(lanes=24, group_size=8) == LutPEConfig(lanes=24, group_size=8)
