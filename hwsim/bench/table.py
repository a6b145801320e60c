"""The one text-table format every lowbit command and benchmark prints (lowbit rank, compare,
verify, synth and the kernel benchmark): tabulate's plain format, floats to 4 significant
digits, a missing value as an empty cell. It sits in the lowest layer so that every layer's
command can use it (kernels may not import sweeps)."""
from __future__ import annotations


def format_table(records: list[dict], columns) -> str:
    """``records`` (dicts) as a text table of ``columns``, in that order, a header line first."""
    from tabulate import tabulate
    return tabulate([[record.get(column) for column in columns] for record in records],
                    headers=list(columns), tablefmt="plain", floatfmt=".4g", missingval="")
