"""A new user's invoice files: a date that cannot be read, a VAT rate typo, a wrong VAT rate."""

from __future__ import annotations

from pathlib import Path

from tariffs.audit.checks import audit
from tariffs.audit.invoices import read_invoices
from tariffs.contract import load_contracts
from tariffs.series import load_store

ROOT = Path(__file__).parents[1]
HEAD = "invoice;contract;term;period;quantity;unit_price;amount_excl_vat;vat_rate;amount_incl_vat;invoice_date\n"
LINE = "F-{n};conches-en-ouche;R1;2008-10;132,4;20,51;2715,52;{rate};{incl};{date}\n"


def audit_text(tmp_path, text: str):
    """The findings of the invoice file ``text`` against the Conches contract."""
    store = load_store(ROOT / "indices")
    contracts = load_contracts([ROOT / "contracts" / "conches-en-ouche.toml"], store.catalog)
    path = tmp_path / "inv.csv"
    path.write_text(text)
    return audit(read_invoices(path), contracts, store).findings


def by_line(found):
    """Findings keyed by (file line, code)."""
    return {(r["row"], r["code"]): r for r in found.iter_rows(named=True)}


def _findings(tmp_path, *lines):
    text = HEAD + "".join(LINE.format(n=n, **line) for n, line in enumerate(lines))
    return by_line(audit_text(tmp_path, text))


def test_an_invoice_date_that_cannot_be_read_blocks_its_line(tmp_path):
    ok = {"rate": "19,6 %", "incl": "3247,76", "date": "2008-11-05"}
    by = _findings(
        tmp_path, ok, ok | {"date": "31/13/2008"}, ok | {"date": "hier"}, ok | {"date": ""}
    )
    assert set(by) == {(3, "invalid-line"), (4, "invalid-line")}
    assert by[(3, "invalid-line")]["message"] == (
        "invoice_date: expected a date YYYY-MM-DD or DD/MM/YYYY, got '31/13/2008'")  # fmt: skip
    assert by[(4, "invalid-line")]["blocked"]


def test_a_vat_rate_typo_with_the_right_amount_costs_nothing(tmp_path):
    # "196 %" read as 1.96; the amount incl. VAT is the right one (2715.52 × 1.196)
    by = _findings(tmp_path, {"rate": "196 %", "incl": "3247,76", "date": ""})
    assert set(by) == {(2, "vat-rate-mismatch")}  # the first link only, no vat-amount finding
    assert by[(2, "vat-rate-mismatch")]["difference_eur"] == 0.0
    assert "amount incl. VAT billed 3247.76, due 2715.52 × (1 + 0.196) = 3247.76" in (
        by[(2, "vat-rate-mismatch")]["message"])  # fmt: skip


def test_a_wrong_vat_rate_applied_is_one_finding_with_its_euros(tmp_path):
    # 5.5 % applied where 19.6 % is due: 2715.52 × 1.055 = 2864.87 billed, 3247.76 due
    by = _findings(tmp_path, {"rate": "5,5 %", "incl": "2864,87", "date": ""},
                   {"rate": "5,5 %", "incl": "", "date": ""})  # fmt: skip
    assert set(by) == {(2, "vat-rate-mismatch"), (3, "vat-rate-mismatch")}
    assert by[(2, "vat-rate-mismatch")]["difference_eur"] == -382.89
    assert by[(3, "vat-rate-mismatch")]["difference_eur"] == -382.89  # 2715.52 × (0.055 - 0.196)


def test_a_report_into_a_missing_folder_is_refused_before_the_work(tmp_path):
    from click.testing import CliRunner

    from tariffs.cli import main

    example = str(ROOT / "examples" / "invoices" / "conches-en-ouche-2008-2009.csv")
    out = tmp_path / "nowhere" / "report.csv"
    for args in (["audit", example, "--contracts", str(ROOT / "contracts")],
                 ["revise", str(ROOT / "contracts" / "conches-en-ouche.toml")]):  # fmt: skip
        done = CliRunner().invoke(main, [*args, "--indices", str(ROOT / "indices"), "--format",
                                         "csv", "-o", str(out)])  # fmt: skip
        assert done.exit_code == 1, done.output
        assert f"{out}: output folder {out.parent} does not exist" in done.stderr
        assert "tmp" not in done.stderr.replace(str(tmp_path), "")  # no temporary file named
    assert not out.parent.exists()


