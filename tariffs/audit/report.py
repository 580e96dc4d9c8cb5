"""What the audit says: summary, JSON of INTERFACE.md, terminal text and the xlsx report.

The xlsx report is meant to be forwarded by a landlord to the operator: a
``summary`` sheet, the ``invoice lines`` with every discrepant cell
highlighted and the value due in the column beside it, and the ``findings``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import IO

import polars as pl

from tariffs.audit.checks import FINDING_SCHEMA, Audit
from tariffs.report import atomic_write, plain_table, text_widths, to_json, to_table

FINDING_COLUMNS = ["line", "invoice", "contract", "term", "period", "code", "billed", "expected",
                   "difference_eur", "message"]  # fmt: skip
XLSX_MAX_LINES = 1_000_000
#: the JSON keys of a finding (INTERFACE.md "JSON of audit", plus ``invoice_line``, ``blocked``)
FINDING_KEYS = ["line", "invoice", "invoice_line", "contract", "term", "period", "code", "billed",
                "expected", "difference_eur", "message", "blocked"]  # fmt: skip
#: the most findings a boxed (rich) table shows; above, a plain text layout (rich takes ~2 ms a row)
TABLE_ROWS = 1_000
#: the columns of the plain table right-aligned (numbers)
NUMBER_COLUMNS = ("line", "billed", "expected", "difference_eur")
#: the data rows of an xlsx sheet (Excel's limit is 1,048,576 rows, the header included)
XLSX_ROWS = 1_048_575


class Spool:
    """An audit's findings written out as they come (:func:`tariffs.audit.checks.audit`'s
    ``sink``): CSV rows or JSON objects in a temporary file, a table's cells in temporary
    Arrow files, never all in memory; the first :data:`TABLE_ROWS` + 1 kept for a boxed
    table, the first :data:`XLSX_ROWS` for an xlsx report (a sheet holds no more; the
    report then says how many it leaves out).

    :meth:`write` then puts the report together (the summary, known only at the end,
    before the findings) into a file or a stream.

    Notes
    -----
    JSON: the document of INTERFACE.md ("JSON of audit"), indented as before, with
    one finding object per line inside ``"findings"``. CSV: the columns of
    :data:`FINDING_COLUMNS`; numbers as polars writes them (``1e-05`` reads as
    ``0.00001``), an empty text quoted (``""``) to tell it from a missing one.
    """

    def __init__(self, fmt: str, folder: Path | None = None):
        self.fmt = fmt
        # beside the output (``folder``): the report is copied from it on the same disk
        self.file = tempfile.TemporaryFile(dir=folder) if fmt in ("csv", "json") else None
        self.parts = tempfile.TemporaryDirectory(dir=folder) if fmt == "table" else None
        self.widths: dict[str, int] = {}
        self.written: list[int] = []  # rows of each part written
        self.count = 0
        self.head: list[pl.DataFrame] = []
        self.shown = 0
        self.keep = XLSX_ROWS if fmt == "xlsx" else TABLE_ROWS + 1

    def add(self, findings: pl.DataFrame) -> None:
        """Write one slice's findings (:data:`tariffs.audit.checks.FINDING_SCHEMA`)."""
        if findings.height == 0:
            return
        if self.shown < self.keep:
            self.head.append(findings.head(self.keep - self.shown))
            self.shown += self.head[-1].height
        if self.fmt == "csv":
            _as_keys(findings).select(FINDING_COLUMNS).write_csv(self.file, include_header=False)
        elif self.fmt == "json":
            text = _as_keys(findings).write_ndjson().rstrip("\n").replace("\n", ",\n    ")
            self.file.write(((",\n    " if self.count else "\n    ") + text).encode())
        elif self.fmt == "table":
            cells = _cells(_as_keys(findings))
            cells.write_ipc(Path(self.parts.name) / f"{len(self.written)}")
            self.written.append(cells.height)
            self.widths = text_widths(cells, self.widths)
        self.count += findings.height

    def write(self, out: IO[str], data: dict) -> None:
        """The report: ``data`` (:func:`audit_json` without its findings) and the findings."""
        if self.fmt == "table":
            for text in self.table(data):
                out.write(text)
            return
        self.file.flush()
        self.file.seek(0)
        if self.fmt == "csv":
            out.write(",".join(FINDING_COLUMNS) + "\n")
            out.flush()
            _copy(self.file, out)
            return
        marker = "\u0000findings\u0000"
        head, tail = to_json(data | {"findings": marker}).split(json.dumps(marker), 1)
        out.write(head + "[")
        out.flush()
        _copy(self.file, out)
        out.write(("\n  ]" if self.count else "]") + tail)

    def kept(self) -> pl.DataFrame:
        """The findings kept in memory (the first ones)."""
        return pl.concat(self.head) if self.head else pl.DataFrame(schema=FINDING_SCHEMA)

    def table(self, data: dict) -> Iterator[str]:
        """The findings as a table (boxed up to :data:`TABLE_ROWS`, else plain text, read back
        from the spooled parts), then the summary."""
        extra = [s["finding"] for s in data.get("settlements", []) if s.get("finding")]
        if self.count + len(extra) <= TABLE_ROWS:
            findings = finding_rows(self.kept()) + extra
            yield to_table(findings, FINDING_COLUMNS, "audit findings") if findings else ""
        else:
            parts = [Path(self.parts.name) / f"{n}" for n in range(len(self.written))]
            frames = (pl.read_ipc(f) for f in parts)
            settled = _cells(pl.DataFrame(
                [{c: None if f.get(c) is None else str(f[c]) for c in FINDING_COLUMNS} for f in extra],
                schema={c: pl.String for c in FINDING_COLUMNS},
            ))  # fmt: skip
            widths = text_widths(settled, self.widths)
            title = (f"audit findings ({self.count + len(extra):,}: plain layout above "
                     f"{TABLE_ROWS:,} rows; --format csv, json or xlsx for a spreadsheet)")  # fmt: skip
            yield from plain_table(chain(frames, [settled]), title, NUMBER_COLUMNS, widths=widths)
        if self.parts is not None:
            self.parts.cleanup()
        yield summary_text(data)


