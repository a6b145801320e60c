"""Bit-exact float16 arithmetic on codes: the FP16 MAC lane and the FP16 x intN bit-serial dot.

float16 is IEEE 754 binary16: S.EEEEE.MMMMMMMMMM, bias 15, max 65504 (0x7BFF), smallest subnormal
2^-24 (0x0001), inf S.11111.0000000000, NaN S.11111.(nonzero). Codes are integers 0..65535.

Lane MAC (``fp16_mul_exact``, ``fp16_lane_mac``, ``fp32_pairwise_sum``; the Fp16MacPE contract)
  products     exact: an fp16 significand has 11 bits, so a product's has at most 22 <= 24, and
               every nonzero finite product lies in [2^-48, 65504^2 < 2^32], inside float32's
               normal range. So every product *is* a float32, computed with no rounding at all.
               inf * 0 = NaN, inf * nonzero = inf with sign XOR, NaN in -> NaN.
  lane sum     acc = float32_RNE(acc + product) per lane and beat (IEEE: subnormals kept,
               overflow to inf, inf + -inf = NaN, an exact zero sum is +0 unless both are -0).
  reduction    after a dot product's last beat the lane sums are added pairwise, level by
               level: at level l (stride s = 2^l) lane i, i a multiple of 2s with i + s < lanes,
               becomes float32_RNE(lane i + lane i+s); after ceil(log2(lanes)) levels lane 0
               holds the dot product. Results are float32 bits with NaN canonical 0x7FC00000.

Bit-serial dot (``fp16_weight_beat``, ``fixed_to_float32``; the Fp16BitSerialPE contract)
  operands     fp16 activation codes; weight codes of a runtime weight format (WEIGHT_FORMATS):
               "int" (w_bits-bit two's complement), "uint" (w_bits-bit unsigned),
               float4_e2m1fn, float6_e3m2fn, float6_e2m3fn (BitMoD-style FP weights; codes of
               the format's width). Each weight is (-1)^s * M * 2^k: int/uint s = 0, M = the code,
               k = 0; FP M = significand (hidden bit included), k = max(E, 1) - bias - mbits,
               s = the sign bit.
  fixed point  every finite fp16 value is an integer A times 2^-24 with |A| < 2^40 (A =
               significand << (max(E, 1) - 1)). Lane i's addend is V_i = (-1)^s_i * A_i
               << (k_i + 4), in units of 2^-28 (k >= -4 for every format: e3m2's smallest).
  planes       cycle j (0 .. C-1; C = w_bits for int/uint, mbits + 1 for FP) adds plane_j =
               sum over lanes of bit_j(M_i) * V_i, shifted left by j; for "int" the sign plane
               (j = w_bits - 1) is subtracted. The sum over the planes is the beat's exact dot
               product sum_i w_i * value_i in units of 2^-28 (an integer, no rounding).
  specials     per lane: a NaN activation, or an inf activation times a zero weight, is NaN; an
               inf activation times a nonzero weight is an inf of sign XOR. They are flags
               (nan, +inf, -inf) beside the integer sum, OR-ed over the dot product.
  result       the dot product's exact integer sum (the accumulator, wrapped to its width by the
               PE) rounded once to float32 (RNE of total * 2^-28; |total| < 2^63 keeps it below
               2^35, so it never overflows), unless a flag is set: NaN (0x7FC00000) if nan or
               both infs, else the inf. An exact zero is +0.0.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim import formats
from lowbit.hwsim.units.fp8 import F32_INF, F32_NAN, dyadic_to_float32, float32_bits
from lowbit.hwsim.units.integer import check_int_codes, decode_int_codes

FIXED_SHIFT = 24             # fp16 value = A * 2^-FIXED_SHIFT, A an integer
FIXED_ACT_BITS = 41          # A in -(2^40 - 2^29) .. 2^40 - 2^29: 41 bits two's complement
WEIGHT_SHIFT = 4             # lane addends in units of 2^-(FIXED_SHIFT + WEIGHT_SHIFT)
LANE_BITS = FIXED_ACT_BITS + 6   # A << (k + 4), k + 4 in 0..6 (e3m2's largest k is 2)
WEIGHT_FORMATS = ("int", "uint", "float4_e2m1fn", "float6_e3m2fn", "float6_e2m3fn")
NAN, POS_INF, NEG_INF = 1, 2, 4   # special flags, OR-ed


def check_fp16_codes(codes, argname: str) -> np.ndarray:
    """``codes`` validated as float16 codes (0..65535), returned as uint16."""
    return check_int_codes(codes, 16, argname, "float16")


def fp16_values(codes: np.ndarray) -> np.ndarray:
    """float32 values of uint16 float16 codes (exact)."""
    return codes.astype(np.uint16).view(np.float16).astype(np.float32)


def fp16_mul_exact(a, b) -> np.ndarray:
    """float32 bits (uint32) of the exact products of float16 codes ``a`` and ``b`` (equal
    shapes); NaN is 0x7FC00000 (module docstring: every product is a float32)."""
    a, b = check_fp16_codes(a, "a"), check_fp16_codes(b, "b")
    with np.errstate(invalid="ignore"):
        product = fp16_values(a) * fp16_values(b)
    return float32_bits(product.reshape(-1), a.shape)


def fp16_lane_mac(acc, a, b) -> np.ndarray:
    """float32 bits of float32_RNE(acc[i] + a[i] * b[i]) per lane: ``acc`` float32 bits
    (uint32), ``a``, ``b`` float16 codes, all of one shape (lanes,)."""
    acc = np.asarray(acc, dtype=np.uint32).view(np.float32)
    product = fp16_mul_exact(a, b).view(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        total = acc + product
    return float32_bits(total.reshape(-1), total.shape)


def fp32_pairwise_sum(lane_bits) -> int:
    """float32 bits of the pairwise reduction of float32 lane sums (module docstring)."""
    lanes = np.array(lane_bits, dtype=np.uint32).view(np.float32)
    stride = 1
    with np.errstate(invalid="ignore", over="ignore"):
        while stride < lanes.size:
            for i in range(0, lanes.size - stride, 2 * stride):
                lanes[i] = lanes[i] + lanes[i + stride]
            stride *= 2
    return int(float32_bits(lanes[:1], (1,))[0])


def fp16_to_fixed(codes) -> tuple[np.ndarray, np.ndarray]:
    """(A, flags) of float16 codes: A (int64) with value = A * 2^-24 for finite codes (0 for
    inf/NaN), flags NAN for NaN, POS_INF / NEG_INF for infinities, 0 otherwise."""
    codes = check_fp16_codes(codes, "codes").astype(np.int64)
    exponent, mantissa, negative = (codes >> 10) & 0x1F, codes & 0x3FF, codes >> 15
    significand = np.where(exponent > 0, mantissa | 0x400, mantissa)
    fixed = significand << np.maximum(exponent - 1, 0)
    fixed = np.where(negative == 1, -fixed, fixed)
    special = exponent == 0x1F
    flags = np.where(special & (mantissa != 0), NAN,
                     np.where(special, np.where(negative == 1, NEG_INF, POS_INF), 0))
    return np.where(special, 0, fixed), flags


def weight_fields(codes: np.ndarray, w_format: str, w_bits: int) -> tuple:
    """(negative, M, k) int64 arrays of weight codes (module docstring): value =
    (-1)^negative * M * 2^k; for "int" M is the two's complement code itself (its sign plane is
    subtracted by the caller)."""
    codes = codes.astype(np.int64)
    if w_format in ("int", "uint"):
        zeros = np.zeros_like(codes)
        return zeros, codes, zeros
    fmt = formats.get(w_format)
    mbits, bias = fmt.mbits, fmt.bias
    exponent = (codes >> mbits) & ((1 << fmt.ebits) - 1)
    significand = np.where(exponent > 0, (codes & ((1 << mbits) - 1)) | (1 << mbits),
                           codes & ((1 << mbits) - 1))
    return codes >> (fmt.bits - 1), significand, np.maximum(exponent, 1) - bias - mbits


def runtime_weight_format(name: str) -> str:
    """The WEIGHT_FORMATS entry codes of element format ``name`` run as: "int" for intN, "uint"
    for uintN, the FP format itself; ValueError for a format the PE does not take."""
    for kind in ("uint", "int"):
        if name.startswith(kind) and name[len(kind):].isdigit():
            return kind
    return check_weight_format(name, formats.get(name).bits, "name")


def weight_cycles(w_format: str, w_bits: int) -> int:
    """Planes (cycles) of one beat: w_bits for int/uint, the significand's width for FP."""
    return w_bits if w_format in ("int", "uint") else formats.get(w_format).mbits + 1


