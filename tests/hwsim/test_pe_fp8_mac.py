"""Fp8MacPE: lane products added lane 0 .. lanes-1 by lowbit.hwsim.units.fp8.fp8_mac."""
import numpy as np

from lowbit.hwsim.pe import Beat, Fp8MacPE, Fp8MacPEConfig
from lowbit.hwsim.pe.stimulus import random_beats
from lowbit.hwsim.units.fp8 import fp8_mac

SEED = 5005


def test_beats_chain_through_the_fp8_mac_unit():
    for fmt in ("float8_e4m3fn", "float8_e5m2"):
        config = Fp8MacPEConfig(lanes=8, fmt=fmt)
        beats = random_beats(config, np.random.default_rng([SEED, len(fmt)]), 300)
        expected, acc = [], np.float32(0)
        for beat in beats:
            acc = fp8_mac(beat.act, beat.wgt, fmt, fmt, acc=acc).view(np.float32)
            if beat.last:
                expected.append(int(acc.view(np.uint32)))
                acc = np.float32(0)
        assert Fp8MacPE(config).run(beats).values == expected, f"seed {[SEED, len(fmt)]}"


def test_lane_order_is_sequential():
    # E5M2: 0x6C is 4096 = 2^12, 0x3C is 1.0, 0xEC is -4096. Lane by lane, 2^24 + 1 ties to even
    # 2^24 in float32, so the sum is 0; any other order (or a wider accumulator) would give 1.
    config = Fp8MacPEConfig(lanes=3, fmt="float8_e5m2")
    beat = Beat(act=[0x6C, 0x3C, 0xEC], wgt=[0x6C, 0x3C, 0x6C], last=True)
    assert Fp8MacPE(config).run([beat]).values == [0]
    reversed_beat = Beat(act=[0xEC, 0x3C, 0x6C], wgt=[0x6C, 0x3C, 0x6C], last=True)
    assert Fp8MacPE(config).run([reversed_beat]).values == [int(np.float32(1).view(np.uint32))]
