"""MxMacPE against an oracle written here: exact ``Fraction`` products of values decoded by
ml_dtypes, summed per block of 32 elements (blocks cut from each dot product's beats, the
closing beat's scales), each block rounded once to float32 by the ``round_fraction`` fixture and
added to a float32 accumulator by exact-sum-then-round. Seeded; the seed is in every message."""
from __future__ import annotations

import math
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from lowbit.hwsim.pe import Beat, MxMacPE, MxMacPEConfig
from lowbit.hwsim.pe.configs import MX_FORMATS
from lowbit.hwsim.pe.mx_mac import block_sum_bits, element_lsb, product_bits
from lowbit.hwsim.pe.stimulus import random_beats, random_offers

SEED = 20261207
NAN_BITS = 0x7FC00000


def _value(fmt: str, code: int):
    """A code's value decoded by ml_dtypes (FP6 / FP4 codes sit in a byte's low bits): a
    Fraction, or the float nan / +-inf."""
    value = float(np.array([code], np.uint8).view(getattr(ml_dtypes, fmt))[0])
    return value if not math.isfinite(value) else Fraction(value)


def _rounded(exact: Fraction, round_fraction) -> float:
    """float32 RNE of an exact value (+0.0 for an exact zero, the sign kept otherwise)."""
    if exact == 0:
        return 0.0
    magnitude = round_fraction(abs(exact), "float32")
    return math.copysign(math.inf if magnitude is None else float(magnitude), exact)


def _block(pairs, sa: int, sb: int, fmt: str, round_fraction) -> float:
    products = []
    for x, y in ((_value(fmt, a), _value(fmt, b)) for a, b in pairs):
        products.append(float(x) * float(y) if isinstance(x, float) or isinstance(y, float)
                        else x * y)
    if 255 in (sa, sb) or any(isinstance(p, float) and math.isnan(p) for p in products):
        return math.nan
    infs = {p for p in products if isinstance(p, float)}
    if infs:
        return math.nan if len(infs) == 2 else infs.pop()
    return _rounded(sum(products, Fraction(0)) * Fraction(2) ** (sa + sb - 254), round_fraction)


def _add(acc: float, x: float, round_fraction) -> float:
    if not (math.isfinite(acc) and math.isfinite(x)):
        return acc + x                                   # IEEE inf / NaN rules
    total = Fraction(acc) + Fraction(x)
    if total == 0:
        return -0.0 if math.copysign(1, acc) < 0 and math.copysign(1, x) < 0 else 0.0
    return _rounded(total, round_fraction)


def oracle_values(beats, config, round_fraction) -> list[int]:
    """float32 bits of every dot product of ``beats`` (the module docstring's oracle)."""
    values, dot = [], []
    for beat in beats:
        dot.append(beat)
        if not beat.last:
            continue
        acc = 0.0
        for first in range(0, len(dot), config.beats_per_block):
            block = dot[first:first + config.beats_per_block]
            pairs = [(int(a), int(b)) for beat in block for a, b in zip(beat.act, beat.wgt)]
            acc = _add(acc, _block(pairs, block[-1].act_scale, block[-1].wgt_scale, config.fmt,
                                   round_fraction), round_fraction)
        values.append(NAN_BITS if math.isnan(acc)
                      else struct.unpack(">I", struct.pack(">f", acc))[0])
        dot = []
    return values


@pytest.mark.parametrize("lanes", [4, 16, 32])
@pytest.mark.parametrize("fmt", MX_FORMATS)
def test_matches_the_fraction_oracle(fmt, lanes, round_fraction):
    config = MxMacPEConfig(lanes=lanes, fmt=fmt)
    rng = np.random.default_rng([SEED, lanes, MX_FORMATS.index(fmt)])
    beats = random_beats(config, rng, 240, last_probability=0.4)
    got = MxMacPE(config).run(beats).values
    assert got == oracle_values(beats, config, round_fraction), \
        f"seed {[SEED, lanes, MX_FORMATS.index(fmt)]}"
    assert len(got) >= 20


def _beat(config, act, wgt, last, sa=127, sb=127):
    return Beat(act=np.array(act), wgt=np.array(wgt), last=last, act_scale=sa, wgt_scale=sb)


