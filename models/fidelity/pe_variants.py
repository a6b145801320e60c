"""Fidelity through two PE arithmetics that fake quantization cannot see, beside fake quant:

    python -P -m lowbit.models.fidelity.pe_variants [--model digits_cnn]
        [--lut-schemes int4-g128,w4a4] [--table-bits 10,9,8,7,6]
        [--mx-schemes mxfp8,mxfp6,mxfp4,fp8-e4m3]

- LUT table width: each scheme on the lut PE (lowbit.hwsim.gemm_lut: full tables of g = 4
  activations, every stored entry saturated to ``table_bits`` two's complement) at each width.
- mx_mac: each MX or FP8 scheme through mx_mac's exact block sums and float32 block
  accumulation (lowbit.hwsim.gemm_mx), where fake quant multiplies dequantized float32 values.

Every row is one evaluation (no cache) of ``--model`` ("digits_cnn" or "minilm";
lowbit.models.fidelity.cache.MODELS names its metric), printed with the fake-quant value of the
same scheme and the difference (``lowbit.models.fidelity.mx_pe`` gives the per-layer output gaps
of MX on the digits CNN).
"""
from __future__ import annotations

import argparse


def measure(model: str, scheme_name: str, arithmetic) -> float:
    """``model``'s fidelity metric for preset ``scheme_name`` through ``arithmetic`` (None:
    fake quantization)."""
    from lowbit.hwsim import quant
    from lowbit.models.fidelity import cache
    _, key = cache.MODELS[model]
    return float(cache.compute(model, quant.preset(scheme_name), arithmetic)[key])


def rows(model: str, lut_schemes, table_bits, mx_schemes) -> list[dict]:
    """One record per (scheme, PE arithmetic): the metric through it, fake quant's, the change."""
    from lowbit.hwsim import gemm
    variants = [(name, gemm.PEArithmetic(lut_table_bits=bits))
                for name in lut_schemes for bits in table_bits]
    variants += [(name, gemm.PEArithmetic(float_pe="mx_mac")) for name in mx_schemes]
    fake = {name: measure(model, name, None) for name in dict.fromkeys(
        name for name, _ in variants)}
    records = []
    for name, arithmetic in variants:
        value = measure(model, name, arithmetic)
        records.append({"scheme": name, "PE arithmetic": arithmetic.label,
                        "through the PE": value, "fake quant": fake[name],
                        "change": value - fake[name]})
    return records


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def main(argv=None) -> int:
    from lowbit.hwsim.bench.table import format_table
    from lowbit.models.fidelity.cache import MODELS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits_cnn", choices=tuple(MODELS),
                        help="the fidelity model (default digits_cnn)")
    parser.add_argument("--lut-schemes", default="int4-g128,w4a4",
                        help="comma-separated presets run on the lut PE")
    parser.add_argument("--table-bits", default="10,9,8,7,6",
                        help="comma-separated stored table entry widths (2..32)")
    parser.add_argument("--mx-schemes", default="mxfp8,mxfp6,mxfp4,fp8-e4m3",
                        help="comma-separated MX or FP8 presets run on mx_mac")
    args = parser.parse_args(argv)
    try:
        table_bits = [int(bits) for bits in _names(args.table_bits)]
    except ValueError:
        parser.error(f"--table-bits must be comma-separated integers, got {args.table_bits!r}")
    try:
        records = rows(args.model, _names(args.lut_schemes), table_bits,
                       _names(args.mx_schemes))
    except ValueError as exc:   # a preset or table width no PE arithmetic takes
        parser.error(str(exc))
    print(format_table(records, ("scheme", "PE arithmetic", "through the PE", "fake quant",
                                 "change")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