def test_a_windows_1252_export_is_read_and_said(tmp_path):
    from tariffs.audit.invoices import read_invoices as read

    # a no-break space as thousands separator: byte A0 in Windows-1252, no UTF-8
    text = HEAD + LINE.format(n=1, rate="19,6 %", incl="3\u00a0247,76", date="")
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    invoices = read(path)
    assert invoices.warnings == ["not UTF-8: read as Windows-1252 (Excel's CSV on a French system)"]
    lines = invoices.frame.collect()
    assert lines["amount_incl_vat"].to_list() == [3247.76] and lines["problem"].to_list() == [None]


def test_a_web_page_saved_as_csv_gets_one_clear_message(tmp_path):
    import pytest

    from tariffs.errors import InvoiceError

    path = tmp_path / "invoices.csv"
    path.write_text("<!DOCTYPE html>\n<html><body>Session expired</body></html>\n")
    with pytest.raises(InvoiceError) as caught:
        read_invoices(path)
    (line,) = caught.value.lines()
    assert line.startswith(f"{path}:1: ") and "web page (HTML/XML), not a CSV export" in line


def test_huge_numbers_block_or_lose_their_euros_without_a_crash(tmp_path):
    found = audit_text(
        tmp_path,
        "contract;term;period;quantity;quantity_unit;unit_price;amount_excl_vat;index:FOD\n"
        "conches-en-ouche;R1;2008-10;1e30;MWh;20,51;5;117,61\n"  # blocked, index column billed
        "conches-en-ouche;R1;2008-10;900000000;GWh;20,51;5;117,61\n"  # 9e11 MWh: too big to price
        "conches-en-ouche;R1;2008-10;10;MWh;21,51;215,1;117,61\n",  # an ordinary wrong price
    )
    by = by_line(found)
    assert by[(2, "invalid-line")]["message"].startswith("quantity: expected a number below")
    too_big = by[(3, "amount-mismatch")]  # 9e11 MWh × 20.51: no exact figure, said as none
    assert too_big["expected"] is None and too_big["difference_eur"] is None
    assert too_big["message"].endswith("= (too large to compute exactly)")
    assert by[(4, "unit-price-mismatch")]["difference_eur"] == 10.0


def test_a_day_first_invoice_date_with_a_time_is_read(tmp_path):
    ok = {"rate": "19,6 %", "incl": "3247,76", "date": "15/10/2008 00:00"}
    assert _findings(tmp_path, ok) == {}


def test_a_windows_1252_character_in_the_last_bytes_is_found(tmp_path):
    text = HEAD + LINE.format(n=1, rate="19,6 %", incl="3247,76", date="").rstrip("\n") + " €\n"
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    invoices = read_invoices(path)
    assert invoices.warnings and "Windows-1252" in invoices.warnings[0]


def test_a_reused_line_number_is_checked_and_said_a_copy_is_billed_twice(tmp_path):
    found = audit_text(
        tmp_path,
        "invoice;line;contract;term;period;quantity;unit_price;amount_excl_vat\n"
        "F-5;1;conches-en-ouche;R1;2008-10;10;20,51;205,10\n"
        "F-5 ;1;conches-en-ouche;R1;2008-10;10,0;20,51;205,1\n"  # the same line, written otherwise
        "F-5;1;conches-en-ouche;R1;2008-10;20;21,51;430,20\n"  # the same number, another charge
        "F-5;1;conches-en-ouche;R1;2008-10;20;21,51;430,20\n",  # ... itself billed twice
    )
    by = by_line(found)
    assert set(by) == {(3, "duplicate-line"), (4, "line-number-reused"), (4, "unit-price-mismatch"),
                       (5, "duplicate-line")}  # fmt: skip
    assert by[(5, "duplicate-line")]["message"] == "same line as line 4; billed twice"
    assert by[(3, "duplicate-line")]["difference_eur"] == 205.1
    assert by[(4, "line-number-reused")]["message"].startswith(
        "same invoice and line number as line 2"
    )
    assert by[(4, "line-number-reused")]["blocked"] is False
    assert by[(4, "unit-price-mismatch")]["difference_eur"] == 20.0  # checked as any other line


