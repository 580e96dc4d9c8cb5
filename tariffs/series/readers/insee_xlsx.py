"""INSEE BDM xlsx exports (workbook with sheets ``valeurs_mensuelles``, ``caractéristiques``...).

The sheet ``valeurs_mensuelles`` (or ``valeurs_trimestrielles``) has the
transposed layout of the CSV download (``Libellé | idBank | Dernière mise à jour
| Période | 1990-01 | ...``), with ``(O)`` for a missing value and no Codes rows.
Cells are turned into text and read by :mod:`.insee_csv`, so both formats obey
the same checks; line numbers are the sheet's row numbers.

Notes
-----
The xlsx export carries no status codes: every value is read as definitive,
with a warning.
"""

from __future__ import annotations

import warnings
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from tariffs.series.readers.common import Collector, ImportedSeries
from tariffs.series.readers.insee_csv import _by_rows, _transposed, is_period

SHEETS = ("valeurs_mensuelles", "valeurs_trimestrielles")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def read_insee_xlsx(source: Path | BinaryIO, col: Collector) -> list[ImportedSeries]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise col.fail(f"not a readable xlsx workbook ({exc}): truncated or damaged file?") from exc
    try:
        name = next((s for s in SHEETS if s in book.sheetnames), None)
        if name is None:
            raise col.fail(
                f"no sheet {' or '.join(SHEETS)} in this workbook (sheets: {', '.join(book.sheetnames)})"
            )
        rows = []
        for number, values in enumerate(book[name].iter_rows(values_only=True), start=1):
            cells = [_text(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                rows.append((number, cells))
    finally:
        book.close()
    if not rows:
        raise col.fail(f"sheet {name} is empty")
    width = max(len(c) for _, c in rows)
    rows = [(n, c + [""] * (width - len(c))) for n, c in rows]
    col.path = f"{col.path}[{name}]"
    if any(is_period(c) for c in rows[0][1][1:]):
        series = _transposed(rows, col)
    else:
        series = _by_rows(rows, col)
    col.warn("the xlsx export carries no status codes: every value read as definitive")
    for s in series:
        s.layout = "xlsx"
    return series
