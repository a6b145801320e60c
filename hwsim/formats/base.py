"""The element-format base class and the registry of formats by name.

A format maps real numbers to integer codes of ``bits`` bits and back. Codes are unsigned
integers (uint8, or uint16 for formats wider than 8 bits) holding the raw bit pattern: an int4
value -1 is code 0xF, a float8_e4m3fn value 1.0 is code 0x38.

Each family module (floats, integers, log, binary) subclasses :class:`Format`, implements
``_encode`` and ``_decode`` on validated arrays, and registers one instance per name.
"""
from __future__ import annotations

import numpy as np

_REGISTRY: dict[str, "Format"] = {}

# Arrays shorter than this are encoded/decoded on one thread: one thread does 2^18 elements
# in about 0.2 ms, and waking the thread pool costs tens of microseconds when the cores are
# idle and whole scheduler slices (ms) when they are busy.
PARALLEL_MIN_SIZE = 1 << 18

# Every format describes itself with the same fields, so tables and checks can treat all alike.
_KINDS = ("float", "int", "log", "binary", "ternary", "scale")


class Format:
    """One element format.

    Attributes (all read-only):
      name           registry name, ml_dtypes' name where ml_dtypes has the format
      bits           code width in bits
      kind           one of "float", "int", "log", "binary", "ternary", "scale"
      max            largest finite value
      lowest         smallest finite value: most negative, 0 for unsigned formats, 2^-127 for
                     the sign-less, zero-less E8M0 scale
      min_normal     smallest positive normal value (smallest positive value where the
                     format has no subnormals)
      min_subnormal  smallest positive value
      has_inf, has_nan  whether some code decodes to inf / NaN
    """

    def __init__(self, *, name: str, bits: int, kind: str, max: float, lowest: float,
                 min_normal: float, min_subnormal: float, has_inf: bool, has_nan: bool):
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
        if not 1 <= bits <= 16:
            raise ValueError(f"bits must be in 1..16, got {bits}")
        self.name = name
        self.bits = bits
        self.kind = kind
        self.max = float(max)
        self.lowest = float(lowest)
        self.min_normal = float(min_normal)
        self.min_subnormal = float(min_subnormal)
        self.has_inf = bool(has_inf)
        self.has_nan = bool(has_nan)

    # -- public API ---------------------------------------------------------------------------
    @property
    def code_dtype(self) -> type:
        return np.uint8 if self.bits <= 8 else np.uint16

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    def encode(self, x, saturate: bool = False) -> np.ndarray:
        """Round float32/float64 values to codes (see the family's docstring for the rules).

        A format without a NaN code refuses NaN input rather than invent a value for it."""
        if not isinstance(saturate, (bool, np.bool_)):
            raise ValueError(f"saturate must be True or False, got {saturate!r}")
        x = as_float_array(x, "x")
        if not self.has_nan and not self._encode_finds_nan(x) and np.isnan(x).any():
            raise self._nan_refused()
        return self._encode(x, bool(saturate))

    def decode(self, codes) -> np.ndarray:
        """Codes to values: float32, or float64 for a format whose values float32 cannot hold
        (logsqrt2_4's irrational half-powers)."""
        return self._decode(self.check_codes(codes, "codes"))

    def values(self) -> np.ndarray:
        """float64 array: the value of every code, indexed by code."""
        return self.decode(np.arange(self.n_codes, dtype=self.code_dtype)).astype(np.float64)

    def check_codes(self, codes, argname: str) -> np.ndarray:
        """Validate an integer array of codes of this format; return it as ``code_dtype``."""
        codes = np.asarray(codes)
        if codes.dtype.kind not in "ui":
            raise ValueError(f"{argname} must be an integer array of {self.name} codes, "
                             f"got dtype {codes.dtype}")
        if codes.size and (codes.min() < 0 or codes.max() >= self.n_codes):
            raise ValueError(f"{argname} must hold {self.name} codes in 0..{self.n_codes - 1}, "
                             f"got values in {codes.min()}..{codes.max()}")
        return codes.astype(self.code_dtype, copy=False)

    def __repr__(self) -> str:
        return f"<Format {self.name}: {self.bits} bits, {self.kind}, max {self.max:g}>"

    # -- for subclasses -----------------------------------------------------------------------
    def _encode(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        raise NotImplementedError

    def _encode_finds_nan(self, x: np.ndarray) -> bool:
        """Whether ``_encode`` itself raises ``_nan_refused()`` for NaN in ``x`` (a kernel
        that counts NaN on its one pass over x spares encode a second pass)."""
        return False

    def _nan_refused(self) -> ValueError:
        return ValueError(f"x must not contain NaN: {self.name} has no NaN code "
                          f"(allowed: finite values and ±inf)")

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def as_float_array(x, argname: str) -> np.ndarray:
    """x as a float32 or float64 ndarray; Python numbers and lists become float64."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{argname} must be float32 or float64 values: {exc}") from None
    if x.dtype not in (np.float32, np.float64):
        raise ValueError(f"{argname} must be a float32 or float64 array, got dtype {x.dtype}")
    return x


def register(fmt: Format) -> Format:
    if fmt.name in _REGISTRY:
        raise ValueError(f"format {fmt.name!r} is already registered")
    _REGISTRY[fmt.name] = fmt
    return fmt


def names() -> list[str]:
    """Every registered format name, sorted."""
    return sorted(_REGISTRY)


def get(name) -> Format:
    """The format registered as ``name``; ValueError naming the known formats otherwise."""
    if isinstance(name, Format):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown format {name!r}; known formats: {', '.join(names())}") from None
