"""Which processing element runs which scheme, and how many cycles a GEMM takes on an array of
them, from the hwsim PE cycle models (lowbit.hwsim.pe).

Mapping a scheme onto a PE. A PE consumes codes of its *native* formats (its row in
lowbit.hwsim.pe.kinds lists them and builds the config it is costed in): the integer PEs
(int_mac, bit_serial, lut) take two's-complement intN weights and intN activations, shift_add
takes log2_3/4/5 weights and intN activations, fp8_mac takes float8_e4m3fn or float8_e5m2 for
both operands, mx_mac the MX element formats (float4_e2m1fn, float6_e2m3fn, float6_e3m2fn,
float8_e4m3fn, float8_e5m2) for both, xnor binary weights and binary activations, fp16_mac
float16 for both, fp16_bit_serial intN/uintN weights and float16 activations (an IEEE format
runs only on a PE that names it, and a PE's IEEE native format takes no other format: int8 codes
would fit float16, but that is not what the FP16 PEs are costed for). A scheme runs on a PE when
every value of its weight (activation) format is a value of some native format; the narrowest
such native format is used and the codes are re-encoded losslessly (e.g. binary ±1 -> int2,
float4_e2m1fn -> float8_e4m3fn, the uint2 codes of an asymmetric int2 scheme -> int3). Binary
weights with integer activations therefore pay for 2-bit integer weights on the integer PEs;
only binary x binary runs on xnor. An asymmetric scheme's zero-point correction (z * sum of the
activations, once per dot product) runs outside the PE and is not counted.

Mapping a GEMM onto the array. Each PE computes one dot product at a time over beats of
``lanes`` elements; ``array`` PEs work on different outputs concurrently. Scales are applied
outside the PE, so the PE's dot product runs over one scale group: K for per-tensor and
per-channel weights, ``group_size`` for grouped weights, 32 for MX (K for MX on mx_mac, which
applies the E8M0 block scales inside its datapath and accumulates the blocks in float32). A GEMM of M x K x N is
M * N * floor(K / dot_len) dot products of ceil(dot_len / lanes) beats each, issued in
ceil(dots / array) rounds. A PE with ``columns`` (shared_lut: one table build serves that many
output columns, lowbit.hwsim.pe.protocol "Columns") computes the dot products of a block of
``columns`` outputs at once, so the rounds count column blocks, M * ceil(N / columns) *
floor(K / dot_len) of them (a last, partial block runs its idle columns too). When dot_len
does not divide K (ResNet's stem, K = 147, in groups of 128 or MX blocks of 32) each output
adds one shorter dot product over the last K mod dot_len elements, of fewer beats, issued in rounds of its own (dot_segments). Dot products stream back
to back (a beat may follow a last beat at once, protocol.py), so one round of a dot product
takes the sum of its beats' occupancies and the whole GEMM takes rounds * beats * occupancy
cycles plus the output latency of the final beat (1 cycle; 3 for mx_mac's pipeline).

fp8_mac timing (a stated choice). hwsim's Fp8MacPE adds a beat's ``lanes`` products to one fp32
accumulator in a chain within its one-cycle occupancy: lanes dependent fp32 additions in one
cycle, which cannot close at the shared CLOCK_HZ (one fp32 addition per cycle is already the
assumption every other PE's single-cycle accumulator makes). The cost model therefore costs the
FP8 PE as ``lanes`` independent MAC lanes: each lane multiplies and adds one product into its own
fp32 accumulator per cycle (occupancy 1, as hwsim), and after a dot product's last beat the lane
sums are reduced pairwise by the lane adders in ceil(log2(lanes used)) more cycles, lanes used
= min(lanes, dot product length), which do not overlap the next dot product (reduction_cycles).
The lane order of the additions differs from hwsim's chain, so the values are not hwsim's; the
cycle count is this stated model's.

fp16_mac timing. hwsim's Fp16MacPE *is* that lane design: one-cycle beats, and a last beat holds
the PE for 1 + ceil(log2(lanes)) cycles while the lane adders reduce. beat_occupancy asks hwsim
for a beat without last (1) and reduces_lanes adds reduction_cycles(min(lanes, length)), which
is hwsim's count for every dot product of at least ``lanes`` elements; a shorter one (fewer
elements than lanes) is costed fewer reduction levels than the hardware takes.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from lowbit.hwsim import formats
from lowbit.hwsim.pe import kinds, protocol
from lowbit.hwsim.quant import ieee
from lowbit.hwsim.units.fp16 import runtime_weight_format


class NotApplicable(Exception):
    """This scheme's codes cannot run on this PE kind."""