def _cells(findings: pl.DataFrame) -> pl.DataFrame:
    """The table cells of findings (:data:`FINDING_COLUMNS`) as text, blank for null."""
    return findings.select(pl.col(c).cast(pl.String).fill_null("") for c in FINDING_COLUMNS)


def _copy(spool: IO[bytes], out: IO[str]) -> None:
    """Copy the spooled bytes to ``out`` (a text file or stream: through its buffer)."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # an in-memory text stream
        out.write(spool.read().decode())
        return
    shutil.copyfileobj(spool, buffer)
    buffer.flush()


def _as_keys(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings with the columns named and ordered as :data:`FINDING_KEYS`."""
    return findings.select(pl.col("row").alias("line"), *FINDING_KEYS[1:])


def finding_rows(findings: Audit | pl.DataFrame) -> list[dict]:
    """Findings (of an audit, or a frame of them) as JSON objects (:data:`FINDING_KEYS`)."""
    findings = findings.findings if isinstance(findings, Audit) else findings
    rows = []
    for f in findings.iter_rows(named=True):
        rows.append({
            "line": f["row"], "invoice": f["invoice"], "invoice_line": f["invoice_line"],
            "contract": f["contract"], "term": f["term"], "period": f["period"], "code": f["code"],
            "billed": f["billed"], "expected": f["expected"], "difference_eur": f["difference_eur"],
            "message": f["message"], "blocked": f["blocked"],
        })  # fmt: skip
    return rows


def summary(audit: Audit, extra: list[dict] = ()) -> dict:
    """Counts and euros [EUR] (from ``audit.tally``: the findings need not be in memory);
    ``extra`` findings (settlement) count in the euros, after the lines'."""
    t = audit.tally
    euros = [x["difference_eur"] for x in extra if x.get("difference_eur") is not None]
    codes = Counter(t.codes)
    codes.update(x["code"] for x in extra)
    return {
        "lines": audit.lines,
        "lines_with_findings": t.rows_with_findings,
        "blocked": t.blocked_rows,
        "checked": audit.lines - t.blocked_rows,
        "overbilled_eur": round(float(sum((d for d in euros if d > 0), t.over)), 2),
        "underbilled_eur": round(float(-sum((d for d in euros if d < 0), t.under)), 2) + 0.0,
        "findings_by_code": dict(codes),
    }


def exceeds(audit: Audit, tolerance_eur: float, extra: list[dict] = ()) -> bool:
    """True when a finding is beyond the tolerance, or has no euro figure (blocked line...)."""
    t, diffs = audit.tally, [x.get("difference_eur") for x in extra]
    if t.no_euros or t.largest > tolerance_eur:
        return True
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


def write_xlsx_report(
    path: Path, audit: Audit, data: dict, findings: pl.DataFrame | None = None, total: int = 0
) -> None:
    """Summary sheet, invoice lines with discrepant cells highlighted, findings; atomically.

    ``findings``: the findings to show (default: the audit's), the first of ``total``; when
    some are left out (an xlsx sheet holds :data:`XLSX_ROWS` rows), the summary sheet says
    how many and the invoice lines are those of the findings shown.
    """
    import xlsxwriter

    findings = audit.findings if findings is None else findings
    findings = findings.head(XLSX_ROWS)
    left_out = max(total, findings.height) - findings.height
    lines = _lines_for_report(audit, findings)
    rows = finding_rows(findings)

    def write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp))
        fmt = {
            "bold": book.add_format({"bold": True}),
            "bad": book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
            "due": book.add_format({"italic": True, "font_color": "#375623"}),
            "blocked": book.add_format({"bg_color": "#D9D9D9"}),
        }
        _summary_sheet(book.add_worksheet("summary"), data, fmt, left_out)
        _lines_sheet(book.add_worksheet("invoice lines"), lines, findings, fmt)
        _findings_sheet(book.add_worksheet("findings"), rows, fmt)
        book.close()

    atomic_write(path, write)


def _lines_for_report(audit: Audit, findings: pl.DataFrame) -> pl.DataFrame:
    lines = audit.checked
    if audit.lines > XLSX_MAX_LINES:  # an xlsx sheet holds ~1M rows: keep the lines with findings
        lines = lines.join(findings.lazy().select(pl.col("row").cast(pl.UInt32)).unique(), on="row")
    keep = ["row", "invoice", "line", "contract", "term", "period", "quantity", "quantity_unit", "energy_basis",
            "coefficient", "unit_price", "amount_excl_vat", "vat_rate", "amount_incl_vat"]  # fmt: skip
    names = lines.collect_schema().names()
    index_columns = [c for c in names if c.startswith(("index:", "base_index:"))]
    return lines.select([c for c in keep if c in names] + index_columns).sort("row").collect()


def _summary_sheet(sheet, data: dict, fmt: dict, left_out: int = 0) -> None:
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
    if left_out:
        sheet.write(row + 1, 0, f"the findings sheet holds the first {XLSX_ROWS:,} findings (an xlsx "
                    f"sheet's limit); {left_out:,} more: write them all with --format csv or json",
                    fmt["bad"])  # fmt: skip


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
