"""French VAT rates as dated facts, and the rate a term's invoice line should carry.

The table ``vat_rates.csv`` (next to this module) lists each rate with its
category (``standard``, ``intermediate``, ``reduced``), the first and last day
it was in force and the law that set it. Nothing here is a constant: the rate
due on an invoice is the one in force on the first day of the billed month.

Notes
-----
Rules, in order:

1. The contract states the term's rate (``vat_rate``, possibly dated by
   ``since``): the rate stated for the billed month names a *category* (19.6 %
   is the standard rate as of the date it was stated); the rate due is that
   category's rate in force in the billed month. A contract signed at 19.6 %
   is billed at 20 % from 2014-01-01 (CGI art. 278; loi 2012-1510). A stated
   rate that is in no category is taken as written.
2. The contract states no rate: the billed rate must be in force (in some
   category) in the billed month; if it is not, the rate due is the current
   rate of the category the billed rate belonged to (19.6 % billed in 2015:
   20 % due).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import polars as pl

from tariffs.model import VatRate
from tariffs.periods import first_day

TABLE = Path(__file__).with_name("vat_rates.csv")


@dataclass(frozen=True)
class DatedRate:
    """One VAT rate [fraction, 0.2 = 20 %] of ``category`` in force from ``since`` to ``until``."""

    category: str
    rate: Decimal
    since: date
    until: date | None
    source: str

    def in_force(self, on: date) -> bool:
        return self.since <= on and (self.until is None or on <= self.until)


@lru_cache(maxsize=4)
def load_table(path: Path = TABLE) -> tuple[DatedRate, ...]:
    """Read the dated VAT table (small: a handful of rows)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return tuple(
            DatedRate(
                category=row["category"],
                rate=Decimal(row["rate"]),
                since=date.fromisoformat(row["since"]),
                until=date.fromisoformat(row["until"]) if row["until"] else None,
                source=row["source"],
            )
            for row in csv.DictReader(handle)
        )


def rates_in_force(on: date, table: tuple[DatedRate, ...] | None = None) -> dict[str, Decimal]:
    """``{category: rate}`` in force on ``on``."""
    return {r.category: r.rate for r in (table or load_table()) if r.in_force(on)}


def categories_of(rate: Decimal, on: date | None = None) -> list[str]:
    """Categories whose rate was ``rate`` (on ``on`` if given, else at any time)."""
    return [r.category for r in load_table() if r.rate == rate and (on is None or r.in_force(on))]


def contract_rate(rates: tuple[VatRate, ...], on: date) -> VatRate | None:
    """The rate the contract states for ``on``: the latest ``since`` on or before it."""
    dated = [r for r in rates if r.since is None or r.since <= on]
    if not dated:
        return None
    return max(dated, key=lambda r: r.since or date.min)


def rate_due(
    billed: Decimal | None, rates: tuple[VatRate, ...], on: date
) -> tuple[Decimal | None, str]:
    """The VAT rate due on ``on`` [fraction] and why (see the module Notes).

    Returns ``(None, reason)`` when nothing can be said (no billed rate and no
    contract rate).
    """
    now = rates_in_force(on)
    stated = contract_rate(rates, on)
    if stated is not None:
        when = stated.since or on
        cats = categories_of(stated.rate, when) or categories_of(stated.rate)
        if cats and cats[0] in now:
            due = now[cats[0]]
            why = f"contract rate {_pct(stated.rate)} ({cats[0]}); {cats[0]} rate on {on}: {_pct(due)}"
            return due, why
        return stated.rate, f"contract rate {_pct(stated.rate)}"
    if billed is None:
        return None, "no VAT rate billed and none in the contract"
    if billed in now.values():
        return billed, f"{_pct(billed)} in force on {on}"
    cats = categories_of(billed)
    if cats and cats[0] in now:
        due = now[cats[0]]
        return due, f"{_pct(billed)} not in force on {on}; {cats[0]} rate then: {_pct(due)}"
    return None, f"{_pct(billed)} is no French VAT rate in force on {on}"


def due_table(keys: pl.DataFrame, sets: dict[int, tuple[VatRate, ...]]) -> pl.DataFrame:
    """``keys`` (``_vat_set, month, vat_rate``) with the rate due (``vat_due``) and why (``vat_why``).

    ``sets`` maps ``_vat_set`` to the rates the contract states
    (:mod:`tariffs.audit.terms`). The keys are distinct and few (10,000
    contracts without ``vat_rate`` share one set): the loop runs per set ×
    month × billed rate, never per line.
    """
    due, why = [], []
    for vat_set, month, billed in keys.iter_rows():
        rate, reason = rate_due(
            None if billed is None else Decimal(repr(round(billed, 6))), sets.get(vat_set, ()),
            first_day(month),
        )  # fmt: skip
        due.append(None if rate is None else float(rate))
        why.append(reason)
    return keys.with_columns(
        pl.Series("vat_due", due, dtype=pl.Float64), pl.Series("vat_why", why, dtype=pl.String)
    )


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"
