"""The host references and kernel models in kernels/reference.py against hwsim, the oracle.

Integer paths bit for bit; the fp16 dequantization tricks of wq_gemm.cu bit for bit against a
single rounding of the exact value, exhaustively over codes (and zero points).
"""
from __future__ import annotations

import numpy as np
import pytest

from lowbit.hwsim.quant import QuantSpec, dequantize, pack, quantize
from lowbit.hwsim.units.binary import pack_signs, xnor_dot
from lowbit.hwsim.units.integer import decode_int_codes, int_dot
from lowbit.hwsim.units.lut import lut_dot
from lowbit.kernels import reference
from lowbit.kernels.integer import BITPLANE_FORMATS, bitplane_weights
from lowbit.kernels.weight_only import FORMATS, from_qtensor, weight_only_linear

WEIGHT_SPECS = [
    QuantSpec(format="int8", granularity="channel", scale_format="float16"),
    QuantSpec(format="int8", granularity="group", group_size=128, scale_format="float16", symmetric=False),
    QuantSpec(format="int4", granularity="group", group_size=32, scale_format="float16"),
    QuantSpec(format="int4", granularity="group", group_size=64, scale_format="float16", symmetric=False),
    QuantSpec(format="int4", granularity="group", group_size=128, scale_format="float16"),
    QuantSpec(format="int2", granularity="group", group_size=64, scale_format="float16"),
    QuantSpec(format="int2", granularity="group", group_size=32, scale_format="float16", symmetric=False),
    QuantSpec(format="binary", granularity="group", group_size=32, scale_format="float16"),
    QuantSpec(format="binary", granularity="group", group_size=128, scale_format="float16"),
    QuantSpec(format="float8_e4m3fn", granularity="channel", scale_format="float16"),
]


@pytest.mark.parametrize("spec", WEIGHT_SPECS, ids=lambda s: f"{s.format}-{s.granularity}-{s.group_size}-"
                                                          f"{'sym' if s.symmetric else 'asym'}")
def test_dequantize_reference_matches_hwsim(spec, rng):
    w_float = rng.standard_normal((40, 512)) * rng.uniform(0.01, 3.0)
    q = quantize(w_float, spec, axis=1)
    w = from_qtensor(q)
    ref = reference.dequantize_reference(w)
    # hwsim rounds the exact (q - z) * s once to float32; so must the float64 reference.
    np.testing.assert_array_equal(ref.astype(np.float32).view(np.uint32), dequantize(q).view(np.uint32))


