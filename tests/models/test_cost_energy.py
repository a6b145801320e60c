import math

import pytest

from lowbit.hwsim import pe
from lowbit.models.cost import energy

PJ = 1e-12


def test_published_points_are_reproduced():
    assert energy.int_add(8) == pytest.approx(0.03 * PJ, rel=1e-12)
    assert energy.int_add(32) == pytest.approx(0.1 * PJ, rel=1e-12)
    assert energy.int_mult(8, 8) == pytest.approx(0.2 * PJ, rel=1e-12)
    assert energy.fp_mult(11) == pytest.approx(1.1 * PJ, rel=1e-12)
    assert energy.fp_mult(24) == pytest.approx(3.7 * PJ, rel=1e-12)
    assert energy.fp32_add() == pytest.approx(0.9 * PJ, rel=1e-12)
    assert energy.sram_read_per_bit(8 * 1024) * 64 == pytest.approx(10 * PJ, rel=1e-12)
    assert energy.sram_read_per_bit(32 * 1024) * 64 == pytest.approx(20 * PJ, rel=1e-12)
    assert energy.sram_read_per_bit(1024 * 1024) * 64 == pytest.approx(100 * PJ, rel=1e-12)
    assert energy.dram_per_bit() * 64 == pytest.approx(1950 * PJ, rel=1e-12)


def test_scaling_rules_by_hand():
    assert energy.int_add(4) == pytest.approx(0.015 * PJ)           # 0.03 * 4/8
    assert energy.int_add(20) == pytest.approx(0.065 * PJ)          # halfway 8 -> 32
    assert energy.int_mult(8, 4) == pytest.approx(0.1 * PJ)         # 0.2 * 32/64
    assert energy.int_mult(1, 1) == pytest.approx(0.2 / 64 * PJ)
    assert energy.FP_MULT_EXPONENT == pytest.approx(math.log(3.7 / 1.1) / math.log(24 / 11))
    assert energy.fp_mult(4) == pytest.approx(1.1 * (4 / 11) ** energy.FP_MULT_EXPONENT * PJ)


def test_multiplier_rule_checked_against_the_32_bit_point():
    # The a*b rule anchored at 8x8 predicts 3.2 pJ for 32x32; Horowitz measured 3.1 pJ.
    predicted = energy.int_mult(32, 32) / PJ
    assert predicted == pytest.approx(3.2)
    assert abs(predicted - energy.HOROWITZ_45NM_PJ[("int_mult", 32)]) / 3.1 < 0.035


def test_mac_energy_per_pe_by_hand():
    add32, add12 = 0.1 * PJ, (0.03 + 0.07 * 4 / 24) * PJ
    assert energy.mac_energy(pe.IntMacPEConfig(act_bits=8, w_bits=4), 4) == \
        pytest.approx(0.1 * PJ + add32)
    # bit-serial, 4-bit weights, 1 bit a cycle: 4 x (8x1 partial product + 32-bit add)
    assert energy.mac_energy(pe.BitSerialPEConfig(act_bits=8), 4) == \
        pytest.approx(4 * (0.2 / 8 * PJ + add32))
    # LUT g=4: 11 table adds of 12 bits shared by 4 lanes + 4 planes x one 32-bit add
    assert energy.mac_energy(pe.LutPEConfig(act_bits=8, group_size=4), 4) == \
        pytest.approx((11 * add12 + 4 * add32) / 4)
    # shift-add, log2_4 weights: the activation shifted by up to 7 places, a 13-bit adder
    assert energy.mac_energy(pe.ShiftAddPEConfig(act_bits=8, weight_format="log2_4"), 4) == \
        pytest.approx((0.03 + 0.07 * 5 / 24) * PJ + add32)
    # E4M3: a 4-bit significand
    assert energy.mac_energy(pe.Fp8MacPEConfig(fmt="float8_e4m3fn"), 8) == \
        pytest.approx(energy.fp_mult(4) + 0.9 * PJ)
    # MX E4M3: a 4x4 significand multiply, a 36-bit shifter and a 42-bit tree add (32-bit slices
    # + the rest) per element; per block of 32 a 9-bit scale add, a 42-bit conversion, an fp32 add
    add = energy.int_add
    wide36, wide42 = add32 + add(4), add32 + add(10)
    assert energy.mac_energy(pe.MxMacPEConfig(fmt="float8_e4m3fn"), 8) == pytest.approx(
        0.2 * 16 / 64 * PJ + wide36 + wide42 + (add(9) + wide42 + 0.9 * PJ) / 32)


def test_rescale_energy():
    assert energy.rescale_energy("group") == pytest.approx((3.7 + 0.9) * PJ)
    assert energy.rescale_energy("mx") == pytest.approx((0.03 + 0.9) * PJ)


@pytest.mark.parametrize("call, match", [
    (lambda: energy.int_add(33), "bits must be an integer in 1..32"),
    (lambda: energy.int_add(0), "bits must be an integer in 1..32"),
    (lambda: energy.int_mult(8, 64), "b_bits must be an integer in 1..32"),
    (lambda: energy.fp_mult(53), "significand_bits must be an integer in 2..24"),
    (lambda: energy.sram_read_per_bit(64 * 1024), "buffer_bytes must be one of 8192, 32768"),
    (lambda: energy.mac_energy(object(), 8), "config must be one of IntMacPEConfig"),
])
def test_outside_the_data_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
