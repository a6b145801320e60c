"""lowbit.hwsim.pe.stimulus: streams are valid, reproducible and exercise what the protocol allows."""
import numpy as np

from lowbit.hwsim.pe import BitSerialPE, BitSerialPEConfig, Fp8MacPEConfig, IntMacPEConfig
from lowbit.hwsim.pe.stimulus import random_beats, random_offers


def test_streams_are_valid_seeded_and_cover_runtime_precision():
    config = BitSerialPEConfig(lanes=8, act_bits=4, max_weight_bits=8)
    beats = random_beats(config, np.random.default_rng(1), 400)
    again = random_beats(config, np.random.default_rng(1), 400)
    assert all(np.array_equal(a.act, b.act) and a.w_bits == b.w_bits for a, b in zip(beats, again))
    assert beats[-1].last and not all(b.last for b in beats)
    assert {b.w_bits for b in beats} == set(range(1, 9))
    acts = np.concatenate([b.act for b in beats])
    assert (acts.min(), acts.max()) == (-8, 7)
    # Some codes carry bits above their beat's w_bits, which the PE must ignore.
    assert any((np.asarray(b.wgt) >> b.w_bits).any() for b in beats)
    BitSerialPE(config).run(beats)  # every beat passes the model's checks
    fixed = random_beats(IntMacPEConfig(), np.random.default_rng(2), 9)
    assert all(b.w_bits is None for b in fixed)
    fp8 = random_beats(Fp8MacPEConfig(lanes=4), np.random.default_rng(3), 200)
    assert max(int(np.max(b.act)) for b in fp8) > 127  # FP8 activations are codes


def test_offers_are_non_decreasing_with_bubbles_and_back_to_back_offers():
    offers = random_offers(np.random.default_rng(4), 500, max_gap=6)
    gaps = np.diff(offers)
    assert offers[0] >= 0 and gaps.min() == 0 and gaps.max() == 6


def test_fp16_codes_cover_corners_subnormals_and_the_whole_exponent_range():
    from lowbit.hwsim.pe.stimulus import FP16_CORNERS, fp16_codes
    codes = fp16_codes(np.random.default_rng(5), 20_000)
    assert set(FP16_CORNERS) <= set(codes.tolist())
    exponents = set(((codes >> 10) & 0x1F).tolist())
    assert exponents == set(range(32))            # 0: subnormals, 31: only the inf/NaN corners
    assert codes.max() <= 0xFFFF and (codes >> 15).any()
