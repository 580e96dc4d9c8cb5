"""What the audit says: summary, JSON of INTERFACE.md, terminal text and the xlsx report.

The xlsx report is meant to be forwarded by a landlord to the operator: a
``summary`` sheet, the ``invoice lines`` with every discrepant cell
highlighted and the value due in the column beside it, and the ``findings``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from tariffs.audit.checks import Audit
from tariffs.report import atomic_write, to_table

FINDING_COLUMNS = ["line", "invoice", "contract", "term", "period", "code", "billed", "expected",
                   "difference_eur", "message"]  # fmt: skip
XLSX_MAX_LINES = 1_000_000


def finding_rows(audit: Audit) -> list[dict]:
    """Findings as JSON objects (INTERFACE.md "JSON of audit", plus ``invoice_line``, ``blocked``)."""
    rows = []
    for f in audit.findings.iter_rows(named=True):
        rows.append({
            "line": f["row"], "invoice": f["invoice"], "invoice_line": f["invoice_line"],
            "contract": f["contract"], "term": f["term"], "period": f["period"], "code": f["code"],
            "billed": f["billed"], "expected": f["expected"], "difference_eur": f["difference_eur"],
            "message": f["message"], "blocked": f["blocked"],
        })  # fmt: skip
    return rows


def summary(audit: Audit, extra: list[dict] = ()) -> dict:
    """Counts and euros [EUR]; ``extra`` findings (settlement) count in the euros."""
    f = audit.findings
    euros = [d for d in f["difference_eur"].drop_nulls().to_list()] + [
        x["difference_eur"] for x in extra if x.get("difference_eur") is not None
    ]
    blocked = f.filter(pl.col("blocked"))["row"].n_unique()
    return {
        "lines": audit.lines,
        "lines_with_findings": f["row"].n_unique(),
        "blocked": blocked,
        "checked": audit.lines - blocked,
        "overbilled_eur": round(float(sum(d for d in euros if d > 0)), 2),
        "underbilled_eur": round(float(-sum(d for d in euros if d < 0)), 2) + 0.0,
        "findings_by_code": dict(Counter(f["code"].to_list() + [x["code"] for x in extra])),
    }


def exceeds(audit: Audit, tolerance_eur: float, extra: list[dict] = ()) -> bool:
    """True when a finding is beyond the tolerance, or has no euro figure (blocked line...)."""
    diffs = audit.findings["difference_eur"].to_list() + [x.get("difference_eur") for x in extra]
    return any(d is None or abs(d) > tolerance_eur for d in diffs)


def audit_json(audit: Audit, settlements: list[dict] = ()) -> dict:
    extra = [s["finding"] for s in settlements if s.get("finding")]
    data = {"summary": summary(audit, extra), "findings": finding_rows(audit)}
    if audit.notes:
        data["notes"] = audit.notes
    if settlements:
        data["settlements"] = list(settlements)
    return data


def summary_text(data: dict) -> str:
    s = data["summary"]
    lines = [
        f"{s['lines']} invoice lines: {s['checked']} checked, {s['blocked']} blocked, "
        f"{s['lines_with_findings']} with findings",
        f"overbilled {s['overbilled_eur']:.2f} EUR, underbilled {s['underbilled_eur']:.2f} EUR",
    ]
    lines += [f"  {code}: {n}" for code, n in sorted(s["findings_by_code"].items())]
    for note in data.get("notes", []):
        lines.append(
            f"note: {note['contract']} {note['term']} {note['period']}: {note['series']} {note['exp_period']} "
            f"was provisional ({note['provisional_value']}) when billed, correctly; its current value "
            f"{note['current_value']} changes lines {note['lines'][:5]} by {note['effect_eur']:+.2f} EUR"
        )
    for st in data.get("settlements", []):
        lines.append(
            f"settlement {st['contract']} {st.get('season') or ''}: {st['kind']} {st['amount_eur']:.2f} EUR"
        )
    return "\n".join(lines) + "\n"


def table_text(data: dict) -> str:
    findings = data["findings"] + [
        s["finding"] for s in data.get("settlements", []) if s.get("finding")
    ]
    text = to_table(findings, FINDING_COLUMNS, "audit findings") if findings else ""
    return text + summary_text(data)


def write_xlsx_report(path: Path, audit: Audit, data: dict) -> None:
    """Summary sheet, invoice lines with discrepant cells highlighted, findings; atomically."""
    import xlsxwriter

    lines = _lines_for_report(audit)

    def write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp))
        fmt = {
            "bold": book.add_format({"bold": True}),
            "bad": book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
            "due": book.add_format({"italic": True, "font_color": "#375623"}),
            "blocked": book.add_format({"bg_color": "#D9D9D9"}),
        }
        _summary_sheet(book.add_worksheet("summary"), data, fmt)
        _lines_sheet(book.add_worksheet("invoice lines"), lines, audit.findings, fmt)
        _findings_sheet(book.add_worksheet("findings"), data["findings"], fmt)
        book.close()

    atomic_write(path, write)


def _lines_for_report(audit: Audit) -> pl.DataFrame:
    lines = audit.checked
    if audit.lines > XLSX_MAX_LINES:  # an xlsx sheet holds ~1M rows: keep the lines with findings
        lines = lines.join(
            audit.findings.lazy().select(pl.col("row").cast(pl.UInt32)).unique(), on="row"
        )
    keep = ["row", "invoice", "line", "contract", "term", "period", "quantity", "quantity_unit", "energy_basis",
            "coefficient", "unit_price", "amount_excl_vat", "vat_rate", "amount_incl_vat"]  # fmt: skip
    names = lines.collect_schema().names()
    index_columns = [c for c in names if c.startswith(("index:", "base_index:"))]
    return lines.select([c for c in keep if c in names] + index_columns).sort("row").collect()


def _summary_sheet(sheet, data: dict, fmt: dict) -> None:
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 16)
    sheet.write(0, 0, "Invoice audit", fmt["bold"])
    row = 2
    for key, value in data["summary"].items():
        if key == "findings_by_code":
            continue
        sheet.write(row, 0, key.replace("_", " "))
        sheet.write(row, 1, value)
        row += 1
    row += 1
    sheet.write(row, 0, "findings by code", fmt["bold"])
    for code, n in sorted(data["summary"]["findings_by_code"].items()):
        row += 1
        sheet.write(row, 0, code)
        sheet.write(row, 1, n)
    row += 2
    sheet.write(row, 0, "difference_eur = billed minus due (positive: overbilled)")


def _lines_sheet(sheet, lines: pl.DataFrame, findings: pl.DataFrame, fmt: dict) -> None:
    """Each billed column followed by a ``due`` column filled where a finding names that cell."""
    bad = {
        (f["row"], f["column"]): f["expected"]
        for f in findings.iter_rows(named=True)
        if f["column"]
    }
    blocked = {f["row"]: f["message"] for f in findings.iter_rows(named=True) if f["blocked"]}
    flagged = {col for _, col in bad}
    header = []
    for c in lines.columns:
        header.append("file line" if c == "row" else c)
        if c in flagged:
            header.append(f"{c} due")
    header.append("blocked")
    sheet.write_row(0, 0, header, fmt["bold"])
    for r, values in enumerate(lines.iter_rows(named=True), start=1):
        col = 0
        for c, v in values.items():
            sheet.write(r, col, v, fmt["bad"] if (values["row"], c) in bad else None)
            col += 1
            if c in flagged:
                due = bad.get((values["row"], c))
                if due is not None:
                    sheet.write(r, col, due, fmt["due"])
                col += 1
        if values["row"] in blocked:
            sheet.write(r, col, blocked[values["row"]], fmt["blocked"])
    sheet.freeze_panes(1, 0)


def _findings_sheet(sheet, rows: list[dict], fmt: dict) -> None:
    sheet.write_row(0, 0, FINDING_COLUMNS, fmt["bold"])
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, [row.get(c) for c in FINDING_COLUMNS])
    sheet.set_column(len(FINDING_COLUMNS) - 1, len(FINDING_COLUMNS) - 1, 90)
    sheet.freeze_panes(1, 0)
