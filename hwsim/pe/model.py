"""What every PE model shares: beat validation and the stream loop of the port protocol.

A model subclass names its config class and supplies two things: ``cycles(beat)`` (the
occupancy of a validated beat) and ``accumulate(acc, beat)`` (the accumulator after the beat,
computed with the arithmetic unit the PE is built from), or instead ``dot_value(beats)`` when a
dot product's value is not a fold over its beats (MxMacPE: blocks span beats); ``latency`` is
the protocol's L (default LATENCY). The loop below turns those into a :class:`Trace` by the protocol's
formulas: ``accept_cycles`` for the transfers and ``output_cycle`` for each ``last`` beat.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.pe.protocol import LATENCY, Beat, Trace, accept_cycles, output_cycle, wgt_shape
from lowbit.hwsim.units.integer import check_int_codes, check_int_values


class PEModel:
    """Base of the cycle-level PE models; see :mod:`lowbit.hwsim.pe.protocol` for the contract."""

    config_class: type = object
    latency: int = LATENCY

    def __init__(self, config):
        if not isinstance(config, self.config_class):
            raise ValueError(f"config must be a {self.config_class.__name__}, "
                             f"got {type(config).__name__}")
        self.config = config

    # -- for subclasses -------------------------------------------------------------------------
    def cycles(self, beat: Beat) -> int:
        """Occupancy of a beat that ``check_beat`` returned."""
        raise NotImplementedError

    def accumulate(self, acc, beat: Beat):
        """The accumulator after adding a checked beat's lane products to ``acc``."""
        raise NotImplementedError

    def reset_value(self):
        """The accumulator after reset and after each output: 0 (for Fp8MacPE +0.0's float32
        bits); a PE with several columns overrides it with one 0 per column."""
        return 0

    def dot_value(self, beats: list[Beat]):
        """The value a dot product of checked ``beats`` (the last one has last = 1) emits: the
        accumulator folded over the beats from its reset value."""
        acc = self.reset_value()
        for beat in beats:
            acc = self.accumulate(acc, beat)
        return acc

    # -- the protocol ---------------------------------------------------------------------------
    def occupancy(self, beat: Beat) -> int:
        """Cycles the PE is busy with ``beat`` (its in_ready is 0 for occupancy - 1 cycles)."""
        return self.cycles(self.check_beat(beat, 0))

    def check_beat(self, beat: Beat, index: int = 0) -> Beat:
        """Validate one beat; return it with act and wgt as arrays and wgt masked to w_bits."""
        config, where = self.config, f"beats[{index}]"
        if not isinstance(beat, Beat):
            raise ValueError(f"{where} must be a Beat, got {type(beat).__name__}")
        act = self.check_act(beat.act, f"{where}.act")
        wgt = check_int_codes(beat.wgt, config.wgt_bits, f"{where}.wgt")
        if act.shape != (config.lanes,):
            raise ValueError(f"{where}.act must have shape ({config.lanes},) (one value per "
                             f"lane), got {act.shape}")
        if wgt.shape != wgt_shape(config):
            per = "lane" if len(wgt_shape(config)) == 1 else "lane of each column"
            raise ValueError(f"{where}.wgt must have shape {wgt_shape(config)} (one code per "
                             f"{per}), got {wgt.shape}")
        w_bits = beat.w_bits
        if config.runtime_w_bits:
            allowed = range(1, config.max_weight_bits + 1)
            if isinstance(w_bits, bool) or not isinstance(w_bits, (int, np.integer)) \
                    or w_bits not in allowed:
                raise ValueError(f"{where}.w_bits must be an integer in 1..{allowed.stop - 1}, "
                                 f"got {w_bits!r}")
            # The code sits in the low w_bits bits; the bits above are ignored (protocol).
            wgt = wgt & np.uint8((1 << int(w_bits)) - 1)
            w_bits = int(w_bits)
        elif w_bits is not None:
            raise ValueError(f"{where}.w_bits must be None: {type(self).__name__} has no runtime "
                             f"weight precision, got {w_bits!r}")
        if beat.w_format is not None and not getattr(config, "runtime_w_format", False):
            raise ValueError(f"{where}.w_format must be None: {type(self).__name__} has no "
                             f"runtime weight format, got {beat.w_format!r}")
        return Beat(act=act, wgt=wgt, last=bool(beat.last), w_bits=w_bits, w_format=beat.w_format)

    def check_act(self, act, argname: str) -> np.ndarray:
        """Activations are signed act_bits integers (the integer PEs)."""
        return check_int_values(act, self.config.act_bits, True, argname)

    def run(self, beats, offers=None) -> Trace:
        """Feed ``beats`` through the PE, beat i offered from cycle ``offers[i]`` (default: all
        offered at cycle 0, i.e. back to back). Returns every transfer cycle and every output
        (cycle, value); an accumulation left open by a stream not ending in ``last`` emits
        nothing."""
        beats = [self.check_beat(beat, i) for i, beat in enumerate(beats)]
        offers = _check_offers(offers, len(beats))
        occupancies = [self.cycles(beat) for beat in beats]
        trace = Trace(accepts=accept_cycles(occupancies, offers))
        dot = []
        for beat, accept, occupancy in zip(beats, trace.accepts, occupancies):
            dot.append(beat)
            if beat.last:
                trace.outputs.append((output_cycle(accept, occupancy, self.latency),
                                      self.dot_value(dot)))
                dot = []
        return trace


def _check_offers(offers, n_beats: int):
    if offers is None:
        return None
    offers = list(offers)
    if len(offers) != n_beats or any(
            isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0 for t in offers):
        raise ValueError(f"offers must be {n_beats} non-negative integer cycles (one per beat), "
                         f"got {offers!r}")
    return offers
