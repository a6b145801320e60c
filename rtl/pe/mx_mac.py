"""MxMacPE: the native MX processing element, a three-stage pipeline. Golden model and
arithmetic contract: :class:`lowbit.hwsim.pe.MxMacPE` (exact products, exact fixed-point block
sum of block_sum_bits(fmt) bits, one float32 RNE conversion per block, float32 accumulation).

Pipeline (one beat per cycle, latency 3; the register after each stage is named):
  1  products   per lane: decode both codes, multiply the significands, shift the product left
                by both exponents (exponent - lsb each) into a product_bits(fmt)-bit fixed-point
                magnitude, negate by the sign; a balanced adder tree sums the lanes
                -> ``s1_sum`` (product_bits + 1 + ceil(log2 lanes) bits), the beat's NaN/+inf/-inf
                flags, whether the beat closes a block (the (32 / lanes)-th beat of the block or
                in_last), in_last, the scale-exponent sum sa + sb and whether a scale is NaN.
  2  block      block sum = ``blk_sum`` (the sum of the block's earlier beats) + s1_sum, exact in
                block_sum_bits(fmt) bits; on a closing beat it is converted once to float32
                (RNE, scaled by 2^(2 lsb + sa + sb - 254), specials per the contract)
                -> ``s2_f32``, and blk_sum restarts at 0.
  3  accumulate float32 RNE add of s2_f32 to the accumulator (to +0.0 for the dot product's
                first block) -> ``acc``, or on the dot product's last block -> out_data with
                out_valid.
The pipeline registers split the unpipelined datapath's critical path (products, tree,
conversion and float32 add in one cycle) into three shorter ones.
"""
from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed

from lowbit.hwsim.pe.configs import MxMacPEConfig
from lowbit.hwsim.pe.mx_mac import block_sum_bits, element_lsb, product_bits
from lowbit.rtl.pe.common import ProtocolPE, adder_tree, lane_fields
from lowbit.rtl.units.floats import (FLOAT32, exact_product, float32_add, minifloat_layout,
                                     round_to_layout)

E8M0_NAN = 0xFF
E8M0_BIAS = 127


