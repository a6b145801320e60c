"""The port-level protocol every processing element (PE) follows, in hwsim and in RTL.

A PE computes dot products over a stream of *beats*. A beat carries ``lanes`` activations,
``lanes`` weight codes, a ``last`` flag, and (for PEs with runtime weight precision) ``w_bits``.
The PE accumulates the lane products of every beat and, after the beat with ``last`` = 1,
emits the accumulated dot product and clears its accumulator.

Ports (the RTL declares exactly these; widths in bits):
  in_valid  In 1        the driver offers a beat
  in_ready  Out 1       the PE can take a beat this cycle
  in_last   In 1        this beat ends a dot product
  in_act    In lanes*act_bits      lane i at bits [i*act_bits, (i+1)*act_bits), two's complement
  in_wgt    In lanes*wgt_bits      lane i at bits [i*wgt_bits, (i+1)*wgt_bits): the weight code;
                                   with runtime precision the code sits in the low w_bits bits
                                   and the bits above are ignored
  in_wbits  In 4        runtime weight precision (only PEs that have it), sampled with the beat
  in_act_scale, in_wgt_scale  In 8 each  E8M0 block scales (only MxMacPE), sampled with the beat
  in_wfmt   In 3        runtime weight format (only PEs that have it: Fp16BitSerialPE), the index
                        of the beat's w_format in lowbit.hwsim.units.fp16.WEIGHT_FORMATS
  out_valid Out 1       out_data holds a finished dot product (one cycle, no back-pressure)
  out_data  Out acc_bits  the dot product, two's complement, wrapped to acc_bits

Timing. Cycle 0 is the first rising clock edge after reset is released; cycle n the n-th after
that. A beat *transfers* at cycle t when in_valid and in_ready are both 1 at that edge.
  - occupancy c(beat) >= 1: the PE's cycles per beat (IntMacPE, ShiftAddPE, Fp8MacPE, XnorPE:
    1; BitSerialPE: ceil(w_bits / bits_per_cycle); LutPE and SharedLutPE: w_bits, one weight
    bit-plane a cycle; Fp16MacPE: 1, and 1 + ceil(log2(lanes)) for a last beat (its lane-sum
    reduction); Fp16BitSerialPE: one cycle per weight significand bit).
    After a transfer at t, in_ready is 0 at t+1 .. t+c-1 and 1 again at t+c (in_ready is 1
    whenever the PE is idle, including cycle 0).
  - latency L = 1 for every PE but MxMacPE (L = 3: three pipeline registers): a beat with last = 1 transferred at t makes out_valid 1 at
    exactly cycle t + c - 1 + L and 0 on every cycle no output is due.
The driver presents beat i from cycle ``offers[i]`` on (but never before beat i-1 transferred)
and holds it until it transfers, so beat i transfers at
    accept[i] = max(offers[i], accept[i-1] + c[i-1])      (accept[-1] + c[-1] := 0).

Values. Activations are signed integers in act_bits. Weight codes are the raw bit patterns of the
weight format (intN two's complement of width w_bits, or a log2_b code). Accumulation is exact
integer arithmetic wrapped to acc_bits two's complement (for ShiftAddPE the accumulator counts
units of the smallest weight magnitude, so no product is ever rounded).
The floating-point PEs: Fp8MacPE and MxMacPE take element codes as activations too,
Fp16MacPE float16 activations and weights, Fp16BitSerialPE float16 activations; their out_data
is the float32 result's bit pattern as an unsigned 32-bit value. XnorPE's activations are
``binary`` codes too (0: +1, 1: -1).

Columns. A PE whose config has a ``columns`` field (SharedLutPE) computes that many dot products
over the same activations at once: in_wgt is columns * lanes * wgt_bits wide (column c, lane i
at field c * lanes + i; a Beat's wgt has shape (columns, lanes)), out_data columns * acc_bits
wide (column c at bits [c * acc_bits, (c + 1) * acc_bits)), and an output's value is the tuple
of the columns' dot products. Every other PE has one column.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The protocol's accumulator wrap is the units' one, re-exported under its long-standing public
# name lowbit.hwsim.pe.protocol.wrap (the PE models and their users import it from here).
from lowbit.hwsim.units.integer import wrap  # noqa: F401

LATENCY = 1


@dataclass(frozen=True)
class Beat:
    """One transfer on the PE's input port."""
    act: np.ndarray          # (lanes,) signed integer activation values
    wgt: np.ndarray          # (lanes,) unsigned weight codes; (columns, lanes) with columns
    last: bool = False
    w_bits: int | None = None  # runtime weight precision, for PEs that have it
    act_scale: int | None = None  # E8M0 block scale codes, for PEs that have them (MxMacPE)
    wgt_scale: int | None = None
    w_format: str | None = None  # runtime weight format, for PEs that have it (None: "int")


@dataclass
class Trace:
    """What a PE did with a stream: when each beat transferred and each output appeared."""
    accepts: list[int] = field(default_factory=list)
    outputs: list[tuple[int, int]] = field(default_factory=list)  # (cycle, value)

    @property
    def values(self) -> list[int]:
        return [value for _, value in self.outputs]


def columns(config) -> int:
    """Dot products a PE of ``config`` computes per beat stream (see Columns above)."""
    return getattr(config, "columns", 1)


def wgt_shape(config) -> tuple[int, ...]:
    """The shape of a Beat's wgt for ``config``: (lanes,), or (columns, lanes) (Columns above)."""
    return (config.lanes,) if columns(config) == 1 else (columns(config), config.lanes)


def accept_cycles(occupancies, offers=None) -> list[int]:
    """Transfer cycle of every beat, from each beat's occupancy and earliest offer cycle."""
    accepts, next_free = [], 0
    for i, occupancy in enumerate(occupancies):
        offer = 0 if offers is None else int(offers[i])
        t = max(offer, next_free)
        accepts.append(t)
        next_free = t + int(occupancy)
    return accepts


def output_cycle(accept: int, occupancy: int, latency: int = LATENCY) -> int:
    """Cycle at which out_valid rises for a last beat transferred at ``accept`` (``latency``:
    the PE's, LATENCY for every PE but the pipelined MxMacPE)."""
    return accept + occupancy - 1 + latency
