"""IntMacPE: lane sums are lowbit.hwsim.units.integer.int_dot's; accumulator wraps to acc_bits."""
import numpy as np

from lowbit.hwsim.pe import Beat, IntMacPE, IntMacPEConfig
from lowbit.hwsim.pe.stimulus import random_beats
from lowbit.hwsim.units.integer import decode_int_codes, int_dot

SEED = 1001


def test_each_beat_equals_the_integer_unit():
    for signed in (True, False):
        config = IntMacPEConfig(lanes=16, act_bits=8, w_bits=4, acc_bits=24, signed=signed)
        beats = random_beats(config, np.random.default_rng([SEED, signed]), 200,
                             last_probability=1.0)
        got = IntMacPE(config).run(beats).values
        expected = [int_dot(b.act, decode_int_codes(b.wgt, 4, signed), a_bits=8, b_bits=4,
                            b_signed=signed, acc_bits=24) for b in beats]
        assert got == expected, f"seed {[SEED, signed]}"


def test_accumulator_wraps_across_beats():
    config = IntMacPEConfig(lanes=2, act_bits=8, w_bits=8, acc_bits=16)
    beat = Beat(act=[-128, -128], wgt=[0x80, 0x80])  # 2 * 16384 per beat
    trace = IntMacPE(config).run([beat, beat, Beat(act=[0, 0], wgt=[0, 0], last=True)])
    assert trace.values == [65536 - 65536] and trace.outputs[0][0] == 3
    trace = IntMacPE(config).run([Beat(act=[-128, -128], wgt=[0x80, 0x80], last=True)])
    assert trace.values == [-32768]  # 32768 wraps to the most negative 16-bit value