class MxMacPE(ProtocolPE):
    """Native MX MAC processing element (occupancy 1 cycle per beat, latency 3).

    Ports (protocol of lowbit.hwsim.pe.protocol; widths in bits, b = fmt's width):
      in_valid      In 1          a beat is offered
      in_ready      Out 1         always 1: the pipeline takes a beat every cycle
      in_last       In 1          the beat ends a dot product
      in_act        In lanes*b    activation codes of ``fmt``, lane i at [i*b, (i+1)*b)
      in_wgt        In lanes*b    weight codes of ``fmt``
      in_act_scale  In 8          E8M0 scale of the activations' block (used on its closing beat)
      in_wgt_scale  In 8          E8M0 scale of the weights' block (used on its closing beat)
      out_valid     Out 1         out_data holds a finished dot product (one cycle)
      out_data      Out 32        the float32 bits of the dot product
    """

    config_class = MxMacPEConfig

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.in_ready.eq(1)
        s1 = self._products(m)
        s2_valid, s2_f32, s2_last = self._block(m, s1)
        self._accumulate(m, s2_valid, s2_f32, s2_last)
        return m

    def _products(self, m: Module) -> dict:
        """Stage 1: the beat's exact fixed-point sum and flags, registered (s1_*)."""
        cfg = self.config
        layout = minifloat_layout(cfg.fmt)
        lsb, pbits = element_lsb(cfg.fmt), product_bits(cfg.fmt)
        max_shift = 2 * ((1 << layout.ebits) - 2)   # both exponent fields all ones
        terms, nan, pos_inf, neg_inf = [], [], [], []
        lanes = zip(lane_fields(self.in_act, cfg.lanes, cfg.act_bits),
                    lane_fields(self.in_wgt, cfg.lanes, cfg.wgt_bits))
        for i, (act, wgt) in enumerate(lanes):
            prod = exact_product(m, act, wgt, layout, layout, f"lane{i}")
            shift = Signal(range(max_shift + 1), name=f"lane{i}_shift")
            magnitude = Signal(pbits, name=f"lane{i}_fixed")   # NaN/inf lanes: don't care
            term = Signal(signed(pbits + 1), name=f"lane{i}_term")
            m.d.comb += [shift.eq(prod.exp - 2 * lsb),
                         magnitude.eq(prod.sig << shift),
                         term.eq(Mux(prod.sign, -magnitude, magnitude))]
            terms.append(term)
            nan.append(prod.nan)
            pos_inf.append(prod.inf & ~prod.sign)
            neg_inf.append(prod.inf & prod.sign)
        beat_sum = adder_tree(terms)
        per_block = cfg.beats_per_block
        position = Signal(range(max(per_block, 2)), name="beat_in_block")
        closes = Signal(name="closes")
        m.d.comb += closes.eq(self.in_last | (position == per_block - 1))
        s1 = {"valid": Signal(name="s1_valid"), "sum": Signal.like(beat_sum, name="s1_sum"),
              "nan": Signal(name="s1_nan"), "pos_inf": Signal(name="s1_pos_inf"),
              "neg_inf": Signal(name="s1_neg_inf"), "closes": Signal(name="s1_closes"),
              "last": Signal(name="s1_last"), "scale_sum": Signal(9, name="s1_scale_sum"),
              "scale_nan": Signal(name="s1_scale_nan")}
        m.d.sync += s1["valid"].eq(self.in_valid)
        with m.If(self.in_valid):
            m.d.sync += [
                position.eq(Mux(closes, 0, position + 1)),
                s1["sum"].eq(beat_sum),
                s1["nan"].eq(Cat(*nan).any()),
                s1["pos_inf"].eq(Cat(*pos_inf).any()),
                s1["neg_inf"].eq(Cat(*neg_inf).any()),
                s1["closes"].eq(closes),
                s1["last"].eq(self.in_last),
                s1["scale_sum"].eq(self.in_act_scale + self.in_wgt_scale),
                s1["scale_nan"].eq((self.in_act_scale == E8M0_NAN)
                                   | (self.in_wgt_scale == E8M0_NAN)),
            ]
        return s1

    def _block(self, m: Module, s1: dict):
        """Stage 2: the block sum and, on a closing beat, its float32 value (s2_*)."""
        cfg = self.config
        width = block_sum_bits(cfg.fmt)
        blk_sum = Signal(signed(width), name="blk_sum")
        blk_flags = [Signal(name=f"blk_{flag}") for flag in ("nan", "pos_inf", "neg_inf")]
        total = Signal(signed(width), name="block_total")
        nan, pos_inf, neg_inf = (flag | s1[key] for flag, key in
                                 zip(blk_flags, ("nan", "pos_inf", "neg_inf")))
        sign = total[-1]
        magnitude = Signal(width, name="block_magnitude")
        exp = Signal(signed(11), name="block_exp")   # of the sum's LSB: -272 .. 254 + 2 lsb
        m.d.comb += [total.eq(blk_sum + s1["sum"]),
                     magnitude.eq(Mux(sign, -total, total)),
                     exp.eq(s1["scale_sum"] + (2 * element_lsb(cfg.fmt) - 2 * E8M0_BIAS))]
        code, overflow = round_to_layout(m, sign=sign, sig=magnitude, exp=exp, sticky=0,
                                         layout=FLOAT32, name="convert")
        inf = Const(FLOAT32.inf_magnitude, 31)
        value = Signal(32, name="block_f32")
        with m.If(s1["scale_nan"] | nan | (pos_inf & neg_inf)):
            m.d.comb += value.eq(FLOAT32.nan_code)
        with m.Elif(pos_inf | neg_inf):
            m.d.comb += value.eq(Cat(inf, neg_inf))
        with m.Elif(magnitude == 0):
            m.d.comb += value.eq(0)                    # an exact zero block is +0.0
        with m.Elif(overflow):
            m.d.comb += value.eq(Cat(inf, sign))
        with m.Else():
            m.d.comb += value.eq(code)
        s2_valid, s2_f32, s2_last = Signal(name="s2_valid"), Signal(32, name="s2_f32"), \
            Signal(name="s2_last")
        m.d.sync += s2_valid.eq(s1["valid"] & s1["closes"])
        with m.If(s1["valid"] & s1["closes"]):
            m.d.sync += [s2_f32.eq(value), s2_last.eq(s1["last"]), blk_sum.eq(0)]
            m.d.sync += [flag.eq(0) for flag in blk_flags]
        with m.Elif(s1["valid"]):
            m.d.sync += [blk_sum.eq(total)]
            m.d.sync += [flag.eq(new) for flag, new in zip(blk_flags, (nan, pos_inf, neg_inf))]
        return s2_valid, s2_f32, s2_last

    def _accumulate(self, m: Module, s2_valid, s2_f32, s2_last) -> None:
        """Stage 3: the float32 accumulator and the protocol's output register."""
        acc = Signal(32, name="acc")
        fresh = Signal(init=1, name="acc_fresh")   # the next block starts a dot product
        total = float32_add(m, Mux(fresh, 0, acc), s2_f32, "accumulate")
        m.d.sync += self.out_valid.eq(0)
        with m.If(s2_valid & s2_last):
            m.d.sync += [self.out_data.eq(total), self.out_valid.eq(1), fresh.eq(1)]
        with m.Elif(s2_valid):
            m.d.sync += [acc.eq(total), fresh.eq(0)]
