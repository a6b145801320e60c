"""Every PE model on seeded random streams: the Trace against a cycle-by-cycle simulation of the
port protocol, and the output values against plain Python arithmetic; plus beat/offer checks."""
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from lowbit.hwsim import formats
from lowbit.hwsim.pe import (Beat, BitSerialPE, BitSerialPEConfig, Fp8MacPE, Fp8MacPEConfig, IntMacPE,
                     IntMacPEConfig, LutPE, LutPEConfig, ShiftAddPE, ShiftAddPEConfig,
                     SharedLutPE, SharedLutPEConfig, XnorPE, XnorPEConfig)
from lowbit.hwsim.pe.stimulus import random_beats, random_offers

SEED = 31337
MODELS = [
    (IntMacPE, IntMacPEConfig(lanes=8, act_bits=8, w_bits=4, acc_bits=16)),
    (IntMacPE, IntMacPEConfig(lanes=5, act_bits=3, w_bits=8, acc_bits=8, signed=False)),
    (ShiftAddPE, ShiftAddPEConfig(lanes=8, act_bits=8, weight_format="log2_5", acc_bits=20)),
    (ShiftAddPE, ShiftAddPEConfig(lanes=3, act_bits=4, weight_format="log2_3", acc_bits=6)),
    (BitSerialPE, BitSerialPEConfig(lanes=16, act_bits=8, max_weight_bits=8, bits_per_cycle=1,
                                    acc_bits=32)),
    (BitSerialPE, BitSerialPEConfig(lanes=4, act_bits=6, max_weight_bits=7, bits_per_cycle=2,
                                    acc_bits=12)),
    (LutPE, LutPEConfig(lanes=16, group_size=4, act_bits=8, max_weight_bits=4, acc_bits=32)),
    (LutPE, LutPEConfig(lanes=6, group_size=3, act_bits=5, max_weight_bits=3, acc_bits=10,
                        table="symmetric")),
    (Fp8MacPE, Fp8MacPEConfig(lanes=8, fmt="float8_e4m3fn")),
    (Fp8MacPE, Fp8MacPEConfig(lanes=4, fmt="float8_e5m2")),
    (SharedLutPE, SharedLutPEConfig(lanes=8, columns=3, group_size=4, act_bits=6,
                                    max_weight_bits=3, acc_bits=12)),
    (SharedLutPE, SharedLutPEConfig(lanes=6, columns=2, group_size=3, act_bits=8,
                                    max_weight_bits=4, acc_bits=32, table="symmetric")),
    (XnorPE, XnorPEConfig(lanes=8, acc_bits=5)),
    (XnorPE, XnorPEConfig(lanes=70, acc_bits=32)),   # more lanes than one 64-bit word
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(MODELS)]


