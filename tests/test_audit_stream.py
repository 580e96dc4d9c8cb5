"""Findings written as they come (``audit(..., sink=)``, :class:`tariffs.audit.report.Spool`):
the same report as from findings kept in memory, whatever the number of slices."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from tariffs.audit import batches, report
from tariffs.audit.checks import audit
from tariffs.audit.invoices import read_invoices
from tariffs.audit.report import Spool, audit_json, exceeds, finding_rows, summary
from tariffs.contract import load_contracts
from tariffs.portfolio import read_portfolio
from tariffs.series import load_store

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package: run from the checkout
from benchmarks.generate import write  # noqa: E402

INDICES = ROOT / "indices"


@pytest.fixture(scope="module")
def store():
    return load_store(INDICES)


@pytest.fixture(scope="module")
def files(tmp_path_factory, store) -> dict[str, Path]:
    """300 contracts, 20,000 invoice lines with seeded errors (benchmarks.generate)."""
    return write(300, 20_000, 11, INDICES, tmp_path_factory.mktemp("stream"))


def _run(files, store, sink=None):
    contracts = read_portfolio(files["portfolio"], store.catalog)
    return audit(read_invoices(files["invoices"]), contracts, store, sink=sink)


def _summary_of(findings: pl.DataFrame, lines: int) -> dict:
    """The summary as first computed, from every finding in memory (the reference)."""
    euros = findings["difference_eur"].drop_nulls().to_list()
    blocked = findings.filter(pl.col("blocked"))["row"].n_unique()
    counts: dict[str, int] = {}
    for code in findings["code"].to_list():
        counts[code] = counts.get(code, 0) + 1
    return {
        "lines": lines, "lines_with_findings": findings["row"].n_unique(), "blocked": blocked,
        "checked": lines - blocked, "overbilled_eur": round(sum(d for d in euros if d > 0), 2),
        "underbilled_eur": round(-sum(d for d in euros if d < 0), 2) + 0.0,
        "findings_by_code": counts,
    }  # fmt: skip


@pytest.mark.parametrize("batch", [1_000_000, 2_500])
def test_streamed_findings_are_the_kept_ones_in_file_order(files, store, monkeypatch, batch):
    monkeypatch.setattr(batches, "BATCH_ROWS", batch)
    kept = _run(files, store)
    parts: list[pl.DataFrame] = []
    streamed = _run(files, store, sink=parts.append)
    assert streamed.findings.height == 0 and kept.findings.height > 100
    assert len(parts) == (1 if batch > 20_000 else 9)  # 20,000 lines (+ copies): 9 slices
    whole = pl.concat(parts)
    assert whole.equals(kept.findings)
    assert whole["row"].is_sorted()
    assert summary(streamed) == summary(kept) == _summary_of(kept.findings, kept.lines)
    for tolerance in (0.0, 1.0, 1e9):
        assert exceeds(streamed, tolerance) == exceeds(kept, tolerance)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_spooled_report_equals_the_report_of_kept_findings(files, store, monkeypatch, fmt):
    monkeypatch.setattr(batches, "BATCH_ROWS", 4_000)
    kept = _run(files, store)
    spool = Spool(fmt)
    streamed = _run(files, store, sink=spool.add)
    out = io.StringIO()
    spool.write(out, audit_json(streamed))
    if fmt == "json":
        assert json.loads(out.getvalue()) == audit_json(kept)
    else:
        frame = pl.read_csv(io.StringIO(out.getvalue()), infer_schema=False)
        rows = finding_rows(kept)
        assert frame.columns == report.FINDING_COLUMNS and frame.height == len(rows)
        assert frame["line"].cast(pl.Int64).to_list() == [r["line"] for r in rows]
        assert frame["message"].to_list() == [r["message"] for r in rows]
        due = [r["difference_eur"] for r in rows]
        assert frame["difference_eur"].cast(pl.Float64).to_list() == due


def test_a_long_table_is_laid_out_plain_with_every_finding(files, store, monkeypatch):
    monkeypatch.setattr(report, "TABLE_ROWS", 25)
    monkeypatch.setattr(batches, "BATCH_ROWS", 3_000)
    kept = _run(files, store)
    spool = Spool("table")
    streamed = _run(files, store, sink=spool.add)
    text = "".join(spool.table(audit_json(streamed)))
    total = kept.findings.height
    assert total > 25 and text.startswith(f"audit findings ({total:,}: plain layout above 25 rows")
    body = text.splitlines()[3 : 3 + total]  # title, header, rule, then one line per finding
    assert [int(line.split()[0]) for line in body] == kept.findings["row"].to_list()
    codes = [c for c in kept.findings["code"].to_list()]
    assert all(code in line for code, line in zip(codes, body, strict=True))
    assert f"{streamed.lines} invoice lines" in text.splitlines()[3 + total]  # then the summary


def test_an_empty_audit_writes_an_empty_list(tmp_path, store):
    lines = tmp_path / "clean.csv"
    lines.write_text("contract,term,period,quantity,unit_price,amount_excl_vat\n")
    spool = Spool("json")
    contracts = load_contracts([ROOT / "contracts"], store.catalog)
    result = audit(read_invoices(lines), contracts, store, sink=spool.add)
    out = io.StringIO()
    spool.write(out, audit_json(result))
    data = json.loads(out.getvalue())
    assert data["findings"] == [] and data["summary"]["lines"] == 0


def test_an_xlsx_report_beyond_a_sheet_says_what_it_leaves_out(files, store, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from tariffs.cli import main

    monkeypatch.setattr(report, "XLSX_ROWS", 40)
    out = tmp_path / "audit.xlsx"
    args = ["audit", str(files["invoices"]), "--contracts", str(files["portfolio"]),
            "--indices", str(INDICES), "--format", "xlsx", "-o", str(out)]  # fmt: skip
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 1, done.output
    kept = _run(files, store)
    total = kept.findings.height
    assert f"holds the first 40 of {total:,} findings" in done.stderr
    book = load_workbook(out, read_only=True)
    assert book["findings"].max_row == 41  # the header and 40 findings
    notes = [c for row in book["summary"].iter_rows(values_only=True) for c in row if c]
    assert any(f"{total - 40:,} more" in str(c) for c in notes)
    lines = {r[0] for r in book["invoice lines"].iter_rows(min_row=2, values_only=True)}
    assert len(lines) == kept.lines  # every line (fewer than a sheet holds), its findings or not


def test_a_number_too_large_to_multiply_blocks_its_line(tmp_path, store):
    lines = tmp_path / "odd.csv"
    lines.write_text("contract,term,period,quantity,unit_price,amount_excl_vat\n"
                     "conches-en-ouche,R1,2008-10,1e300,20.51,5\n")  # fmt: skip
    spool = Spool("json")
    contracts = load_contracts([ROOT / "contracts"], store.catalog)
    result = audit(read_invoices(lines), contracts, store, sink=spool.add)
    out = io.StringIO()
    spool.write(out, audit_json(result))

    def no_infinity(name):
        raise AssertionError(f"{name} in the JSON")

    data = json.loads(out.getvalue(), parse_constant=no_infinity)
    (finding,) = data["findings"]
    assert finding["code"] == "invalid-line" and finding["blocked"]
    assert finding["message"] == "quantity: expected a number below 1,000,000,000, got '1e+300'"
