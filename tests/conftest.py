"""Shared test helpers: in-memory index stores and contracts built from model objects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from tariffs.model import Component, Contract, IndexRef, Revision, Term
from tariffs.series import IndexStore, SeriesInfo
from tariffs.series.store import VALUES_SCHEMA


def memory_store(
    series: dict[str, list[tuple]],
    frequency: dict[str, str] | None = None,
    declared: tuple[str, ...] = (),
) -> IndexStore:
    """An IndexStore from ``{id: [(period, value[, status[, published]]), ...]}``."""
    frequency = frequency or {}
    catalog = {
        sid: SeriesInfo(id=sid, title=f"test series {sid}", publisher="test",
                        frequency=frequency.get(sid, "monthly"), file=f"{sid}.csv")
        for sid in series
    }  # fmt: skip
    for sid in declared:
        catalog[sid] = SeriesInfo(
            id=sid, title=f"declared {sid}", publisher="test", frequency="monthly"
        )
    rows = []
    for sid, points in series.items():
        for p in points:
            period, value, status, published = (*p, "definitive", None)[:4] if len(p) == 2 else (
                (*p, None)[:4] if len(p) == 3 else p)  # fmt: skip
            rows.append({"series": sid, "period": period, "value": float(value), "status": status,
                         "published": published})  # fmt: skip
    values = pl.DataFrame(rows, schema=VALUES_SCHEMA)
    return IndexStore(root=Path("."), catalog=catalog, values=values)


def plain_contract(cid: str, base_price, fixed, indices: list[tuple], *, base_period="2020-01",
                   start=date(2020, 1, 1), frequency="yearly", rule="lag", lag=0, window=1,
                   kdec=None, pdec=None, rounding="half-up", cap=None, floor=None,
                   safeguard=None) -> Contract:  # fmt: skip
    """A one-term contract (P1) from plain numbers; ``indices`` = [(series, weight[, base_value])]."""
    refs = tuple(
        IndexRef(s, Decimal(str(w)), Decimal(str(b[0])) if b else None) for s, w, *b in indices
    )
    comp = Component(None, Decimal(1), Decimal(str(base_price)), Decimal(str(fixed)), refs)
    term = Term(code="P1", label="", unit="EUR/MWh", energy_basis="useful", base_period=base_period,
                components=(comp,))  # fmt: skip
    rev = Revision(frequency=frequency, month=start.month, index_rule=rule, lag_months=lag,
                   window_months=window, coefficient_decimals=kdec, price_decimals=pdec,
                   rounding=rounding, cap=_d(cap), floor=_d(floor), safeguard=_d(safeguard))  # fmt: skip
    return Contract(id=cid, title=cid, start=start, revision=rev, terms=(term,))


def _d(value):
    return None if value is None else Decimal(str(value))
