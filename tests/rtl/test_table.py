"""The command tables: columns as wide as the longest design name and config label."""
from lowbit.rtl import registry
from lowbit.rtl.table import column_widths, table_row


def test_columns_fit_the_longest_label_and_numbers_align():
    widths = column_widths(["int_mac"])
    labels = [registry.config_label(config) for config in registry.get("int_mac").configs]
    assert widths == (len("int_mac"), max(map(len, labels)))
    header = table_row(widths, 6, "design", "config", "n")
    rows = [table_row(widths, 6, "int_mac", label, 12345) for label in labels]
    assert {len(row) for row in rows} == {len(header)}
    assert all(row.endswith(" 12345") and label in row for row, label in zip(rows, labels))
