"""LutPE: lane sums are lowbit.hwsim.units.lut.lut_dot's, one bit-plane per cycle."""
import numpy as np
import pytest

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


def test_shared_tables_give_each_column_what_its_own_lut_pe_gives():
    """SharedLutPE = ``columns`` LutPEs fed the same activations, one weight column each: the
    same transfer and output cycles, and column c's value is LutPE c's."""
    from lowbit.hwsim.pe import SharedLutPE, SharedLutPEConfig
    from lowbit.hwsim.pe.stimulus import random_offers

    for table in ("full", "symmetric"):
        seed = [SEED, 2, len(table)]
        rng = np.random.default_rng(seed)
        config = SharedLutPEConfig(lanes=8, columns=5, group_size=4, act_bits=7,
                                   max_weight_bits=4, acc_bits=13, table=table)
        beats = random_beats(config, rng, 200, last_probability=0.4)
        offers = random_offers(rng, len(beats))
        shared = SharedLutPE(config).run(beats, offers)
        single = LutPEConfig(lanes=8, group_size=4, act_bits=7, max_weight_bits=4, acc_bits=13,
                             table=table)
        columns = [LutPE(single).run([Beat(act=b.act, wgt=b.wgt[c], last=b.last, w_bits=b.w_bits)
                                      for b in beats], offers) for c in range(5)]
        assert shared.accepts == columns[0].accepts, f"seed {seed}"
        assert [cycle for cycle, _ in shared.outputs] == [cycle for cycle, _ in columns[0].outputs]
        assert shared.values == list(zip(*(trace.values for trace in columns))), f"seed {seed}"


def test_shared_lut_all_max_beat_and_its_checks():
    from lowbit.hwsim.pe import SharedLutPE, SharedLutPEConfig

    config = SharedLutPEConfig(lanes=4, columns=2, act_bits=8, max_weight_bits=4)
    model = SharedLutPE(config)
    beat = Beat(act=[-128] * 4, wgt=[[0x8] * 4, [0x7] * 4], w_bits=4, last=True)
    assert model.run([beat]).outputs == [(4, (4 * 128 * 8, 4 * -128 * 7))]
    with pytest.raises(ValueError, match=r"beats\[0\]\.wgt must have shape \(2, 4\) \(one code "
                                         r"per lane of each column\), got \(4,\)"):
        model.run([Beat(act=[0] * 4, wgt=[0] * 4, w_bits=4)])
    with pytest.raises(ValueError, match="columns must be an integer in 1..64, got 0"):
        SharedLutPEConfig(columns=0)
