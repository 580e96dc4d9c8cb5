"""A synthetic but realistic portfolio and invoice lines, seeded and reproducible.

Contracts are synthetic (they stand for a landlord's tens of thousands of
contracts); every index VALUE comes from the bundled genuine series of
``indices/`` (never invented). Shapes follow the example contracts of
``contracts/``: yearly revision in July, index of month m-3, K to 4 decimals,
price to the cent, half-up, a fixed share a of 0.10-0.25; variants exercise the
other schedules and rules (quarterly 15 %, monthly 5 %; a 12-month mean 15 %).

Notes
-----
- Terms: P1 (EUR/MWh, useful), P2 and P3 (EUR/dwelling/year), each a formula
  of 3 to 5 distinct series drawn from :data:`SERIES` (monthly, genuine, known
  from 1990-01 to 2022-05), weights summing to 1 - a (2 decimals).
- Starts from 1996-01 to 2021-12; base period = start month - lag; 20 % of
  the index rows write the base value I0 (the series value, as published).
- Invoice lines: (contract, term, month) drawn uniformly in each contract's
  span within the history window, priced by tariffs (the price in force that
  month), VAT at the standard rate in force (tariffs/audit/vat_rates.csv).
  Seeded errors: 0.5 % wrong unit price (+1..5 %), 0.2 % amount slips,
  0.2 % wrong amount incl. VAT, 0.05 % duplicated lines, 0.05 % unknown contract.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

from tariffs.periods import parse_month
from tariffs.series import IndexStore, load_store

SERIES = ("FOD", "GAS", "HEAT", "IPC", "IPC-HT", "BRENT-EUR", "BRENT-USD", "FOD-ROTTERDAM",
          "WOOD-SAWN-SOFTWOOD", "ENERGY-PETROLEUM")  # fmt: skip
TERMS = (("P1", "EUR/MWh", "useful", 11.0, 30.0), ("P2", "EUR/dwelling/year", None, 40.0, 200.0),
         ("P3", "EUR/dwelling/year", None, 20.0, 120.0))  # fmt: skip
FIRST_START, LAST_START = parse_month("1996-01"), parse_month("2021-12")
W1_AT = parse_month("2022-01")
W2_FROM, W2_TO = parse_month("2002-01"), parse_month("2021-12")  # 240 months
DATA = Path(__file__).parent / "data"


def portfolio(n: int, store: IndexStore, seed: int = 1) -> pl.DataFrame:
    """``n`` contracts × 3 terms × 3-5 indices, as a portfolio table (one row per index)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{seed}-{i:07d}" for i in range(n)])
    start = rng.integers(FIRST_START, LAST_START + 1, n)
    kind = rng.random(n)
    frequency = np.where(kind < 0.80, "yearly", np.where(kind < 0.95, "quarterly", "monthly"))
    rule = np.where(rng.random(n) < 0.15, "mean", "lag")
    month = np.where(frequency == "yearly", 7, (start % 12) + 1)
    start = np.where(
        frequency == "yearly", start - (start % 12) + 6, start
    )  # yearly: start in July
    lag = np.where(rule == "mean", 1, 3)
    ended = rng.random(n) < 0.3
    end = np.where(ended, start + 12 * rng.integers(5, 21, n) - 1, -1)
    contracts = pl.DataFrame({
        "contract": ids, "start": _day(start), "end": _day(end), "ended": ended,
        "frequency": frequency, "month": month, "index_rule": rule, "lag_months": lag,
        "base_month": start - lag,
    }).with_columns(
        pl.when(pl.col("ended")).then(pl.col("end")).alias("end"),
        pl.when(pl.col("index_rule") == "mean").then(12).alias("window_months"),
    ).drop("ended")  # fmt: skip
    terms = pl.concat([_terms(contracts, code, unit, basis, lo, hi, rng)
                       for code, unit, basis, lo, hi in TERMS])  # fmt: skip
    rows = _indices(terms, rng)
    values = store.resolved().select("series", pl.col("key").alias("base_month"), "value")
    given = pl.Series(rng.random(rows.height) < 0.2)
    rows = rows.join(values, on=["series", "base_month"], how="left", maintain_order="left")
    rows = rows.with_columns(pl.when(given).then(pl.col("value")).alias("base_value"))
    return rows.select(
        "contract", "start", "end", "frequency", "month", "index_rule", "lag_months",
        "window_months", pl.lit(4).alias("coefficient_decimals"), pl.lit(2).alias("price_decimals"),
        pl.lit("half-up").alias("rounding"), "term", "unit", "energy_basis",
        _period(pl.col("base_month")).alias("base_period"), "base_price", "fixed", "series", "weight",
        "base_value",
    ).sort("contract", "term", maintain_order=True)  # fmt: skip


def _terms(contracts, code, unit, basis, lo, hi, rng) -> pl.DataFrame:
    n = contracts.height
    return contracts.with_columns(
        pl.lit(code).alias("term"), pl.lit(unit).alias("unit"), pl.lit(basis, pl.String).alias("energy_basis"),
        pl.Series(np.round(rng.uniform(lo, hi, n), 2)).alias("base_price"),
        pl.Series(rng.choice([0.10, 0.15, 0.20, 0.25], n)).alias("fixed"),
        pl.Series(rng.integers(3, 6, n)).alias("k"),
    )  # fmt: skip


