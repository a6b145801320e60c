"""Stimulus, hwsim expectations and the comparison, per design: everything of a verification
job that runs *outside* the simulator.

A :class:`Bench` holds the job the testbench drives (JSON) and a ``compare(observed)`` that
checks what the design did against hwsim, bit for bit and (for the PEs) cycle for cycle:
  fp8_mul        exhaustive: all 65,536 operand pairs, both outputs (exact float32, rounded FP8)
                 vs lowbit.hwsim.units.fp8.fp8_mul_exact / fp8_mul
  int_mac        exhaustive: every operand pair (all 65,536 for 8x8) in shuffled order through
                 the accumulator with random clears and idle cycles; operands with <= 256 pairs
                 (4x4) take 16 such passes, to reach many accumulator states and overflows;
                 vs lowbit.hwsim.units.integer.int_mac after every cycle
  xnor_popcount  n <= 8: every pair of vectors; wider: corners + random pairs;
                 vs lowbit.hwsim.units.binary.xnor_dot
  fp8_mac        random dot products of 1..12 products (15% corner codes: zeros, smallest
                 subnormal, one, max, NaN, inf; 10% exact cancellations; 20% start with a
                 clear-only cycle, 10% of products are followed by an idle cycle with random
                 operands) vs lowbit.hwsim.units.fp8.fp8_mac, the accumulator compared every cycle
  mx_mac_pe      first every element pair (one-beat dots at unit scales, NaN/inf pairs alone)
                 and every scale-exponent sum (lowbit.rtl.verify.benches._exhaustive_mx_stream),
                 then the random streams below (corner codes and scales, NaN/inf, short blocks)
  PEs            lowbit.hwsim.pe.stimulus streams (random activations, weight codes with garbage above
                 w_bits, random per-beat w_bits, random dot-product lengths, random offers and
                 bubbles) vs the lowbit.hwsim.pe model's Trace: every transfer cycle, every output
                 cycle and value (every column's, for a PE with columns). One vector = one dot
                 product. Before the random dots: ShiftAddPE every (code, activation) pair in
                 every lane; XnorPE with lanes <= 8 every (act, wgt) beat (<= 2^16);
                 SharedLutPE corner beats (every lane at the activation min, max or 0 against
                 every column at the weight min, -1, 0 or max, at every w_bits, in one-beat
                 dots). The FP16 PEs take float16 codes (stimulus.fp16_codes: corners, values
                 near 1, the whole range); like the FP8 and MX PEs they emit float32 bits,
                 compared unsigned.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lowbit.hwsim.pe.configs import ShiftAddPEConfig, SharedLutPEConfig, XnorPEConfig
from lowbit.hwsim.pe.protocol import columns
from lowbit.hwsim.units.integer import wrap

MAX_REPORTED = 5
EXHAUSTIVE_MAC_PASSES = 16      # IntMac passes over every pair when there are <= 256 pairs
MAX_MAC_LENGTH = 12
PE_TAIL_CYCLES = 4     # cycles simulated after the last expected output, to catch extra ones
LAST_PROBABILITY = 0.5  # dot products of 1, 2, 3, ... beats (geometric): 2 beats on average
MAC_IDLE_PROBABILITY = 0.1         # Fp8Mac: an idle cycle (en=0) after a product
MAC_CLEAR_ONLY_PROBABILITY = 0.2   # Fp8Mac: a dot starts with a clear-only cycle (en=0)


@dataclass
class Tally:
    """Counts checked vectors and mismatches; keeps the first few mismatches in full."""
    vectors: int = 0
    mismatches: int = 0
    failures: list = field(default_factory=list)

    def check(self, index: int, vector, expected, got) -> bool:
        """Count vector ``index``; keep it when ``expected != got``; return whether it matched."""
        self.vectors += 1
        if expected == got:
            return True
        self.mismatches += 1
        if len(self.failures) < MAX_REPORTED:
            self.failures.append({"vector": index, "input": vector, "expected": expected,
                                  "got": got})
        return False


@dataclass
class Bench:
    """job: what the testbench drives (JSON-able); compare: observed -> Tally; trace: the
    hwsim PE model's Trace (PE benches only)."""
    job: dict
    compare: Callable[[dict], Tally]
    trace: object = None


def make_bench(design_name: str, config, *, seed: int, vectors: int,
               limit: int | None = None) -> Bench:
    """The bench of one design config. ``vectors``: random vectors (ignored by exhaustive
    benches); ``limit``: keep only the first ``limit`` vectors (waveform reruns)."""
    rng = np.random.default_rng(seed)
    if design_name in _UNIT_BENCHES:
        return _UNIT_BENCHES[design_name](config, rng, vectors, limit)
    return _pe_bench(config, rng, vectors, limit)