def _every_code_linear(fmt: str, rng, n_rows: int = 64) -> object:
    """Weights whose every row holds every code of ``fmt`` at every element position of a
    32-bit word (the kernel's dequantization depends on the position), and, for uintN, every
    zero point over the rows, with fp16 scales from subnormal to large."""
    bits, has_zp = FORMATS[fmt]
    codes = np.arange(1 << bits, dtype=np.uint8)
    if fmt == "float8_e4m3fn":
        codes = codes[(codes & 0x7F) != 0x7F]   # NaN codes are rejected by the wrapper
    per_word, vector = 32 // bits, 128 // bits
    k = -(-per_word * len(codes) // vector) * vector
    element = np.arange(k)
    # Position p of word w holds code (w + p) mod len(codes): over the words, every code at every p.
    row = codes[(element // per_word + element) % len(codes)]
    n_rows = max(n_rows, 1 << bits) if has_zp else n_rows
    all_codes = np.tile(row, (n_rows, 1))
    group = k
    # scales below 2^8 (2^7 for e4m3, whose codes reach 448): every weight finite in fp16, as
    # weight_only_linear requires
    exps = rng.integers(-24, 7 if fmt == "float8_e4m3fn" else 8, n_rows)
    scales = (np.ldexp(rng.uniform(1, 2, n_rows), exps)).astype(np.float16).astype(np.float32)[:, None]
    scales[scales == 0] = np.float32(2.0 ** -24)
    zp = (np.arange(n_rows) % (1 << bits)).astype(np.uint8)[:, None] if has_zp else None
    return weight_only_linear(pack(all_codes, bits, axis=1), scales, zp, fmt=fmt, k=k, group_size=group)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_kernel_fp16_weights_are_one_rounding_of_exact(fmt, rng):
    w = _every_code_linear(fmt, rng)
    codes, per_word = reference.weight_codes(w), 32 // w.bits
    for position in range(per_word):             # the helper's promise: every code everywhere
        assert len(np.unique(codes[0, position::per_word])) == len(np.unique(codes))
    exact = reference.dequantize_reference(w)
    with np.errstate(over="ignore"):
        want = exact.astype(np.float16)
        got = reference.kernel_weights_fp16(w)
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


def test_int_matmul_reference_matches_hwsim_exhaustive_int8():
    values = np.arange(-128, 128, dtype=np.int64)
    ref = reference.int_matmul_reference(values[:, None], values[:, None])      # every product
    a = np.broadcast_to(values[:, None, None], (256, 256, 1))
    b = np.broadcast_to(values[None, :, None], (256, 256, 1))
    np.testing.assert_array_equal(ref, int_dot(a, b, a_bits=8, b_bits=8, acc_bits=32))


def test_int_matmul_reference_matches_hwsim_random(rng):
    a = rng.integers(-128, 128, (9, 384))
    b = rng.integers(-128, 128, (13, 384))
    got = reference.int_matmul_reference(a, b)
    want = int_dot(np.broadcast_to(a[:, None], (9, 13, 384)), np.broadcast_to(b[None], (9, 13, 384)),
                   a_bits=8, b_bits=8, acc_bits=32)
    np.testing.assert_array_equal(got, want)


def test_a1w1_and_popc_model_matches_hwsim_xnor_dot(rng):
    m, n, k = 7, 11, 384
    a_codes = rng.integers(0, 2, (m, k)).astype(np.uint8)
    b_codes = rng.integers(0, 2, (n, k)).astype(np.uint8)
    a_packed, b_packed = pack(a_codes, 1, axis=1), pack(b_codes, 1, axis=1)
    # hwsim packs signs with bit 1 = +1; our binary code 0 is +1.
    a_words, b_words = pack_signs(1 - 2 * a_codes.astype(np.int64)), pack_signs(1 - 2 * b_codes.astype(np.int64))
    want = xnor_dot(np.broadcast_to(a_words[:, None], (m, n, a_words.shape[1])),
                    np.broadcast_to(b_words[None], (m, n, b_words.shape[1])), k)
    np.testing.assert_array_equal(reference.a1w1_and_popc_model(a_packed, b_packed, k), want)
    np.testing.assert_array_equal(
        reference.int_matmul_reference(reference.binary_values(a_packed, k), reference.binary_values(b_packed, k)),
        want)


def _plane_cases():
    for fmt, bits in BITPLANE_FORMATS.items():
        yield fmt, bits
        if fmt == "int3":
            yield fmt, 4       # sign-extended for bitplane_gemm


@pytest.mark.parametrize("fmt,n_planes", list(_plane_cases()))
def test_bitplane_and_lut_models_match_hwsim(fmt, n_planes, rng):
    bits = BITPLANE_FORMATS[fmt]
    m, n, k = 5, 9, 256
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    x[0] = -128                                       # the extreme activation row
    codes = rng.integers(0, 1 << bits, (n, k)).astype(np.uint8)
    w = bitplane_weights(codes, fmt=fmt, n_planes=n_planes)
    xb = np.broadcast_to(x[:, None].astype(np.int64), (m, n, k))
    if fmt == "binary":
        values = 1 - 2 * codes.astype(np.int64)
        want = int_dot(xb, np.broadcast_to(values[None], (m, n, k)), a_bits=8, b_bits=2, acc_bits=32)
    else:
        values = decode_int_codes(codes, bits)
        want = lut_dot(xb, np.broadcast_to(codes[None], (m, n, k)), w_bits=bits)
        np.testing.assert_array_equal(want, int_dot(xb, np.broadcast_to(values[None], (m, n, k)),
                                                    a_bits=8, b_bits=bits, acc_bits=32))
    np.testing.assert_array_equal(reference.bitplane_values(w), values)
    np.testing.assert_array_equal(reference.bitplane_model(x, w), want)
    np.testing.assert_array_equal(reference.lut_model(x, w), want)


def test_activation_planes_rebuild_the_int8_values(rng):
    x = rng.integers(-128, 128, (3, 128)).astype(np.int8)
    planes = reference.activation_planes(x)
    bits = np.unpackbits(planes.view(np.uint8), axis=-1, bitorder="little").astype(np.int64)  # [M, 8, K]
    coef = np.array([1, 2, 4, 8, 16, 32, 64, -128])
    np.testing.assert_array_equal(np.einsum("mqk,q->mk", bits, coef), x.astype(np.int64))


def test_weight_only_reference_is_float64_matmul_of_dequantized(rng):
    q = quantize(rng.standard_normal((16, 256)), WEIGHT_SPECS[2], axis=1)
    w = from_qtensor(q)
    x = rng.standard_normal((3, 256)).astype(np.float16)
    want = x.astype(np.float64) @ dequantize(q).astype(np.float64).T   # float32 dequant is exact here
    np.testing.assert_array_equal(reference.weight_only_reference(x, w), want)
