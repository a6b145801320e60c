"""The CUDA kernels' indexing and fragment layouts, checked on the CPU by lane-level emulation.

tests/kernels/lane_emulator.py runs kernels/cuda/wq_gemm.cu (every weight format, MT = 1, 2, 4),
int_gemm.cu (int8_gemm, a1w1_gemm_mma, a1w1_gemm_popc, row_popcount, int8_bitplanes,
bitplane_gemm_p1/p2/p4) and lut_gemm.cu (P = 1..4, LM = 1 and 8) thread by thread on the CPU, each
lane's indices, masks, loads, dequantization, shuffles and stores transcribed from the CUDA text
(its docstring maps each emulator function to the .cu function and lines it mirrors). The mma
instructions are built from the PTX ISA 9.0 fragment tables, not from the kernels' comments:
9.7.14.5.8 "Matrix Fragments for mma.m16n8k16 with floating point type", 9.7.14.5.10 "Matrix
Fragments for mma.m16n8k32" (.s8) and 9.7.14.5.13 "Matrix Fragments for mma.m16n8k256" (.b1).

The results are compared with the independent host references: wq sums bit for bit with
x @ lowbit.kernels.reference.kernel_weights_fp16(w)^T (exact float64 sums: see _exact_float64_sums) and,
after fp16 rounding, with the float64 hwsim dequantization; the integer kernels bit for bit with
int64 products of the values decoded by hwsim.

The limit, honestly: this is a transcription of the CUDA text, checked against references. It
checks the design (which lane holds which element, group, row and fragment register; tails, zero
fill, bounds, alignment, one write per output) but not the compiled binary, not timing or races
between threads, and not the tensor cores' own fp32 accumulation (sums here are exact). An edit
to a .cu file must be mirrored in lane_emulator.py by hand; each emulator function is pinned to a
fingerprint of the .cu text it follows (@mirrors), so such an edit fails here until it is. The GPU tests (test_weight_only.py, test_integer.py) check the binary, where a GPU exists.
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from lowbit.hwsim.quant import pack
from lowbit.hwsim.units.integer import decode_int_codes
from lowbit.kernels import reference
from lowbit.kernels._device import CUDA_DIR
from lowbit.kernels.integer import BITPLANE_FORMATS, bitplane_weights
from lowbit.kernels.weight_only import FORMATS, FP16_REL_TOL, weight_only_linear


def _load_emulator():
    """lane_emulator.py beside this file: tests are imported with --import-mode=importlib, which
    puts no test directory on sys.path. Registered in sys.modules (the importlib recipe), which
    its dataclass needs."""
    spec = importlib.util.spec_from_file_location("lane_emulator", Path(__file__).with_name("lane_emulator.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


emulator = _load_emulator()


# -- wq_gemm.cu ---------------------------------------------------------------------------------
# (fmt, M, N, K, G): M picks MT (<= 16: 1, <= 32: 2, else 4); G < E (16-byte vector of E
# elements), G = E, G > E with non-powers of two (48, 96); N and M tails; K with a partial last
# chunk; int8 K = 592 has 10 chunks of 4 vectors, so two warps run a second chunk; M = 70 takes
# two 64-row blocks along grid.y.
WQ_CASES = [
    ("int4", 1, 37, 32 * 5, 32), ("int4", 3, 19, 32 * 9, 8), ("int4", 18, 17, 32 * 3, 4),
    ("int4", 33, 16, 32 * 18, 96), ("int4", 70, 17, 32 * 2, 16),
    ("uint4", 5, 21, 32 * 6, 16), ("uint4", 1, 16, 32 * 4, 128),
    ("int8", 2, 17, 16 * 7, 16), ("int8", 1, 9, 16 * 5, 4), ("int8", 2, 17, 16 * 37, 16),
    ("uint8", 20, 18, 16 * 6, 8), ("uint8", 1, 16, 16 * 3, 48),
    ("int2", 1, 19, 64 * 5, 4), ("int2", 2, 16, 64 * 3, 32),
    ("uint2", 1, 17, 64 * 5, 16), ("uint2", 40, 16, 64 * 2, 128),
    ("binary", 1, 18, 128 * 3, 4), ("binary", 2, 16, 128 * 5, 64), ("binary", 17, 16, 128 * 2, 256),
    ("float8_e4m3fn", 1, 17, 16 * 9, 16), ("float8_e4m3fn", 3, 16, 16 * 4, 64),
]


def _random_weights(fmt, n, k, group, rng):
    """Random codes (no e4m3 NaN), fp16 scales in [2^-7, 2), zero points for the uint formats."""
    bits, has_zp = FORMATS[fmt]
    codes = rng.integers(0, 1 << bits, (n, k)).astype(np.uint8)
    if fmt == "float8_e4m3fn":
        codes[(codes & 0x7F) == 0x7F] ^= 1
    shape = (n, k // group)
    scales = (rng.uniform(0.5, 2.0, shape) * 2.0 ** rng.integers(-6, 1, shape)).astype(np.float16)
    zero_points = rng.integers(0, 1 << bits, shape).astype(np.uint8) if has_zp else None
    return weight_only_linear(pack(codes, bits, axis=1), scales, zero_points, fmt=fmt, k=k, group_size=group)


def _random_activations(m, k, rng):
    """fp16 multiples of 1/64 in [-4, 4]: a coarse grid keeps float64 sums exact (below)."""
    return (rng.integers(-256, 257, (m, k)) / 64).astype(np.float16)


def _quantum(values):
    """The largest power of two that divides every float16 value (all are multiples of 2^-24)."""
    units = (np.abs(values.astype(np.float64)) * 2.0 ** 24).astype(np.int64)
    units = units[units != 0]
    return float((units & -units).min()) * 2.0 ** -24


def _exact_float64_sums(x, weights) -> bool:
    """Every product x[m,k] w[n,k] is exact in float64 and a multiple of q = quantum(x)
    quantum(w); with sum_k |x w| < 2^53 q every partial sum is too, so any order of float64
    additions, the emulator's per-mma sums and numpy's matmul alike, gives the exact sum."""
    bound = (np.abs(x.astype(np.float64)) @ np.abs(weights.astype(np.float64)).T).max()
    return bound < 2.0 ** 53 * _quantum(x) * _quantum(weights)


@pytest.mark.parametrize("fmt,m,n,k,group", WQ_CASES)
def test_wq_gemm_lanes_sum_the_host_weights_exactly(fmt, m, n, k, group, rng):
    w = _random_weights(fmt, n, k, group, rng)
    x = _random_activations(m, k, rng)
    host_weights = reference.kernel_weights_fp16(w)
    assert _exact_float64_sums(x, host_weights), "test data too wide for exact float64 sums"
    got = emulator.wq_gemm(x, w)
    np.testing.assert_array_equal(got, x.astype(np.float64) @ host_weights.astype(np.float64).T)
    exact = reference.weight_only_reference(x, w)
    rel = np.linalg.norm(got.astype(np.float16) - exact) / np.linalg.norm(exact)
    assert rel < FP16_REL_TOL, f"fp16 output vs hwsim dequantization: relative error {rel:.2e}"


# -- int_gemm.cu, lut_gemm.cu ---------------------------------------------------------------------
# (M, N, K) with tiles crossing the 128-row boundary (M or N of 129..133), and partial K stages
# (K bytes not a multiple of the 64-byte stage).
INT8_CASES = [(3, 5, 16), (130, 9, 80), (17, 133, 144), (1, 1, 64)]
# K = 4224 bits: 33 vectors, so popc's lanes stride twice and mma runs 9 stages, the last partial.
A1W1_CASES = [(3, 5, 128), (130, 9, 640), (17, 133, 384), (2, 9, 4224)]
# (fmt, planes): int3 is stored sign-extended in 4 planes for bitplane_gemm.
BITPLANE_FORMAT_PLANES = [("binary", 1), ("int2", 2), ("int4", 4), ("int3", 4)]
BITPLANE_SHAPES = [(3, 5, 128), (17, 40, 384), (3, 130, 128)]   # 8M or N*P beyond 128
LUT_FORMAT_PLANES = [("binary", 1), ("int2", 2), ("int3", 3), ("int4", 4)]
LUT_SHAPES = [(1, 300, 1152), (3, 5, 128), (9, 7, 256)]   # LM = 1 with K past one 1024 table; LM = 8


def _int8_matrix(rows, k, rng):
    """Random int8 with the first row all -128, the extreme of every product."""
    a = rng.integers(-128, 128, (rows, k)).astype(np.int8)
    a[0] = -128
    return a


@pytest.mark.parametrize("m,n,k", INT8_CASES)
def test_int8_gemm_lanes_match_int64(m, n, k, rng):
    a, b = _int8_matrix(m, k, rng), _int8_matrix(n, k, rng)
    np.testing.assert_array_equal(emulator.int8_gemm(a, b), reference.int_matmul_reference(a, b))


@pytest.mark.parametrize("method", ["mma", "popc"])
@pytest.mark.parametrize("m,n,k", A1W1_CASES)
def test_a1w1_gemm_lanes_match_int64(method, m, n, k, rng):
    a = rng.integers(0, 256, (m, k // 8)).astype(np.uint8)
    b = rng.integers(0, 256, (n, k // 8)).astype(np.uint8)
    want = reference.int_matmul_reference(reference.binary_values(a, k), reference.binary_values(b, k))
    run = emulator.a1w1_gemm_mma if method == "mma" else emulator.a1w1_gemm_popc
    np.testing.assert_array_equal(run(a, b, k), want)


def _bitplane_case(fmt, planes, m, n, k, rng):
    """(x, weight planes, int64 x @ w^T from the codes decoded by hwsim), the most negative code
    in the first weight row."""
    bits = BITPLANE_FORMATS[fmt]
    codes = rng.integers(0, 1 << bits, (n, k)).astype(np.uint8)
    codes[0] = 1 if fmt == "binary" else 1 << (bits - 1)
    values = 1 - 2 * codes.astype(np.int64) if fmt == "binary" else decode_int_codes(codes, bits, signed=True)
    x = _int8_matrix(m, k, rng)
    w = bitplane_weights(codes, fmt=fmt, n_planes=planes)
    return x, np.asarray(w.planes), reference.int_matmul_reference(x, values)


@pytest.mark.parametrize("m,n,k", BITPLANE_SHAPES)
@pytest.mark.parametrize("fmt,planes", BITPLANE_FORMAT_PLANES)
def test_bitplane_gemm_lanes_match_int64(fmt, planes, m, n, k, rng):
    x, w_planes, want = _bitplane_case(fmt, planes, m, n, k, rng)
    np.testing.assert_array_equal(emulator.bitplane_gemm(x, w_planes, planes), want)


@pytest.mark.parametrize("m,n,k", LUT_SHAPES)
@pytest.mark.parametrize("fmt,planes", LUT_FORMAT_PLANES)
def test_lut_gemm_lanes_match_int64(fmt, planes, m, n, k, rng):
    x, w_planes, want = _bitplane_case(fmt, planes, m, n, k, rng)
    np.testing.assert_array_equal(emulator.lut_gemm(x, w_planes, planes), want)


# -- the emulator itself --------------------------------------------------------------------------
@pytest.mark.parametrize("per_register", [2, 4, 32])
def test_fragment_tables_place_every_element_once(per_register):
    """Each lane/element of A, B and C maps to its own matrix position, and every position is
    held by some lane: the transcribed tables are permutations."""
    a_rows, a_cols, b_rows, b_cols, c_rows, c_cols = emulator.fragment_tables(per_register)
    k = 8 * per_register
    for rows, cols, shape in ((a_rows, a_cols, (16, k)), (b_rows, b_cols, (k, 8)), (c_rows, c_cols, (16, 8))):
        counts = np.zeros(shape, dtype=np.int64)
        np.add.at(counts, (rows, cols), 1)
        assert (counts == 1).all()


def _wq_case(fmt, m, n, k, group):
    def run(rng):
        w = _random_weights(fmt, n, k, group, rng)
        x = _random_activations(m, k, rng)
        return emulator.wq_gemm(x, w), x.astype(np.float64) @ reference.kernel_weights_fp16(w).astype(np.float64).T
    return run


def _int8_case(m, n, k):
    def run(rng):
        a, b = _int8_matrix(m, k, rng), _int8_matrix(n, k, rng)
        return emulator.int8_gemm(a, b), reference.int_matmul_reference(a, b)
    return run


def _bitplane_run(fmt, planes, m, n, k):
    def run(rng):
        x, w_planes, want = _bitplane_case(fmt, planes, m, n, k, rng)
        return emulator.bitplane_gemm(x, w_planes, planes), want
    return run


_wq_a_fragment = emulator.wq_a_fragment
_mma_tile_a_fragment = emulator.mma_tile_a_fragment
# name -> (emulator function, its mutant, a case that must then disagree with its reference)
MUTATIONS = {
    "wq A registers 1 and 2 swapped": (
        "wq_a_fragment", lambda x0, x1: _wq_a_fragment(x0, x1)[:, [0, 2, 1, 3]], _wq_case("int4", 3, 19, 32 * 9, 8)),
    "wq second pair at pos + BITS": (
        "wq_pair_positions", lambda pos, bits: (pos, pos + bits), _wq_case("uint4", 5, 21, 32 * 6, 16)),
    "wq group offset dropped for G < E": (
        "wq_group_index", lambda kb, s, g_shift, G: kb >> g_shift if g_shift < 7 else kb // G,
        _wq_case("int4", 3, 19, 32 * 9, 8)),
    "int_gemm A registers lo, lo, hi, hi": (
        "mma_tile_a_fragment", lambda lo, hi, step: _mma_tile_a_fragment(lo, hi, step)[:, [0, 2, 1, 3]],
        _int8_case(17, 133, 144)),
    "bitplane P = 4 pairs with lane ^ 2": (
        "bitplane_plane_pair_sum", lambda s, P: s + emulator.shfl_xor(s, 2) if P == 4 else s,
        _bitplane_run("int4", 4, 3, 5, 128)),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_emulator_fails_on_a_mutated_kernel_line(name, monkeypatch, rng):
    """The emulator can fail: one transcribed line changed as a kernel bug would change it makes
    the result disagree with the reference."""
    function, mutant, run = MUTATIONS[name]
    monkeypatch.setattr(emulator, function, mutant)
    got, want = run(rng)
    assert not np.array_equal(got, want), f"mutation {name!r} went unnoticed"


def test_emulator_memory_checks_fault():
    memory = np.arange(64, dtype=np.uint32)
    lanes = np.arange(4)
    np.testing.assert_array_equal(emulator.load(memory, 4 * lanes, lanes < 3, 4)[:, 0], [0, 4, 8, 0])
    with pytest.raises(emulator.KernelFault, match="outside"):
        emulator.load(memory, 4 * lanes + 52, lanes < 4, 4)       # lane 3 reads 64..67
    with pytest.raises(emulator.KernelFault, match="misaligned"):
        emulator.load(memory, 4 * lanes + 2, lanes < 1, 4)
    out = emulator.DeviceOutput(4, np.int64)
    out.store(np.array([0, 1, 1]), np.array([5, 6, 7]), np.array([True, True, True]))
    with pytest.raises(emulator.KernelFault, match="2 output elements never written, 1 written more than once"):
        out.result((2, 2))


# -- pins: each emulated kernel against the CUDA text it mirrors -----------------------------------
# The emulator is a transcription, so it only checks the design while the transcription is current.
# Every emulator function carries @mirrors(file, target, fingerprint) for each piece of .cu text it
# follows; the fingerprint is taken from the current text here, so an edit to that text fails
# below until someone re-reads the emulator against it and updates the pin.
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\w+|[^\w\s]')
_COMMENT_OR_STRING = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
_INVOCATION = re.compile(r"[A-Za-z_]\w*\s*\(.*\)\s*$")


def _top_level_items(source: str) -> list[list[str]]:
    """The .cu text as top-level items, each a token list: a preprocessor directive (with its
    continuation lines), a macro invocation line such as ``WQ_KERNELS(int8, 8, FMT_INT)``, or a
    declaration ending in ``;`` or in the ``}`` that closes its body. Comments are dropped and
    tokens carry no whitespace, so only a change to the code itself changes an item."""
    source = _COMMENT_OR_STRING.sub(lambda m: m.group(1) or " ", source.replace("\\\n", " "))
    items, current, depth = [], [], 0
    for line in source.splitlines():
        stripped = line.strip()
        if depth == 0 and not current and (stripped.startswith("#") or _INVOCATION.fullmatch(stripped)):
            items.append(_TOKEN.findall(stripped))
            continue
        for token in _TOKEN.findall(line):
            current.append(token)
            depth += (token == "{") - (token == "}")
            if depth == 0 and token in ("}", ";"):
                items.append(current)
                current = []
    assert depth == 0 and not current, "unbalanced braces at the end of the file"
    return items


def _is_target(item: list[str], target: str) -> bool:
    """``#define NAME``: that macro; ``NAME(...)``: every invocation line of macro NAME;
    otherwise the function definition (signature and body) named ``target``."""
    if target.startswith("#define "):
        return item[:3] == ["#", "define", target.split()[1]]
    if target.endswith("(...)"):
        return item[:2] == [target[:-5], "("] and item[-1] == ")"
    header = item[:item.index("{")] if "{" in item else []
    return any(a == target and b == "(" for a, b in zip(header, header[1:]))


def cuda_text(source: str, target: str, file: str = "the source") -> str:
    """The normalised text of ``target`` in ``source`` (tokens joined by one space)."""
    matches = [item for item in _top_level_items(source) if _is_target(item, target)]
    assert matches, f"{file} has no {target!r}: the emulator's @mirrors pin names text that is gone"
    assert target.endswith("(...)") or len(matches) == 1, f"{file} defines {target!r} {len(matches)} times"
    return "\n".join(" ".join(item) for item in matches)


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_each_emulated_kernel_is_pinned_to_the_cuda_text_it_mirrors():
    by_text = {}
    for pin in emulator.PINS:
        by_text.setdefault((pin.file, pin.target), []).append(pin)
    stale = []
    for (file, target), pins in sorted(by_text.items()):
        now = fingerprint(cuda_text((CUDA_DIR / file).read_text(), target, file))
        old = [pin for pin in pins if pin.fingerprint != now]
        if old:
            stale.append(
                f"kernels/cuda/{file}: {target} is not the text the emulator was written from "
                f"(pinned {sorted({pin.fingerprint for pin in old})}, now {now!r}). Re-read "
                f"{', '.join(pin.emulator for pin in old)} in tests/kernels/lane_emulator.py "
                f"against the new text, make each do what the kernel now does, then set their "
                f'@mirrors("{file}", "{target}", ...) fingerprint to "{now}".')
    assert not stale, "\n".join(stale)


def _emulator_table_names() -> list[str]:
    """The emulator functions named in the left column of lane_emulator.py's docstring table."""
    table = emulator.__doc__.split("Emulator function", 1)[1].splitlines()[1:]
    names = []
    for line in table:
        column = line[:32].strip()
        names += [name.strip() for name in column.split(",") if name.strip()]
    return names


