"""What every reader shares: the result dataclass, text decoding, INSEE codes, numbers, dates.

Readers turn a publisher file into :class:`ImportedSeries` objects (metadata +
a polars frame ``period, value, status, published``) and never touch the store.
Problems are collected in a :class:`Collector` with file and line, so a file
with several faults reports them all at once.

Notes
-----
INSEE status codes (sheet ``codes`` of a BDM download): A valeur normale,
P provisoire, R révision, SD semi-définitive, E estimation, F prévision,
O manquante, Q secret statistique, N non significative, U atypique.
Mapped here: A -> definitive, P -> provisional, R -> revised,
SD -> provisional (semi-definitive: still revisable), E and F -> estimated,
U -> definitive (an atypical but published value, with a warning);
O, Q and N carry no value and the period is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from tariffs.errors import ImportFormatError, Problem
from tariffs.periods import normalise_period

FRAME_SCHEMA = {"period": pl.String, "value": pl.Float64, "status": pl.String, "published": pl.Date}

STATUS_CODES = {
    "A": "definitive",
    "P": "provisional",
    "R": "revised",
    "SD": "provisional",
    "E": "estimated",
    "F": "estimated",
    "U": "definitive",
}
MISSING_CODES = {"O", "Q", "N"}
WARN_CODES = {
    "F": "code F (forecast) read as estimated",
    "U": "code U (atypical value) read as definitive",
}

_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[-+]?\d+,\d+$")
_DATE_FR = re.compile(r"^(\d{2})/(\d{2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_BASE = re.compile(r"[Bb]ase\s+(?:100\s+en\s+)?(\d{4})")


@dataclass
class ImportedSeries:
    """One series read from a publisher file.

    ``frame`` has columns period (``YYYY-MM`` or ``YYYY-Qn``), value [index
    points or the file's unit], status (definitive|provisional|revised|estimated)
    and published (the row's publication date when the file gives one, else null).
    ``problems`` are this series' own errors and warnings: a multi-series file
    fails only when a *selected* series has errors.
    """

    path: str
    source_id: str | None
    title: str
    frequency: str
    frame: pl.DataFrame
    publisher: str = "INSEE"
    last_update: date | None = None
    base: str | None = None
    unit: str | None = None
    stopped: bool = False
    layout: str = ""
    sources: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source_id or self.title


class Collector:
    """Problems of one file, with its path; ``raise_if_errors`` raises them together."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        self.problems: list[Problem] = []

    def error(self, message: str, line: int | None = None, key: str = "") -> None:
        self.problems.append(Problem(self.path, key, message, line))

    def warn(self, message: str, line: int | None = None, key: str = "") -> None:
        self.problems.append(Problem(self.path, key, message, line, severity="warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ImportFormatError(problems=capped(self.errors))

    def fail(self, message: str, line: int | None = None) -> ImportFormatError:
        self.error(message, line)
        return ImportFormatError(problems=capped(self.errors))


MAX_PROBLEMS = 50


def capped(problems: list[Problem], limit: int = MAX_PROBLEMS) -> list[Problem]:
    """The first ``limit`` problems, then one line "... and N more errors" (N counted)."""
    if len(problems) <= limit:
        return list(problems)
    rest = len(problems) - limit
    more = Problem(problems[limit].path, "", f"... and {rest} more error{'s' if rest > 1 else ''}")
    return [*problems[:limit], more]


def decode_text(data: bytes, col: Collector) -> str:
    """UTF-8 text of a file (BOM removed); a clear error for Latin-1, HTML or empty files."""
    if not data.strip():
        raise col.fail("empty file: no header and no values")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise col.fail(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}): the file looks like Latin-1 / "
            "Windows-1252, as re-saved by a spreadsheet; download it again from the publisher "
            "or convert it with `iconv -f latin1 -t utf-8`",
            line,
        ) from exc
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or "<html" in head:
        raise col.fail(
            "an HTML page, not a data file (an error or login page saved under a data file name?); "
            "download the file again"
        )
    return text


def status_of(code: str, col: Collector, line: int | None, key: str = "") -> str | None:
    """INSEE code -> our status; None for a missing value (O, Q, N). Unknown codes are errors."""
    code = code.strip().upper()
    if code in MISSING_CODES:
        return None
    if code not in STATUS_CODES:
        col.error(
            f"unknown status code {code!r}; expected one of A, P, R, SD, E, F, U, O", line, key
        )
        return None
    if code in WARN_CODES:
        col.warn(WARN_CODES[code], line, key)
    return STATUS_CODES[code]


def number_of(text: str, col: Collector, line: int | None, key: str = "") -> float | None:
    """A value written with a decimal point; decimal commas and words are errors naming the line."""
    text = text.strip().replace("\u00a0", "")
    if _NUMBER.match(text):
        return float(text)
    if _COMMA_NUMBER.match(text):
        col.error(
            f"decimal comma in {text!r}: expected a decimal point (file re-saved with French "
            "number settings?); download the publisher's file again",
            line,
            key,
        )
    else:
        col.error(f"expected a number, got {text!r}", line, key)
    return None


def date_of(text: str) -> date | None:
    """``12/12/2025 08:45`` or ``2025-12-12`` -> date; None when not a date."""
    text = str(text).strip()
    m = _DATE_FR.match(text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _DATE_ISO.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


def period_of(text: str, col: Collector, line: int | None, key: str = "") -> tuple[str, str] | None:
    """``2024-01`` / ``2024-T1`` / ``2024-Q1`` -> (normalised period, frequency)."""
    try:
        period = normalise_period(text)
    except ValueError:
        col.error(f"expected a period YYYY-MM or YYYY-Tn, got {text.strip()!r}", line, key)
        return None
    return period, ("quarterly" if "-Q" in period else "monthly")


def base_of(title: str) -> str | None:
    """``... - Base 2015 - ...`` or ``(base 100 en 2010)`` -> ``"2015=100"``."""
    m = _BASE.search(title or "")
    return f"{m.group(1)}=100" if m else None


def normalise_idbank(text: str, col: Collector, line: int | None) -> str:
    """INSEE idBanks have 9 digits; a spreadsheet drops the leading zeros (warned)."""
    text = text.strip()
    if text.isdigit() and len(text) < 9:
        fixed = text.zfill(9)
        col.warn(
            f"idBank {text} has {len(text)} digits: read as {fixed} (leading zero lost when the "
            "file was re-saved by a spreadsheet)",
            line,
        )
        return fixed
    return text


@dataclass
class Row:
    """One observation as read, before checks: period text, value text, code, JO date text."""

    line: int | None
    period: str
    value: str
    code: str | None = None
    published: str | None = None
    key: str = ""


def build_frame(rows: list[Row], col: Collector, what: str) -> tuple[pl.DataFrame, str | None]:
    """Check observations and build the frame; duplicates with different values are errors.

    Returns the frame (sorted by period) and its frequency. Missing values
    (empty, ``(O)``, codes O/Q/N) are skipped.
    """
    seen: dict[str, tuple[float, str, date | None, int | None]] = {}
    freqs: set[str] = set()
    for row in rows:
        value_text = row.value.strip()
        code = (row.code or "").strip()
        if value_text in ("", "(O)", "(o)", "O") or code.upper() in MISSING_CODES:
            continue
        parsed = period_of(row.period, col, row.line, row.key)
        value = number_of(value_text, col, row.line, row.key)
        status = status_of(code, col, row.line, row.key) if code else "definitive"
        published = None
        if row.published and row.published.strip():
            published = date_of(row.published)
            if published is None:
                col.error(
                    f"expected a publication date DD/MM/YYYY, got {row.published!r}",
                    row.line,
                    row.key,
                )
        if parsed is None or value is None or status is None:
            continue
        period, freq = parsed
        freqs.add(freq)
        if value <= 0:
            col.error(f"{what}: value {value_text} for {period} is not positive", row.line, row.key)
            continue
        if period in seen:
            old = seen[period]
            where = f"line {old[3]}" if old[3] else "earlier"
            if old[0] != value or old[1] != status:
                col.error(
                    f"{what}: period {period} appears twice with different values "
                    f"({old[0]!r} {old[1]} at {where}, {value!r} {status} here)",
                    row.line,
                    row.key,
                )
            else:
                col.warn(
                    f"{what}: period {period} repeated with the same value; kept once", row.line
                )
            continue
        seen[period] = (value, status, published, row.line)
    if len(freqs) > 1:
        col.error(f"{what}: mixes monthly and quarterly periods")
    frame = pl.DataFrame(
        {
            "period": list(seen),
            "value": [v[0] for v in seen.values()],
            "status": [v[1] for v in seen.values()],
            "published": [v[2] for v in seen.values()],
        },
        schema=FRAME_SCHEMA,
    ).sort("period")
    return frame, (freqs.pop() if len(freqs) == 1 else None)
