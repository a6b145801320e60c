"""Benchmark runner for the arithmetic units: Numba kernels against numpy-vectorized baselines.

    python -m lowbit.hwsim.bench.units [--n N] [--seed S] [--repeats R] [--clock wall|cpu]

Times the cases of every module ``hwsim/bench/units_*.py`` and the integer, log, binary, LUT and
bit-serial cases below. A case is a dict {"unit", "macs" (multiply-accumulates per call),
"numba": zero-argument callable, "numpy": zero-argument callable returning the same result with
numpy-vectorized code}; each module's ``cases(n, seed)`` returns its cases of about n MACs per call.

Method: one thread (``numba.set_num_threads(1)``; numpy's elementwise code is single-threaded),
one warm-up call of each side that also compiles the kernel and checks that both sides return
the same result bit for bit, then the median of ``repeats`` timed calls. Prints, for both sides,
MACs/s and dot products/s (the dot products a call computes are the elements of its result; n/dot
is their length), and the ratio; exits 1 if any case's two results differ.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import numba
import numpy as np

from lowbit.hwsim.bench.timing import CLOCKS, median_seconds
from lowbit.hwsim.units import binary, bitserial, integer, log, lut

INT_LENGTH = 256        # elements per integer / log / LUT / bit-serial dot product
BINARY_LENGTH = 4096    # elements per XNOR and binary-weight dot product
BINARY_GROUP = 128      # binary-weight group size (one alpha per group)


# -- numpy baselines: the same results, vectorized across the rows of a batch --------------------
def numpy_wrap(x: np.ndarray, bits: int) -> np.ndarray:
    return ((x + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))


def numpy_int_dot(a, b, acc_bits: int) -> np.ndarray:
    return numpy_wrap((a.astype(np.int64) * b).sum(-1), acc_bits)


def numpy_int_dot_saturate(a, b, acc_bits: int) -> np.ndarray:
    """Clamp after every addition: one column at a time across all rows (the order matters)."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    products = a.astype(np.int64) * b
    acc = np.zeros(a.shape[0], np.int64)
    for column in products.T:
        np.clip(acc + column, lo, hi, out=acc)
    return acc


def log_weight_table(weight_format: str) -> np.ndarray:
    """Every code's signed multiplier in units of 2^-U (from the plain-Python reference)."""
    n_codes = 1 << log.check_weight_format(weight_format).bits
    return np.array([log.log_weight_units(c, weight_format) for c in range(n_codes)], np.int64)


def numpy_log_dot(act, codes, table: np.ndarray) -> np.ndarray:
    """The natural numpy form: gather each code's multiplier, multiply, sum."""
    return (act.astype(np.int64) * table[codes]).sum(-1)


def numpy_xnor_dot(a_words, b_words, n: int) -> np.ndarray:
    xnor = ~(a_words ^ b_words)
    xnor[:, -1] &= binary.tail_mask(n)
    return 2 * np.bitwise_count(xnor).sum(-1, dtype=np.int64) - n


def numpy_signs(words, n: int) -> np.ndarray:
    """±1 int8 values of packed binary codes (bit 0: +1, bit 1: -1)."""
    bits = np.unpackbits(words.view(np.uint8), axis=-1, bitorder="little")[..., :n]
    return (1 - 2 * bits.astype(np.int8)).astype(np.int8)


def numpy_binary_weight_sums(act, w_words, group_size: int) -> np.ndarray:
    signed = act.astype(np.int64) * numpy_signs(w_words, act.shape[-1])
    return signed.reshape(act.shape[0], -1, group_size).sum(-1)


def numpy_binary_weight_dot(act, w_words, alpha, group_size: int) -> np.ndarray:
    sums = numpy_binary_weight_sums(act, w_words, group_size)
    total = np.zeros(act.shape[0])
    for g in range(sums.shape[1]):  # sequential in g, as the contract says
        total += alpha[g] * sums[:, g].astype(np.float64)
    return total


def numpy_code_dot(act, codes, w_bits: int) -> np.ndarray:
    """Exact dot of activations and two's complement weight codes (the LUT / bit-serial result)."""
    return (act.astype(np.int64) * integer.decode_int_codes(codes, w_bits)).sum(-1)