def test_a_file_broken_inside_is_an_error_naming_it_not_a_traceback(tmp_path):
    """A quote never closed in a CSV, a damaged page of a Parquet file: found only as the lines
    are read; the command says which file and why, exit 1, no traceback."""
    import polars as pl
    from click.testing import CliRunner

    from tariffs.cli import main

    quoted = tmp_path / "quote.csv"
    quoted.write_text(
        "contract,term,period,quantity,unit_price,amount_excl_vat\n"
        '"conches-en-ouche,R1,2008-10,1,1,1\n'
    )
    lines = pl.DataFrame({
        "invoice": [f"F{i}" for i in range(30_000)], "contract": "conches-en-ouche",
        "term": "R1", "period": "2008-10", "quantity": 1.5, "unit_price": 20.51,
        "amount_excl_vat": 30.77,
    })  # fmt: skip
    damaged = tmp_path / "damaged.parquet"
    lines.write_parquet(damaged)  # compressed: a damaged page does not decompress
    data = bytearray(damaged.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 8000] = b"\xde\xad\xbe\xef" * 2000  # pages, not the footer
    damaged.write_bytes(bytes(data))
    for path, why in ((quoted, "invalid csv file"), (damaged, "parquet")):
        result = CliRunner().invoke(main, ["audit", str(path), "--contracts", str(ROOT / "contracts"),
                                           "--indices", str(ROOT / "indices")])  # fmt: skip
        assert result.exit_code == 1, result.output
        assert f"{path}: not a readable invoice file: {why}" in result.output
        assert (
            "Traceback" not in result.output
            and result.exception is None
            or isinstance(result.exception, SystemExit)
        )


def test_a_parquet_file_with_other_column_types(tmp_path):
    """Columns the audit does not read may hold anything (a list of tags); a column it reads
    holding no value it can read (a duration as a quantity) is named, not called unreadable."""
    from datetime import timedelta

    import polars as pl
    import pytest

    from tariffs.errors import InvoiceError

    store = load_store(ROOT / "indices")
    contracts = load_contracts([ROOT / "contracts" / "conches-en-ouche.toml"], store.catalog)
    lines = pl.DataFrame({
        "invoice": ["F-1", "F-2"], "line": ["1", "1"], "contract": "conches-en-ouche", "term": "R1",
        "period": ["2008-10", "2008-11"], "quantity": [10.0, 10.0], "unit_price": [20.51, 21.23],
        "amount_excl_vat": [205.1, 212.3], "tags": [["a"], ["b", "c"]],
    })  # fmt: skip
    tagged = tmp_path / "tagged.parquet"
    lines.write_parquet(tagged)
    plain = tmp_path / "plain.parquet"
    lines.drop("tags").write_parquet(plain)
    found = audit(read_invoices(tagged), contracts, store).findings
    assert found.equals(audit(read_invoices(plain), contracts, store).findings)
    assert found.height > 0  # the second line's unit price
    odd = tmp_path / "odd.parquet"
    lines.with_columns(pl.lit(timedelta(days=1)).alias("quantity")).write_parquet(odd)
    with pytest.raises(InvoiceError) as caught:
        read_invoices(odd)
    (line,) = caught.value.lines()
    assert (
        line
        == f"{odd}:1: quantity: a column of type Duration(time_unit='us'); expected text, numbers or dates"
    )


def test_copies_need_the_same_values_read_and_a_number_to_reuse(tmp_path):
    """An unreadable date and a blank one are both no date, but the lines differ: the second is
    checked (a number reused), not a copy. Lines without invoice and line numbers are copies
    only when equal, never numbers reused."""
    head = "invoice;line;contract;term;period;quantity;unit_price;amount_excl_vat;invoice_date\n"
    dated = "F-5;1;conches-en-ouche;R1;2008-10;10;20,51;205,10;{}\n"
    by = by_line(audit_text(tmp_path, head + dated.format("hier") + dated.format("")))
    assert set(by) == {(2, "invalid-line"), (3, "line-number-reused")}
    blank = ";;conches-en-ouche;R1;2008-10;10;20,51;205,10;\n"
    other = ";;conches-en-ouche;R1;2008-10;20;20,51;410,20;\n"
    by = by_line(audit_text(tmp_path, head + blank + other + blank))
    assert set(by) == {(4, "duplicate-line")}
    assert by[(4, "duplicate-line")]["message"] == "same line as line 2; billed twice"
