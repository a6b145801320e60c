"""The plain-text tables ``lowbit verify`` and ``lowbit synth`` print: one row per design
config, the design and config columns as wide as the longest name and label (labels of
configs with many non-default fields run past 70 characters), numbers right-aligned."""
from __future__ import annotations

from lowbit.rtl import registry


def column_widths(names: list[str]) -> tuple[int, int]:
    """Widths of the design and config columns for every config of the designs ``names``."""
    labels = [registry.config_label(config) for name in names
              for config in registry.get(name).configs]
    return max(map(len, ["design", *names])), max(map(len, ["config", *labels]))


def table_row(widths: tuple[int, int], number_width: int, *cells) -> str:
    """design, config, then numbers right-aligned in ``number_width`` columns."""
    design, config, *numbers = (str(cell) for cell in cells)
    return (f"{design:<{widths[0]}} {config:<{widths[1]}} "
            + " ".join(f"{number:>{number_width}}" for number in numbers))