# -- independent models of the protocol and the arithmetic --------------------------------------
def expected_occupancy(config, beat) -> int:
    """The protocol's per-PE occupancy table, written out."""
    if isinstance(config, BitSerialPEConfig):
        return -(-beat.w_bits // config.bits_per_cycle)
    if isinstance(config, LutPEConfig):
        return beat.w_bits
    return 1


def simulate_ports(beats, occupancies, offers):
    """Step the clock one cycle at a time: the driver holds beat i valid from offers[i] on, the PE
    drives in_ready high when idle; returns transfer cycles and the cycles where out_valid is 1."""
    accepts, out_valid, busy_until, i, cycle = [], [], 0, 0, 0
    while i < len(beats):
        if cycle >= offers[i] and cycle >= busy_until:  # in_valid and in_ready at this edge
            accepts.append(cycle)
            busy_until = cycle + occupancies[i]
            if beats[i].last:
                out_valid.append(busy_until - 1 + 1)  # last cycle of the beat + latency 1
            i += 1
        cycle += 1
    return accepts, out_valid


def python_lane_sum(config, beat):
    """One beat's sum with Python integers (Fractions for log weights), a tuple of the columns'
    sums for a PE with columns; FP8 is handled apart."""
    act = [int(x) for x in beat.act]
    if isinstance(config, XnorPEConfig):   # binary codes: 0 is +1, 1 is -1
        return sum((1 - 2 * a) * (1 - 2 * int(w)) for a, w in zip(act, beat.wgt))
    if isinstance(config, SharedLutPEConfig):
        return tuple(python_lane_sum(LutPEConfig(lanes=config.lanes,
                                                 group_size=config.group_size,
                                                 act_bits=config.act_bits,
                                                 max_weight_bits=config.max_weight_bits),
                                     Beat(act=beat.act, wgt=column, w_bits=beat.w_bits))
                     for column in beat.wgt)
    if isinstance(config, ShiftAddPEConfig):
        values = formats.get(config.weight_format).values()
        unit = Fraction(1, 2 ** ((1 << (config.wgt_bits - 1)) - 2))  # 2^-(fmax-1)
        total = sum(Fraction(a) * Fraction(float(values[int(c)])) for a, c in zip(act, beat.wgt))
        assert (total / unit).denominator == 1
        return int(total / unit)
    bits = beat.w_bits if config.runtime_w_bits else config.w_bits
    codes = [int(c) & ((1 << bits) - 1) for c in beat.wgt]
    signed = getattr(config, "signed", True)
    weights = [c - (1 << bits) if signed and c >> (bits - 1) else c for c in codes]
    return sum(a * w for a, w in zip(act, weights))


def python_fp8_outputs(config, beats):
    """float32 accumulation with numpy's IEEE float32 adds, products decoded by ml_dtypes."""
    dtype = getattr(ml_dtypes, config.fmt)
    outputs, acc = [], np.float32(0)
    for beat in beats:
        act = np.asarray(beat.act, np.uint8).view(dtype).astype(np.float32)
        wgt = np.asarray(beat.wgt, np.uint8).view(dtype).astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            for x, w in zip(act, wgt):
                acc = np.float32(acc + x * w)  # x * w is exact in float32 for FP8 operands
        if beat.last:
            outputs.append(0x7FC00000 if np.isnan(acc) else int(acc.view(np.uint32)))
            acc = np.float32(0)
    return outputs


def python_outputs(config, beats):
    if isinstance(config, Fp8MacPEConfig):
        return python_fp8_outputs(config, beats)
    columns = getattr(config, "columns", None)
    outputs, acc, bits = [], [0] * (columns or 1), config.acc_bits
    for beat in beats:
        lane_sum = python_lane_sum(config, beat)
        acc = [a + s for a, s in zip(acc, lane_sum if columns else [lane_sum])]
        if beat.last:
            values = [a % (1 << bits) for a in acc]
            values = [v - (1 << bits) if v >> (bits - 1) else v for v in values]
            outputs.append(tuple(values) if columns else values[0])
            acc = [0] * (columns or 1)
    return outputs


# -- tests ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(len(MODELS)), ids=IDS)
def test_random_streams_match_the_protocol_and_python_arithmetic(index):
    model_class, config = MODELS[index]
    model = model_class(config)
    for trial in range(60):
        seed = [SEED, index, trial]
        rng = np.random.default_rng(seed)
        beats = random_beats(config, rng, int(rng.integers(1, 40)))
        offers = random_offers(rng, len(beats)) if trial % 4 else None
        trace = model.run(beats, offers)
        occupancies = [expected_occupancy(config, beat) for beat in beats]
        assert [model.occupancy(beat) for beat in beats] == occupancies, f"seed {seed}"
        accepts, out_cycles = simulate_ports(beats, occupancies, offers or [0] * len(beats))
        context = f"{config} seed {seed}; rerun with np.random.default_rng({seed})"
        assert trace.accepts == accepts, context
        assert [cycle for cycle, _ in trace.outputs] == out_cycles, context
        assert trace.values == python_outputs(config, beats), context


def test_back_to_back_bitserial_timing_written_out():
    """Three beats offered at cycle 0: w_bits 3, 8, 1 at 2 bits/cycle take 2, 4, 1 cycles."""
    model = BitSerialPE(BitSerialPEConfig(lanes=1, max_weight_bits=8, bits_per_cycle=2))
    beats = [Beat(act=[3], wgt=[0b011], w_bits=3), Beat(act=[2], wgt=[0xFF], w_bits=8, last=True),
             Beat(act=[-5], wgt=[1], w_bits=1, last=True)]
    trace = model.run(beats)
    assert trace.accepts == [0, 2, 6]
    assert trace.outputs == [(6, 3 * 3 + 2 * -1), (7, -5 * -1)]


@pytest.mark.parametrize("beat,match", [
    (Beat(act=[1, 2, 3], wgt=[0, 0, 0, 0]), r"beats\[0\]\.act must have shape \(4,\)"),
    (Beat(act=[1, 2, 3, 128], wgt=[0, 0, 0, 0]), r"beats\[0\]\.act must hold int8 values"),
    (Beat(act=[0] * 4, wgt=[0, 0, 0, 16]), r"beats\[0\]\.wgt must hold 4-bit codes in 0\.\.15"),
    (Beat(act=[0] * 4, wgt=[0] * 4, w_bits=4), r"beats\[0\]\.w_bits must be None: IntMacPE"),
    ("beat", r"beats\[0\] must be a Beat, got str"),
])
def test_bad_beats_raise_naming_the_beat(beat, match):
    model = IntMacPE(IntMacPEConfig(lanes=4, w_bits=4))
    with pytest.raises(ValueError, match=match):
        model.run([beat])


def test_runtime_precision_checks():
    model = LutPE(LutPEConfig(lanes=4, max_weight_bits=4))
    for w_bits in (None, 0, 5, 2.0):
        with pytest.raises(ValueError, match=r"beats\[1\]\.w_bits must be an integer in 1\.\.4"):
            model.run([Beat(act=[0] * 4, wgt=[0] * 4, w_bits=1), Beat(act=[0] * 4, wgt=[0] * 4,
                                                                       w_bits=w_bits)])
    # Bits above w_bits are ignored: 0b1111 at w_bits=2 is 0b11 = -1.
    assert model.run([Beat(act=[1, 2, 3, 4], wgt=[0b1111] * 4, w_bits=2, last=True)]).values \
        == [-10]


def test_bad_offers_and_config():
    model = IntMacPE(IntMacPEConfig(lanes=1))
    beats = [Beat(act=[1], wgt=[1], last=True)] * 2
    for offers in ([0], [0, -1], [0, 1.5]):
        with pytest.raises(ValueError, match="offers must be 2 non-negative integer cycles"):
            model.run(beats, offers)
    with pytest.raises(ValueError, match="config must be a IntMacPEConfig, got LutPEConfig"):
        IntMacPE(LutPEConfig())


def test_a_stream_without_a_final_last_emits_only_finished_dot_products():
    model = IntMacPE(IntMacPEConfig(lanes=1))
    trace = model.run([Beat(act=[2], wgt=[3], last=True), Beat(act=[5], wgt=[5])], offers=[4, 4])
    assert trace.accepts == [4, 5] and trace.outputs == [(5, 6)]
