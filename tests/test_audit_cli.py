"""``tariffs audit`` end to end on the bundled example invoice (genuine FOD excerpt)."""

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tariffs.cli import main

FIX = Path(__file__).parent / "fixtures" / "invoices"
EXAMPLE = FIX / "conches-en-ouche-2008-2009.csv"
ARGS = ["--contracts", str(FIX / "contracts"), "--indices", str(FIX / "indices")]


def run(*args):
    return CliRunner().invoke(main, ["audit", *map(str, args), *ARGS])


def test_seeded_errors_found_with_their_lines_and_euros():
    result = run(EXAMPLE, "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    got = {(f["line"], f["code"], f["difference_eur"]) for f in data["findings"]}
    wrong_month = next(f for f in data["findings"] if f["line"] == 3)
    assert "billed value is that of 2008-07: wrong index month" in wrong_month["message"]
    assert got == {
        (
            3,
            "index-value-mismatch",
            135.29,
        ),  # FOD of 2008-07 (139.0) instead of 2008-04: 187.9 × (21.23 − 20.51)
        (4, "amount-mismatch", -18.0),  # 236.1 × 20.51 = 4842.41 billed 4824.41
        (5, "vat-rate-mismatch", 727.89),  # 19.6 % in 2009-01, contract: 5.5 % since 2009-01-01
        (7, "unknown-term", None),  # R2 is not in the contract
        (9, "duplicate-line", 3620.02),  # line 8 billed twice
    }
    s = data["summary"]
    assert (s["lines"], s["blocked"], s["lines_with_findings"]) == (8, 2, 5)
    assert s["overbilled_eur"] == pytest.approx(135.29 + 727.89 + 3620.02)
    assert s["underbilled_eur"] == 18.0


def test_clean_invoice_gives_no_finding_and_exit_0(tmp_path):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join([lines[0], lines[1], lines[5]]) + "\n", encoding="utf-8")
    result = run(clean, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["findings"] == [] and data["summary"]["lines"] == 2


def test_tolerance_sets_the_exit_code(tmp_path):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    slip = tmp_path / "slip.csv"
    slip.write_text("\n".join([lines[0], lines[3]]) + "\n", encoding="utf-8")
    assert run(slip, "--tolerance", "20").exit_code == 0
    assert run(slip, "--tolerance", "10").exit_code == 1


def test_xlsx_report_highlights_cells_and_shows_due_values(tmp_path):
    out = tmp_path / "audit.xlsx"
    result = run(EXAMPLE, "--format", "xlsx", "-o", out)
    assert result.exit_code == 1
    assert "8 invoice lines" in result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["summary", "invoice lines", "findings"]
    sheet = book["invoice lines"]
    header = [c.value for c in sheet[1]]
    col = header.index("index:FOD")
    assert header[col + 1] == "index:FOD due"
    row3 = [c for c in sheet[3]]  # file line 3 is sheet row 3 (header + line 2)
    assert row3[0].value == 3
    assert row3[col].value == 139.0 and row3[col + 1].value == 117.61
    assert row3[col].fill.fgColor.rgb.endswith("FFC7CE")


def test_missing_column_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("contract;term;period\nx;P1;2020-01\n", encoding="utf-8")
    result = run(bad)
    assert result.exit_code == 1
    assert f"{bad}:1: quantity: missing required column" in result.stderr
    assert "Traceback" not in result.output


def test_help_has_an_example():
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert result.exit_code == 0 and "tariffs audit examples/invoices/" in result.output


def test_settlement_on_the_command_line_priced_by_the_engine(tmp_path):
    # target 1500 MWh × 2300/2500 = 1380; metered 1300: savings 80, band 27.6;
    # bonus 0.5 × 52.4 × 20.51 (R1 in force in 2009-05) = 537.36
    clean = tmp_path / "clean.csv"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    clean.write_text(lines[0].replace("conches-en-ouche", "conches-mci") + "\n", encoding="utf-8")
    args = ["audit", str(clean), "--contracts", str(FIX / "settlement"), "--indices", str(FIX / "indices"),
            "--dju", "2300", "--metered", "1300", "--season", "2008-2009", "--format", "json"]  # fmt: skip
    result = CliRunner().invoke(main, [*args, "--billed-settlement", "537.36"])
    assert result.exit_code == 0, result.output
    (settled,) = json.loads(result.stdout)["settlements"]
    assert settled["amount_eur"] == 537.36 and settled["kind"] == "bonus"
    result = CliRunner().invoke(main, [*args, "--billed-settlement", "800"])
    assert result.exit_code == 1
    (settled,) = json.loads(result.stdout)["settlements"]
    assert settled["finding"]["code"] == "settlement-mismatch"
    assert settled["finding"]["difference_eur"] == pytest.approx(262.64)