def check_weight_format(w_format, w_bits: int, argname: str) -> str:
    """``w_format`` validated against WEIGHT_FORMATS and ``w_bits`` (an FP format's codes are
    exactly its width); ValueError naming ``argname`` otherwise."""
    if w_format not in WEIGHT_FORMATS:
        raise ValueError(f"{argname} must be one of {WEIGHT_FORMATS}, got {w_format!r}")
    if w_format not in ("int", "uint") and w_bits != formats.get(w_format).bits:
        raise ValueError(f"{argname} {w_format} needs w_bits {formats.get(w_format).bits}, "
                         f"got {w_bits}")
    return w_format


def fp16_weight_beat(act, w_codes, w_bits: int, w_format: str = "int") -> tuple[int, int]:
    """(exact sum in units of 2^-28, special flags) of one beat: float16 codes ``act`` times
    weight codes ``w_codes`` (shape (lanes,)) of ``w_format`` with ``w_bits`` bits, added plane
    by plane as the module docstring says."""
    check_weight_format(w_format, w_bits, "w_format")
    fixed, act_flags = fp16_to_fixed(act)
    codes = check_int_codes(w_codes, w_bits, "w_codes")
    negative, significand, k = weight_fields(codes, w_format, w_bits)
    lane = np.where(negative == 1, -fixed, fixed) << (k + WEIGHT_SHIFT)
    total = 0
    for j in range(weight_cycles(w_format, w_bits)):
        plane = int(lane[(significand >> j) & 1 == 1].sum())
        total += (-plane if w_format == "int" and j == w_bits - 1 else plane) << j
    weights = decode_int_codes(codes, w_bits) if w_format == "int" \
        else np.where(negative == 1, -significand, significand)
    flags = 0
    for lane_flag, weight in zip(act_flags.tolist(), weights.tolist()):
        if lane_flag == NAN or (lane_flag and weight == 0):
            flags |= NAN
        elif lane_flag:
            flags |= lane_flag if weight > 0 else lane_flag ^ (POS_INF | NEG_INF)
    return total, flags


def fixed_to_float32(total: int, flags: int) -> int:
    """float32 bits of a dot product: its exact integer sum ``total`` (units of 2^-28) rounded
    once, RNE, unless ``flags`` makes it NaN or an inf (module docstring)."""
    if flags & NAN or flags & (POS_INF | NEG_INF) == POS_INF | NEG_INF:
        return F32_NAN
    if flags:
        return F32_INF | (0x80000000 if flags & NEG_INF else 0)
    magnitude = abs(total)
    bits = dyadic_to_float32(np.array([total < 0]), np.array([magnitude >> 32], np.int64),
                             np.array([magnitude & 0xFFFFFFFF], np.int64),
                             np.array([-FIXED_SHIFT - WEIGHT_SHIFT], np.int64))
    return int(bits.view(np.uint32)[0])
