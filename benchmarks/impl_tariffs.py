"""The three workloads through tariffs' own library entry points (what the CLI runs).

Each function reads its inputs (index store, portfolio table, invoice file) and
returns the result as a frame; reading is part of the timed work.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from benchmarks.generate import W1_AT, W2_FROM, W2_TO
from tariffs.portfolio import history, read_portfolio, revise
from tariffs.series import load_store

PRICES = ["contract", "term", "at", "coefficient", "price"]


def w1(portfolio: Path, indices: Path, **_) -> pl.DataFrame:
    """Revise every contract of the table at one month (``tariffs revise TABLE --at``)."""
    store = load_store(indices)
    result = revise(read_portfolio(portfolio, store.catalog), store, at=W1_AT)
    return result.frame.select(PRICES)


def w2(portfolio: Path, indices: Path, **_) -> pl.DataFrame:
    """Coefficient and price at every revision date of 240 months (``tariffs history``)."""
    store = load_store(indices)
    result = history(read_portfolio(portfolio, store.catalog), store, W2_FROM, W2_TO)
    return result.frame.select(PRICES)


def w3(portfolio: Path, indices: Path, invoices: Path, **_) -> pl.DataFrame:
    """Audit every invoice line (``tariffs audit INVOICES --contracts TABLE``)."""
    from tariffs.audit.checks import audit
    from tariffs.audit.invoices import read_invoices

    store = load_store(indices)
    result = audit(read_invoices(invoices), read_portfolio(portfolio, store.catalog), store)
    return result.findings.select("row", "code", "difference_eur")


def scan(portfolio: Path, invoices: Path | None = None, **_) -> pl.DataFrame:
    """The floor: read every column of the input (decoded), compute nothing."""
    path = invoices or portfolio
    counts = pl.scan_parquet(path).select(pl.all().null_count()).collect(engine="streaming")
    return counts.select(
        pl.lit(path.name).alias("file"), pl.sum_horizontal(pl.all()).alias("nulls")
    )
