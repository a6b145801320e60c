"""Fp16MacPE and Fp16BitSerialPE: beats composed from lowbit.hwsim.units.fp16, cycles by the
protocol (reduction levels after a last beat; one cycle per weight bit)."""
import numpy as np
import pytest

from lowbit.hwsim.pe import Beat
from lowbit.hwsim.pe.configs import Fp16BitSerialPEConfig, Fp16MacPEConfig
from lowbit.hwsim.pe.fp16_bit_serial import Fp16BitSerialPE
from lowbit.hwsim.pe.fp16_mac import Fp16MacPE
from lowbit.hwsim.pe.stimulus import random_beats, random_offers
from lowbit.hwsim.units import fp16
from lowbit.hwsim.units.integer import wrap

SEED = 6006


@pytest.mark.parametrize("lanes", [1, 5, 16])
def test_fp16_mac_lanes_accumulate_then_reduce_pairwise(lanes):
    config = Fp16MacPEConfig(lanes=lanes)
    rng = np.random.default_rng([SEED, lanes])
    beats = random_beats(config, rng, 300)
    expected, acc = [], np.zeros(lanes, np.uint32)
    for beat in beats:
        acc = fp16.fp16_lane_mac(acc, beat.act, beat.wgt)
        if beat.last:
            expected.append(fp16.fp32_pairwise_sum(acc))
            acc = np.zeros(lanes, np.uint32)
    trace = Fp16MacPE(config).run(beats, random_offers(rng, len(beats)))
    assert trace.values == expected, f"seed {[SEED, lanes]}"


def test_fp16_mac_last_beat_holds_the_pe_for_the_reduction_levels():
    model = Fp16MacPE(Fp16MacPEConfig(lanes=16))
    one = np.full(16, 0x3C00)
    beats = [Beat(act=one, wgt=one), Beat(act=one, wgt=one, last=True), Beat(act=one, wgt=one,
                                                                           last=True)]
    trace = model.run(beats)
    assert trace.accepts == [0, 1, 6]           # 1 + log2(16) cycles for a last beat
    assert trace.outputs == [(6, 0x42000000), (11, 0x41800000)]   # 32.0, then 16.0


def test_fp16_bit_serial_accumulates_exactly_and_rounds_once_per_dot_product():
    config = Fp16BitSerialPEConfig(lanes=8, fixed_bits=56)
    rng = np.random.default_rng(SEED)
    beats = random_beats(config, rng, 400)
    expected, total, flags = [], 0, 0
    for beat in beats:
        low_bits = np.asarray(beat.wgt) & ((1 << beat.w_bits) - 1)   # bits above are ignored
        part, part_flags = fp16.fp16_weight_beat(beat.act, low_bits, beat.w_bits,
                                                 beat.w_format)
        total, flags = wrap(total + part, 56), flags | part_flags
        if beat.last:
            expected.append(fp16.fixed_to_float32(total, flags))
            total, flags = 0, 0
    model = Fp16BitSerialPE(config)
    offers = random_offers(rng, len(beats))
    trace = model.run(beats, offers)
    assert trace.values == expected, f"seed {SEED}"
    checked = [model.check_beat(beat) for beat in beats]
    occupancy = [fp16.weight_cycles(beat.w_format, beat.w_bits) for beat in checked]
    assert {beat.w_format for beat in checked} == set(fp16.WEIGHT_FORMATS)
    assert all(b - a >= c for a, b, c in zip(trace.accepts, trace.accepts[1:], occupancy))


def test_fp16_bit_serial_sums_across_beats_without_intermediate_rounding():
    # 2048 * 127 + 2^-10 - 2048 * 127 = 2^-10 exactly; a float32 running sum would round
    # 260096 + 2^-10 to 260096 and return 0.
    model = Fp16BitSerialPE(Fp16BitSerialPEConfig(lanes=1))
    big, tiny, neg_big = 0x6800, 0x1400, 0xE800          # 2048, 2^-10, -2048
    beats = [Beat(act=[big], wgt=[127], w_bits=8), Beat(act=[tiny], wgt=[1], w_bits=8),
             Beat(act=[neg_big], wgt=[127], w_bits=8, last=True)]
    assert model.run(beats).values == [0x3A800000]        # 2^-10


def test_fp16_bit_serial_takes_its_weight_format_per_beat():
    model = Fp16BitSerialPE(Fp16BitSerialPEConfig(lanes=2))
    one = [0x3C00, 0x3C00]
    beats = [Beat(act=one, wgt=[0xF, 0x1], w_bits=4, w_format="uint"),          # 15 + 1
             Beat(act=one, wgt=[0xF, 0x1], w_bits=4),                            # -1 + 1
             Beat(act=one, wgt=[0x7, 0x9], w_bits=4, w_format="float4_e2m1fn",   # 6 - 0.5
                  last=True)]
    trace = model.run(beats)
    assert trace.accepts == [0, 4, 8]                   # 4 planes, 4 planes, 2 for FP4
    assert trace.values == [0x41AC0000]                 # 16 + 0 + 5.5 = 21.5
    with pytest.raises(ValueError, match=r"beats\[0\].w_format must be one of"):
        model.run([Beat(act=one, wgt=[0, 0], w_bits=4, w_format="log2_4", last=True)])


def test_configs_name_the_field_and_the_range():
    with pytest.raises(ValueError, match="fixed_bits must be an integer in 48..64"):
        Fp16BitSerialPEConfig(fixed_bits=40)
    with pytest.raises(ValueError, match="lanes must be an integer in 1..256"):
        Fp16MacPEConfig(lanes=0)
