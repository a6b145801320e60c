"""Bit-exact FP8 arithmetic on codes: exact product, rounded product, sum, and multiply-accumulate.

These functions are the hardware contract for the ``Fp8Mul`` / ``Fp8Mac`` RTL: the RTL must equal
them bit for bit. They take raw codes and decode the bit fields themselves, as hardware does.

Element formats (OCP OFP8 rev 1.0 and OCP MX v1.0; ``ELEMENT_FORMATS`` below):
  float8_e4m3fn  S.EEEE.MMM   bias 7,  max 448   (S.1111.110), NaN S.1111.111 (0x7F, 0xFF), no inf
  float8_e5m2    S.EEEEE.MM   bias 15, max 57344 (S.11110.11), inf S.11111.00 (0x7C, 0xFC),
                              NaN S.11111.01/10/11
  float6_e3m2fn  S.EEE.MM     bias 3,  max 28,  no inf, no NaN   (MX elements only, see mx.py)
  float6_e2m3fn  S.EE.MMM     bias 1,  max 7.5, no inf, no NaN   (MX elements only)
  float4_e2m1fn  S.EE.M       bias 1,  max 6,   no inf, no NaN   (MX elements only)
A finite code with sign S, exponent field E and mantissa field M is worth
    (-1)^S * sig * 2^k,   sig = M + (2^mbits if E > 0 else 0),   k = max(E, 1) - bias - mbits,
so every value is an integer significand (4 bits for E4M3, 3 for E5M2) times a power of two.

Common rules of every function here
  - Codes are integers (any integer dtype, or Python ints) in 0..255; arrays broadcast.
  - Operand and result formats are independent: E4M3 x E5M2 is allowed everywhere, and the
    rounded units (fp8_mul, fp8_add) take the result format ``fmt_out`` separately.
  - A NaN result is always the canonical code 0x7F (E4M3), 0x7E (E5M2), 0x7FC00000 (float32),
    including an E4M3 overflow of either sign: NaN signs and payloads are not propagated.
    Apart from NaN signs, fp8_mul(a, b) == formats.get(fmt_out).encode(exact product, saturate)
    and fp8_add(a, b) == encode(exact sum, saturate) for every pair (lowbit.hwsim.formats keeps signs).
  - Rounding to FP8 is RNE to the format's precision with an unbounded exponent (subnormals kept),
    *then* overflow handling (OCP OFP8): a result whose rounded magnitude exceeds max, or an
    infinite result, becomes
        saturate=True:  +-max (0x7E/0xFE for E4M3, 0x7B/0xFB for E5M2)
        saturate=False: NaN for E4M3 (it has no inf), +-inf for E5M2.
    So for E4M3, 464 (the midpoint of 448 and 480) rounds to even 448 and anything above it
    overflows; for E5M2, 61440 (midpoint of 57344 and 65536) rounds to even 65536 = overflow.
  - A nonzero result that rounds to zero keeps its sign.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

from lowbit.hwsim import formats
from lowbit.hwsim.formats.base import as_float_array
from lowbit.hwsim.formats.floats import ELEMENT_FORMATS, FP8_FORMATS

# Decoding table, one row per element format, indexed by the format id (the row number).
# Fields: code bits, mantissa bits, exponent bias, largest finite magnitude code (sign bit
# clear), magnitude code of inf (-1: none), smallest NaN magnitude code (2^bits: none; every
# magnitude code from there up, except inf, is NaN), canonical NaN code (-1: none).
# Each row is read off the format's own definition in lowbit.hwsim.formats (OCP OFP8 rev 1.0
# table 1, OCP MX v1.0 table 1); tests/hwsim/test_units_fp8.py checks it against the tables.
_BITS, _MBITS, _BIAS, _MAXMAG, _INF, _NAN_FROM, _NAN_OUT = range(7)


def _decoding_row(name: str) -> list[int]:
    fmt = formats.get(name)
    magnitudes = fmt.values()[:1 << (fmt.bits - 1)]      # the codes with the sign bit clear
    finite, inf, nan = np.isfinite(magnitudes), np.isinf(magnitudes), np.isnan(magnitudes)
    canonical_nan = int(fmt.encode(np.array([np.nan]))[0]) if fmt.has_nan else -1
    return [fmt.bits, fmt.mbits, fmt.bias, int(np.flatnonzero(finite)[-1]),
            int(np.flatnonzero(inf)[0]) if inf.any() else -1,
            int(np.flatnonzero(nan)[0]) if nan.any() else 1 << fmt.bits, canonical_nan]


_TABLE = np.array([_decoding_row(name) for name in ELEMENT_FORMATS], dtype=np.int64)

# Classes returned by _decode.
FINITE, INF, NAN = 0, 1, 2
F32_NAN = 0x7FC00000
F32_INF = 0x7F800000
F32_MBITS, F32_EMIN = 23, -126
F32_MAX = 3.4028234663852886e38


def format_id(name, argname: str, allowed=FP8_FORMATS) -> int:
    """The row of ``name`` in the decoding table; ValueError naming ``argname`` otherwise."""
    if name not in allowed:
        raise ValueError(f"{argname} must be one of {', '.join(allowed)}; got {name!r}")
    return ELEMENT_FORMATS.index(name)


def float32_bits(values: np.ndarray, batch: tuple) -> np.ndarray:
    """float32 ``values`` as uint32 bits of shape ``batch``, every NaN made 0x7FC00000.

    x86 float32 addition makes inf + (-inf) the negative default NaN 0xFFC00000 and passes an
    input NaN's payload through; NaN is absorbing in an accumulation, so canonicalising the
    final value is the same as canonicalising after every addition.
    """
    bits = values.view(np.uint32)
    bits[np.isnan(values)] = F32_NAN
    return bits.reshape(batch)[()]


def check_acc(acc, batch_shape: tuple, argname: str = "acc") -> np.ndarray:
    """``acc`` broadcast to ``batch_shape`` as a C-contiguous float32 array.

    A float64 value must be exactly representable in float32 (NaN allowed): the accumulator is
    float32, and silently rounding a caller's starting value would be a second rounding point.
    """
    acc = as_float_array(acc, argname)
    acc32 = acc.astype(np.float32)
    lossy = (acc32.astype(np.float64) != acc) & ~np.isnan(acc)
    if lossy.any():
        raise ValueError(f"{argname} must hold float32-representable values, got "
                         f"{acc[lossy].flat[0]!r}")
    try:
        return np.ascontiguousarray(np.broadcast_to(acc32, batch_shape))
    except ValueError:
        raise ValueError(f"{argname} must broadcast to the batch shape {batch_shape}, "
                         f"got shape {acc.shape}") from None


def check_dot_operands(a_codes, b_codes, fmt_a, fmt_b, acc, allowed: tuple) -> tuple:
    """Validated operands of a dot-product unit (fp8_mac, mx.mx_dot).

    ``fmt_a`` and ``fmt_b`` must be in ``allowed``; a_codes and b_codes codes of them with one
    shape (..., n). Returns (fa, fb, a, b, acc32, batch): the format ids, the codes as uint8
    arrays of shape (rows, n) with rows = prod(batch), ``acc`` as a C-contiguous float32 array
    of rows (see :func:`check_acc`), and batch = (...).
    """
    fa = format_id(fmt_a, "fmt_a", allowed)
    fb = format_id(fmt_b, "fmt_b", allowed)
    a = formats.get(fmt_a).check_codes(a_codes, "a_codes")
    b = formats.get(fmt_b).check_codes(b_codes, "b_codes")
    if a.ndim == 0 or a.shape != b.shape:
        raise ValueError(f"a_codes and b_codes must have the same shape (..., n), got "
                         f"{a.shape} and {b.shape}")
    batch = a.shape[:-1]
    acc32 = check_acc(acc, batch).reshape(-1)
    rows = (acc32.size, a.shape[-1])       # explicit: reshape(-1, 0) is ambiguous for n = 0
    return fa, fb, a.reshape(rows), b.reshape(rows), acc32, batch


# -- scalar kernels: the bit-level contract ---------------------------------------------------
@njit(cache=True)
def _bit_length(x):
    """Bits of 0 <= x < 2^53 (exact in float64, so frexp's exponent is the bit length)."""
    return math.frexp(x)[1]


@njit(cache=True)
def _decode(code, f):
    """(cls, neg, sig, k) of a code of format f; the value is (-1)^neg * sig * 2^k if FINITE."""
    bits = _TABLE[f, _BITS]
    mbits = _TABLE[f, _MBITS]
    neg = (code >> (bits - 1)) & 1
    mag = code & ((1 << (bits - 1)) - 1)
    if mag == _TABLE[f, _INF]:
        return INF, neg, 0, 0
    if mag >= _TABLE[f, _NAN_FROM]:
        return NAN, neg, 0, 0
    e = mag >> mbits
    m = mag & ((1 << mbits) - 1)
    if e == 0:
        return FINITE, neg, m, 1 - _TABLE[f, _BIAS] - mbits
    return FINITE, neg, m | (1 << mbits), e - _TABLE[f, _BIAS] - mbits


@njit(cache=True)
def round_rne(mh, ml, k, mbits, emin):
    """Round M * 2^k, M = mh * 2^32 + ml > 0 (0 <= ml < 2^32, 0 <= mh < 2^53), to nearest-even
    with mbits + 1 significant bits and smallest exponent emin (subnormals below it); the
    exponent is unbounded above (overflow is the caller's rule).

    Returns (r, q): the rounded value is r * 2^q with r < 2^(mbits+1); r >= 2^mbits for a normal
    result, r < 2^mbits only at q = emin - mbits (subnormal), r = 0 when M * 2^k rounds to zero.
    """
    msb = 32 + _bit_length(mh) - 1 if mh else _bit_length(ml) - 1
    q = max(msb + k, emin) - mbits
    drop = q - k                    # low bits of M below the result's last place
    if drop <= 0:                   # exact; then msb <= mbits, so mh == 0
        return ml << -drop, q
    g = drop - 1                    # bits below the guard bit
    if g >= 32:
        s = min(g - 32, 63)
        t = mh >> s
        sticky = ml != 0 or mh != (t << s)
    else:                           # t = M >> g has at most mbits + 2 bits: no overflow
        t = (mh << (32 - g)) | (ml >> g)
        sticky = (ml & ((1 << g) - 1)) != 0
    r = t >> 1
    if (t & 1) and (sticky or (r & 1)):
        r += 1
    if r >> (mbits + 1):            # rounding carried into a new binade
        r >>= 1
        q += 1
    return r, q


@njit(cache=True)
def _beyond_max(sign, f, saturate):
    """The code of an overflowing or infinite result with sign bit ``sign`` (already shifted)."""
    if saturate:
        return sign | _TABLE[f, _MAXMAG]
    if _TABLE[f, _INF] >= 0:
        return sign | _TABLE[f, _INF]
    return _TABLE[f, _NAN_OUT]


@njit(cache=True)
def _encode(neg, m, k, f, saturate):
    """The code of (-1)^neg * m * 2^k (0 <= m < 2^62) rounded to format f (RNE, overflow)."""
    bits = _TABLE[f, _BITS]
    mbits = _TABLE[f, _MBITS]
    sign = neg << (bits - 1)
    if m == 0:
        return sign
    r, q = round_rne(m >> 32, m & 0xFFFFFFFF, k, mbits, 1 - _TABLE[f, _BIAS])
    if r == 0:
        return sign
    e = q + mbits + _TABLE[f, _BIAS] if r >> mbits else 0
    mag = (e << mbits) | (r & ((1 << mbits) - 1))
    if mag > _TABLE[f, _MAXMAG]:
        return _beyond_max(sign, f, saturate)
    return sign | mag


@njit(cache=True)
def _dyadic_to_f32(neg, mh, ml, k):
    """float32 RNE of (-1)^neg * (mh * 2^32 + ml) * 2^k, overflow to inf; +0.0 for zero."""
    if mh == 0 and ml == 0:
        return np.float32(0.0)
    r, q = round_rne(mh, ml, k, F32_MBITS, F32_EMIN)
    value = math.ldexp(r, q)                # exact: r < 2^24, q >= -149 (inf if q is huge)
    if value > F32_MAX:
        value = np.inf
    return np.float32(-value if neg else value)


@njit(cache=True)
def dyadic_to_float32(neg, mh, ml, k):
    """float32 of (-1)^neg[i] * (mh[i] * 2^32 + ml[i]) * 2^k[i] for each i, rounded once (RNE,
    float32 subnormals kept, overflow to +-inf); an exact zero is +0.0 whatever neg[i] is.

    neg (bool), mh, ml, k (int64): 1-D arrays of one length, 0 <= ml < 2^32, 0 <= mh < 2^53.
    Returns a 1-D float32 array. (The MX unit rounds its exact block sums with it.)
    """
    out = np.empty(neg.size, np.float32)
    for i in range(neg.size):
        out[i] = _dyadic_to_f32(neg[i], mh[i], ml[i], k[i])
    return out


@njit(cache=True)
def mul_exact_bits(a, b, fa, fb):
    """float32 bits of the exact product of code a (format id fa) and code b (format id fb),
    any element formats (products of FP6/FP4 values are exact in float32 too); see
    :func:`fp8_mul_exact` for the contract."""
    ca, na, sa, ka = _decode(a, fa)
    cb, nb, sb, kb = _decode(b, fb)
    neg = na ^ nb
    if ca == NAN or cb == NAN:
        return F32_NAN
    if ca == INF or cb == INF:
        if (ca == FINITE and sa == 0) or (cb == FINITE and sb == 0):
            return F32_NAN          # inf * 0
        return (neg << 31) | F32_INF
    p = sa * sb
    if p == 0:
        return neg << 31
    msb = _bit_length(p) - 1        # p < 2^8 and the product is a normal float32
    return (neg << 31) | ((msb + ka + kb + 127) << 23) | ((p << (23 - msb)) & 0x7FFFFF)


@njit(cache=True)
def mul_code(a, b, fa, fb, fo, saturate):
    """Code of a * b (a of format id fa, b of fb) rounded to FP8 format id fo (0: E4M3,
    1: E5M2); see :func:`fp8_mul`."""
    ca, na, sa, ka = _decode(a, fa)
    cb, nb, sb, kb = _decode(b, fb)
    neg = na ^ nb
    if ca == NAN or cb == NAN or (ca == INF and cb == FINITE and sb == 0) \
            or (cb == INF and ca == FINITE and sa == 0):
        return _TABLE[fo, _NAN_OUT]
    if ca == INF or cb == INF:
        return _beyond_max(neg << (_TABLE[fo, _BITS] - 1), fo, saturate)
    return _encode(neg, sa * sb, ka + kb, fo, saturate)


@njit(cache=True)
def add_code(a, b, fa, fb, fo, saturate):
    """Code of a + b (a of format id fa, b of fb) rounded to FP8 format id fo (0: E4M3,
    1: E5M2); see :func:`fp8_add`."""
    ca, na, sa, ka = _decode(a, fa)
    cb, nb, sb, kb = _decode(b, fb)
    if ca == NAN or cb == NAN or (ca == INF and cb == INF and na != nb):
        return _TABLE[fo, _NAN_OUT]
    if ca == INF or cb == INF:
        neg = na if ca == INF else nb
        return _beyond_max(neg << (_TABLE[fo, _BITS] - 1), fo, saturate)
    k = min(ka, kb)
    # Exact sum in units of 2^k: at most 3 + 29 bits (E5M2's k spans -16..13, E4M3's -9..5).
    s = (-sa if na else sa) * (1 << (ka - k)) + (-sb if nb else sb) * (1 << (kb - k))
    if s == 0:                      # RNE: an exact zero sum is +0 unless both are -0
        return (na & nb) << (_TABLE[fo, _BITS] - 1)
    return _encode(1 if s < 0 else 0, abs(s), k, fo, saturate)


@njit(cache=True)
def _decode_table(f):
    """Per code of format f: class, sign, significand magnitude and exponent k (see _decode)."""
    cls = np.zeros(256, np.int64)
    neg = np.zeros(256, np.int64)
    sig = np.zeros(256, np.int64)
    k = np.zeros(256, np.int64)
    for code in range(256):
        cls[code], neg[code], sig[code], k[code] = _decode(code, f)
    return cls, neg, sig, k


@functools.lru_cache(maxsize=None)
def decode_table(f: int) -> tuple:
    """(cls, neg, sig, k) int64 arrays indexed by code (0..255; codes beyond the format's width
    are meaningless): the decoded bit fields of every code of element format id f. Read-only."""
    tables = _decode_table(f)
    for table in tables:
        table.flags.writeable = False
    return tables


# -- 256 x 256 tables built from the scalar kernels: the array entry points index them --------
@njit(cache=True)
def _exact_table(fa, fb):
    out = np.empty(1 << 16, np.uint32)
    for a in range(256):
        for b in range(256):
            out[(a << 8) | b] = mul_exact_bits(a, b, fa, fb)
    return out


@njit(cache=True)
def _rounded_table(add, fa, fb, fo, saturate):
    out = np.empty(1 << 16, np.uint8)
    for a in range(256):
        for b in range(256):
            out[(a << 8) | b] = add_code(a, b, fa, fb, fo, saturate) if add \
                else mul_code(a, b, fa, fb, fo, saturate)
    return out


@functools.lru_cache(maxsize=None)
def exact_products(fa: int, fb: int) -> np.ndarray:
    """Read-only float32 table of every exact product, indexed by (a << 8) | b."""
    table = _exact_table(fa, fb).view(np.float32)
    table.flags.writeable = False
    return table


@functools.lru_cache(maxsize=None)
def _rounded(add: bool, fa: int, fb: int, fo: int, saturate: bool) -> np.ndarray:
    table = _rounded_table(add, fa, fb, fo, saturate)
    table.flags.writeable = False
    return table


def _check_saturate(saturate) -> bool:
    if not isinstance(saturate, (bool, np.bool_)):
        raise ValueError(f"saturate must be True or False, got {saturate!r}")
    return bool(saturate)


def _rounded_formats(fmt, fmt_b, fmt_out) -> tuple:
    """Format ids (fa, fb, fo) of a rounded unit; fmt_b and fmt_out default to fmt."""
    fa = format_id(fmt, "fmt")
    fb = fa if fmt_b is None else format_id(fmt_b, "fmt_b")
    fo = fa if fmt_out is None else format_id(fmt_out, "fmt_out")
    return fa, fb, fo


def _pair_index(a, b, fa, fb):
    """(a << 8) | b for validated, broadcast code arrays a and b."""
    a = formats.get(ELEMENT_FORMATS[fa]).check_codes(a, "a").astype(np.intp)
    b = formats.get(ELEMENT_FORMATS[fb]).check_codes(b, "b")
    try:
        return (a << 8) | b
    except ValueError:
        raise ValueError(f"a and b must broadcast together, got shapes {a.shape} and "
                         f"{b.shape}") from None


# -- public array entry points ----------------------------------------------------------------
def fp8_mul_exact(a, b, fmt_a: str, fmt_b: str) -> np.ndarray:
    """The exact product of FP8 codes ``a`` (``fmt_a``) and ``b`` (``fmt_b``) as float32 bits.

    Formats: float8_e4m3fn or float8_e5m2 each, mixed allowed. Returns uint32 float32 bit patterns
    of the broadcast shape (``.view(np.float32)`` gives the values).

    Why float32 holds every product exactly: significands have at most 4 bits (E4M3: <= 15,
    E5M2: <= 7), so a product's significand is an integer <= 15 * 15 = 225 < 2^8, i.e. at most
    8 significant bits, well within float32's 24. The smallest nonzero magnitudes are 2^-9
    (E4M3) and 2^-16 (E5M2), so the smallest nonzero product is 2^-32 >= 2^-126 (float32's
    smallest normal), and the largest is 57344^2 < 2^32 < float32 max. Every nonzero finite
    product is therefore a *normal* float32, computed with no rounding at all.

    Special values (IEEE 754 multiplication):
      - NaN if either operand is NaN (E4M3 0x7F/0xFF, E5M2 S.11111.xx with xx != 00), or for
        inf * 0 (either order); NaN is always 0x7FC00000.
      - inf * nonzero finite and inf * inf = inf, sign = sign_a XOR sign_b (E5M2 only has inf).
      - A zero product (either operand +-0) is a zero with sign = sign_a XOR sign_b.
    """
    fa = format_id(fmt_a, "fmt_a")
    fb = format_id(fmt_b, "fmt_b")
    return exact_products(fa, fb).view(np.uint32)[_pair_index(a, b, fa, fb)]


def fp8_mul(a, b, fmt: str, saturate: bool, *, fmt_b: str | None = None,
            fmt_out: str | None = None) -> np.ndarray:
    """``a * b`` rounded once to an FP8 format; uint8 codes of the broadcast shape.

    Formats: ``a`` holds ``fmt`` codes, ``b`` holds ``fmt_b`` codes and the result is in
    ``fmt_out``; each is float8_e4m3fn or float8_e5m2, and fmt_b and fmt_out default to ``fmt``
    (so ``fp8_mul(a, b, fmt, saturate)`` is the single-format unit). The exact product (see
    :func:`fp8_mul_exact`) is rounded RNE to ``fmt_out`` and then given the overflow rule of the
    module docstring (``saturate``). Specials: NaN in -> NaN out (fmt_out's canonical NaN),
    inf * 0 -> NaN, inf * nonzero (an E5M2 operand's inf) -> inf with sign XOR, which the
    overflow rule then maps like any overflow (+-max when saturating; NaN for an E4M3 result
    and +-inf for E5M2 when not). Zero products and products that underflow to zero are zeros
    with sign XOR.
    Equivalently: fp8_mul(a, b) == OFP8 conversion of fp8_mul_exact(a, b, fmt, fmt_b) to fmt_out.
    """
    fa, fb, fo = _rounded_formats(fmt, fmt_b, fmt_out)
    return _rounded(False, fa, fb, fo, _check_saturate(saturate))[_pair_index(a, b, fa, fb)]


def fp8_add(a, b, fmt: str, saturate: bool, *, fmt_b: str | None = None,
            fmt_out: str | None = None) -> np.ndarray:
    """``a + b`` rounded once to an FP8 format; uint8 codes of the broadcast shape.

    Formats as in :func:`fp8_mul`: ``a`` in ``fmt``, ``b`` in ``fmt_b``, the result in
    ``fmt_out`` (both default to ``fmt``). The sum is formed exactly (an integer in units of the
    smaller operand's last place: at most 33 bits with sign) and rounded RNE to ``fmt_out``,
    then the overflow rule of the module docstring applies (``saturate``). Sign of an exact zero
    sum: +0, except (-0) + (-0) = -0 (IEEE RNE); so x + (-x) = +0. A nonzero sum that is too
    small for ``fmt_out`` rounds to a zero of its own sign (possible only for an E5M2 operand
    and an E4M3 result; a nonzero sum of two values of one format never rounds to zero).
    Specials: NaN in -> NaN out; inf + (-inf) -> NaN; inf + finite and inf + inf of equal sign
    -> that inf (+-max when saturating, NaN for an E4M3 result when not).
    """
    fa, fb, fo = _rounded_formats(fmt, fmt_b, fmt_out)
    return _rounded(True, fa, fb, fo, _check_saturate(saturate))[_pair_index(a, b, fa, fb)]


@njit(cache=True)
def _mac_rows(a, b, products, acc, out):
    """out[r] = acc[r] + products[a[r,0],b[r,0]] + ... in index order, in float32.

    Four rows advance together so that four independent float32 additions are in flight: each
    row's own additions stay strictly sequential, only the rows interleave.
    """
    rows, n = a.shape
    r = 0
    while r + 4 <= rows:
        s0, s1, s2, s3 = acc[r], acc[r + 1], acc[r + 2], acc[r + 3]
        for i in range(n):
            s0 += products[(np.intp(a[r, i]) << 8) | b[r, i]]
            s1 += products[(np.intp(a[r + 1, i]) << 8) | b[r + 1, i]]
            s2 += products[(np.intp(a[r + 2, i]) << 8) | b[r + 2, i]]
            s3 += products[(np.intp(a[r + 3, i]) << 8) | b[r + 3, i]]
        out[r], out[r + 1], out[r + 2], out[r + 3] = s0, s1, s2, s3
        r += 4
    for r in range(r, rows):
        s = acc[r]
        for i in range(n):
            s += products[(np.intp(a[r, i]) << 8) | b[r, i]]
        out[r] = s


def fp8_mac(a_codes, b_codes, fmt_a: str, fmt_b: str, acc=0.0) -> np.ndarray:
    """Dot products of FP8 code vectors accumulated in float32; returns float32 *bit patterns*.

    Contract (the ``Fp8Mac`` hardware):
      operands     a_codes (``fmt_a``) and b_codes (``fmt_b``): equal shapes (..., n), n >= 0;
                   float8_e4m3fn / float8_e5m2, mixed allowed.
      products     exact, as in :func:`fp8_mul_exact` (never rounded; inf * 0 = NaN).
      accumulator  IEEE float32 starting at ``acc`` (default +0.0; a float32-representable value
                   or array broadcastable to the batch shape (...)). For i = 0 .. n-1 in this
                   order: acc = float32_RNE(acc + product_i). float32 subnormals are kept (no
                   flush to zero), overflow gives +-inf (reachable only through inf operands
                   or an inf acc: |product| < 2^32 is far below half an ulp of FLT_MAX, 2^103,
                   so a finite acc never overflows), and IEEE special rules apply: NaN
                   propagates as 0x7FC00000, inf + (-inf) = NaN, an exact zero sum is +0
                   unless both addends are -0 (so +0.0 + (-0.0 product) = +0).
      result       uint32 float32 bits of shape (...) (a numpy scalar for 1-D operands);
                   ``.view(np.float32)`` gives the values.

    The kernel adds in float32 (a native IEEE add). Computing acc + product in float64 and then
    rounding to float32 would also be correctly rounded for *one* addition of two float32 values
    (53 >= 2 * 24 + 1, Figueroa's double-rounding bound, and an exact sum in the float32
    subnormal range is representable), but not for a float64 accumulator rounded once at the
    end, which is a different contract.
    """
    fa, fb, a, b, acc32, batch = check_dot_operands(a_codes, b_codes, fmt_a, fmt_b, acc,
                                                    FP8_FORMATS)
    out = np.empty_like(acc32)
    _mac_rows(a, b, exact_products(fa, fb), acc32, out)
    return float32_bits(out, batch)