def _cut(items: list, limit: int | None) -> list:
    return items if limit is None else items[:limit]


def _signed(value: int | None, bits: int) -> int | None:
    """An unsigned bus value read back as two's complement; None (no output) stays None."""
    return None if value is None else wrap(value, bits)


def _hex(value: int | None) -> str | None:
    return None if value is None else hex(value)


def _rows(observed: dict, count: int, ports: int) -> list:
    """The observed output rows padded with rows of None up to ``count``: a simulation that
    stopped early must count its missing vectors as mismatches, not silently drop them."""
    rows = observed["outputs"]
    return rows + [[None] * ports] * (count - len(rows))


def _unit_job(widths: dict, inputs: list, outputs: list, clocked: bool, vectors: list) -> dict:
    return {"widths": widths, "inputs": inputs, "outputs": outputs, "clocked": clocked,
            "vectors": vectors}


# -- arithmetic units ---------------------------------------------------------------------------
def _fp8_mul_bench(config, rng, vectors, limit) -> Bench:
    from lowbit.hwsim.units.fp8 import fp8_mul, fp8_mul_exact

    a = np.repeat(np.arange(256), 256)
    b = np.tile(np.arange(256), 256)
    exact = fp8_mul_exact(a, b, config.fmt, config.fmt).tolist()
    rounded = fp8_mul(a, b, config.fmt, config.saturate).tolist()
    pairs = _cut(np.stack([a, b], axis=1).tolist(), limit)

    def compare(observed: dict) -> Tally:
        tally = Tally()
        rows = _rows(observed, len(pairs), 2)
        for i, ((x, y), (got_exact, got_prod)) in enumerate(zip(pairs, rows)):
            tally.check(i, {"a": hex(x), "b": hex(y)},
                        {"exact": hex(exact[i]), "prod": hex(rounded[i])},
                        {"exact": _hex(got_exact), "prod": _hex(got_prod)})
        return tally
    return Bench(_unit_job({"a": 8, "b": 8, "exact": 32, "prod": 8}, ["a", "b"],
                           ["exact", "prod"], False, pairs), compare)


def _int_values(bits: int, signed: bool) -> np.ndarray:
    return np.arange(-(1 << (bits - 1)), 1 << (bits - 1)) if signed else np.arange(1 << bits)


def _int_mac_bench(config, rng, vectors, limit) -> Bench:
    from lowbit.hwsim.units.integer import int_mac

    # Operands are at most 8 bits (IntMacConfig), so every pair fits the 2^16 exhaustive rule.
    a_vals = _int_values(config.a_bits, config.a_signed)
    b_vals = _int_values(config.b_bits, config.b_signed)
    pairs = np.stack(np.meshgrid(a_vals, b_vals, indexing="ij"), axis=-1).reshape(-1, 2)
    passes = EXHAUSTIVE_MAC_PASSES if len(pairs) <= 256 else 1
    order = np.concatenate([rng.permutation(len(pairs)) for _ in range(passes)])
    a, b = pairs[order, 0].tolist(), pairs[order, 1].tolist()
    en = (rng.random(len(a)) < 0.9).tolist()
    clear = (rng.random(len(a)) < 0.05).tolist()
    kwargs = dict(a_bits=config.a_bits, b_bits=config.b_bits, a_signed=config.a_signed,
                  b_signed=config.b_signed, acc_bits=config.acc_bits, overflow=config.overflow)
    expected, acc = [], 0
    for x, y, e, c in zip(a, b, en, clear):
        if e:
            acc = int_mac(0 if c else acc, x, y, **kwargs)
        elif c:
            acc = 0
        expected.append(acc)
    a_mask, b_mask = (1 << config.a_bits) - 1, (1 << config.b_bits) - 1
    cycles = _cut([[x & a_mask, y & b_mask, int(e), int(c)]
                   for x, y, e, c in zip(a, b, en, clear)], limit)

    def compare(observed: dict) -> Tally:
        tally = Tally()
        rows = _rows(observed, len(cycles), 1)
        for i, ((got,), x, y, e, c) in enumerate(zip(rows, a, b, en, clear)):
            tally.check(i, {"a": x, "b": y, "en": e, "clear": c}, expected[i],
                        _signed(got, config.acc_bits))
        return tally
    widths = {"a": config.a_bits, "b": config.b_bits, "acc": config.acc_bits}
    return Bench(_unit_job(widths, ["a", "b", "en", "clear"], ["acc"], True, cycles), compare)


