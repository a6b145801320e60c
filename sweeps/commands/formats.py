"""``lowbit formats [NAME]``: list every element format, or print one format's codes and values.

Works for every format registered in ``lowbit.hwsim.formats`` through the generic Format API only, so
formats added later show up without changes here. Values are printed with Python's ``repr``
(the shortest text that reads back to the same float64, so the table is exact); NaN codes
print as ``nan`` or ``-nan`` by their sign.
"""
from __future__ import annotations

import math

HELP = "print a number format's table of codes and values"

# The Format attributes every format has, in the order the listing prints them.
SUMMARY_FIELDS = ["name", "bits", "kind", "max", "min_normal", "min_subnormal", "has_inf",
                  "has_nan"]


def configure(parser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="a format name; without it, list every format")


def run(args) -> int:
    from lowbit.hwsim import formats  # loads the Numba kernels: keep it out of the parser's imports

    if args.name is None:
        _print_rows(SUMMARY_FIELDS, [_summary_row(formats.get(name)) for name in formats.names()])
    else:
        fmt = formats.get(args.name)  # ValueError naming the known formats
        summary = zip(SUMMARY_FIELDS, _summary_row(fmt))
        print(", ".join(f"{field} {text}" for field, text in summary))
        _print_rows(["code", "bits", "value"], _code_rows(fmt))
    return 0


def value_text(value: float) -> str:
    """A value as printed in the tables: exact repr, NaN with its sign."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return repr(float(value))


def _summary_row(fmt) -> list[str]:
    return [fmt.name, str(fmt.bits), fmt.kind, value_text(fmt.max), value_text(fmt.min_normal),
            value_text(fmt.min_subnormal), str(fmt.has_inf), str(fmt.has_nan)]


def _code_rows(fmt) -> list[list[str]]:
    hex_digits = (fmt.bits + 3) // 4
    return [[f"0x{code:0{hex_digits}x}", f"{code:0{fmt.bits}b}", value_text(value)]
            for code, value in enumerate(fmt.values().tolist())]


def _print_rows(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip())