# -- cases --------------------------------------------------------------------------------------
def cases(n: int, seed: int) -> list[dict]:
    """The integer, log, binary, LUT and bit-serial cases, about ``n`` MACs per call."""
    rng = np.random.default_rng(seed)
    rows = max(1, n // INT_LENGTH)
    int4 = [rng.integers(-8, 8, (rows, INT_LENGTH), dtype=np.int8) for _ in range(2)]
    int8 = [rng.integers(-128, 128, (rows, INT_LENGTH), dtype=np.int8) for _ in range(2)]
    codes4 = rng.integers(0, 16, (rows, INT_LENGTH), dtype=np.uint8)
    out = [
        _case("int_dot int4 x int4, wrap acc32", int4[0],
              lambda a=int4[0], b=int4[1]: integer.int_dot(a, b, a_bits=4, b_bits=4),
              lambda a=int4[0], b=int4[1]: numpy_int_dot(a, b, 32)),
        _case("int_dot int8 x int8, wrap acc32", int8[0],
              lambda a=int8[0], b=int8[1]: integer.int_dot(a, b, a_bits=8, b_bits=8),
              lambda a=int8[0], b=int8[1]: numpy_int_dot(a, b, 32)),
        _case("int_dot int4 x int4, saturate acc12", int4[0],
              lambda a=int4[0], b=int4[1]: integer.int_dot(a, b, a_bits=4, b_bits=4, acc_bits=12,
                                                           overflow="saturate"),
              lambda a=int4[0], b=int4[1]: numpy_int_dot_saturate(a, b, 12)),
    ]
    for name in ("log2_4", "logsqrt2_4"):
        out.append(_case(f"log_dot int8 x {name}", int8[0],
                         lambda a=int8[0], c=codes4, f=name: log.log_dot(a, c, weight_format=f),
                         lambda a=int8[0], c=codes4, t=log_weight_table(name):
                         numpy_log_dot(a, c, t)))
    for table in ("full", "symmetric"):
        out.append(_case(f"lut_dot int8 x int4, g=4, {table}", int8[0],
                         lambda a=int8[0], c=codes4, t=table: lut.lut_dot(a, c, w_bits=4, table=t),
                         lambda a=int8[0], c=codes4: numpy_code_dot(a, c, 4)))
    shared = int8[0][0]  # one activation vector against every weight row: tables built once
    out.append(_case("lut_dot matvec int8 x int4, g=4, full", codes4,
                     lambda a=shared, c=codes4: lut.lut_dot(a, c, w_bits=4),
                     lambda a=shared, c=codes4: numpy_code_dot(a, c, 4)))
    codes8 = int8[1].view(np.uint8)
    for w_bits, k, codes in ((4, 1, codes4), (8, 2, codes8)):
        out.append(_case(f"bitserial_dot int8 x int{w_bits}, {k} bit/cycle", int8[0],
                         lambda a=int8[0], c=codes, w=w_bits, k=k:
                         bitserial.bitserial_dot(a, c, w_bits=w, bits_per_cycle=k)[0],
                         lambda a=int8[0], c=codes, w=w_bits: numpy_code_dot(a, c, w)))
    out += _binary_cases(n, rng)
    return out


def _binary_cases(n: int, rng: np.random.Generator) -> list[dict]:
    rows = max(1, n // BINARY_LENGTH)
    words = [rng.integers(0, 1 << 64, (rows, BINARY_LENGTH // 64), dtype=np.uint64)
             for _ in range(2)]
    act = rng.integers(-128, 128, (rows, BINARY_LENGTH), dtype=np.int8)
    alpha = rng.random(BINARY_LENGTH // BINARY_GROUP)
    return [
        _case(f"xnor_dot n={BINARY_LENGTH}", act,
              lambda a=words[0], b=words[1]: binary.xnor_dot(a, b, BINARY_LENGTH),
              lambda a=words[0], b=words[1]: numpy_xnor_dot(a, b, BINARY_LENGTH)),
        _case(f"binary_weight_sums int8, group {BINARY_GROUP}", act,
              lambda a=act, w=words[0]: binary.binary_weight_sums(a, w, group_size=BINARY_GROUP),
              lambda a=act, w=words[0]: numpy_binary_weight_sums(a, w, BINARY_GROUP)),
        _case(f"binary_weight_dot int8, group {BINARY_GROUP}", act,
              lambda a=act, w=words[0]: binary.binary_weight_dot(a, w, alpha,
                                                                 group_size=BINARY_GROUP),
              lambda a=act, w=words[0]: numpy_binary_weight_dot(a, w, alpha, BINARY_GROUP)),
    ]


def _case(unit: str, operand: np.ndarray, numba_fn, numpy_fn) -> dict:
    return {"unit": unit, "macs": operand.size, "numba": numba_fn, "numpy": numpy_fn}


# -- runner -------------------------------------------------------------------------------------
def all_cases(n: int, seed: int) -> list[dict]:
    """This module's cases and those of every hwsim/bench/units_*.py module."""
    import lowbit.hwsim.bench
    collected = []
    for info in sorted(pkgutil.iter_modules(lowbit.hwsim.bench.__path__), key=lambda m: m.name):
        if info.name.startswith("units_"):
            collected += importlib.import_module(f"lowbit.hwsim.bench.{info.name}").cases(n, seed)
    return cases(n, seed) + collected


def same_result(a, b) -> bool:
    """Bit-for-bit equality of two results (arrays or scalars; float results compared as bytes)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype.kind == b.dtype.kind and a.tobytes() == \
        b.astype(a.dtype).tobytes()


def dots_per_call(result) -> int:
    """Dot products one call computes: every unit returns one value per dot product (for
    binary_weight_sums one per group, each the dot product of a group of activations)."""
    return np.asarray(result).size


def run_cases(case_list: list[dict], repeats: int, out=None, clock: str = "wall") -> int:
    """Time ``case_list`` by the module's method on ``clock`` (lowbit.hwsim.bench.timing) and
    print one line per case to ``out`` (default stdout); return 1 if any case's two sides
    differ, else 0."""
    out = out or sys.stdout
    numba.set_num_threads(1)
    print(f"{'unit':44s} {'n/dot':>6s} {'numba MAC/s':>12s} {'numba dot/s':>12s} "
          f"{'numpy MAC/s':>12s} {'numpy dot/s':>12s} {'ratio':>7s}  same result "
          f"({clock} clock, one thread)", file=out)
    failed = False
    for case in case_list:
        result = case["numba"]()  # warm-up: compiles the kernel
        same = same_result(result, case["numpy"]())
        dots = dots_per_call(result)
        t_numba = median_seconds(case["numba"], repeats, warmups=0, clock=clock)
        t_numpy = median_seconds(case["numpy"], repeats, warmups=0, clock=clock)
        print(f"{case['unit']:44s} {case['macs'] // dots:6d} "
              f"{case['macs'] / t_numba:12.3e} {dots / t_numba:12.3e} "
              f"{case['macs'] / t_numpy:12.3e} {dots / t_numpy:12.3e} "
              f"{t_numpy / t_numba:7.1f}  {same}", file=out)
        failed |= not same
    return 1 if failed else 0


def run(n: int, seed: int, repeats: int, out=None) -> int:
    """Time every case (this module's and every units_*.py module's); see :func:`run_cases`."""
    return run_cases(all_cases(n, seed), repeats, out)


def main(argv: list[str] | None = None, *, prog: str = "python -m lowbit.hwsim.bench.units",
         collect=all_cases) -> int:
    """The command line; ``collect(n, seed)`` returns the cases to time (a units_*.py module
    passes its own ``cases`` to time those alone)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 22, help="MACs per call (default 2^22)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per side (median)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall time, or the thread's CPU time (on a loaded machine; both "
                             "sides run on one thread) (default: wall)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeats < 1:
        parser.error("--n and --repeats must be positive")
    return run_cases(collect(args.n, args.seed), args.repeats, clock=args.clock)


if __name__ == "__main__":
    sys.exit(main())
