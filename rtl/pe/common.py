"""What every PE shares: the port signature of :mod:`lowbit.hwsim.pe.protocol`, the beat sequencer
that holds ``in_ready`` low for a beat's occupancy, and the accumulate-then-emit stage.

Protocol recap (binding, see lowbit.hwsim.pe.protocol): a beat transfers at the rising edge where
in_valid & in_ready; it occupies the PE for c cycles (step 0 is computed from the input ports in
the transfer cycle itself, steps 1 .. c-1 from registers latched at the transfer); the step that
finishes a beat with in_last = 1 registers the dot product into out_data and raises out_valid
for exactly the next cycle (latency 1).
"""
from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lowbit.hwsim.pe.protocol import columns

WBITS_PORT_BITS = 4   # width of in_wbits (protocol)
WFMT_PORT_BITS = 3    # width of in_wfmt (protocol)


def pe_ports(config) -> dict:
    """The protocol's port dict for a lowbit.hwsim.pe config (lanes, act_bits, wgt_bits, acc_bits,
    runtime_w_bits, and block_scales / scale_bits where the config has them; a ``columns`` field
    widens in_wgt and out_data, protocol "Columns")."""
    ports = {
        "in_valid": In(1),
        "in_ready": Out(1),
        "in_last": In(1),
        "in_act": In(config.lanes * config.act_bits),
        "in_wgt": In(columns(config) * config.lanes * config.wgt_bits),
        "out_valid": Out(1),
        "out_data": Out(columns(config) * config.acc_bits),
    }
    if config.runtime_w_bits:
        ports["in_wbits"] = In(WBITS_PORT_BITS)
    if getattr(config, "block_scales", False):
        ports["in_act_scale"] = In(config.scale_bits)
        ports["in_wgt_scale"] = In(config.scale_bits)
    if getattr(config, "runtime_w_format", False):
        ports["in_wfmt"] = In(WFMT_PORT_BITS)
    return ports


class ProtocolPE(wiring.Component):
    """Base of every PE component: checks that ``config`` is an instance of the subclass's
    ``config_class`` (its lowbit.hwsim.pe config) and declares the protocol's ports (:func:`pe_ports`).
    Subclasses implement ``elaborate``."""
    config_class = None   # set by each subclass

    def __init__(self, *, config):
        if not isinstance(config, self.config_class):
            name = self.config_class.__name__
            article = "an" if name[0] in "AEIOU" else "a"
            raise ValueError(f"config must be {article} {name}, got {type(config).__name__}")
        self.config = config
        super().__init__(pe_ports(config))


def lane_fields(value, lanes: int, bits: int) -> list:
    """Slice a packed lane bus: lane i at bits [i*bits, (i+1)*bits)."""
    return [value[i * bits:(i + 1) * bits] for i in range(lanes)]


def adder_tree(values: list):
    """Balanced sum of Amaranth values (widths grow by one bit per level, so it is exact)."""
    while len(values) > 1:
        paired = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        values = paired + ([values[-1]] if len(values) % 2 else [])
    return values[0]


class Accumulator:
    """acc_bits accumulator with the protocol's output register.

    ``finish(m, partial, last)`` (called under the condition that a beat's final step runs)
    adds ``partial`` to the running sum; if ``last`` it registers the wrapped total into
    out_data, pulses out_valid and clears the sum. ``add(m, partial)`` adds without finishing.
    Everything wraps modulo 2^acc_bits, like the models' accumulator. ``out_data``: the slice of
    the component's out_data this accumulator drives (default: all of it; one column's field
    in a PE with several columns, which share out_valid).
    """

    def __init__(self, m: Module, component, acc_bits: int, out_data=None):
        self.acc = Signal(signed(acc_bits), name="acc")
        self.out_valid = component.out_valid
        self.out_data = component.out_data if out_data is None else out_data
        m.d.sync += self.out_valid.eq(0)   # default: no output due; finish() overrides

    def add(self, m: Module, partial) -> None:
        m.d.sync += self.acc.eq(self.acc + partial)

    def step(self, m: Module, seq: "Sequencer", partial, last) -> None:
        """One step of a multi-cycle beat: add ``partial``; the beat's final step finishes."""
        with m.If(seq.active):
            with m.If(seq.final):
                self.finish(m, partial, last)
            with m.Else():
                self.add(m, partial)

    def finish(self, m: Module, partial, last) -> None:
        total = self.acc + partial
        with m.If(last):
            m.d.sync += [self.out_data.eq(total), self.out_valid.eq(1), self.acc.eq(0)]
        with m.Else():
            m.d.sync += self.acc.eq(total)


