"""Lean polars: each workload as one straightforward polars query, none of tariffs' care.

What it leaves out, and tariffs does: validating the portfolio (every rule, located
messages), the engine's general rules (chained or rebased series, caps, vintages,
provisional values), the trace of every figure, exact decimal rounding (floats here,
ties decided within 1e-9 as DuckDB's), typing and checking each invoice value, the VAT
table's categories, the euro figure and message of each finding. It reads the same
inputs and must give the same prices (W1, W2) and the same (line, code) findings (W3):
the benchmark checks both. Its time is what the numbers alone cost in polars on this
machine; tariffs' time over it is the price of the rest.

Notes
-----
Index values: the current vintage (latest ``published``) of each monthly value of the
store's CSV files; I(at) the value of month ``at − lag`` (rule ``lag``) or the mean of
the 12 months up to it (rule ``mean``, all present); I0 the written base value, else
the same at the base period. K = fixed + Σ weight × I/I0, rounded half-up to
``coefficient_decimals``; price = base price × K rounded half-up to
``price_decimals``. Revision date in force in month m: m − ((m − r) mod step).
W3 (the generated file's checks): a line equal to an earlier one (a copy, blocked), a line
with the (invoice, line) of an earlier one and another content (a number reused, checked),
unknown contract or term, month outside the contract, missing index, unit price,
amount, VAT rate (not in force that month: the rate of its category then) and VAT
amount.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from benchmarks.generate import W1_AT, W2_FROM, W2_TO

TIE = 1e-9
VAT = Path(__file__).parents[1] / "tariffs" / "audit" / "vat_rates.csv"


def _month(column: str) -> pl.Expr:
    return (
        pl.col(column).str.slice(0, 4).cast(pl.Int64) * 12
        + pl.col(column).str.slice(5, 2).cast(pl.Int64)
        - 1
    )


def _values(indices: Path) -> pl.LazyFrame:
    """``series, m, value, mean12`` (current vintage; mean12 null unless 12 months present)."""
    from tariffs.series.catalog import load_catalog  # only to list the store's CSV files

    frames = [
        pl.scan_csv(
            indices / info.file,
            schema_overrides={"period": pl.String, "value": pl.Float64, "published": pl.String},
        )
        .select("period", "value", pl.col("published").fill_null(""))
        .with_columns(pl.lit(info.id).alias("series"))
        for info in load_catalog(indices / "catalog.toml").values()
        if info.file
    ]
    values = (
        pl.concat(frames, how="diagonal_relaxed")
        .filter(pl.col("period").str.contains(r"^\d{4}-\d{2}$"))
        .sort("published")
        .group_by("series", "period")
        .agg(pl.col("value").last())
        .select("series", _month("period").alias("m"), "value")
        .sort("series", "m")
    )
    full = (pl.col("m") - pl.col("m").shift(11).over("series")) == 11
    mean = pl.col("value").rolling_mean(12).over("series")
    return values.with_columns(pl.when(full).then(mean).alias("mean12")).collect().lazy()


def _contracts(portfolio: Path) -> pl.LazyFrame:
    step = (
        pl.when(pl.col("frequency") == "monthly").then(1)
        .when(pl.col("frequency") == "quarterly").then(3).otherwise(12)
    )  # fmt: skip
    rev = pl.coalesce("month", pl.col("start").str.slice(5, 2).cast(pl.Int64)) - 1
    return pl.scan_parquet(portfolio).with_columns(
        step.alias("step"), rev.alias("rev"), _month("start").alias("start_m"),
        _month("end").alias("end_m"), _month("base_period").alias("base_m"),
    )  # fmt: skip


def _priced(rows: pl.LazyFrame, values: pl.LazyFrame) -> pl.LazyFrame:
    """``contract, term, at, coefficient, price`` of portfolio rows with a revision date ``at``."""
    mean = pl.col("index_rule") == "mean"
    rows = rows.with_columns((pl.col("at") - pl.col("lag_months").fill_null(0)).alias("now_m"))
    now = values.select("series", pl.col("m").alias("now_m"), pl.col("value").alias("v_now"),
                        pl.col("mean12").alias("mean_now"))  # fmt: skip
    then = values.select("series", pl.col("m").alias("base_m"), pl.col("value").alias("v_base"),
                         pl.col("mean12").alias("mean_base"))  # fmt: skip
    rows = rows.join(now, on=["series", "now_m"], how="left").join(
        then, on=["series", "base_m"], how="left"
    )
    i_now = pl.when(mean).then("mean_now").otherwise("v_now")
    i_base = pl.coalesce("base_value", pl.when(mean).then("mean_base").otherwise("v_base"))
    k = rows.group_by("contract", "term", "at").agg(
        (pl.col("fixed").first().fill_null(0) + (pl.col("weight") * i_now / i_base).sum()).alias("k"),
        pl.col("base_price").first(), pl.col("coefficient_decimals").first().alias("kdec"),
        pl.col("price_decimals").first().alias("pdec"),
        (i_now.is_null() | i_base.is_null()).any().alias("missing"),
    )  # fmt: skip
    coefficient = pl.when(~pl.col("missing")).then(_half_up(pl.col("k"), "kdec"))
    price = _half_up(pl.col("base_price") * pl.col("coefficient"), "pdec")
    return k.with_columns(coefficient.alias("coefficient")).select(
        "contract", "term", "at", "coefficient", price.alias("price")
    )


def _half_up(x: pl.Expr, decimals: str) -> pl.Expr:
    scale = pl.lit(10.0) ** pl.col(decimals)
    rounded = (x * scale + 0.5 + TIE).floor() / scale
    return pl.when(pl.col(decimals).is_null()).then(x).otherwise(rounded)


def w1(portfolio: Path, indices: Path, **_) -> pl.DataFrame:
    at = W1_AT - ((W1_AT - pl.col("rev")) % pl.col("step"))
    rows = (
        _contracts(portfolio)
        .with_columns(at.alias("at"))
        .filter(
            (pl.col("end_m").is_null() | (pl.col("end_m") >= W1_AT))
            & (pl.col("at") >= pl.col("start_m"))
        )  # fmt: skip
    )
    return _priced(rows, _values(indices)).collect()


def _dated(rows: pl.LazyFrame, first: int | pl.Expr, last: int | pl.Expr) -> pl.LazyFrame:
    """Portfolio rows × each revision date from ``first`` to ``last`` within the contract."""
    lo = pl.max_horizontal("start_m", first)
    hi = pl.min_horizontal(pl.col("end_m").fill_null(last), last)
    start = lo + (pl.col("rev") - lo) % pl.col("step")
    dates = pl.int_ranges(start, hi + 1, pl.col("step"))
    return rows.with_columns(dates.alias("at")).explode("at").drop_nulls("at")


def w2(portfolio: Path, indices: Path, **_) -> pl.DataFrame:
    return _priced(_dated(_contracts(portfolio), W2_FROM, W2_TO), _values(indices)).collect()


def w3(portfolio: Path, indices: Path, invoices: Path, **_) -> pl.DataFrame:
    """Findings ``row, code`` of the checks listed in the module Notes."""
    lines = pl.scan_parquet(invoices).with_row_index("row", offset=2)
    span = lines.select(_month("period").min().alias("a"), _month("period").max().alias("b"))
    first, last = span.collect().row(0)
    contracts = _contracts(portfolio)
    prices = _priced(_dated(contracts, first - 11, last), _values(indices))  # at: ≤ 11 months back
    terms = contracts.group_by("contract", "term").agg(
        pl.col("step", "rev", "start_m", "end_m").first()
    )
    vat = _vat_due(lines)
    at = pl.col("month") - ((pl.col("month") - pl.col("rev")) % pl.col("step"))
    known = pl.col("contract").is_in(
        terms.select("contract").unique().collect()["contract"].implode()
    )
    checked = (
        lines.with_columns(
            _month("period").alias("month"),
            pl.struct("invoice", "line").is_first_distinct().alias("first"),
            pl.struct(pl.exclude("row")).is_first_distinct().alias("new"),
        )
        .join(terms, on=["contract", "term"], how="left")
        .with_columns(at.alias("at"))
        .join(prices, on=["contract", "term", "at"], how="left")
        .join(vat, on=["vat_rate", "month"], how="left")
    )
    block = (
        pl.when(~pl.col("new")).then(pl.lit("duplicate-line"))
        .when(~known).then(pl.lit("unknown-contract"))
        .when(pl.col("step").is_null()).then(pl.lit("unknown-term"))
        .when((pl.col("month") < pl.col("start_m")) | (pl.col("month") > pl.col("end_m")))
        .then(pl.lit("period-outside-contract"))
        .when(pl.col("price").is_null()).then(pl.lit("missing-index"))
    )  # fmt: skip
    wrong_rate = (pl.col("vat_rate") - pl.col("vat_due")).abs() > 1e-6
    rate = pl.coalesce("vat_rate", "vat_due")
    codes = {
        "unit-price-mismatch": (pl.col("unit_price") - pl.col("price")).abs() > 1e-7,
        "amount-mismatch": (pl.col("amount_excl_vat") - pl.col("quantity") * pl.col("unit_price"))
        .abs() > 0.005001,
        "vat-rate-mismatch": wrong_rate.fill_null(False),
        "vat-amount-mismatch": ((pl.col("amount_incl_vat") - pl.col("amount_excl_vat") * (1 + rate))
                                .abs() > 0.005001).fill_null(False) & ~wrong_rate.fill_null(False),
        "line-number-reused": ~pl.col("first") & pl.col("new"),
    }  # fmt: skip
    found = checked.select("row", block.alias("block"), *(c.alias(k) for k, c in codes.items()))
    found = found.filter(pl.col("block").is_not_null() | pl.any_horizontal(list(codes))).collect()
    blocked = found.filter(pl.col("block").is_not_null()).select(
        "row", pl.col("block").alias("code")
    )
    open_ = found.filter(pl.col("block").is_null())
    flagged = [open_.filter(pl.col(k)).select("row", pl.lit(k).alias("code")) for k in codes]
    return pl.concat([blocked, *flagged]).sort("row")


def _vat_due(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``vat_rate, month, vat_due``: the billed rate when in force on the month's first day, else
    the rate then of its category (the table of tariffs/audit/vat_rates.csv)."""
    with open(VAT, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    combos = lines.select(pl.col("vat_rate"), _month("period").alias("month")).unique().collect()
    due = []
    for rate, month in combos.iter_rows():
        day = f"{month // 12:04d}-{month % 12 + 1:02d}-01"
        now = [r for r in table if r["since"] <= day and (not r["until"] or r["until"] >= day)]
        same = [
            float(r["rate"])
            for r in now
            if rate is not None and abs(float(r["rate"]) - rate) < 1e-9
        ]
        cats = {
            r["category"] for r in table if rate is not None and abs(float(r["rate"]) - rate) < 1e-9
        }
        other = [float(r["rate"]) for r in now if r["category"] in cats]
        due.append((rate, month, (same or other or [None])[0]))
    schema = {"vat_rate": pl.Float64, "month": pl.Int64, "vat_due": pl.Float64}
    return pl.DataFrame(due, schema=schema, orient="row").lazy()


def scan(**_) -> pl.DataFrame:  # pragma: no cover - the floor is measured with polars
    raise NotImplementedError
