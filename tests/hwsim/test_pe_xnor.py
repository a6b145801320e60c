"""XnorPE: lane sums are lowbit.hwsim.units.binary.xnor_dot's on binary codes (0: +1, 1: -1),
one cycle a beat."""
import itertools

import numpy as np
import pytest

from lowbit.hwsim.pe import Beat, XnorPE, XnorPEConfig


def _signs(codes):
    return [1 - 2 * int(c) for c in codes]


def test_every_four_lane_beat_equals_the_sign_product_sum():
    model = XnorPE(XnorPEConfig(lanes=4))
    words = list(itertools.product((0, 1), repeat=4))
    beats = [Beat(act=np.array(a), wgt=np.array(w), last=True) for a in words for w in words]
    trace = model.run(beats)
    assert trace.values == [sum(x * y for x, y in zip(_signs(b.act), _signs(b.wgt)))
                            for b in beats]
    assert trace.accepts == list(range(256))
    assert [cycle for cycle, _ in trace.outputs] == list(range(1, 257))


def test_accumulator_wraps_to_acc_bits():
    # three beats of +4 (all codes equal) on 4 lanes: 12 wraps to -4 in 4 bits
    model = XnorPE(XnorPEConfig(lanes=4, acc_bits=4))
    beats = [Beat(act=[1, 0, 1, 0], wgt=[1, 0, 1, 0]) for _ in range(2)]
    beats.append(Beat(act=[0] * 4, wgt=[0] * 4, last=True))
    assert model.run(beats).values == [-4]


def test_activations_must_be_binary_codes():
    model = XnorPE(XnorPEConfig(lanes=2))
    with pytest.raises(ValueError, match=r"beats\[0\]\.act must hold binary codes in 0\.\.1"):
        model.run([Beat(act=[-1, 1], wgt=[0, 1], last=True)])
    with pytest.raises(ValueError, match=r"beats\[0\]\.wgt must hold 1-bit codes in 0\.\.1"):
        model.run([Beat(act=[0, 1], wgt=[0, 2], last=True)])
    with pytest.raises(ValueError, match="lanes must be an integer in 1..256, got 0"):
        XnorPEConfig(lanes=0)