class Sequencer:
    """Counts the steps of a multi-cycle beat.

    Signals: ``idle`` (= in_ready), ``transfer`` (a beat transfers this cycle), ``step`` (index
    of the step running this cycle: 0 in the transfer cycle), ``active`` (a step runs),
    ``final`` (this step is the beat's last). ``occupancy`` is the beat's cycle count, computed
    by the caller from the *input* ports; it is only sampled at the transfer.
    """

    def __init__(self, m: Module, component, occupancy, max_occupancy: int):
        self.left = Signal(range(max_occupancy + 1), name="steps_left")   # after this one
        self.step_reg = Signal(range(max_occupancy + 1), name="step_reg")
        self.idle = Signal(name="idle")
        self.transfer = Signal(name="transfer")
        self.active = Signal(name="active")
        self.final = Signal(name="final")
        self.step = Signal(range(max_occupancy + 1), name="step")
        m.d.comb += [
            self.idle.eq(self.left == 0),
            component.in_ready.eq(self.idle),
            self.transfer.eq(component.in_valid & self.idle),
            self.active.eq(self.transfer | ~self.idle),
            self.step.eq(Mux(self.idle, 0, self.step_reg)),
            self.final.eq(Mux(self.idle, occupancy == 1, self.left == 1)),
        ]
        with m.If(self.transfer):
            m.d.sync += [self.left.eq(occupancy - 1), self.step_reg.eq(1)]
        with m.Elif(~self.idle):
            m.d.sync += [self.left.eq(self.left - 1), self.step_reg.eq(self.step_reg + 1)]


class OperandLatch:
    """The operands of a multi-cycle beat as each step sees them: the input ports in the
    transfer cycle (step 0), registers latched at the transfer in later steps. The weight lanes
    are shifted down by ``digit_bits`` at every step, so the current step's digit is always in
    the low bits of each lane. Attributes: ``wgt``, ``w_bits``, ``last`` and, if
    ``latch_act``, ``act`` (a PE that registers something derived from the activations
    instead, such as LUT tables, leaves it out)."""

    def __init__(self, m: Module, component, seq: Sequencer, *, digit_bits: int,
                 latch_act: bool):
        cfg = component.config
        latch = []
        if latch_act:
            act_reg = Signal.like(component.in_act, name="act_reg")
            self.act = Mux(seq.idle, component.in_act, act_reg)
            latch.append(act_reg.eq(self.act))
        wgt_reg = Signal.like(component.in_wgt, name="wgt_reg")   # remaining digits
        wbits_reg = Signal.like(component.in_wbits, name="wbits_reg")
        last_reg = Signal(name="last_reg")
        self.wgt = Mux(seq.idle, component.in_wgt, wgt_reg)
        self.w_bits = Mux(seq.idle, component.in_wbits, wbits_reg)
        self.last = Mux(seq.idle, component.in_last, last_reg)
        shifted = Cat(*[w >> digit_bits for w in lane_fields(
            self.wgt, columns(cfg) * cfg.lanes, cfg.max_weight_bits)])
        latch += [wbits_reg.eq(self.w_bits), last_reg.eq(self.last), wgt_reg.eq(shifted)]
        with m.If(seq.active):
            m.d.sync += latch
