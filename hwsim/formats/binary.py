"""Binary and ternary element formats.

``binary`` (1 bit): code 0 is +1, code 1 is -1 — the code is the sign bit, so an XNOR of two codes
is 1 exactly when the product of the values is +1. Encode takes the sign with sign(0) = +1
(-0.0 too: it compares equal to zero); ±inf take their sign. NaN raises ValueError.

``ternary`` (2 bits): the int2 two's complement patterns of {-1, 0, +1}: 0b00 is 0, 0b01 is +1,
0b11 is -1. The pattern 0b10 (int2's -2) is not a ternary code: ``decode`` rejects it and
``values()`` lists it as NaN. Encode: |x| > threshold gives ±1, anything else 0. The registered
``ternary`` uses threshold 0.5, i.e. nearest value with a tie at exactly ±0.5 going to 0 (the
sparser choice, as in ternary weight networks). Make another threshold with
``TernaryFormat(threshold=...)``; the quantizer chooses one relative to its scale.
"""
from __future__ import annotations

import numpy as np

from lowbit.hwsim.formats.base import Format, register


class BinaryFormat(Format):
    def __init__(self):
        super().__init__(name="binary", bits=1, kind="binary", max=1, lowest=-1,
                         min_normal=1, min_subnormal=1, has_inf=False, has_nan=False)

    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        return (x < 0).astype(np.uint8)

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        return (1 - 2 * codes.astype(np.float32)).astype(np.float32)


TERNARY_INVALID_CODE = 0b10


class TernaryFormat(Format):
    def __init__(self, threshold: float = 0.5, name: str = "ternary"):
        if not (np.isfinite(threshold) and threshold >= 0):
            raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
        self.threshold = float(threshold)
        super().__init__(name=name, bits=2, kind="ternary", max=1, lowest=-1,
                         min_normal=1, min_subnormal=1, has_inf=False, has_nan=False)

    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        codes = np.zeros(x.shape, dtype=np.uint8)
        codes[x > self.threshold] = 0b01
        codes[x < -self.threshold] = 0b11
        return codes

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        if (codes == TERNARY_INVALID_CODE).any():
            raise ValueError("codes must be ternary codes 0b00, 0b01 or 0b11; 0b10 is not one")
        return np.where(codes == 0b11, -1.0, codes.astype(np.float32)).astype(np.float32)

    def values(self) -> np.ndarray:
        return np.array([0.0, 1.0, np.nan, -1.0])


register(BinaryFormat())
register(TernaryFormat())