def test_blocks_span_beats_and_take_the_closing_beats_scales():
    # lanes=16: a block is two beats; the dot of three beats is a full block and a short one.
    config = MxMacPEConfig(lanes=16, fmt="float4_e2m1fn")
    one = [0b0010] + [0] * 15                              # 1.0 in lane 0
    beats = [_beat(config, one, one, False, sa=0, sb=0),   # its scales are ignored
             _beat(config, one, one, False, sa=128, sb=127),   # closes block 0: 2 * 2^1
             _beat(config, one, one, True, sa=127, sb=125)]    # short block 1: 1 * 2^-2
    assert MxMacPE(config).run(beats).values == [int(np.float32(4.25).view(np.uint32))]


def test_one_rounding_per_block_then_float32_accumulation():
    # E5M2: 2^12 * 2^12 + 1 * 1 - 2^24 is 1 exactly in the block sum; a float32 chain of the
    # products (fp8_mac) gives 0. Across blocks float32 rounds: 2^24 + 1 -> 2^24.
    config = MxMacPEConfig(lanes=32, fmt="float8_e5m2")
    big, unit, neg = 0x6C, 0x3C, 0xEC
    block = [big, unit, neg] + [0] * 29
    wgts = [big, unit, big] + [0] * 29
    pe = MxMacPE(config)
    assert pe.run([_beat(config, block, wgts, True)]).values == \
        [int(np.float32(1).view(np.uint32))]
    two_blocks = [_beat(config, [big] + [0] * 31, [big] + [0] * 31, False),
                  _beat(config, [unit] + [0] * 31, [unit] + [0] * 31, True)]
    assert pe.run(two_blocks).values == [int(np.float32(2 ** 24).view(np.uint32))]


def test_one_beat_per_cycle_and_latency_three():
    config = MxMacPEConfig(lanes=8, fmt="float6_e3m2fn")
    rng = np.random.default_rng(SEED)
    beats = random_beats(config, rng, 50, last_probability=0.3)
    offers = random_offers(rng, len(beats))
    trace = MxMacPE(config).run(beats, offers)
    expected, free = [], 0
    for offer in offers:
        expected.append(max(offer, free))
        free = expected[-1] + 1
    assert trace.accepts == expected
    assert [cycle for cycle, _ in trace.outputs] == \
        [accept + 3 for accept, beat in zip(expected, beats) if beat.last]


@pytest.mark.parametrize("fmt, bits", [("float4_e2m1fn", 14), ("float6_e2m3fn", 18),
                                       ("float6_e3m2fn", 24), ("float8_e4m3fn", 42),
                                       ("float8_e5m2", 70)])
def test_block_sum_width_holds_32_largest_products(fmt, bits):
    assert block_sum_bits(fmt) == bits
    largest = Fraction(float(ml_dtypes.finfo(getattr(ml_dtypes, fmt)).max))
    unit = Fraction(2) ** (2 * element_lsb(fmt))
    assert 32 * largest ** 2 / unit < 2 ** (bits - 1) <= 2 * 32 * largest ** 2 / unit
    assert largest ** 2 / unit < 2 ** product_bits(fmt)


@pytest.mark.parametrize("field, value, match", [
    ("act_scale", None, r"beats\[0\]\.act_scale must be an E8M0 code in 0\.\.255, got None"),
    ("wgt_scale", 256, r"beats\[0\]\.wgt_scale must be an E8M0 code in 0\.\.255, got 256"),
    ("act", [16] + [0] * 15, r"beats\[0\]\.act must hold float4_e2m1fn codes in 0\.\.15"),
])
def test_bad_beats_raise(field, value, match):
    config = MxMacPEConfig(lanes=16, fmt="float4_e2m1fn")
    beat = _beat(config, [0] * 16, [0] * 16, True)
    fields = {"act": beat.act, "wgt": beat.wgt, "last": True, "act_scale": 127,
              "wgt_scale": 127, field: value}
    with pytest.raises(ValueError, match=match):
        MxMacPE(config).run([Beat(**fields)])


def test_config_names_allowed_values():
    with pytest.raises(ValueError, match=r"^lanes must be one of \(1, 2, 4, 8, 16, 32\), got 3$"):
        MxMacPEConfig(lanes=3)
    with pytest.raises(ValueError, match=r"^fmt must be one of .*, got 'int8'$"):
        MxMacPEConfig(fmt="int8")
    assert MxMacPEConfig(fmt="float6_e2m3fn").act_bits == 6