@dataclass(frozen=True)
class Mapping:
    """A scheme mapped onto a PE kind: the native formats its codes are re-encoded to, and the
    integer accumulator width when it is not the PE config's default (an accumulator sweep)."""
    pe: str
    weight_format: str
    act_format: str
    acc_bits: int | None = None

    @property
    def w_bits(self) -> int:
        return format_bits(self.weight_format)

    @property
    def act_bits(self) -> int:
        return format_bits(self.act_format)


def format_bits(name: str) -> int:
    """Bits of a code of element format ``name`` or IEEE format (float16, bfloat16, float32)."""
    if name in ieee.IEEE_FORMATS:
        return ieee.FIELDS[name][0]
    return formats.get(name).bits


def _value_set(name: str) -> set[float]:
    values = formats.get(name).values()
    return set(values[~np.isnan(values)].tolist())


def _narrowest_native(name: str, natives: tuple[str, ...]) -> str | None:
    """The first native format (narrowest first) holding every value of format ``name``."""
    if name in ieee.IEEE_FORMATS:    # IEEE (float16 ...): only a PE taking that very format
        return name if name in natives else None
    values = _value_set(name)
    for native in natives:
        if native not in ieee.IEEE_FORMATS and values <= _value_set(native):
            return native
    return None


def _code_format(spec) -> str:
    """The format of the codes a spec produces: uintN for asymmetric intN (a zero point is
    subtracted outside the PE), the IEEE name for unscaled IEEE specs."""
    return spec.format if spec.is_ieee else spec.element_format.name


def map_scheme(pe: str, scheme) -> Mapping:
    """The native formats ``scheme`` (a lowbit.hwsim.quant Scheme) uses on PE kind ``pe``;
    NotApplicable when its weights or activations fit no native format of that PE."""
    row = kinds.get(pe)
    weight_name, act_name = _code_format(scheme.weight_spec), _code_format(scheme.act_spec)
    weight = _narrowest_native(weight_name, row.native_weights)
    if row.native_acts is None:
        # One format for both operands: the activation must fit the weight's native format.
        act = weight if weight and _narrowest_native(act_name, (weight,)) else None
    else:
        act = _narrowest_native(act_name, row.native_acts)
    if weight is None or act is None:
        raise NotApplicable(f"scheme {scheme.label} (weights {weight_name}, activations "
                            f"{act_name}) does not run on the {pe} PE: "
                            f"{_unmet(row, weight_name, act_name, weight)}")
    return Mapping(pe, weight, act)


def _unmet(row, weight_name: str, act_name: str, weight: str | None) -> str:
    """What a PE kind's row would need to take to run these operands (the misfits only)."""
    if weight is None:
        reason = f"its weights {weight_name} fit none of {_names(row.native_weights)}"
        if row.native_acts is None:
            return reason + " (one format for both operands)"
        if _narrowest_native(act_name, row.native_acts) is None:
            reason += f" and its activations {act_name} none of {_names(row.native_acts)}"
        return reason
    if row.native_acts is None:
        return (f"its activations {act_name} do not fit {weight}, the one format this PE "
                f"takes for both operands")
    return f"its activations {act_name} fit none of {_names(row.native_acts)}"


def _names(natives: tuple[str, ...]) -> str:
    """'int1..int8' for a run of consecutive intN names (as the integer PEs list them), else
    the names joined by ', '."""
    ints = [name for name in natives if name.startswith("int") and name[3:].isdigit()]
    widths = [int(name[3:]) for name in ints]
    if len(ints) == len(natives) > 2 and widths == list(range(widths[0], widths[-1] + 1)):
        return f"{natives[0]}..{natives[-1]}"
    return ", ".join(natives)


def dot_length(spec, K: int, pe: str | None = None) -> int:
    """Elements per dot product the PE computes before a scale is applied outside it, for
    weights quantized by ``spec`` (a lowbit.hwsim.quant QuantSpec) on PE kind ``pe``: all of K
    for MX on a PE that applies the block scales itself (its row's block_scales: mx_mac)."""
    if spec.granularity == "mx" and pe is not None and kinds.get(pe).block_scales:
        return K
    if spec.granularity in ("group", "mx"):
        return spec.group_size
    return K


