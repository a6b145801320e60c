"""lowbit.hwsim.quant.pack: the little-endian bit-stream layout, lossless round trips, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowbit.hwsim.quant import pack, packed_length, unpack


def reference_pack_row(codes, bits) -> list[int]:
    """Plain-Python layout: element j at stream bits [j*bits, (j+1)*bits), LSB first."""
    stream = 0
    for j, code in enumerate(codes):
        stream |= int(code) << (j * bits)
    return [(stream >> (8 * i)) & 0xFF for i in range(packed_length(len(codes), bits))]


def test_four_bit_first_element_is_low_nibble():
    assert pack(np.array([0x1, 0x2, 0x3], np.uint8), 4).tolist() == [0x21, 0x03]


def test_uint32_word_view_puts_element_j_at_bit_j_times_bits():
    codes = np.arange(8, dtype=np.uint8)
    word = int(pack(codes, 4).view("<u4")[0])
    assert [(word >> (4 * j)) & 0xF for j in range(8)] == list(range(8))


def test_three_bit_codes_straddle_bytes():
    # 0b101, 0b011, 0b111 -> stream 111_011_101 (bit 0 first) -> bytes 0xDD, 0x01
    assert pack(np.array([5, 3, 7], np.uint8), 3).tolist() == [0b11011101, 0b1]


@pytest.mark.parametrize("bits", range(1, 9))
@pytest.mark.parametrize("n", [1, 7, 9, 33])
def test_matches_reference_layout(bits, n):
    seed = bits * 100 + n
    codes = np.random.default_rng(seed).integers(0, 1 << bits, size=(3, n), dtype=np.uint8)
    packed = pack(codes, bits, axis=-1)
    expected = [reference_pack_row(row, bits) for row in codes]
    assert packed.tolist() == expected, f"seed {seed}"


@settings(max_examples=150, deadline=None)
@given(bits=st.integers(1, 8), shape=st.lists(st.integers(1, 11), min_size=1, max_size=3),
       axis_pick=st.integers(0, 2), seed=st.integers(0, 2**32 - 1))
def test_round_trip_every_width_length_and_axis(bits, shape, axis_pick, seed):
    axis = axis_pick % len(shape) - len(shape) * (axis_pick % 2)  # negative axes too
    codes = np.random.default_rng(seed).integers(0, 1 << bits, size=shape, dtype=np.uint8)
    packed = pack(codes, bits, axis=axis)
    expected_shape = list(shape)
    expected_shape[axis] = packed_length(shape[axis], bits)
    assert packed.dtype == np.uint8 and list(packed.shape) == expected_shape
    back = unpack(packed, bits, shape[axis], axis=axis)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, codes, err_msg=f"seed {seed}")


def test_packing_along_axis_zero_equals_packing_the_transpose():
    codes = np.random.default_rng(3).integers(0, 8, size=(13, 4), dtype=np.uint8)
    np.testing.assert_array_equal(pack(codes, 3, axis=0), pack(codes.T, 3, axis=-1).T)


def test_padding_is_zero_codes():
    packed = pack(np.array([1, 1, 1], np.uint8), 2)  # 6 of 8 bits used
    assert packed.tolist() == [0b010101]


def test_wider_integer_dtypes_accepted():
    codes = np.array([[3, 0, 2]], dtype=np.int64)
    np.testing.assert_array_equal(unpack(pack(codes, 2), 2, 3), codes.astype(np.uint8))


@pytest.mark.parametrize("bits", [0, 9, 2.0, True, "4"])
def test_bad_bits(bits):
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8"):
        pack(np.zeros(4, np.uint8), bits)
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8"):
        unpack(np.zeros(2, np.uint8), bits, 4)
    with pytest.raises(ValueError, match=r"bits must be an int in 1\.\.8"):
        packed_length(5, bits)


@pytest.mark.parametrize("n", [-3, 2.5, True, "4", np.float64(3.0)])
def test_packed_length_refuses_a_bad_count(n):
    with pytest.raises(ValueError, match=r"n must be an int >= 0, got"):
        packed_length(n, 4)


def test_packed_length_takes_numpy_integers_and_zero():
    assert packed_length(np.int64(5), np.uint8(3)) == 2
    assert packed_length(0, 8) == 0


def test_bad_codes():
    with pytest.raises(ValueError, match=r"codes must be in 0\.\.15"):
        pack(np.array([16], np.uint8), 4)
    with pytest.raises(ValueError, match=r"codes must be in 0\.\.3"):
        pack(np.array([-1, 2]), 2)
    with pytest.raises(ValueError, match="codes must be an integer array"):
        pack(np.array([1.0]), 4)
    with pytest.raises(ValueError, match="codes must be an integer array"):
        pack(np.uint8(3), 4)


def test_bad_unpack_arguments():
    with pytest.raises(ValueError, match=r"packed must hold ceil\(n\*bits/8\) = 2 bytes"):
        unpack(np.zeros(3, np.uint8), 4, 4)
    with pytest.raises(ValueError, match="packed must be a uint8 array"):
        unpack(np.zeros(2, np.int32), 4, 4)
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        unpack(np.zeros(2, np.uint8), 4, -1)
    with pytest.raises(ValueError, match="axis must be an int in -1..0"):
        unpack(np.zeros(2, np.uint8), 4, 4, axis=1)
    with pytest.raises(ValueError, match="axis must be an int in -2..1"):
        pack(np.zeros((2, 2), np.uint8), 4, axis=2)
