"""lowbit.hwsim.bench.table: the one table format of every command: aligned, 4 significant
digits, missing values empty, columns in the order asked."""
from lowbit.hwsim.bench.table import format_table


def test_aligns_columns_with_four_significant_digits():
    table = format_table([{"a": 1.23456, "b": "x"}, {"a": 10.0, "b": "longer"}], ["a", "b"])
    assert table.splitlines() == ["     a  b", " 1.235  x", "10      longer"]


def test_columns_in_the_order_asked_and_missing_cells_empty():
    table = format_table([{"b": 2, "a": 1}, {"a": 3}], ("b", "a"))
    assert table.splitlines() == ["  b    a", "  2    1", "       3"]