def _words(x: int, n: int) -> list[int]:
    """An n-bit Python int as little-endian uint64 words (lowbit.hwsim.units.binary packing)."""
    return [(x >> (64 * k)) & ((1 << 64) - 1) for k in range(-(-n // 64))]


def _xnor_bench(config, rng, vectors, limit) -> Bench:
    from lowbit.hwsim.units.binary import xnor_dot

    n = config.n
    full = (1 << n) - 1
    if n <= 8:
        pairs = [(x, y) for x in range(1 << n) for y in range(1 << n)]
    else:
        alternating = int("01" * (n // 2 + 1), 2) & full
        pairs = [(0, 0), (full, full), (0, full), (full, 0), (alternating, alternating),
                 (alternating, full ^ alternating)]
        nbytes = -(-n // 8)
        pairs += [(int.from_bytes(rng.bytes(nbytes), "little") & full,
                   int.from_bytes(rng.bytes(nbytes), "little") & full) for _ in range(vectors)]
    pairs = _cut(pairs, limit)
    words = np.array([_words(x, n) + _words(y, n) for x, y in pairs], dtype=np.uint64)
    half = words.shape[1] // 2
    expected = xnor_dot(words[:, :half], words[:, half:], n).tolist()
    out_bits = n.bit_length() + 1

    def compare(observed: dict) -> Tally:
        tally = Tally()
        for i, ((x, y), (got,)) in enumerate(zip(pairs, _rows(observed, len(pairs), 1))):
            tally.check(i, {"a": hex(x), "b": hex(y)}, expected[i], _signed(got, out_bits))
        return tally
    return Bench(_unit_job({"a": n, "b": n, "dot": out_bits}, ["a", "b"], ["dot"], False,
                           [list(p) for p in pairs]), compare)


# Codes worth hitting far more often than uniform sampling would: zeros, smallest subnormal,
# one, max, and the NaN / inf codes of each format.
FP8_CORNERS = {
    "float8_e4m3fn": [0x00, 0x80, 0x01, 0x81, 0x38, 0xB8, 0x7E, 0xFE, 0x7F, 0xFF, 0x08, 0x88],
    "float8_e5m2": [0x00, 0x80, 0x01, 0x81, 0x3C, 0xBC, 0x7B, 0xFB, 0x7C, 0xFC, 0x7D, 0xFF],
}


def _fp8_codes(rng, fmt: str, shape) -> np.ndarray:
    codes = rng.integers(0, 256, shape)
    corner = rng.random(shape) < 0.15
    codes[corner] = rng.choice(FP8_CORNERS[fmt], int(corner.sum()))
    return codes


def _fp8_mac_bench(config, rng, vectors, limit) -> Bench:
    from lowbit.hwsim.units.fp8 import fp8_mac

    fa, fb = config.fmt_a, config.fmt_b
    a = _fp8_codes(rng, fa, (vectors, MAX_MAC_LENGTH))
    b = _fp8_codes(rng, fb, (vectors, MAX_MAC_LENGTH))
    cancel = rng.random(vectors) < 0.1      # product 1 = -(product 0): an exact zero sum
    a[cancel, 1], b[cancel, 1] = a[cancel, 0] ^ 0x80, b[cancel, 0]
    lengths = rng.integers(1, MAX_MAC_LENGTH, vectors, endpoint=True).tolist()
    # expected[d, i]: the accumulator after product i of dot d (all dots stepped together)
    expected = np.empty((vectors, MAX_MAC_LENGTH), np.uint32)
    acc = np.zeros(vectors, np.float32)
    for i in range(MAX_MAC_LENGTH):
        expected[:, i] = fp8_mac(a[:, i:i + 1], b[:, i:i + 1], fa, fb, acc=acc)
        acc = expected[:, i].view(np.float32)
    control = _mac_control(rng, vectors)
    dots = range(vectors if limit is None else min(vectors, limit))
    per_dot = [_mac_dot_cycles(a[d, :lengths[d]].tolist(), b[d, :lengths[d]].tolist(),
                               expected[d, :lengths[d]].tolist(),
                               {key: value[d] for key, value in control.items()})
               for d in dots]

    def compare(observed: dict) -> Tally:
        tally, got = Tally(), iter(observed["outputs"])
        for d, (cycles, want) in zip(dots, per_dot):
            steps = [next(got, [None])[0] for _ in cycles]
            tally.check(d, {"cycles [a, b, en, clear]": [[hex(x), hex(y), e, c]
                                                         for x, y, e, c in cycles]},
                        [hex(x) for x in want], [_hex(x) for x in steps])
        return tally
    return Bench(_unit_job({"a": 8, "b": 8, "acc": 32}, ["a", "b", "en", "clear"], ["acc"],
                           True, [cycle for cycles, _ in per_dot for cycle in cycles]), compare)


def _mac_control(rng, dots: int) -> dict:
    """Per dot product: whether it starts with a clear-only cycle, whether its first product
    then clears again, and which products are followed by an idle cycle (en=0, random
    operands that must not be accumulated)."""
    return {"clear_only": rng.random(dots) < MAC_CLEAR_ONLY_PROBABILITY,
            "clear_again": rng.random(dots) < 0.5,
            "idle_after": rng.random((dots, MAX_MAC_LENGTH)) < MAC_IDLE_PROBABILITY,
            "idle_operands": rng.integers(0, 256, (dots, MAX_MAC_LENGTH + 1, 2))}


def _mac_dot_cycles(a: list, b: list, want: list, control: dict) -> tuple[list, list]:
    """The cycles [a, b, en, clear] of one dot product and the accumulator after each.
    A clear-only cycle (en=0, clear=1) leaves +0.0, so the first product may then clear or
    not; without one, the first product clears (the previous dot's sum is still there)."""
    cycles, after = [], []
    garbage = control["idle_operands"].tolist()
    if control["clear_only"]:
        cycles.append([*garbage[-1], 0, 1])
        after.append(0)
    first_clears = not control["clear_only"] or control["clear_again"]
    for i, (x, y, acc) in enumerate(zip(a, b, want)):
        cycles.append([x, y, 1, int(i == 0 and first_clears)])
        after.append(acc)
        if control["idle_after"][i]:
            cycles.append([*garbage[i], 0, 0])
            after.append(acc)
    return cycles, after


_UNIT_BENCHES = {"fp8_mul": _fp8_mul_bench, "int_mac": _int_mac_bench,
                 "xnor_popcount": _xnor_bench, "fp8_mac": _fp8_mac_bench}


# -- processing elements ------------------------------------------------------------------------
def _pe_model(config):
    """The hwsim model of the PE kind whose config class ``config`` is (lowbit.hwsim.pe.kinds)."""
    from lowbit.hwsim.pe import kinds

    return kinds.for_config(config).model(config)


def _random_stream(config, rng, dots: int):
    """lowbit.hwsim.pe.stimulus beats cut after the ``dots``-th last beat, and their offers."""
    from lowbit.hwsim.pe.stimulus import random_beats, random_offers

    beats = random_beats(config, rng, int(dots / LAST_PROBABILITY) + 64, LAST_PROBABILITY)
    while sum(beat.last for beat in beats) < dots:
        beats += random_beats(config, rng, dots, LAST_PROBABILITY)
    ends = [i for i, beat in enumerate(beats) if beat.last]
    beats = beats[:ends[dots - 1] + 1]
    return beats, random_offers(rng, len(beats))


def _pack(values, bits: int) -> int:
    """Lane values (two's complement or codes) packed lane i at bits [i*bits, (i+1)*bits)."""
    mask = (1 << bits) - 1
    return sum((int(v) & mask) << (i * bits) for i, v in enumerate(values))


def _exhaustive_log_stream(config):
    """ShiftAddPE: every log code x every activation in every lane, one beat per dot product,
    offered back to back. Lane l of beat i carries pair (i + l * stride) mod n_pairs, so each
    beat mixes unrelated pairs and every lane sees every pair exactly once."""
    from lowbit.hwsim.pe.protocol import Beat

    acts = np.arange(-(1 << (config.act_bits - 1)), 1 << (config.act_bits - 1))
    codes = np.arange(1 << config.wgt_bits)
    n_pairs = len(acts) * len(codes)
    stride = n_pairs // config.lanes + 1
    beats = []
    for i in range(n_pairs):
        pair = (i + stride * np.arange(config.lanes)) % n_pairs
        beats.append(Beat(act=acts[pair % len(acts)], wgt=codes[pair // len(acts)], last=True))
    return beats, list(range(n_pairs))


MX_UNIT_SCALE = 127   # E8M0 2^0


def _exhaustive_mx_stream(config, rng):
    """MxMacPE: every element pair (act code, weight code) of ``fmt`` once, then every scale.

    Pairs in (act, weight) code order fill the lanes of one-beat dot products at unit scales,
    so a beat holds one activation times ``lanes`` consecutive weight codes: products within a
    few binades, whose exact sum float32 holds, so every product shows in the output. A pair
    with a NaN or inf operand is moved to a beat of its own (its other lanes +0), where it
    cannot hide the others. Then one beat of random codes per scale-exponent sum sa + sb =
    0 .. 508 (the arithmetic depends on the scales only through it) and per NaN scale side."""
    from lowbit.hwsim import formats
    from lowbit.hwsim.pe.protocol import Beat
    from lowbit.hwsim.pe.stimulus import random_beats

    f = formats.get(config.fmt)
    codes = np.arange(1 << f.bits)
    special = ~np.isfinite(f.values())
    act, wgt = np.repeat(codes, len(codes)), np.tile(codes, len(codes))
    odd = special[act] | special[wgt]
    lanes, unit = config.lanes, {"act_scale": MX_UNIT_SCALE, "wgt_scale": MX_UNIT_SCALE}
    beats = [Beat(act=np.where(odd[i:i + lanes], 0, act[i:i + lanes]),
                  wgt=np.where(odd[i:i + lanes], 0, wgt[i:i + lanes]), last=True, **unit)
             for i in range(0, len(act), lanes)]
    for i in np.flatnonzero(odd):
        lone = np.zeros((2, lanes), np.int64)
        lone[:, i % lanes] = act[i], wgt[i]
        beats.append(Beat(act=lone[0], wgt=lone[1], last=True, **unit))
    scale_pairs = [(min(s, 254), s - min(s, 254)) for s in range(509)]
    scale_pairs += [(255, MX_UNIT_SCALE), (MX_UNIT_SCALE, 255), (255, 255)]
    for (sa, sb), beat in zip(scale_pairs, random_beats(config, rng, len(scale_pairs))):
        beats.append(Beat(act=beat.act, wgt=beat.wgt, last=True, act_scale=sa, wgt_scale=sb))
    return beats, list(range(len(beats)))


XNOR_EXHAUSTIVE_LANES = 8      # every (act, wgt) beat of <= 8 lanes: <= 2^16 beats


def _exhaustive_xnor_stream(config):
    """XnorPE with lanes <= XNOR_EXHAUSTIVE_LANES: every (act, wgt) pair of lane codes as a
    one-beat dot product, offered back to back."""
    from lowbit.hwsim.pe.protocol import Beat

    lanes = config.lanes
    bits = (np.arange(1 << lanes)[:, None] >> np.arange(lanes)) & 1   # code word -> lane bits
    beats = [Beat(act=bits[a], wgt=bits[w], last=True)
             for a in range(1 << lanes) for w in range(1 << lanes)]
    return beats, [0] * len(beats)


def _corner_lut_stream(config):
    """SharedLutPE corners: every lane's activation at the minimum, maximum or zero against
    every column's codes at the weight minimum, -1, 0 and maximum (one value per column), at
    every w_bits, each a one-beat dot product offered back to back."""
    from lowbit.hwsim.pe.protocol import Beat

    a_lo, a_hi = -(1 << (config.act_bits - 1)), (1 << (config.act_bits - 1)) - 1
    beats = []
    for w_bits in range(1, config.max_weight_bits + 1):
        # codes of w_bits-bit two's complement: min, -1, 0, max (the top code bits garbage-free)
        corners = [1 << (w_bits - 1), (1 << w_bits) - 1, 0, (1 << (w_bits - 1)) - 1]
        for act in (a_lo, a_hi, 0):
            for shift in range(len(corners)):   # each column meets each corner code
                codes = [corners[(c + shift) % len(corners)] for c in range(config.columns)]
                wgt = np.repeat(np.array(codes)[:, None], config.lanes, axis=1)
                beats.append(Beat(act=np.full(config.lanes, act), wgt=wgt, last=True,
                                  w_bits=w_bits))
    return beats, [0] * len(beats)


_EXHAUSTIVE_STREAMS = {ShiftAddPEConfig: _exhaustive_log_stream,
                       XnorPEConfig: _exhaustive_xnor_stream,
                       SharedLutPEConfig: _corner_lut_stream}


def _pe_stream(config, rng, vectors):
    """The PE's stimulus: its exhaustive or corner stream first (module docstring; MxMacPE:
    every element pair and scale sum), then random dots."""
    beats, offers = _random_stream(config, rng, vectors)
    if getattr(config, "block_scales", False):
        exhaustive, exhaustive_offers = _exhaustive_mx_stream(config, rng)
    else:
        first = _EXHAUSTIVE_STREAMS.get(type(config))
        if first is None or (isinstance(config, XnorPEConfig)
                             and config.lanes > XNOR_EXHAUSTIVE_LANES):
            return beats, offers
        exhaustive, exhaustive_offers = first(config)
    start = exhaustive_offers[-1] + 1
    return exhaustive + beats, exhaustive_offers + [start + t for t in offers]


def _pe_bench(config, rng, vectors, limit) -> Bench:
    beats, offers = _pe_stream(config, rng, vectors)
    ends = [i for i, beat in enumerate(beats) if beat.last]
    if limit is not None and limit < len(ends):
        beats, offers = beats[:ends[limit - 1] + 1], offers[:ends[limit - 1] + 1]
    trace = _pe_model(config).run(beats, offers)
    members_of_dot = [[]]
    for i, beat in enumerate(beats):
        members_of_dot[-1].append(i)
        if beat.last:
            members_of_dot.append([])
    n_columns = columns(config)
    widths = {"in_act": config.lanes * config.act_bits,
              "in_wgt": n_columns * config.lanes * config.wgt_bits,
              "out_data": n_columns * config.acc_bits}
    if config.runtime_w_bits:
        widths["in_wbits"] = 4
    runtime_w_format = getattr(config, "runtime_w_format", False)
    if runtime_w_format:
        widths["in_wfmt"] = 3
    scaled = getattr(config, "block_scales", False)
    if scaled:
        widths["in_act_scale"] = widths["in_wgt_scale"] = config.scale_bits
    job = {"widths": widths,
           "beats": [[_pack(beat.act, config.act_bits),
                      _pack(np.ravel(beat.wgt), config.wgt_bits),
                      int(beat.last), beat.w_bits or 0]
                     + ([_format_code(beat.w_format)] if runtime_w_format else [])
                     + ([beat.act_scale, beat.wgt_scale] if scaled else []) for beat in beats],
           "offers": [int(t) for t in offers],
           "stop_cycle": trace.outputs[-1][0] + PE_TAIL_CYCLES}

    def compare(observed: dict) -> Tally:
        tally = Tally()
        got_outputs = [(cycle, _columns_of(value, config))
                       for cycle, value in observed["outputs"]]
        for d, (want_cycle, want_value) in enumerate(trace.outputs):
            members = members_of_dot[d]
            got_accepts = [observed["accepts"][i] if i < len(observed["accepts"]) else None
                           for i in members]
            got = got_outputs[d] if d < len(got_outputs) else None
            tally.check(d, {"beats": [_beat_dict(beats[i]) for i in members],
                            "offers": [offers[i] for i in members]},
                        {"accepts": [trace.accepts[i] for i in members],
                         "output": [want_cycle, want_value]},
                        {"accepts": got_accepts, "output": None if got is None else list(got)})
        for extra in got_outputs[len(trace.outputs):]:   # outputs no beat asked for
            tally.vectors -= 1
            tally.check(len(trace.outputs), "no beat", {"output": None}, {"output": list(extra)})
        return tally
    return Bench(job, compare, trace)


def _columns_of(out_data: int, config):
    """out_data read back as the model's output value: one acc_bits two's complement value, or
    the tuple of the columns' values (protocol "Columns"); the float PEs (FP8 and MX: a ``fmt``
    field; FP16: float16 activations) emit float32 bit patterns, unsigned like their models'."""
    if hasattr(config, "fmt") or config.act_bits == 16:
        return out_data
    if columns(config) == 1:
        return wrap(out_data, config.acc_bits)
    mask = (1 << config.acc_bits) - 1
    return tuple(wrap(out_data >> (c * config.acc_bits) & mask, config.acc_bits)
                 for c in range(columns(config)))


def _beat_dict(beat) -> dict:
    scales = {} if beat.act_scale is None else {"act_scale": beat.act_scale,
                                                 "wgt_scale": beat.wgt_scale}
    return {"act": beat.act.tolist(), "wgt": beat.wgt.tolist(), "last": bool(beat.last),
            "w_bits": beat.w_bits, "w_format": beat.w_format, **scales}


def _format_code(w_format: str | None) -> int:
    """The in_wfmt value of a runtime weight format (None: "int", code 0)."""
    from lowbit.hwsim.units.fp16 import WEIGHT_FORMATS
    return WEIGHT_FORMATS.index(w_format or "int")
