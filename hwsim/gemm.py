"""Bit-exact GEMM through a PE's arithmetic: the quantized layer as the hardware computes it.

    from lowbit.hwsim import gemm
    arithmetic = gemm.PEArithmetic(acc_bits=20, overflow="saturate")
    y = gemm.qtensor_gemm(qa, qw, arithmetic)        # float32 [M, N]

Where fake quantization (lowbit.models.fidelity.quantized) multiplies dequantized float32 values,
this module feeds the *codes* to the PE's multiply-accumulate and applies the scales where the
hardware applies them, after the PE's sum. Two PE families:

Integer PE (``int_gemm``; the sum int_mac, bit_serial and lut compute)
  operands     integer values of a [M, K] and w [N, K] (activations: intN values; weights: intN,
               binary or ternary values, or the uintN codes of an asymmetric scheme (log2
               weights, whose values are not integers, are refused), whose zero point the PE
               never sees: z * sum(a) is subtracted outside it, exactly, as the cost model
               (lowbit.models.cost.cycles) costs it).
  group        the PE computes one dot product per scale group: ``group`` consecutive elements
               along K (K for per-channel and per-tensor weights, group_size for grouped ones).
  accumulator  exactly :func:`lowbit.hwsim.units.integer.int_dot` per group: an ``acc_bits``
               two's complement register starting at 0, products exact and added in index
               order, "wrap" (modulo 2^acc_bits) or "saturate" (clamped after every addition).

Float PE (``float_gemm``; FP8 x FP8 as fp8_mac)
  operands     FP8 codes (float8_e4m3fn / float8_e5m2, mixed allowed), finite (a NaN or inf
               code is refused: quantized tensors never hold one).
  products     exact, as :func:`lowbit.hwsim.units.fp8.fp8_mul_exact`.
  accumulator  a float with float32's exponent range and ``acc_mbits`` fraction bits (23:
               float32; Hopper's FP8 tensor-core accumulation keeps about 13, "fp22"), starting
               at +0, one rounding per addition in index order: acc = round(acc + p_i), the
               exact sum rounded to acc_mbits + 1 significant bits, "rne" (nearest, ties to
               even) or "rtz" (toward zero, truncation). No product or sum ever leaves float32's
               normal range (every nonzero |p| is in [2^-32, 2^32), a multiple of 2^-32, so
               every nonzero sum is >= 2^-32 and a sum of 2^60 products is < 2^92), so no
               subnormal or overflow rule applies. An exact zero sum is +0. acc_mbits=23 with "rne" is
               :func:`lowbit.hwsim.units.fp8.fp8_mac` bit for bit.

MX PE (``float_pe="mx_mac"``; lowbit.hwsim.gemm_mx) and LUT PE with stored table entries of
``lut_table_bits`` (lowbit.hwsim.gemm_lut): their contracts are in those modules;
``qtensor_gemm`` routes a layer there when the PEArithmetic names them.

Scales (``qtensor_gemm``): the PE's per-group sum S_g (the integer minus z * sum of the group's
activations, or the float accumulator) goes to a float32 unit: r = +0; for each group g in order
r = f32(r + f32(f32(S_g) * s_w[n, g])); y = f32(r * s_a[m]), each f32() one IEEE float32 RNE
operation (int -> float32 conversion included). When every S_g and every product of it with a
scale is exact in float32 (e.g. power-of-two scales and |S| < 2^24), y is the exact
dequantized dot product, which is what today's fake-quant path also gives.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from lowbit.hwsim import formats, gemm_lut, gemm_mx
from lowbit.hwsim.formats.floats import FP8_FORMATS
from lowbit.hwsim.gemm_scales import finite_codes, int_values, rescale, scales
from lowbit.hwsim.units import integer
from lowbit.hwsim.units.fp8 import decode_table, format_id

OVERFLOW_POLICIES = ("wrap", "saturate")
ROUNDINGS = ("rne", "rtz")
ACC_MBITS = range(1, 24)
FLOAT_PES = ("fp8_mac", "mx_mac")   # whose arithmetic an FP8 or MX layer runs through
FLOAT_MBITS = 52          # float64 fraction bits: the float kernel rounds float64 bit patterns


@dataclass(frozen=True, kw_only=True)
class PEArithmetic:
    """A PE's accumulator: ``acc_bits`` and ``overflow`` for integer PEs, ``acc_mbits`` and
    ``acc_rounding`` for float PEs (module docstring). The defaults (32-bit wrapping integer,
    float32 RNE) are the PEs as lowbit.hwsim.pe models them. ``float_pe``: the PE an FP8 or MX
    layer runs on, "fp8_mac" (one rounding per product; MX refused) or "mx_mac" (exact block
    sums of 32, float32 accumulation; lowbit.hwsim.gemm_mx; acc_mbits 23 with "rne" only).
    ``lut_table_bits``: None (exact tables, the integer path above), or the stored entry width
    of the LUT PE's tables (lowbit.hwsim.gemm_lut; "wrap" only)."""
    acc_bits: int = 32
    overflow: str = "wrap"
    acc_mbits: int = 23
    acc_rounding: str = "rne"
    float_pe: str = "fp8_mac"
    lut_table_bits: int | None = None

    def __post_init__(self):
        integer.check_acc_bits(self.acc_bits)
        if self.overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, got {self.overflow!r}")
        integer.check_overflow(self.overflow, self.acc_bits)
        integer.check_bits(self.acc_mbits, "acc_mbits", ACC_MBITS)
        if self.acc_rounding not in ROUNDINGS:
            raise ValueError(f"acc_rounding must be one of {ROUNDINGS}, "
                             f"got {self.acc_rounding!r}")
        self._check_pe_variants()

    def _check_pe_variants(self):
        if self.float_pe not in FLOAT_PES:
            raise ValueError(f"float_pe must be one of {FLOAT_PES}, got {self.float_pe!r}")
        if self.float_pe == "mx_mac" and (self.acc_mbits, self.acc_rounding) != (23, "rne"):
            raise ValueError(f"float_pe='mx_mac' accumulates its blocks in float32 RNE: "
                             f"acc_mbits must be 23 and acc_rounding 'rne', got "
                             f"{self.acc_mbits} and {self.acc_rounding!r}")
        if self.lut_table_bits is not None:
            from lowbit.hwsim.units.lut import table_limits
            table_limits(self.lut_table_bits)       # ValueError naming table_bits
            if self.overflow != "wrap":
                raise ValueError(f"lut_table_bits models the LUT PE, whose accumulator wraps: "
                                 f"overflow must be 'wrap', got {self.overflow!r}")

    @property
    def label(self) -> str:
        """e.g. "acc32-wrap/m23-rne", with "/mx_mac" and "/lut9" where those are chosen."""
        label = f"acc{self.acc_bits}-{self.overflow}/m{self.acc_mbits}-{self.acc_rounding}"
        if self.float_pe != "fp8_mac":
            label += f"/{self.float_pe}"
        if self.lut_table_bits is not None:
            label += f"/lut{self.lut_table_bits}"
        return label


