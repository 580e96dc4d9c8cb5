"""Simple two-column files: ``period;value`` (CNR), ``DATE,SERIES`` (FRED), transcriptions.

* CNR: ``Date;Indice CNR gazole professionnel`` then ``2022-01;190.06``.
* FRED: ``DATE,MCOILBRENTEU`` then ``1987-05-01,18.58`` (monthly series are dated
  on the first of the month; a daily series is refused).
* Hand transcriptions ``period,value,base,source``: one series per distinct
  ``base`` text (a file may hold an old and a new base side by side).

Notes
-----
Every value is definitive (these files carry no status). A hand-made
``period;value`` file (``;`` separator) whose every value is ``123`` or ``123,45``
is read with decimal commas, with a warning (French Excel); any other comma in a
value is refused, and INSEE BDM files never accept one (a re-saved file). The first header cell
names the period column, the second the series (its title, and for FRED its id).
"""

from __future__ import annotations

import re

from tariffs.series.readers.common import Collector, ImportedSeries, Row, build_frame
from tariffs.series.readers.insee_csv import sniff_delimiter, split_rows

_DAY = re.compile(r"^(\d{4}-\d{2})-(\d{2})$")
_FRENCH = re.compile(r"^\d+(,\d+)?$")
PERIOD_NAMES = ("date", "period", "periode", "période", "mois", "month", "trimestre")


def looks_simple(rows: list[tuple[int, list[str]]]) -> bool:
    return bool(rows) and rows[0][1][0].strip().lower() in PERIOD_NAMES and len(rows[0][1]) >= 2


def read_simple(text: str, col: Collector) -> list[ImportedSeries]:
    rows = split_rows(text, col)
    header = [c.strip() for c in rows[0][1]]
    if len(rows) < 2:
        raise col.fail("a header but no data line: truncated file?", rows[0][0])
    names = [h.lower() for h in header]
    if "base" in names:
        return _transcribed(rows, names, col)
    fred = header[0] == "DATE" and re.fullmatch(r"[A-Z0-9]+", header[1]) is not None
    comma = not fred and _decimal_commas(rows[1:], sniff_delimiter(text), col)
    out: list[Row] = []
    for line, cells in rows[1:]:
        if len(cells) < 2:
            col.error(f"expected {len(header)} fields, got {len(cells)} (truncated line?)", line)
            continue
        value = cells[1].strip().replace(",", ".") if comma else cells[1]
        out.append(Row(line, _month(cells[0], col, line), value))
    frame, freq = build_frame(out, col, header[1])
    return [
        ImportedSeries(
            path=col.path, source_id=header[1] if fred else None, title=header[1],
            frequency=freq or "monthly", frame=frame,
            publisher="FRED" if fred else ("CNR" if "CNR" in header[1] else "unknown"),
            layout="fred" if fred else "period;value",
        )
    ]  # fmt: skip


def _decimal_commas(rows: list[tuple[int, list[str]]], delimiter: str, col: Collector) -> bool:
    """True (with a warning) when a ``;`` file writes every value as ``123`` or ``123,45``.

    A hand-made copy from French Excel; unambiguous because the separator is not
    a comma and no value has a point or a thousands group.
    """
    values = [cells[1].strip() for _, cells in rows if len(cells) >= 2]
    if delimiter != ";" or not values or not all(_FRENCH.match(v) for v in values):
        return False
    if not any("," in v for v in values):
        return False
    col.warn(
        "decimal commas read as decimal points (every value is written 123,45; French spreadsheet copy)"
    )
    return True


def _month(text: str, col: Collector, line: int) -> str:
    """``1987-05-01`` -> ``1987-05``; another day of the month means daily data (refused)."""
    m = _DAY.match(text.strip())
    if not m:
        return text
    if m.group(2) != "01":
        col.error(
            f"daily date {text.strip()!r}: only monthly or quarterly series can be imported "
            "(download the monthly series instead)",
            line,
        )
    return m.group(1)


def _transcribed(
    rows: list[tuple[int, list[str]]], names: list[str], col: Collector
) -> list[ImportedSeries]:
    i_base = names.index("base")
    i_source = names.index("source") if "source" in names else None
    by_base: dict[str, list[Row]] = {}
    sources: dict[str, list[str]] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(names):
            col.error(f"expected {len(names)} fields, got {len(cells)} (truncated line?)", line)
            continue
        base = cells[i_base].strip()
        by_base.setdefault(base, []).append(Row(line, cells[0], cells[1]))
        if i_source is not None and cells[i_source] not in sources.setdefault(base, []):
            sources[base].append(cells[i_source])
    result = []
    for base, group in by_base.items():
        own = Collector(col.path)
        frame, freq = build_frame(group, own, base)
        series = ImportedSeries(
            path=col.path, source_id=None, title=base, frequency=freq or "monthly", frame=frame,
            publisher="transcription", base=base, layout="transcription",
            sources=sources.get(base, []), problems=own.problems,
        )  # fmt: skip
        result.append(series)
    return result
