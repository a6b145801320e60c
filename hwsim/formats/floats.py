"""Minifloat element formats (OCP OFP8 rev 1.0, OCP MX v1.0) and the MX shared scale E8M0.

Every format below is named as in ml_dtypes and decodes every code to the same float32 bits as
ml_dtypes (NaN codes decode to the quiet NaN 0x7FC00000 with the code's sign). A code holds
sign | exponent | mantissa from the high bit down; the value of a code with exponent field E and
mantissa field M is (-1)^S * 2^(E - bias) * (1 + M / 2^mbits) for E > 0 and
(-1)^S * 2^(1 - bias) * (M / 2^mbits) for E = 0 (subnormals).

float8_e4m3fn   S.EEEE.MMM  bias 7,  emax 8,  emin -6,  max 448 (0x7E),  min normal 2^-6,
                min subnormal 2^-9. No infinities; NaN only S.1111.111 (0x7F, 0xFF).
float8_e5m2     S.EEEEE.MM  bias 15, emax 15, emin -14, max 57344 (0x7B), min normal 2^-14,
                min subnormal 2^-16. IEEE-like: inf S.11111.00 (0x7C, 0xFC);
                NaN S.11111.{01,10,11}, written as 0x7E / 0xFE.
float6_e3m2fn   S.EEE.MM    bias 3,  emax 4,  emin -2,  max 28 (0x1F),  min normal 2^-2,
                min subnormal 2^-4. Every code is finite: no inf, no NaN.
float6_e2m3fn   S.EE.MMM    bias 1,  emax 2,  emin 0,   max 7.5 (0x1F), min normal 1,
                min subnormal 2^-3. Every code is finite: no inf, no NaN.
float4_e2m1fn   S.EE.M      bias 1,  emax 2,  emin 0,   max 6 (0x7),    min normal 1,
                min subnormal 2^-1. Every code is finite: no inf, no NaN.
float8_e8m0fnu  EEEEEEEE    bias 127, unsigned exponent only: code E is 2^(E - 127);
                min 2^-127 (0x00), max 2^127 (0xFE), NaN 0xFF; no zero, no sign, no inf.
                Kind "scale": the shared scale of an MX block.

Encoding (``encode(x, saturate)``), for float32 and float64 input alike; float64 is rounded
once, directly to the target (never through float32 as ml_dtypes' ``astype`` does):

* Sign-magnitude formats round to nearest, ties to even (the even code), at the precision of
  the input's binade with an unbounded exponent range; *then* overflow is handled (OFP8 rule):
  a result beyond max is an overflow, and so is ±inf.
  - float8_e4m3fn: overflow -> ±max if ``saturate`` else NaN (0x7F / 0xFF).
  - float8_e5m2:   overflow -> ±max if ``saturate`` else ±inf (0x7C / 0xFC).
  - FP6 and FP4 have no code for inf or NaN: overflow and ±inf always saturate to ±max
    (whatever ``saturate`` says, as ml_dtypes does), and a NaN input raises ValueError
    naming ``x``.
  NaN keeps its sign: E4M3 0x7F / 0xFF, E5M2 0x7E / 0xFE (ml_dtypes' codes). Values that
  round to zero keep their sign (-tiny -> 0x80).
* float8_e8m0fnu rounds a positive x to the nearest power of two in the linear domain with
  ties (x = 1.5 * 2^e) going up, as ml_dtypes does; positive values below 2^-127 become 2^-127
  (0x00). One knowing departure from ml_dtypes: float32 subnormals in (2^-127, 1.5 * 2^-127)
  are nearest to 2^-127 and give 0x00, where ml_dtypes rounds them up to 2^-126 (0x01).
  Overflow (a result above 2^127) and +inf give NaN (0xFF), or max (0xFE) if ``saturate``.
  Zero (either sign), negative values and NaN have no code and give NaN (0xFF) in both modes.

The hot paths are Numba kernels on the IEEE bit patterns (see ``_round_magnitude``); float32
input to a sign-magnitude format takes a float32 path that lets the FPU round (see
``_encode_minifloat_f32_one``), float32 input to E8M0 a branch-free bit-pattern one. Decoding
gathers from a per-format table of float32 bit patterns, itself built by a bit-pattern kernel:
with at most 256 codes, a gather beats recomputing the fields per element. A plain-Python
integer reference lives in ``lowbit.hwsim.formats.reference.minifloat``.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from lowbit.hwsim.formats.base import PARALLEL_MIN_SIZE, Format, register


# The source IEEE formats, as (signed integer view dtype, mantissa bits, exponent bits, bias).
_SOURCE_LAYOUT = {
    np.dtype(np.float32): (np.int32, 23, 8, 127),
    np.dtype(np.float64): (np.int64, 52, 11, 1023),
}

# Which codes are special, named by variant (not by boolean flags):
#   "ieee"   all-ones exponent: mantissa 0 is ±inf, the rest NaN (float8_e5m2)
#   "fn"     finite, only S.1...1.1...1 is NaN (float8_e4m3fn)
#   "finite" every code is a finite number (FP6, FP4)
_SPECIALS = ("ieee", "fn", "finite")

_FLOAT32_QUIET_NAN = 0x7FC00000
_FLOAT32_INF = 0x7F800000


# -- encode kernels -----------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _round_magnitude(a, smbits, sbias, mbits, emin):
    """Magnitude code of |x| rounded to nearest even, before any overflow check.

    ``a`` is |x|'s IEEE bit pattern (sign cleared) with ``smbits`` mantissa bits and bias
    ``sbias``; the target has ``mbits`` mantissa bits and smallest normal exponent ``emin``.
    The result may exceed the largest code (overflow, inf) and is meaningless for NaN.

    Why it works: below 2^emin the target's spacing is fixed at 2^(emin - mbits), so the
    significand is shifted further right by (emin - e). The rounded significand q counts
    units of the target's spacing in the binade max(e, emin); adding (max(e, emin) - emin)
    << mbits places it (q = 2^(mbits+1), a carry, lands on the next binade's first code).
    """
    sexp = a >> smbits
    is_normal = min(sexp, 1)
    sig = (a & ((1 << smbits) - 1)) | (is_normal << smbits)
    e = max(sexp, 1) - sbias
    # sig < 2^(smbits+1): any shift of smbits+2 or more rounds to 0, so cap it there to keep
    # the shift amount inside the integer width.
    shift = min(smbits - mbits + max(emin - e, 0), smbits + 2)
    odd = (sig >> shift) & 1
    q = (sig + (1 << (shift - 1)) - 1 + odd) >> shift
    return ((max(e, emin) - emin) << mbits) + q


@njit(cache=True, inline="always")
def _encode_minifloat_one(v, smbits, sebits, sbias, mbits, emin, max_code, overflow_code,
                          nan_code, sign_shift):
    """One sign-magnitude minifloat code from the IEEE bits ``v`` (signed int view)."""
    v = np.int64(v)
    width = smbits + sebits + 1
    sign = (v >> (width - 1)) & 1
    a = v & ~(np.int64(-1) << (width - 1))
    mag = _round_magnitude(a, smbits, sbias, mbits, emin)
    mag = overflow_code if mag > max_code else mag
    mag = nan_code if a > (((1 << sebits) - 1) << smbits) else mag
    return (sign << sign_shift) | mag


@njit(cache=True)
def _encode_minifloat_serial(xbits, out, smbits, sebits, sbias, mbits, emin, max_code,
                             overflow_code, nan_code, sign_shift):
    for i in range(xbits.size):
        out[i] = _encode_minifloat_one(xbits[i], smbits, sebits, sbias, mbits, emin, max_code,
                                       overflow_code, nan_code, sign_shift)


@njit(cache=True, parallel=True)
def _encode_minifloat_parallel(xbits, out, smbits, sebits, sbias, mbits, emin, max_code,
                               overflow_code, nan_code, sign_shift):
    for i in prange(xbits.size):
        out[i] = _encode_minifloat_one(xbits[i], smbits, sebits, sbias, mbits, emin, max_code,
                                       overflow_code, nan_code, sign_shift)


# -- float32 encode kernels: 32-bit lanes, no per-element branch, so the loops vectorize ------
@intrinsic
def _float32_bits(typingctx, x):
    """The IEEE bit pattern of a float32 as an int32 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _float32_bits_above(typingctx, x, shift):
    """The bit pattern of a non-negative float32 shifted right by ``shift``, in 32 bits (a
    64-bit variable shift has no AVX2 vector form, and Numba widens int32 arithmetic)."""
    def codegen(context, builder, signature, args):
        bits = builder.bitcast(args[0], ir.IntType(32))
        return builder.lshr(bits, builder.trunc(args[1], ir.IntType(32)))
    return types.int32(types.float32, shift), codegen


@intrinsic
def _float32_binade(typingctx, x):
    """2^floor(log2 |x|) for a normal float32 x: |x| with its mantissa bits cleared (0 for a
    subnormal x); float32 in and out, so no lane widens."""
    def codegen(context, builder, signature, args):
        bits = builder.bitcast(args[0], ir.IntType(32))
        exponent = builder.and_(bits, ir.Constant(ir.IntType(32), 0x7F800000))
        return builder.bitcast(exponent, ir.FloatType())
    return types.float32(types.float32), codegen


@intrinsic
def _magic_sum_code(typingctx, total, magic, shift, offset):
    """bits(total) - bits(magic) + (bits(magic) >> shift) - offset, in 32-bit integers (Numba
    would widen each step to 64 bits): the code of a minifloat rounded by ``total`` = |x| +
    ``magic`` (see _encode_minifloat_f32_one)."""
    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        total_bits = builder.bitcast(args[0], i32)
        magic_bits = builder.bitcast(args[1], i32)
        binade_code = builder.sub(builder.lshr(magic_bits, builder.trunc(args[2], i32)),
                                  builder.trunc(args[3], i32))
        return builder.add(builder.sub(total_bits, magic_bits), binade_code)
    return types.int32(types.float32, types.float32, shift, offset), codegen


@njit(cache=True, inline="always")
def _encode_minifloat_f32_one(x, cap, magic_scale, magic_min, shift, binade_offset, max_code,
                              overflow_code, sign_bit):
    """One sign-magnitude minifloat code of a float32 ``x``: the FPU does the rounding.

    ``magic`` = 2^(e + 23 - mbits), for |x|'s binade 2^e (e at least emin: subnormal targets
    share emin's spacing), is a power of two whose float32 ulp is the target's spacing there,
    so ``total`` = |x| + magic is magic plus |x| rounded to nearest, ties to even, in hardware:
    bits(total) - bits(magic) = rounded / 2^(e - mbits), which is 2^mbits + the mantissa field
    for a target normal (2^(mbits+1) when it rounds up into the next binade) and the mantissa
    field itself for a target subnormal (e = emin). The code is that plus (e + bias - 1) <<
    mbits, which is bits(magic) >> ``shift`` (= 23 - mbits) less ``binade_offset`` = (150 -
    mbits + 1 - bias) << mbits: zero for e = emin = 1 - bias, so target normals and subnormals
    take the same integer arithmetic, and no float32 subnormal (slow on x86) is ever formed.
    |x| is capped at ``cap`` = 2^(emax + 2), beyond every overflow, so magic stays finite. A
    code above ``max_code`` is an overflow; the sign comes last. A NaN x gives some code that
    the caller replaces (NaN is rare, so a select per element would be wasted). The arguments
    are int32 (``_encode_float32``): compared and selected in 32 bits. It relies on the FPU's
    default rounding, to nearest even, which neither numpy nor Numba change.
    """
    magnitude = min(abs(x), cap)
    magic = max(_float32_binade(magnitude) * magic_scale, magic_min)
    mag = _magic_sum_code(magnitude + magic, magic, shift, binade_offset)
    mag = overflow_code if mag > max_code else mag
    sign = sign_bit if _float32_bits(x) < np.int32(0) else np.int32(0)
    return sign | mag


_F32_CHUNK = 1 << 16   # elements per parallel task of the float32 minifloat encode


@njit(cache=True)
def _encode_minifloat_f32_serial(x, out, cap, magic_scale, magic_min, shift, binade_offset,
                                 max_code, overflow_code, sign_bit):
    """Encode every element but NaN; return whether one is NaN (the caller then writes their
    codes, or refuses them for a format without NaN):
    the largest |x| bit pattern is above +inf's exactly then. A 32-bit max, one vector
    instruction per lane group (an OR of NaN flags costs a compare and a narrowing; a count
    widens to int64 and halves the loop's speed)."""
    largest = np.int32(0)
    for i in range(x.size):
        value = x[i]  # read once: the store to ``out`` may alias x as far as the compiler knows
        out[i] = _encode_minifloat_f32_one(value, cap, magic_scale, magic_min, shift,
                                           binade_offset, max_code, overflow_code, sign_bit)
        largest = max(largest, _float32_bits(abs(value)))
    return largest > np.int32(_FLOAT32_INF)


@njit(cache=True, parallel=True)
def _encode_minifloat_f32_parallel(x, out, cap, magic_scale, magic_min, shift, binade_offset,
                                   max_code, overflow_code, sign_bit):
    """The serial kernel on chunks of ``_F32_CHUNK`` elements in parallel: prange has no OR
    reduction, and a per-element count or max would not vectorize."""
    nan_chunks = 0
    for c in prange(-(-x.size // _F32_CHUNK)):
        lo, hi = c * _F32_CHUNK, min((c + 1) * _F32_CHUNK, x.size)
        nan_chunks += _encode_minifloat_f32_serial(x[lo:hi], out[lo:hi], cap, magic_scale,
                                                   magic_min, shift, binade_offset, max_code,
                                                   overflow_code, sign_bit)
    return nan_chunks > 0


@intrinsic
def _e8m0_code_bits(typingctx, x, overflow_code):
    """The E8M0 code of float32 ``x`` (the rules of ``_encode_e8m0_one``) without a branch,
    from its bits v, a = |v|, in 32-bit vector lanes:
    (a + half) >> 23 rounds a normal x's exponent up when the mantissa is >= 1/2 (half =
    2^22: adding half a binade carries into the exponent field), and sends a subnormal x to
    0x00 below 1.5 * 2^-127 and to 0x01 from there (half = 2^21: a >= 3 * 2^21 carries into
    bit 23). Every finite code is <= 0xFE, and a positive x beyond them (overflow, +inf) gives
    >= 0xFF, so min(code, overflow_code) writes the overflow. v - 1 read as unsigned is at
    least 0x7F800000 exactly for zero, negatives and NaN (v + 0x7FFFFFFF is that number with
    its top bit flipped, so a signed compare decides it), which have no code: all-ones, 0xFF
    in the low byte. (Numba would widen each step to 64 bits.)"""
    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        const = lambda value: ir.Constant(i32, value)  # noqa: E731
        v = builder.bitcast(args[0], i32)
        a = builder.and_(v, const(0x7FFFFFFF))
        half = builder.select(builder.icmp_signed("<", a, const(0x800000)), const(1 << 21),
                              const(1 << 22))
        code = builder.lshr(builder.add(a, half), const(23))
        overflow = builder.trunc(args[1], i32)
        code = builder.select(builder.icmp_signed(">", code, overflow), overflow, code)
        no_code = builder.icmp_signed(">", builder.add(v, const(0x7FFFFFFF)),
                                      const(0x7F7FFFFF - (1 << 31)))
        return builder.or_(code, builder.sext(no_code, i32))
    return types.int32(types.float32, overflow_code), codegen


@njit(cache=True)
def _encode_e8m0_f32_serial(x, out, overflow_code):
    for i in range(x.size):
        out[i] = _e8m0_code_bits(x[i], overflow_code)


@njit(cache=True, parallel=True)
def _encode_e8m0_f32_parallel(x, out, overflow_code):
    for i in prange(x.size):
        out[i] = _e8m0_code_bits(x[i], overflow_code)


@njit(cache=True, inline="always")
def _encode_e8m0_one(v, smbits, sebits, sbias, overflow_code):
    """One float8_e8m0fnu code from the IEEE bits ``v`` (signed int view)."""
    v = np.int64(v)
    width = smbits + sebits + 1
    a = v & ~(np.int64(-1) << (width - 1))
    if (v >> (width - 1)) & 1 or a == 0 or a > (((1 << sebits) - 1) << smbits):
        return 0xFF  # negative, zero, NaN: no code but NaN
    sexp = a >> smbits
    frac = a & ((1 << smbits) - 1)
    e = sexp - sbias
    if sexp == 0:  # subnormal input: normalise so that frac's top bit is the first after the point
        e = 1 - sbias
        while frac < (1 << smbits):
            frac <<= 1
            e -= 1
        frac &= (1 << smbits) - 1
    e += (frac >> (smbits - 1)) & 1  # fraction >= 1/2, i.e. x >= 1.5 * 2^e: round up
    if e > 127:
        return overflow_code
    return max(e, -127) + 127


@njit(cache=True)
def _encode_e8m0_serial(xbits, out, smbits, sebits, sbias, overflow_code):
    for i in range(xbits.size):
        out[i] = _encode_e8m0_one(xbits[i], smbits, sebits, sbias, overflow_code)


@njit(cache=True, parallel=True)
def _encode_e8m0_parallel(xbits, out, smbits, sebits, sbias, overflow_code):
    for i in prange(xbits.size):
        out[i] = _encode_e8m0_one(xbits[i], smbits, sebits, sbias, overflow_code)


# -- decode kernels -----------------------------------------------------------------------------
@njit(cache=True)
def _minifloat_float32_bits(code, ebits, mbits, bias, specials_ieee, specials_fn):
    """float32 bit pattern of a sign-magnitude minifloat code (quiet NaN 0x7FC00000 for NaN)."""
    sign = ((code >> (ebits + mbits)) & 1) << 31
    exp = (code >> mbits) & ((1 << ebits) - 1)
    mant = code & ((1 << mbits) - 1)
    all_ones_exp = exp == (1 << ebits) - 1
    if specials_ieee and all_ones_exp:
        return sign | (_FLOAT32_INF if mant == 0 else _FLOAT32_QUIET_NAN)
    if specials_fn and all_ones_exp and mant == (1 << mbits) - 1:
        return sign | _FLOAT32_QUIET_NAN
    if exp == 0 and mant == 0:
        return sign
    e = exp - bias
    if exp == 0:  # subnormal: normalise; every one is a float32 normal for these formats
        e = 1 - bias
        while mant < (1 << mbits):
            mant <<= 1
            e -= 1
        mant &= (1 << mbits) - 1
    return sign | ((e + 127) << 23) | (mant << (23 - mbits))


@njit(cache=True)
def _minifloat_table(ebits, mbits, bias, specials_ieee, specials_fn):
    table = np.empty(1 << (1 + ebits + mbits), dtype=np.uint32)
    for code in range(table.size):
        table[code] = _minifloat_float32_bits(code, ebits, mbits, bias, specials_ieee, specials_fn)
    return table


@njit(cache=True)
def _e8m0_table():
    table = np.empty(256, dtype=np.uint32)
    table[0] = 1 << 22  # 2^-127 is a float32 subnormal: mantissa bit 22 alone
    for code in range(1, 255):
        table[code] = code << 23
    table[255] = _FLOAT32_QUIET_NAN
    return table


@njit(cache=True)
def _gather_serial(codes, table, out):
    for i in range(codes.size):
        out[i] = table[codes[i]]


@njit(cache=True, parallel=True)
def _gather_parallel(codes, table, out):
    for i in prange(codes.size):
        out[i] = table[codes[i]]


# -- the formats --------------------------------------------------------------------------------
def _source_bits(x: np.ndarray):
    """x flattened as its signed-integer bit view, plus (mantissa bits, exponent bits, bias)."""
    view_dtype, smbits, sebits, sbias = _SOURCE_LAYOUT[x.dtype]
    return np.ascontiguousarray(x).reshape(-1).view(view_dtype), smbits, sebits, sbias


class _TableDecoded(Format):
    """A format whose decode gathers float32 bit patterns from a table indexed by code."""

    _table: np.ndarray

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(codes).reshape(-1)
        out = np.empty(flat.size, dtype=np.uint32)
        gather = _gather_parallel if flat.size >= PARALLEL_MIN_SIZE else _gather_serial
        gather(flat, self._table, out)
        return out.view(np.float32).reshape(codes.shape)


class Minifloat(_TableDecoded):
    """A sign-magnitude binary float with ``ebits`` exponent and ``mbits`` mantissa bits.

    Attributes beyond :class:`Format`: ``ebits``, ``mbits``, ``bias``, ``emax`` (unbiased
    exponent of the largest normal), ``emin`` (unbiased exponent of the smallest normal,
    1 - bias), ``specials`` (which codes are inf/NaN, see ``_SPECIALS``). Encoding and overflow
    rules: see the module docstring.
    """

    def __init__(self, *, name: str, ebits: int, mbits: int, bias: int, specials: str):
        if specials not in _SPECIALS:
            raise ValueError(f"specials must be one of {_SPECIALS}, got {specials!r}")
        self.ebits, self.mbits, self.bias, self.specials = ebits, mbits, bias, specials
        self._table = _minifloat_table(ebits, mbits, bias, specials == "ieee", specials == "fn")
        # The largest finite magnitude code: below the inf/NaN exponent for "ieee", one below
        # the NaN code for "fn", the all-ones code for "finite".
        all_ones = (1 << (ebits + mbits)) - 1
        self._max_code = {"ieee": all_ones - (1 << mbits), "fn": all_ones - 1,
                          "finite": all_ones}[specials]
        self._sign_shift = ebits + mbits
        self.emin = 1 - bias
        self.emax = (self._max_code >> mbits) - bias
        value = self._table.view(np.float32).astype(np.float64)
        super().__init__(name=name, bits=1 + ebits + mbits, kind="float",
                         max=value[self._max_code], lowest=-value[self._max_code],
                         min_normal=value[1 << mbits], min_subnormal=value[1],
                         has_inf=specials == "ieee", has_nan=specials != "finite")

    def _overflow_code(self, saturate: bool) -> int:
        if saturate or self.specials == "finite":
            return self._max_code
        # The code after max is inf for "ieee" (S.11111.00) and the NaN for "fn" (S.1111.111).
        return self._max_code + 1

    def _nan_code(self) -> int:
        """The magnitude code written for NaN: ml_dtypes' E4M3 0x7F, E5M2 0x7E."""
        if self.specials == "fn":
            return (1 << (self.ebits + self.mbits)) - 1  # the only NaN
        if self.specials == "ieee":  # the quiet NaN: all-ones exponent, top mantissa bit
            return (((1 << self.ebits) - 1) << self.mbits) | (1 << (self.mbits - 1))
        return self._max_code  # "finite": never written, NaN input raises before encoding

    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        if x.dtype == np.float32:
            return self._encode_float32(x, saturate)
        xbits, smbits, sebits, sbias = _source_bits(x)
        out = np.empty(xbits.size, dtype=np.uint8)
        kernel = (_encode_minifloat_parallel if xbits.size >= PARALLEL_MIN_SIZE
                  else _encode_minifloat_serial)
        kernel(xbits, out, smbits, sebits, sbias, self.mbits, self.emin, self._max_code,
               self._overflow_code(saturate), self._nan_code(), self._sign_shift)
        return out.reshape(x.shape)

    def _encode_float32(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty(flat.size, dtype=np.uint8)
        kernel = (_encode_minifloat_f32_parallel if flat.size >= PARALLEL_MIN_SIZE
                  else _encode_minifloat_f32_serial)
        # float32 and int32 constants, so that the kernel works in 32-bit lanes throughout
        f32, i32 = np.float32, np.int32
        nan_seen = kernel(flat, out, f32(2.0 ** (self.emax + 2)), f32(2.0 ** (23 - self.mbits)),
                          f32(2.0 ** (self.emin + 23 - self.mbits)), i32(23 - self.mbits),
                          i32((150 - self.mbits + 1 - self.bias) << self.mbits),
                          i32(self._max_code), i32(self._overflow_code(saturate)),
                          i32(1 << self._sign_shift))
        if nan_seen:
            if not self.has_nan:
                raise self._nan_refused()
            nan = np.isnan(flat)   # NaN keeps its sign
            out[nan] = self._nan_code() | (np.signbit(flat[nan]).astype(np.uint8)
                                           << self._sign_shift)
        return out.reshape(x.shape)

    def _encode_finds_nan(self, x: np.ndarray) -> bool:
        return x.dtype == np.float32


class E8M0Scale(_TableDecoded):
    """float8_e8m0fnu, the OCP MX shared scale: code E is 2^(E - 127), 0xFF is NaN.

    Exposes ``ebits`` 8, ``mbits`` 0, ``bias`` 127, ``emax`` 127, ``emin`` -127. ``lowest``
    is its smallest value 2^-127 (as ml_dtypes' finfo.min): it has neither zero nor negative
    values. Encoding rules: see the module docstring.
    """

    ebits, mbits, bias, emax, emin = 8, 0, 127, 127, -127

    def __init__(self):
        self._table = _e8m0_table()
        smallest = 2.0 ** self.emin
        super().__init__(name="float8_e8m0fnu", bits=8, kind="scale", max=2.0 ** self.emax,
                         lowest=smallest, min_normal=smallest, min_subnormal=smallest,
                         has_inf=False, has_nan=True)

    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        overflow_code = 0xFE if saturate else 0xFF
        if x.dtype == np.float32:
            flat = np.ascontiguousarray(x).reshape(-1)
            out = np.empty(flat.size, dtype=np.uint8)
            kernel = (_encode_e8m0_f32_parallel if flat.size >= PARALLEL_MIN_SIZE
                      else _encode_e8m0_f32_serial)
            kernel(flat, out, np.int32(overflow_code))
            return out.reshape(x.shape)
        xbits, smbits, sebits, sbias = _source_bits(x)
        out = np.empty(xbits.size, dtype=np.uint8)
        kernel = _encode_e8m0_parallel if xbits.size >= PARALLEL_MIN_SIZE else _encode_e8m0_serial
        kernel(xbits, out, smbits, sebits, sbias, overflow_code)
        return out.reshape(x.shape)


# The minifloat element formats (OCP OFP8 rev 1.0, OCP MX v1.0) in this order, and the FP8 ones
# among them: the lists every FP8 unit, PE config and RTL design takes its formats from.
_ELEMENTS = (
    Minifloat(name="float8_e4m3fn", ebits=4, mbits=3, bias=7, specials="fn"),
    Minifloat(name="float8_e5m2", ebits=5, mbits=2, bias=15, specials="ieee"),
    Minifloat(name="float6_e3m2fn", ebits=3, mbits=2, bias=3, specials="finite"),
    Minifloat(name="float6_e2m3fn", ebits=2, mbits=3, bias=1, specials="finite"),
    Minifloat(name="float4_e2m1fn", ebits=2, mbits=1, bias=1, specials="finite"),
)
ELEMENT_FORMATS = tuple(register(fmt).name for fmt in _ELEMENTS)
FP8_FORMATS = tuple(fmt.name for fmt in _ELEMENTS if fmt.bits == 8)
register(E8M0Scale())