def _check_group(group, K: int) -> int:
    group = K if group is None else group
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)) or group < 1 \
            or K % group:
        raise ValueError(f"group must be None or a positive divisor of K={K}, got {group!r}")
    return int(group)


def _check_matrices(a, w, a_name: str, w_name: str):
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[1]:
        raise ValueError(f"{a_name} [M, K] and {w_name} [N, K] must be 2-D with one K, got "
                         f"shapes {a.shape} and {w.shape}")


# -- integer PE -----------------------------------------------------------------------------
# The exact sums come from float32 matrix products (BLAS): a sum of integer products is exact in
# float32, in any order, while every partial sum stays within 2^24 in magnitude, so a GEMM over
# chunks of at most 2^24 / max|product| elements gives each chunk's exact integer sum.
EXACT_FLOAT32 = 1 << 24
ROW_BLOCK = 512           # rows of a per pass: bounds the [chunks, rows, N] float32 scratch


def _chunked(x: np.ndarray, length: int) -> np.ndarray:
    """float32 [K / length, rows, length] of x [rows, K]."""
    return x.reshape(x.shape[0], -1, length).transpose(1, 0, 2).astype(np.float32)


def _chunk_sums(a: np.ndarray, w_chunks: np.ndarray, length: int) -> np.ndarray:
    """float32 [K / length, M, N]: exact sums of a[m] * w[n] over each chunk of ``length``
    elements, w_chunks = _chunked(w).transpose(0, 2, 1) (the caller keeps length * max|product|
    <= 2^24)."""
    return np.matmul(_chunked(a, length), w_chunks)


