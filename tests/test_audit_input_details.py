"""Invoice files as exports really are: blank last lines, Excel date cells, misspelt index columns."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tariffs.cli import main

FIX = Path(__file__).parent / "fixtures" / "revise"
ARGS = ["--contracts", str(FIX / "network.toml"), "--indices", str(FIX), "--format", "json"]
# network.toml: R1 = 0.9 x 18.4 + 0.1 x 18.4 x FOD(April)/FOD(2001-04); July 2008 -> 20.51
LINE = "network,R1,2008-09,100,20.51,2051.00"


def audit(path):
    result = CliRunner().invoke(main, ["audit", str(path), *ARGS])
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_blank_lines_of_an_export_are_not_invoice_lines(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat\r\n" + LINE + "\r\n\r\n\r\n"
    )
    result, data = audit(path)
    assert result.exit_code == 0, result.output
    assert data["findings"] == [] and data["summary"]["lines"] == 1
    assert (
        isinstance(data["summary"]["overbilled_eur"], float)
        and data["summary"]["underbilled_eur"] == 0.0
    )


def test_excel_date_cell_in_period_is_read_as_its_month(tmp_path):
    from datetime import datetime

    import xlsxwriter

    path = tmp_path / "inv.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(
        0, 0, ["contract", "term", "period", "quantity", "unit_price", "amount_excl_vat"]
    )
    sheet.write_row(1, 0, ["network", "R1"])
    sheet.write_datetime(1, 2, datetime(2008, 9, 1), book.add_format({"num_format": "yyyy-mm"}))
    sheet.write_row(1, 3, [100, 20.51, 2051.0])
    book.close()
    result, data = audit(path)
    assert result.exit_code == 0, result.output
    assert data["findings"] == []


def test_an_index_column_naming_no_catalog_series_is_said(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat,index:fod\n" + LINE + ",117.61\n"
    )
    result, _ = audit(path)
    assert (
        "index:fod: no series 'fod' in the index catalog (did you mean index:FOD?)" in result.stderr
    )


def test_a_line_of_the_stub_period_is_checked_at_the_base_price(tmp_path):
    contract = (
        (FIX / "network.toml").read_text().replace("start = 2001-07-01", "start = 2001-03-01")
    )
    (tmp_path / "c.toml").write_text(contract)
    path = tmp_path / "inv.csv"
    # before the first revision (July 2001): R1 = 0.9 x 18.4 + 0.1 x 18.4 = 18.40
    path.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat\nnetwork,R1,2001-04,10,18.40,184.00\n"
    )
    args = ["--contracts", str(tmp_path / "c.toml"), "--indices", str(FIX), "--format", "json"]
    result = CliRunner().invoke(main, ["audit", str(path), *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []


def test_keys_with_blanks_read_alike_from_csv_and_parquet(tmp_path):
    """Blanks around a contract, term, period, invoice or line are ignored; a key made of
    blanks is missing; a copy that differs only by blanks is a duplicate: in CSV and Parquet."""
    import polars as pl

    rows = [
        ("F1", "1", "network", "R1", "2008-09", 100.0, 20.51, 2051.0),
        (" F1 ", "1 ", " network ", " R1", " 2008-09 ", 100.0, 20.51, 2051.0),
        ("F1", "2", "   ", "R1", "2008-09", 100.0, 20.51, 2051.0),
        ("F1", "3", "network", "  ", "2008-09", 100.0, 20.51, 2051.0),
        ("F1", "4", " network", "R1 ", "2008-10 ", 100.0, 20.61, 2061.0),
        ("F1", "5", " nowhere ", "R1", "2008-09", 100.0, 20.51, 2051.0),
    ]
    names = ["invoice", "line", "contract", "term", "period", "quantity", "unit_price",
             "amount_excl_vat"]  # fmt: skip
    frame = pl.DataFrame(rows, schema=names, orient="row")
    frame.write_csv(tmp_path / "inv.csv")
    frame.write_parquet(tmp_path / "inv.parquet")
    found = {}
    for name in ("inv.csv", "inv.parquet"):
        result, data = audit(tmp_path / name)
        assert result.exit_code == 1, result.output
        found[name] = [
            (f["line"], f["code"], f["contract"], f["message"]) for f in data["findings"]
        ]
    assert found["inv.csv"] == found["inv.parquet"]
    by_row = {row: (code, contract, message) for row, code, contract, message in found["inv.csv"]}
    assert by_row[3] == ("duplicate-line", "network", "same line as line 2; billed twice")
    assert by_row[4][0] == "invalid-line" and by_row[4][2] == "contract: missing value"
    assert by_row[5][0] == "invalid-line" and by_row[5][2] == "term: missing value"
    assert by_row[6][0] == "unit-price-mismatch" and by_row[6][1] == "network"
    assert by_row[7][:2] == ("unknown-contract", "nowhere")
    assert 2 not in by_row


def test_a_not_finite_number_in_a_typed_parquet_column_is_unreadable(tmp_path):
    import polars as pl

    path = tmp_path / "inv.parquet"
    pl.DataFrame({
        "contract": ["network"] * 3, "term": ["R1"] * 3, "period": ["2008-09"] * 3,
        "quantity": [100.0, float("nan"), 100.0], "unit_price": [20.51, 20.51, float("inf")],
        "amount_excl_vat": [2051.0, 2051.0, 2051.0],
    }).write_parquet(path)  # fmt: skip
    result, data = audit(path)
    assert result.exit_code == 1, result.output
    found = [(f["line"], f["code"], f["message"]) for f in data["findings"]]
    assert found == [
        (3, "invalid-line", "quantity: expected a number, got 'NaN'"),
        (4, "invalid-line", "unit_price: expected a number, got 'inf'"),
    ]


def test_a_month_stored_as_a_parquet_date_is_read_as_its_month(tmp_path):
    from datetime import date

    import polars as pl

    path = tmp_path / "inv.parquet"
    pl.DataFrame({
        "contract": ["network"], "term": ["R1"], "period": [date(2008, 9, 1)],
        "quantity": [100.0], "unit_price": [20.51], "amount_excl_vat": [2051.0],
    }).write_parquet(path)  # fmt: skip
    result, data = audit(path)
    assert result.exit_code == 0, result.output
    assert data["findings"] == [] and data["summary"]["lines"] == 1