def test_every_function_in_the_emulator_table_carries_a_pin():
    names = _emulator_table_names()
    assert names[0] == "mma_f16_m16n8k16" and names[-1] == "lut_build_table", names   # parsed whole
    pinned = {pin.emulator for pin in emulator.PINS}
    assert [name for name in names if name not in pinned] == []
    assert [name for name in pinned if name not in names] == []


def _define(file: str, name: str) -> str:
    """The value of ``#define name value`` in kernels/cuda/``file``."""
    items = [item for item in _top_level_items((CUDA_DIR / file).read_text()) if item[:3] == ["#", "define", name]]
    assert len(items) == 1, f"{file} defines {name} {len(items)} times"
    return " ".join(items[0][3:])


def test_constants_only_the_cuda_text_has_match_the_emulator():
    assert int(_define("int_gemm.cu", "BKB")) == emulator.STAGE_BYTES
    assert int(_define("int_gemm.cu", "THREADS")) == emulator.TILE_THREADS


KERNEL_TEXT = """\
// a helper
#define SCALE(x) \\
  ((x) * 2)
__device__ int helper(int a) { return a + 1; }
template <int P>
__device__ void body(const int* A,
                     int* C) {
  if (P > 1) { C[0] = helper(A[0]); }  // the first element
  asm("mov.b32 %0, {%1};" : "=r"(C[1]) : "r"(A[1]));
}
KERNELS(1)
KERNELS(2)
"""


