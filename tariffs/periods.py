"""Months and quarters as integers, and their text forms.

A month is stored as its *month index* ``year * 12 + (month - 1)`` and a quarter
as its *quarter index* ``year * 4 + (quarter - 1)``, so lags and windows are
plain integer arithmetic, in Python and in polars alike.

Text forms: ``YYYY-MM`` (month), ``YYYY-Qn`` (quarter, our store), ``YYYY-Tn``
(quarter as INSEE writes it, *trimestre*; accepted on input).
"""

from __future__ import annotations

import re
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[QT]([1-4])$")


def parse_month(text: str) -> int:
    """``"2003-07"`` -> month index. Raises ValueError with the text found."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month YYYY-MM, got {text!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def parse_quarter(text: str) -> int:
    """``"2003-Q3"`` or ``"2003-T3"`` -> quarter index."""
    m = _QUARTER.match(str(text).strip())
    if not m:
        raise ValueError(f"expected a quarter YYYY-Qn, got {text!r}")
    return int(m.group(1)) * 4 + int(m.group(2)) - 1


def is_quarter(text: str) -> bool:
    return bool(_QUARTER.match(str(text).strip()))


def parse_period(text: str) -> tuple[str, int]:
    """A month or a quarter -> ``("monthly", month_index)`` or ``("quarterly", quarter_index)``."""
    text = str(text).strip()
    if _MONTH.match(text):
        return "monthly", parse_month(text)
    if _QUARTER.match(text):
        return "quarterly", parse_quarter(text)
    raise ValueError(f"expected a period YYYY-MM or YYYY-Qn, got {text!r}")


def format_month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def format_quarter(index: int) -> str:
    return f"{index // 4:04d}-Q{index % 4 + 1}"


def month_of_date(d: date) -> int:
    return d.year * 12 + d.month - 1


def first_day(month_index: int) -> date:
    return date(month_index // 12, month_index % 12 + 1, 1)


def quarter_of_month(month_index: int) -> int:
    return month_index // 3


def months_of_period(text: str) -> list[int]:
    """The month indices a period covers: one for a month, three for a quarter."""
    freq, idx = parse_period(text)
    if freq == "monthly":
        return [idx]
    return [idx * 3, idx * 3 + 1, idx * 3 + 2]


def normalise_period(text: str) -> str:
    """``2003-T3`` -> ``2003-Q3``; months unchanged. Raises ValueError if neither."""
    freq, idx = parse_period(text)
    return format_month(idx) if freq == "monthly" else format_quarter(idx)
