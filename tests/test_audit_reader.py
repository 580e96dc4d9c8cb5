"""The invoice reader: separators, decimal marks, line numbers, unreadable values."""

from pathlib import Path

import pytest

from tariffs.audit.invoices import read_invoices
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
