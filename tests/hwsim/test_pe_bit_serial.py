"""BitSerialPE: lane sums are lowbit.hwsim.units.bitserial's, occupancy its cycle count."""
import numpy as np

from lowbit.hwsim.pe import BitSerialPE, BitSerialPEConfig, Beat
from lowbit.hwsim.pe.protocol import wrap
from lowbit.hwsim.pe.stimulus import random_beats
from lowbit.hwsim.units.bitserial import bitserial_dot

SEED = 3003


def written_out_cycles(w_bits, bits_per_cycle):
    """ceil(w_bits / bits_per_cycle) spelled out, not taken from bitserial_cycles: both the model's
    occupancy and bitserial_dot's cycle count come from that one formula, so comparing them with
    each other would pass a wrong formula."""
    return w_bits // bits_per_cycle + (1 if w_bits % bits_per_cycle else 0)


def test_each_beat_equals_the_bitserial_unit_in_value_and_cycles():
    for k in (1, 2):
        config = BitSerialPEConfig(lanes=16, act_bits=8, max_weight_bits=8, bits_per_cycle=k,
                                   acc_bits=20)
        model = BitSerialPE(config)
        beats = random_beats(config, np.random.default_rng([SEED, k]), 300, last_probability=1.0)
        for beat in beats:
            value, cycles = bitserial_dot(beat.act, np.asarray(beat.wgt) % (1 << beat.w_bits),
                                          w_bits=beat.w_bits, bits_per_cycle=k)
            trace = model.run([beat])
            assert trace.values == [wrap(value, 20)], f"seed {[SEED, k]}"
            expected_cycles = written_out_cycles(beat.w_bits, k)
            assert cycles == expected_cycles, f"w_bits {beat.w_bits}, k {k}"
            assert model.occupancy(beat) == expected_cycles, f"w_bits {beat.w_bits}, k {k}"
            # accepted at 0, out_valid at 0 + cycles - 1 + 1
            assert trace.outputs[0][0] == expected_cycles


def test_written_out_cycles_table():
    # The count by hand for every weight width: one bit a cycle takes w_bits cycles, two bits a
    # cycle round an odd width up (the last digit holds the sign bit alone).
    assert [written_out_cycles(w, 1) for w in range(1, 9)] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [written_out_cycles(w, 2) for w in range(1, 9)] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_weight_bits_above_w_bits_are_ignored():
    model = BitSerialPE(BitSerialPEConfig(lanes=2, max_weight_bits=8))
    # 0xF5 at w_bits 3 is 0b101 = -3; 0x0A at w_bits 3 is 0b010 = 2.
    assert model.run([Beat(act=[7, 11], wgt=[0xF5, 0x0A], w_bits=3, last=True)]).values \
        == [7 * -3 + 11 * 2]