def _indices(terms: pl.DataFrame, rng) -> pl.DataFrame:
    """One row per index: distinct series, weights in cents summing exactly to 1 - fixed."""
    n, pool = terms.height, np.array(SERIES)
    order = np.argsort(rng.random((n, len(pool))), axis=1)[:, :5]
    raw = rng.dirichlet(np.ones(5), n)
    k = terms["k"].to_numpy()
    raw = np.where(np.arange(5) < k[:, None], raw, 0.0)
    raw /= raw.sum(axis=1, keepdims=True)
    cents = np.round(100 * (1 - terms["fixed"].to_numpy()))
    weights = np.maximum(np.floor(raw * cents[:, None]), np.where(np.arange(5) < k[:, None], 1, 0))
    last = np.clip(k - 1, 0, 4)
    weights[np.arange(n), last] += cents - weights.sum(axis=1)
    frame = terms.with_columns(
        pl.Series("series", pool[order].tolist()), pl.Series("weight", (weights / 100).tolist())
    ).with_row_index("_t")
    return (
        frame.explode("series", "weight").with_columns(pl.int_range(pl.len()).over("_t").alias("_i"))
        .filter(pl.col("_i") < pl.col("k")).drop("_t", "_i", "k")
    )  # fmt: skip


def _day(month: np.ndarray) -> list[str]:
    return [f"{m // 12:04d}-{m % 12 + 1:02d}-01" for m in month.tolist()]


def _period(month: pl.Expr) -> pl.Expr:
    year = (month // 12).cast(pl.String)
    return pl.format("{}-{}", year, (month % 12 + 1).cast(pl.String).str.zfill(2))


# --------------------------------------------------------------------------- invoices


def invoices(lines: int, table_path: Path, store: IndexStore, seed: int = 1) -> pl.DataFrame:
    """``lines`` invoice lines of the contracts of ``table_path``, with seeded errors."""
    from tariffs.portfolio import history, read_portfolio

    rng = np.random.default_rng(seed + 1000)
    formulas = read_portfolio(table_path, store.catalog).formulas
    prices = history(formulas, store, 0, W2_TO).frame.select("contract", "term", "at", "price")
    span = formulas.params.select(
        "contract", pl.max_horizontal("start_month", pl.lit(W2_FROM)).alias("lo"),
        pl.min_horizontal(pl.col("end_month").fill_null(W2_TO), pl.lit(W2_TO)).alias("hi"),
    ).filter(pl.col("hi") >= pl.col("lo"))  # fmt: skip
    pick = rng.integers(0, span.height, lines)
    frame = (
        span[pick]
        .with_columns(
            pl.Series("term", rng.choice(["P1", "P2", "P3"], lines)),
            pl.Series("u", rng.random(lines)),
        )
        .with_columns(
            (pl.col("lo") + (pl.col("u") * (pl.col("hi") - pl.col("lo") + 1)).floor())
            .cast(pl.Int64)
            .alias("month")
        )
    )
    frame = frame.sort("contract", "term", "month").join_asof(
        prices.sort("contract", "term", "at"), left_on="month", right_on="at", by=["contract", "term"],
        check_sortedness=False,
    )  # fmt: skip
    return _billed(frame.with_row_index("n"), rng)


def _billed(frame: pl.DataFrame, rng) -> pl.DataFrame:
    n = frame.height
    r = rng.random((5, n))
    q = np.where(frame["term"].to_numpy() == "P1", np.round(rng.uniform(5, 500, n), 3),
                 np.round(rng.uniform(10, 400, n) / 12, 3))  # fmt: skip
    vat = np.where(frame["month"].to_numpy() >= parse_month("2014-01"), 0.2, 0.196)
    price = np.where(r[0] < 0.005, np.round(frame["price"].to_numpy() * (1 + rng.uniform(0.01, 0.05, n)), 2),
                     frame["price"].to_numpy())  # fmt: skip
    amount = np.round(q * price + 1e-9, 2) + np.where(r[1] < 0.002, rng.integers(1, 100, n), 0)
    incl = np.round(amount * (1 + vat) + 1e-9, 2) + np.where(r[2] < 0.002, 1.0, 0.0)
    unknown = r[3] < 0.0005
    out = pl.DataFrame({
        "invoice": [f"F{c[1:]}-{m}" for c, m in zip(frame["contract"].to_list(), frame["month"].to_list(), strict=True)],
        "line": frame["n"].cast(pl.String),
        "contract": np.where(unknown, "unknown-" + frame["contract"].to_numpy(), frame["contract"].to_numpy()),
        "term": frame["term"], "period": frame.select(_period(pl.col("month")))["month"],
        "quantity": q, "unit_price": price, "amount_excl_vat": amount, "vat_rate": vat,
        "amount_incl_vat": incl,
    })  # fmt: skip
    duplicates = out.filter(pl.Series(r[4] < 0.0005))
    return pl.concat([out, duplicates]).sample(
        fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 30))
    )


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.generate --contracts N [--lines M] [--seed S] [--out DIR]``."""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--contracts", type=int, default=10_000)
    p.add_argument("--lines", type=int, default=0, help="invoice lines (0: none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--indices", type=Path, default=Path("indices"))
    p.add_argument("--out", type=Path, default=DATA)
    a = p.parse_args(argv)
    print(write(a.contracts, a.lines, a.seed, a.indices, a.out))


def write(contracts: int, lines: int, seed: int, indices: Path, out: Path) -> dict[str, Path]:
    """Generate (or reuse, when already there) the portfolio and invoice files; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    store = load_store(indices)
    table = out / f"portfolio_{contracts}_s{seed}.parquet"
    if not table.exists():
        _atomic(portfolio(contracts, store, seed), table)
    paths = {"portfolio": table}
    if lines:
        paths["invoices"] = out / f"invoices_{lines}_c{contracts}_s{seed}.parquet"
        if not paths["invoices"].exists():
            _atomic(invoices(lines, table, store, seed), paths["invoices"])
    return paths


def _atomic(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp, row_group_size=256_000)
    tmp.replace(path)


if __name__ == "__main__":
    main()