def pe_config(mapping: Mapping, lanes: int):
    """The hwsim PE config (lowbit.hwsim.pe.kinds row's build_config) that runs ``mapping`` with
    ``lanes`` lanes (and ``mapping.acc_bits``, when given); ValueError naming the field when
    ``lanes`` does not fit the PE, or the PE's accumulator is not an integer of a chosen width."""
    config = kinds.get(mapping.pe).build_config(lanes, mapping.weight_format, mapping.act_format)
    if mapping.acc_bits is None:
        return config
    if "acc_bits" not in {field.name for field in dataclasses.fields(config)}:
        raise ValueError(f"acc_bits applies to PEs with an integer accumulator; the "
                         f"{mapping.pe} PE's is fixed")
    return dataclasses.replace(config, acc_bits=mapping.acc_bits)


def pe_model(mapping: Mapping, lanes: int):
    """The hwsim PE model (with its config) that runs ``mapping`` with ``lanes`` lanes."""
    return kinds.get(mapping.pe).model(pe_config(mapping, lanes))


def beat_occupancy(mapping: Mapping, lanes: int) -> int:
    """Cycles per beat (a beat without last), asked of the hwsim PE model."""
    model = pe_model(mapping, lanes)
    w_bits = mapping.w_bits if model.config.runtime_w_bits else None
    scales = {"act_scale": 127, "wgt_scale": 127} if getattr(model.config, "block_scales", False) \
        else {}
    w_format = runtime_weight_format(mapping.weight_format) \
        if getattr(model.config, "runtime_w_format", False) else None
    beat = protocol.Beat(act=np.zeros(lanes, dtype=np.int64),
                         wgt=np.zeros(protocol.wgt_shape(model.config), dtype=np.uint8),
                         last=False, w_bits=w_bits, w_format=w_format, **scales)
    return int(model.occupancy(beat))


def pe_latency(mapping: Mapping, lanes: int) -> int:
    """The PE's output latency L (protocol.py), asked of the hwsim PE model."""
    return int(pe_model(mapping, lanes).latency)


def dot_cycles(beats: int, occupancy: int) -> int:
    """Cycles a stream of ``beats`` beats of equal occupancy keeps a PE busy (protocol.py)."""
    accepts = protocol.accept_cycles([occupancy] * beats)
    return accepts[-1] + occupancy


def reduction_cycles(lanes_used: int) -> int:
    """Cycles of the pairwise fp32 reduction of ``lanes_used`` lane sums: ceil(log2(lanes_used))."""
    return math.ceil(math.log2(lanes_used)) if lanes_used > 1 else 0


def dot_segments(dot_len: int, K: int) -> list[tuple[int, int]]:
    """(length, dot products per output) of a row of K cut into scale groups of ``dot_len``:
    floor(K / dot_len) full groups, and one shorter group of K mod dot_len when dot_len does not
    divide K (a group longer than K is that one short group)."""
    full, rest = divmod(K, dot_len)
    return [(length, count) for length, count in ((dot_len, full), (rest, 1)) if length and count]


def column_blocks(N: int, columns: int = 1) -> int:
    """Blocks of ``columns`` output columns covering N (the last one possibly partial)."""
    return math.ceil(N / columns)


def gemm_cycles(M: int, K: int, N: int, dot_len: int, lanes: int, array: int,
                occupancy: int, lane_reduction: bool = False,
                latency: int = protocol.LATENCY, columns: int = 1) -> int:
    """Cycles of one M x K x N GEMM on ``array`` PEs (see the module docstring); with
    ``lane_reduction`` (the PE kind's reduces_lanes) reduction_cycles of the lanes used follow every dot
    product; ``latency``: the PE's (pe_latency; 3 for the pipelined mx_mac); ``columns``: outputs
    per PE dot product (protocol "Columns")."""
    total = latency
    for length, per_output in dot_segments(dot_len, K):
        reduction = reduction_cycles(min(lanes, length)) if lane_reduction else 0
        rounds = math.ceil(M * column_blocks(N, columns) * per_output / array)
        total += rounds * (dot_cycles(math.ceil(length / lanes), occupancy) + reduction)
    return total