def _largest_divisor(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


@njit(parallel=True, cache=True)
def _saturate_rows(a, wt, group, lo, hi, todo, out):
    """out[g, m, :] for every (g, m) with todo[g, m]: the saturating accumulator of a[m] [K]
    times each column of wt [K, N] over group g, products added in k order and clamped to
    [lo, hi] after each addition. The N outputs of a row advance together (vectorized), each
    its own chain. The accumulator has lo's type: float32 where every acc + product is an
    integer of magnitude <= 2^24 (exact, and min/max of floats vectorize on any SIMD unit,
    where int64 multiplies do not), int64 otherwise."""
    for m in prange(a.shape[0]):
        acc = np.full(wt.shape[1], lo)
        for g in range(out.shape[0]):
            if todo[g, m]:
                acc[:] = 0
                for k in range(g * group, (g + 1) * group):
                    x = a[m, k]
                    for n in range(acc.size):
                        acc[n] = min(max(acc[n] + x * wt[k, n], lo), hi)
                for n in range(acc.size):
                    out[g, m, n] = np.int64(acc[n])


def _exact_sums(a: np.ndarray, w_chunks: np.ndarray, length: int, group: int) -> np.ndarray:
    """int64 [K / group, M, N]: exact sums of a[m] * w[n] over each group, from the chunk sums
    (_chunk_sums) of ``length`` elements."""
    sums = _chunk_sums(a, w_chunks, length).astype(np.int64)
    if length == group:
        return sums
    return sums.reshape(-1, group // length, *sums.shape[1:]).sum(axis=1)


def _group_sums(a: np.ndarray, w: np.ndarray, group: int, max_product: int,
                arithmetic: PEArithmetic) -> np.ndarray:
    """int64 [K / group, M, N]: the PE accumulator of every group (module contract).

    Wrap: the exact sum modulo 2^acc_bits (two's complement addition is associative, so the
    wrapped sum in index order is the exact sum wrapped once). Saturate: every partial sum of a
    group is at most sum |a_k w_k| (its bound, one more exact matrix product) in magnitude; where
    the bound is <= hi (so >= lo = -hi - 1 too) nothing clamps and the exact sum is the answer;
    any (group, row) with an output beyond that is accumulated in order, clamped after each
    addition (_saturate_rows)."""
    M, K = a.shape
    length = _largest_divisor(group, max(EXACT_FLOAT32 // max(max_product, 1), 1))
    w_chunks = _chunked(w, length).transpose(0, 2, 1)
    out = np.empty((K // group, M, w.shape[0]), np.int64)
    if arithmetic.overflow == "saturate":
        lo, hi = integer.acc_limits(arithmetic.acc_bits)
        acc_type = np.float32 if hi + 1 + max_product <= EXACT_FLOAT32 else np.int64
        wt = np.ascontiguousarray(w.T, dtype=acc_type)
        # int8 -128 has no int8 magnitude: widen first
        abs_chunks = _chunked(np.abs(w.astype(np.int32)), length).transpose(0, 2, 1)
    for start in range(0, M, ROW_BLOCK):
        rows = a[start:start + ROW_BLOCK]
        block = out[:, start:start + len(rows)]
        block[...] = _exact_sums(rows, w_chunks, length, group)
        if arithmetic.overflow == "wrap":
            shift = 64 - arithmetic.acc_bits     # keep the low acc_bits, sign-extended
            block[...] = (block << shift) >> shift
            continue
        bounds = _exact_sums(np.abs(rows.astype(np.int32)), abs_chunks, length, group)
        todo = (bounds > hi).any(axis=2)
        if todo.any():
            _saturate_rows(rows.astype(acc_type), wt, group, acc_type(lo), acc_type(hi), todo,
                           block)
    return out


def int_gemm(a, w, *, a_bits: int, w_bits: int, a_signed: bool = True, w_signed: bool = True,
             group: int | None = None, acc_bits: int = 32, overflow: str = "wrap") -> np.ndarray:
    """int64 [M, N, K / group]: entry [m, n, g] is ``integer.int_dot`` of a[m] and w[n] over
    group g (module contract), under ``acc_bits`` and ``overflow`` ("wrap" or "saturate")."""
    arithmetic = PEArithmetic(acc_bits=acc_bits, overflow=overflow)
    a_bits, w_bits = integer.check_bits(a_bits, "a_bits"), integer.check_bits(w_bits, "w_bits")
    a_signed = integer.check_flag(a_signed, "a_signed")
    w_signed = integer.check_flag(w_signed, "w_signed")
    a = integer.check_int_values(a, a_bits, a_signed, "a")
    w = integer.check_int_values(w, w_bits, w_signed, "w")
    _check_matrices(a, w, "a", "w")
    group = _check_group(group, a.shape[1])
    return _group_sums(a, w, group, _bound(a_bits, a_signed) * _bound(w_bits, w_signed),
                       arithmetic).transpose(1, 2, 0)


def _bound(bits: int, signed: bool) -> int:
    """The largest magnitude of a ``bits``-bit integer."""
    return max(abs(v) for v in integer.int_range(bits, signed))


# -- float PE -------------------------------------------------------------------------------
# Three exact kernels, all adding in index order per output and vectorized across N (the
# outputs of one row advance together, each its own chain; no fastmath, so nothing reorders).
# acc_mbits=23 RNE: float32 itself. Every FP8 x FP8 product is exact in float32 (at most 8
# significant bits, magnitudes in [2^-32, 2^32)) and a float32 addition is the exact sum
# rounded RNE to 24 bits; no sum leaves the normal range (module docstring), so the contract's
# accumulator is float32 arithmetic, bit for bit.
# Other widths / rtz, when the exact sum acc + p always fits float64: add in float64 (exact),
# then round its bit pattern to acc_mbits + 1 significant bits (float64 normal: the bits below
# the kept fraction are dropped; RNE adds half - 1 plus the kept lsb first, which carries into
# the exponent exactly as the value rounds up).
# Otherwise (wide E5M2 products): TwoSum on float64 values (about a third of that speed).
FLOAT32_MBITS = 23


@intrinsic
def _float64_bits(typingctx, x):
    """The int64 bit pattern of a float64 (an LLVM bitcast: vectorizes, unlike a buffer view)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))
    return types.int64(types.float64), codegen


@intrinsic
def _bits_float64(typingctx, x):
    """The float64 of an int64 bit pattern."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return types.float64(types.int64), codegen


@njit(parallel=True, cache=True)
def _float32_partials(a, wt, group, out):
    """out[g, m, n] = the float32 sum of a[m, k] * wt[k, n] over group g, added in k order."""
    for m in prange(a.shape[0]):
        acc = np.empty(wt.shape[1], np.float32)
        for g in range(out.shape[0]):
            acc[:] = 0
            for k in range(g * group, (g + 1) * group):
                x = a[m, k]
                for n in range(acc.size):
                    acc[n] += x * wt[k, n]
            out[g, m] = acc


@njit(parallel=True, cache=True)
def _rounded_partials(a, wt, group, drop, rtz, out):
    """out[g, m, n]: acc = round(acc + a[m, k] * wt[k, n]) over group g in k order, each sum
    exact in float64 (the caller checks) and rounded to 53 - drop significant bits."""
    mask = (np.int64(1) << drop) - 1
    half = np.int64(0) if rtz else (np.int64(1) << (drop - 1)) - 1
    odd = np.int64(0) if rtz else np.int64(1)
    for m in prange(a.shape[0]):
        acc = np.empty(wt.shape[1], np.float64)
        for g in range(out.shape[0]):
            acc[:] = 0
            for k in range(g * group, (g + 1) * group):
                x = a[m, k]
                for n in range(acc.size):
                    bits = _float64_bits(acc[n] + x * wt[k, n])
                    bits += half + ((bits >> drop) & odd)
                    acc[n] = _bits_float64(bits & ~mask)
            out[g, m] = acc


def _float64_exact(group: int, max_product: int, acc_mbits: int, rtz: bool) -> bool:
    """Whether every acc + p of a group is exact in float64, all values integers in units of
    2^(lsb_a + lsb_b) with |p| <= max_product. Each rounding to acc_mbits + 1 bits grows a
    magnitude by at most a factor 1 + eps (eps = 2^-(acc_mbits + 1) for RNE, 0 toward zero),
    so by induction |acc_k + p_(k+1)| <= group * max_product * (1 + eps)^group; an integer
    below 2^53 is exact. Checked in log2 with one bit to spare for the float arithmetic."""
    if max_product == 0:
        return True
    eps = 0.0 if rtz else 2.0 ** -(acc_mbits + 1)
    return (math.log2(group) + math.log2(max_product) + group * math.log1p(eps) / math.log(2)
            < 52)


@njit(cache=True, inline="always")
def _rounded_sum(acc, p, drop, rtz):
    """acc + p (float64 values, acc already on the accumulator's grid) rounded to 53 - drop
    significant bits, RNE or toward zero; branch-free, so a loop of it vectorizes.

    s + err = acc + p exactly (Knuth's TwoSum). s's float64 bits are cut at ``drop`` bits; err,
    smaller than half an ulp of s, only decides the cases the cut bits leave open: a tie
    (err > 0 rounds away, err < 0 toward zero) and, for truncation, a cut of zero bits with
    err pointing toward zero (the result is then the next grid value below s in magnitude,
    which is the bits of s minus one, cut). An exact zero (s = +0, err = 0) stays +0."""
    s = acc + p
    bb = s - acc
    err = (acc - (s - bb)) + (p - bb)
    bits = _float64_bits(s)
    sign = bits & np.int64(-0x8000000000000000)
    mag = bits ^ sign
    unit = np.int64(1) << drop
    low = mag & (unit - 1)
    cut = mag ^ low
    toward_zero = (err != 0.0) & ((err < 0.0) != (sign != 0))
    if rtz:
        cut = ((mag - 1) & -unit) if toward_zero & (low == 0) else cut
    else:
        half = unit >> 1
        away = (err != 0.0) & ~toward_zero
        tie_up = away | ((err == 0.0) & ((cut & unit) != 0))
        cut = cut + unit if (low > half) | ((low == half) & tie_up) else cut
    return _bits_float64(cut | sign)


@njit(parallel=True, cache=True)
def _twosum_partials(a, wt, group, drop, rtz, out):
    """out[g, m, n]: acc = _rounded_sum(acc, a[m, k] * wt[k, n]) over group g in k order."""
    for m in prange(a.shape[0]):
        acc = np.empty(wt.shape[1], np.float64)
        for g in range(out.shape[0]):
            acc[:] = 0
            for k in range(g * group, (g + 1) * group):
                x = a[m, k]
                for n in range(acc.size):
                    acc[n] = _rounded_sum(acc[n], x * wt[k, n], drop, rtz)
            out[g, m] = acc


def _fixed_values(codes: np.ndarray, fmt: str) -> tuple[np.ndarray, int]:
    """(int64 values of finite codes in units of 2^lsb, lsb): 2^lsb the largest power of two
    dividing every value present (the format's smallest subnormal if all are zero). The
    coarsest grid of the data keeps the float64 exactness bound (_float64_exact) as tight as
    the data allow."""
    _, neg, sig, k = decode_table(format_id(fmt, "fmt", FP8_FORMATS))
    lsb = int(k[0])
    table = np.where(neg == 1, -sig, sig) << (k - lsb)
    present = table[np.bincount(codes.ravel(), minlength=table.size) > 0]
    present = present[present != 0]
    if present.size:
        shift = int(np.bitwise_and(present, -present).min()).bit_length() - 1
        table, lsb = table >> shift, lsb + shift      # exact for every present code
    return table[codes], lsb


def _float_sums(a_codes, w_codes, fmt_a: str, fmt_w: str, group: int,
                arithmetic: PEArithmetic) -> np.ndarray:
    """float32 [K / group, M, N]: the float accumulator of every group (module contract)."""
    M, K = a_codes.shape
    rtz = arithmetic.acc_rounding == "rtz"
    fa, lsb_a = _fixed_values(a_codes, fmt_a)
    fw, lsb_w = _fixed_values(w_codes, fmt_w)
    a = np.ldexp(fa.astype(np.float64), lsb_a)              # exact: at most 4 significant bits
    wt = np.ascontiguousarray(np.ldexp(fw.astype(np.float64), lsb_w).T)
    out = np.empty((K // group, M, w_codes.shape[0]), np.float32)
    if arithmetic.acc_mbits == FLOAT32_MBITS and not rtz:
        _float32_partials(a.astype(np.float32), wt.astype(np.float32), group, out)
    elif _float64_exact(group, int(np.abs(fa).max(initial=0)) * int(np.abs(fw).max(initial=0)),
                        arithmetic.acc_mbits, rtz):
        _rounded_partials(a, wt, group, FLOAT_MBITS - arithmetic.acc_mbits, rtz, out)
    else:
        _twosum_partials(a, wt, group, FLOAT_MBITS - arithmetic.acc_mbits, rtz, out)
    return out


def _fp8_codes(codes, fmt: str, argname: str) -> np.ndarray:
    """Finite FP8 codes of ``fmt`` as uint8; ValueError for a NaN or inf code."""
    return finite_codes(codes, fmt, argname, FP8_FORMATS, "float PE contract here")


def float_gemm(a_codes, w_codes, fmt_a: str, fmt_w: str, *, group: int | None = None,
               acc_mbits: int = 23, acc_rounding: str = "rne") -> np.ndarray:
    """float32 [M, N, K / group]: entry [m, n, g] is the float PE's accumulator after the
    exact products of a[m] and w[n] over group g (module contract)."""
    arithmetic = PEArithmetic(acc_mbits=acc_mbits, acc_rounding=acc_rounding)
    a = _fp8_codes(a_codes, fmt_a, "a_codes")
    w = _fp8_codes(w_codes, fmt_w, "w_codes")
    _check_matrices(a, w, "a_codes", "w_codes")
    return _float_sums(a, w, fmt_a, fmt_w, _check_group(group, a.shape[1]),
                       arithmetic).transpose(1, 2, 0)


# -- a quantized layer ------------------------------------------------------------------------
def pe_family(weight_spec, act_spec) -> str:
    """"int", "float" or "mx": which PE computes a layer of these specs; ValueError naming what
    no PE here computes (IEEE activations, MX on one side only, non-integer weight values,
    asymmetric activations)."""
    if act_spec.is_ieee or weight_spec.is_ieee:
        raise ValueError(f"PE arithmetic needs quantized weights and activations; got weights "
                         f"{weight_spec.format}, activations {act_spec.format} (an IEEE format "
                         f"runs on no integer or FP8 PE here)")
    if "mx" in (weight_spec.granularity, act_spec.granularity):
        if weight_spec.granularity != act_spec.granularity:
            raise ValueError(f"PE arithmetic models MX block scales on both operands only, got "
                             f"weight granularity {weight_spec.granularity!r}, activation "
                             f"granularity {act_spec.granularity!r}")
        return "mx"
    if act_spec.granularity not in ("tensor", "channel") or not act_spec.symmetric:
        raise ValueError(f"PE arithmetic needs symmetric activations with one scale per tensor "
                         f"or per row, got act_granularity {act_spec.granularity!r}, "
                         f"act_symmetric {act_spec.symmetric}")
    if weight_spec.format in FP8_FORMATS and act_spec.format in FP8_FORMATS:
        return "float"
    act_kind = formats.get(act_spec.format).kind
    weight_values = weight_spec.element_format.values()
    integral = np.isnan(weight_values) | (weight_values == np.round(weight_values))
    if act_kind == "int" and integral.all():
        return "int"
    raise ValueError(f"PE arithmetic computes integer x integer or FP8 x FP8 layers; got weights "
                     f"{weight_spec.format}, activations {act_spec.format}")


def _max_product(a: np.ndarray, w: np.ndarray) -> int:
    """max |a_i| * max |w_j| as a Python int (np.abs of int8 -128 would wrap)."""
    def largest(x):
        return max(-int(x.min(initial=0)), int(x.max(initial=0)))
    return largest(a) * largest(w)


def qtensor_gemm(qa, qw, arithmetic: PEArithmetic) -> np.ndarray:
    """float32 y[M, N] = a @ w.T through the PE arithmetic (module contract): qa the QTensor of
    activations [M, K] (scales per tensor or per row), qw of weights [N, K] (per tensor, per
    channel or per group along K), both quantized along K (axis -1)."""
    if not isinstance(arithmetic, PEArithmetic):
        raise ValueError(f"arithmetic must be a PEArithmetic, got {type(arithmetic).__name__}")
    family = pe_family(qw.spec, qa.spec)
    routed = _routed_gemm(qa, qw, arithmetic, family)
    if routed is not None:
        return routed
    (M, K), (N, Kw) = qa.shape, qw.shape
    if K != Kw or len(qa.shape) != 2 or qa.axis != 1 or qw.axis != 1:
        raise ValueError(f"qa [M, K] and qw [N, K] must be 2-D, quantized along K, with one K; "
                         f"got shapes {qa.shape} and {qw.shape}")
    w_scales = scales(qw, N)
    group = K // w_scales.shape[1]
    a_scales = scales(qa, M)[:, 0].copy()
    if family == "float":
        a = _fp8_codes(qa.codes, qa.spec.format, "qa.codes")
        w = _fp8_codes(qw.codes, qw.spec.format, "qw.codes")
        return rescale(_float_sums(a, w, qa.spec.format, qw.spec.format, group, arithmetic),
                        w_scales, a_scales)
    a, w = int_values(qa), int_values(qw)
    groups = w_scales.shape[1]
    max_product = _max_product(a, w)
    if qw.zero_points is None and group * max_product < min(EXACT_FLOAT32, 1 << (
            arithmetic.acc_bits - 1)):
        # No partial sum can leave the accumulator or float32's exact integers: neither
        # policy changes a sum, and each group's float32 BLAS sum is S_g itself.
        w_chunks = _chunked(w, group).transpose(0, 2, 1)
        return rescale(_chunk_sums(a, w_chunks, group), w_scales, a_scales)
    sums = _group_sums(a, w, group, max_product, arithmetic)
    if qw.zero_points is not None:       # z * sum of the group's activations, exact
        zeros = np.broadcast_to(qw.zero_points, (N, groups)).astype(np.int64)
        a_sums = a.reshape(M, groups, group).sum(axis=-1)
        sums -= zeros.T[:, None, :] * a_sums.T[:, :, None]
    return rescale(sums, w_scales, a_scales)


def _routed_gemm(qa, qw, arithmetic: PEArithmetic, family: str):
    """y of the layer on mx_mac or on a LUT PE with stored-width tables when ``arithmetic``
    names them (module docstring), else None; ValueError for MX on fp8_mac."""
    if family == "mx" and arithmetic.float_pe != "mx_mac":
        raise ValueError(f"MX block scales are modeled on mx_mac only: float_pe must be "
                         f"'mx_mac' for an MX layer, got {arithmetic.float_pe!r}")
    if family != "int" and arithmetic.float_pe == "mx_mac":
        return gemm_mx.qtensor_mx_gemm(qa, qw)
    if family == "int" and arithmetic.lut_table_bits is not None:
        return gemm_lut.qtensor_lut_gemm(qa, qw, arithmetic)
    return None


def required_acc_bits(qa, qw) -> int:
    """The narrowest accumulator (two's complement bits) that holds every group's exact PE sum
    of ``qa`` [M, K] and ``qw`` [N, K] on an integer PE: with it, or any wider one, "wrap" changes
    no sum, so ``qtensor_gemm`` gives the 64-bit result bit for bit."""
    if pe_family(qw.spec, qa.spec) != "int":
        raise ValueError(f"required_acc_bits applies to integer PEs; {qw.spec.format} x "
                         f"{qa.spec.format} runs on a float PE")
    a, w = int_values(qa), int_values(qw)
    group = qw.shape[1] // qw.scales.shape[-1]
    sums = _group_sums(a, w, group, _max_product(a, w), PEArithmetic(acc_bits=64))
    largest, smallest = int(sums.max(initial=0)), int(sums.min(initial=0))
    return max(largest.bit_length(), (-smallest - 1).bit_length()) + 1


# -- plain-Python references --------------------------------------------------------------------
def round_fraction(value: Fraction, acc_mbits: int, rounding: str, emin: int = -126) -> Fraction:
    """``value`` rounded to acc_mbits + 1 significant bits ("rne" or "rtz"), smallest normal
    exponent ``emin`` (a float with float32's exponent range), by exact rational arithmetic."""
    if value == 0:
        return Fraction(0)
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:          # make 2^exponent <= magnitude < 2^(e+1)
        exponent -= 1
    ulp = Fraction(2) ** (max(exponent, emin) - acc_mbits)
    units, rest = divmod(magnitude, ulp)
    if rounding == "rne" and (rest > ulp / 2 or (rest == ulp / 2 and units % 2)):
        units += 1
    return (units * ulp) if value > 0 else -(units * ulp)


def float_dot_reference(a_values, w_values, acc_mbits: int, rounding: str) -> Fraction:
    """The float PE's dot product of two sequences of exact values (Fractions or floats)."""
    acc = Fraction(0)
    for x, y in zip(a_values, w_values, strict=True):
        acc = round_fraction(acc + Fraction(x) * Fraction(y), acc_mbits, rounding)
    return acc
