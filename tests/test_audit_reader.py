"""The invoice reader: separators, decimal marks, line numbers, unreadable values."""

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffs.audit.invoices import PERIOD, month_number, read_invoices
from tariffs.errors import InvoiceError

FIXTURES = Path(__file__).parent / "fixtures" / "invoices"


def test_semicolon_and_decimal_comma():
    lines = read_invoices(FIXTURES / "semicolon_decimal_comma.csv").frame.collect()
    first = lines.row(0, named=True)
    assert first["row"] == 2
    assert first["quantity"] == 1234.5
    assert first["unit_price"] == 26.45
    assert first["amount_excl_vat"] == 32652.53
    assert first["vat_rate"] == pytest.approx(0.196)
    assert first["month"] == 2003 * 12 + 6
    assert first["problem"] is None


def test_unreadable_values_are_named_with_their_line():
    lines = read_invoices(FIXTURES / "semicolon_decimal_comma.csv").frame.collect()
    second, third = lines.row(1, named=True), lines.row(2, named=True)
    assert second["row"] == 3
    assert "period: expected a month YYYY-MM, got '2003-1'" in second["problem"]
    assert "unit_price: expected a number, got 'abc'" in second["problem"]
    assert third["row"] == 4 and third["problem"] == "term: missing value"


def test_comma_separated_with_english_thousands(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat,index:FOD\n"
        'c1,P1,2020-01,"1,000.5",10,"10,005.00",66.1\n',
        encoding="utf-8",
    )
    row = read_invoices(path).frame.collect().row(0, named=True)
    assert row["quantity"] == 1000.5 and row["amount_excl_vat"] == 10005.0
    assert row["index:FOD"] == 66.1


def test_xlsx_rows_keep_sheet_line_numbers(tmp_path):
    import xlsxwriter

    path = tmp_path / "inv.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(
        0, 0, ["contract", "term", "period", "quantity", "unit_price", "amount_excl_vat"]
    )
    sheet.write_row(1, 0, ["c1", "P1", "2020-01", 100, 10.5, 1050])
    sheet.write_row(2, 0, ["c1", "P1", "2020-02", "n/a", 10.5, 1050])
    book.close()
    lines = read_invoices(path).frame.collect()
    assert lines["row"].to_list() == [2, 3]
    assert lines["unit_price"].to_list() == [10.5, 10.5]
    assert "quantity: expected a number, got 'n/a'" in lines["problem"][1]


def test_missing_required_columns_reported_together(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text("contract;term;period;quantity\nc1;P1;2020-01;1\n", encoding="utf-8")
    with pytest.raises(InvoiceError) as err:
        read_invoices(path)
    text = "\n".join(err.value.lines())
    assert f"{path}:1: unit_price: missing required column" in text
    assert f"{path}:1: amount_excl_vat: missing required column" in text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.from_regex(r"\A[0-9]{4}-[0-9]{2}\Z"),
            st.from_regex(r"\A[0-9 ]{0,5}-?[0-9]{0,3}\Z"),
            st.text(max_size=8),
            st.from_regex(r"\A\s{0,2}[0-9]{4}-[0-9]{2}\s{0,2}\Z"),
        ),
        max_size=30,
    )
)
def test_month_number_equals_the_period_pattern(texts):
    """The Enum fast path reads exactly what the pattern ``YYYY-MM`` reads on the stripped text,
    null otherwise."""
    periods = pl.Series("period", texts, dtype=pl.String)
    parts = periods.str.strip_chars().str.extract_groups(PERIOD)
    expected = (
        parts.struct.field("1").cast(pl.Int64) * 12 + parts.struct.field("2").cast(pl.Int64) - 1
    )
    assert month_number(periods).to_list() == expected.to_list()


def test_month_number_of_every_year_range():
    periods = pl.Series(
        ["0999-12", "1000-01", "2026-11", "2999-12", "3000-01", "2026-13", " 2026-01"]
    )
    assert month_number(periods).to_list() == [
        999 * 12 + 11, 1000 * 12, 2026 * 12 + 10, 2999 * 12 + 11, 3000 * 12, None, 2026 * 12,
    ]  # fmt: skip
