"""LutPE: lane sums are lowbit.hwsim.units.lut.lut_dot's, one bit-plane per cycle."""
import numpy as np

from lowbit.hwsim.pe import Beat, LutPE, LutPEConfig
from lowbit.hwsim.pe.protocol import wrap
from lowbit.hwsim.pe.stimulus import random_beats
from lowbit.hwsim.units.lut import lut_dot

SEED = 4004


def test_each_beat_equals_the_lut_unit():
    for table in ("full", "symmetric"):
        config = LutPEConfig(lanes=16, group_size=4, act_bits=8, max_weight_bits=4, acc_bits=14,
                             table=table)
        model = LutPE(config)
        beats = random_beats(config, np.random.default_rng([SEED, len(table)]), 300,
                             last_probability=1.0)
        for beat in beats:
            value = lut_dot(beat.act, np.asarray(beat.wgt) % (1 << beat.w_bits),
                            w_bits=beat.w_bits, group_size=4, table=table)
            trace = model.run([beat])
            assert trace.values == [wrap(value, 14)], f"seed {[SEED, len(table)]}"
            assert model.occupancy(beat) == beat.w_bits == trace.outputs[0][0]


def test_all_max_beat():
    config = LutPEConfig(lanes=8, group_size=8, act_bits=8, max_weight_bits=4, acc_bits=32)
    trace = LutPE(config).run([Beat(act=[-128] * 8, wgt=[0x8] * 8, w_bits=4, last=True)])
    assert trace.values == [8 * 128 * 8]
