"""INSEE BDM CSV downloads (``valeurs_mensuelles.csv``, ``valeurs_trimestrielles.csv``).

Two layouts, both read here:

* **rows** (one line per period): header lines ``Libellé``, ``idBank``, optional
  ``Dernière mise à jour`` (or ``Mises à jour``), ``Période``; then
  ``period;value;code[;JO date]`` lines, newest or oldest first. Several series may
  stand side by side (value, Codes, value, Codes ...).
* **transposed** (one line per series): header ``Libellé;idBank;Dernière mise à
  jour;Période;1990-01;...``; each series line is followed by a ``Codes`` line and
  sometimes a ``Date de parution au JO`` line.

Notes
-----
Separator ``;`` (``,`` accepted), UTF-8, decimal point. A copy re-saved by a
spreadsheet (CRLF, no quotes, idBank without its leading zero, no Codes column)
is read with warnings saying what was lost; decimal commas are refused.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field

from tariffs.series.readers.common import (
    Collector,
    ImportedSeries,
    Row,
    base_of,
    build_frame,
    date_of,
    normalise_idbank,
)

_PERIOD = re.compile(r"^\d{4}-(\d{2}|[TQ][1-4])$")


def _fold(text: str) -> str:
    """Lower-case, accents and stray BOMs removed: header names compared loosely."""
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", "")).strip().lower()
    return "".join(c for c in text if not unicodedata.combining(c))


def is_period(text: str) -> bool:
    return bool(_PERIOD.match(text.strip()))


def split_rows(text: str, col: Collector) -> list[tuple[int, list[str]]]:
    """CSV lines as (line number, cells); blank lines dropped; quoting errors located."""
    delimiter = sniff_delimiter(text)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(text.splitlines(), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise col.fail(
            f"malformed CSV ({exc}): truncated or damaged file?", reader.line_num
        ) from exc
    return rows


def sniff_delimiter(text: str) -> str:
    """``;`` (INSEE), ``,`` or tab: the one that splits most of the first lines."""
    head = [line for line in text.splitlines()[:8] if line.strip()]

    def score(d: str) -> int:
        try:
            return sum(len(cells) > 1 for cells in csv.reader(head, delimiter=d))
        except csv.Error:
            return 0

    return max((";", ",", "\t"), key=score)


def looks_like_insee(rows: list[tuple[int, list[str]]]) -> bool:
    return bool(rows) and _fold(rows[0][1][0]) in ("libelle", "idbank")


def read_insee_csv(text: str, col: Collector) -> list[ImportedSeries]:
    rows = split_rows(text, col)
    header = rows[0][1]
    if _fold(header[0]) == "idbank" and not any(is_period(c) for c in header):
        raise col.fail(
            "this is the 'caractéristiques' file of an INSEE download (series metadata, no "
            "values); import valeurs_mensuelles.csv or valeurs_trimestrielles.csv instead",
            rows[0][0],
        )
    if any(is_period(c) for c in header[1:]):
        return _transposed(rows, col)
    return _by_rows(rows, col)


@dataclass
class _Group:
    value_col: int
    title: str = ""
    source_id: str | None = None
    code_col: int | None = None
    jo_col: int | None = None
    rows: list[Row] = field(default_factory=list)


def _by_rows(rows: list[tuple[int, list[str]]], col: Collector) -> list[ImportedSeries]:
    headers: dict[str, tuple[int, list[str]]] = {}
    start = 0
    for start, (line, cells) in enumerate(rows):  # noqa: B007
        if is_period(cells[0]):
            break
        name = _fold(cells[0])
        key = next((k for k in ("libelle", "idbank", "mise", "periode") if k in name), None)
        if key is None:
            raise col.fail(
                f"unexpected header line {cells[0]!r} (expected Libellé, idBank, Dernière mise à jour, Période)",
                line,
            )
        headers[key] = (line, cells)
    else:
        raise col.fail("no data line (period;value): truncated file?")
    labels = headers.get("libelle", (0, []))[1]
    width = max(len(c) for _, c in rows[start:])
    groups = _groups(
        labels, headers.get("idbank", (0, []))[1], headers.get("periode", (0, []))[1], width, col
    )
    if not groups:
        raise col.fail("no value column found in the header", rows[0][0])
    needed = (
        max(c for g in groups for c in (g.value_col, g.code_col, g.jo_col) if c is not None) + 1
    )
    for line, cells in rows[start:]:
        if not is_period(cells[0]):
            col.error(
                f"expected a period YYYY-MM or YYYY-Tn in the first column, got {cells[0]!r}", line
            )
            continue
        if len(cells) < needed:
            col.error(f"expected {needed} fields, got {len(cells)} (truncated line?)", line)
            continue
        for g in groups:
            g.rows.append(
                Row(
                    line,
                    cells[0],
                    cells[g.value_col],
                    _cell(cells, g.code_col),
                    _cell(cells, g.jo_col),
                )
            )
    update = (
        date_of(headers["mise"][1][1])
        if "mise" in headers and len(headers["mise"][1]) > 1
        else None
    )
    if groups and all(g.code_col is None for g in groups):
        col.warn(
            "no Codes column (file re-saved by a spreadsheet?): statuses unknown, every value read as definitive"
        )
    return [_series(g, col, update, "rows") for g in groups]


def _cell(cells: list[str], index: int | None) -> str | None:
    return cells[index] if index is not None and index < len(cells) else None


def _groups(
    labels: list[str], ids: list[str], periods: list[str], width: int, col: Collector
) -> list[_Group]:
    """Column groups (value, Codes, JO date) from the header lines."""
    groups: list[_Group] = []
    for j in range(1, width):
        label = labels[j].strip() if j < len(labels) else ""
        marker = _fold(periods[j]) if j < len(periods) else ""
        if marker.startswith("date de parution") and groups:
            groups[-1].jo_col = j
        elif _fold(label) == "codes" and groups:
            groups[-1].code_col = j
        elif label or (j < len(ids) and ids[j].strip()):
            source_id = (
                normalise_idbank(ids[j], col, None) if j < len(ids) and ids[j].strip() else None
            )
            groups.append(_Group(j, label, source_id))
    return groups


def _series(g: _Group, col: Collector, update, layout: str) -> ImportedSeries:
    what = g.source_id or g.title or f"column {g.value_col + 1}"
    own = Collector(col.path)
    frame, freq = build_frame(g.rows, own, what)
    return ImportedSeries(
        path=col.path, source_id=g.source_id, title=g.title.strip() or what, frequency=freq or "monthly",
        frame=frame, last_update=update, base=base_of(g.title), stopped="arrêtée" in g.title.lower(),
        layout=layout, problems=own.problems,
    )  # fmt: skip


def _transposed(rows: list[tuple[int, list[str]]], col: Collector) -> list[ImportedSeries]:
    line0, header = rows[0]
    names = [_fold(c) for c in header]
    first = next(j for j, c in enumerate(header) if j > 0 and is_period(c))
    id_col = next((j for j, n in enumerate(names[:first]) if n == "idbank"), None)
    upd_col = next((j for j, n in enumerate(names[:first]) if "mise" in n), None)
    periods = header[first:]
    series: list[tuple[_Group, object]] = []
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            col.error(
                f"expected {len(header)} fields like the header, got {len(cells)} (truncated file?)",
                line,
            )
            continue
        kind = _fold(cells[0])
        if kind == "codes" or _fold(cells[first - 1]).startswith("date de parution"):
            if not series:
                col.error("a Codes or JO line before any series line", line)
                continue
            g = series[-1][0]
            for row, cell in zip(g.rows, cells[first:], strict=True):
                if kind == "codes":
                    row.code = cell
                else:
                    row.published = cell
            continue
        source_id = normalise_idbank(cells[id_col], col, line) if id_col is not None else None
        g = _Group(0, cells[0], source_id or None)
        g.rows = [Row(line, p, v, key=p) for p, v in zip(periods, cells[first:], strict=True)]
        series.append((g, date_of(cells[upd_col]) if upd_col is not None else None))
    col.raise_if_errors()
    if not series:
        raise col.fail("no series line after the header: truncated file?", line0)
    return [_series(g, col, update, "transposed") for g, update in series]
