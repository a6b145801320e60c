"""ShiftAddPE: lane sums are lowbit.hwsim.units.log.log_dot's, in units of 2^-(fmax-1)."""
import numpy as np

from lowbit.hwsim.pe import Beat, ShiftAddPE, ShiftAddPEConfig
from lowbit.hwsim.pe.stimulus import random_beats
from lowbit.hwsim.units.log import log_dot

SEED = 2002


def test_each_beat_equals_the_log_unit():
    for w_bits in (3, 4, 5):
        config = ShiftAddPEConfig(lanes=16, act_bits=8, weight_format=f"log2_{w_bits}",
                                  acc_bits=28)
        beats = random_beats(config, np.random.default_rng([SEED, w_bits]), 200,
                             last_probability=1.0)
        expected = [log_dot(b.act, b.wgt, weight_format=f"log2_{w_bits}", acc_bits=28)
                    for b in beats]
        assert ShiftAddPE(config).run(beats).values == expected, f"seed {[SEED, w_bits]}"


def test_output_counts_units_of_the_smallest_weight():
    # log2_4: code 0b0111 is 1.0 = 2^6 units of 2^-6; code 0b1001 is -2^-6 = -1 unit.
    config = ShiftAddPEConfig(lanes=2, act_bits=8, weight_format="log2_4", acc_bits=16)
    trace = ShiftAddPE(config).run([Beat(act=[3, 100], wgt=[0b0111, 0b1001], last=True)])
    assert trace.outputs == [(1, 3 * 64 - 100)]