def test_cuda_text_finds_functions_macros_and_invocations():
    assert cuda_text(KERNEL_TEXT, "helper") == "__device__ int helper ( int a ) { return a + 1 ; }"
    assert cuda_text(KERNEL_TEXT, "body").startswith("template < int P > __device__ void body (")
    assert cuda_text(KERNEL_TEXT, "body").endswith('"=r" ( C [ 1 ] ) : "r" ( A [ 1 ] ) ) ; }')
    assert cuda_text(KERNEL_TEXT, "#define SCALE") == "# define SCALE ( x ) ( ( x ) * 2 )"
    assert cuda_text(KERNEL_TEXT, "KERNELS(...)") == "KERNELS ( 1 )\nKERNELS ( 2 )"
    with pytest.raises(AssertionError, match="has no 'gone'"):
        cuda_text(KERNEL_TEXT, "gone")


def test_a_fingerprint_ignores_layout_and_comments_but_not_code():
    def body_fingerprint(source):
        return fingerprint(cuda_text(source, "body"))
    pinned = body_fingerprint(KERNEL_TEXT)
    relaid = KERNEL_TEXT.replace("  if (P > 1)", "\n    if(P>1)").replace("// the first element", "/* was A[1] */")
    assert body_fingerprint(relaid) == pinned
    assert body_fingerprint(KERNEL_TEXT.replace("helper(A[0])", "helper(A[1])")) != pinned
    assert body_fingerprint(KERNEL_TEXT.replace("%0, {%1}", "%0, {%2}")) != pinned   # inside asm text
    assert fingerprint(cuda_text(KERNEL_TEXT.replace("helper(A[0])", "helper(A[1])"), "helper")) \
        == fingerprint(cuda_text(KERNEL_TEXT, "helper"))
