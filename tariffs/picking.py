"""Index values picked by a contract's rule, for every revision date and base period.

Rules (INTERFACE.md ``[revision].index_rule``):

- ``lag``: the value of month ``at - lag_months`` (for a quarterly series, the
  quarter containing that month);
- ``mean``: the mean of the ``window_months`` monthly values ending at month
  ``at - lag_months`` (a quarterly series counts once per month it covers); the
  base value is the same mean ending at the base period;
- ``latest-published``: the last period whose value was published on or before
  the first day of the revision month, as known on that day (vintages); a value
  without a publication date counts as published once its period has ended.

A needed value that is not in the store leaves ``value`` null; the caller
reports it as missing, never guesses.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from tariffs.periods import first_day
from tariffs.series import IndexStore


def month_text(month: pl.Expr) -> pl.Expr:
    """Month index -> ``YYYY-MM``."""
    return pl.format(
        "{}-{}",
        (month // 12).cast(pl.String).str.zfill(4),
        (month % 12 + 1).cast(pl.String).str.zfill(2),
    )


def period_text(month: pl.Expr, frequency: pl.Expr) -> pl.Expr:
    """Month index -> the period of a series of that frequency (``YYYY-MM`` or ``YYYY-Qn``)."""
    quarter = pl.format(
        "{}-Q{}", (month // 12).cast(pl.String).str.zfill(4), (month % 12 // 3 + 1).cast(pl.String)
    )
    return pl.when(frequency == "quarterly").then(quarter).otherwise(month_text(month))


def series_frame(store: IndexStore) -> pl.DataFrame:
    """Catalog facts the pipeline needs, one row per series."""
    rows = [
        {"series": s.id, "frequency": s.frequency, "available": s.available, "stopped": s.stopped}
        for s in store.catalog.values()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "series": pl.String,
            "frequency": pl.String,
            "available": pl.Boolean,
            "stopped": pl.String,
        },
    )


def pick_window(
    wanted: pl.DataFrame, values: pl.DataFrame, series: pl.DataFrame, group: list[str]
) -> pl.DataFrame:
    """Mean value over months ``[first, last]`` for each row of ``wanted``.

    ``wanted`` has ``group`` columns (including ``series``), ``first`` and
    ``last`` (month indices). Returns ``group`` + value, value_sum, found,
    expected, period, status, published, chained, link_coefficient.
    """
    months = (
        wanted.join(series.select("series", "frequency"), on="series", how="left")
        .with_columns(pl.int_ranges("first", pl.col("last") + 1).alias("month"))
        .explode("month")
        .with_columns(
            pl.when(pl.col("frequency") == "quarterly")
            .then(pl.col("month") // 3)
            .otherwise(pl.col("month"))
            .alias("key")
        )
    )
    joined = months.join(
        values.select("series", "key", "period", "value", "status", "published", "chained", "link_coefficient",
                      "first_value", "vintages"),
        on=["series", "key"], how="left",
    )  # fmt: skip
    out = joined.group_by(group, maintain_order=True).agg(
        pl.col("value").sum().alias("value_sum"),
        pl.col("value").count().alias("found"),
        pl.len().alias("expected"),
        pl.col("first").first(),
        pl.col("last").first(),
        pl.col("frequency").first(),
        pl.col("status").filter(pl.col("status") == "provisional").first().alias("provisional"),
        pl.col("status").drop_nulls().last().alias("status"),
        pl.col("published").max(),
        pl.col("chained").any(),
        pl.col("link_coefficient").max(),
        (pl.col("first_value") != pl.col("value")).any().alias("revised_since"),
    )
    single = pl.col("first") == pl.col("last")
    label = (
        pl.when(single)
        .then(period_text(pl.col("first"), pl.col("frequency")))
        .otherwise(pl.format("{}..{}", month_text(pl.col("first")), month_text(pl.col("last"))))
    )
    return out.with_columns(
        pl.when(pl.col("found") == pl.col("expected"))
        .then(pl.col("value_sum") / pl.col("found"))
        .alias("value"),
        label.alias("period"),
        pl.when(pl.col("provisional").is_not_null())
        .then(pl.lit("provisional"))
        .otherwise(pl.col("status"))
        .alias("status"),
    ).drop("provisional")


def pick_latest(
    wanted: pl.DataFrame, store: IndexStore, group: list[str], as_of: date | None = None
) -> pl.DataFrame:
    """``latest-published``: per row of ``wanted`` (with ``at``), the last value published by the revision date."""
    parts = []
    for at in wanted["at"].unique().sort().to_list():
        day = first_day(at)
        if as_of is not None:
            day = min(day, as_of)
        known = store.resolved(as_of=day)
        # a period is only known once it has ended: never a period at or after the revision month
        ended = (
            pl.when(pl.col("frequency") == "quarterly")
            .then(pl.col("key") * 3 + 2)
            .otherwise(pl.col("key"))
            < at
        )
        known = known.filter((pl.col("published").is_null() | (pl.col("published") <= day)) & ended)
        last = known.sort("key").group_by("series").agg(pl.all().last())
        rows = wanted.filter(pl.col("at") == at).join(last, on="series", how="left")
        parts.append(rows)
    if not parts:
        return wanted
    out = pl.concat(parts, how="diagonal_relaxed")
    return out.with_columns(
        pl.col("value").alias("value_sum"),
        pl.col("value").is_not_null().cast(pl.UInt32).alias("found"),
        pl.lit(1, pl.UInt32).alias("expected"),
        pl.col("key").alias("first"),
        pl.col("key").alias("last"),
        (pl.col("first_value") != pl.col("value")).fill_null(False).alias("revised_since"),
    ).select(*group, "value", "value_sum", "found", "expected", "first", "last", "frequency", "period",
             "status", "published", "chained", "link_coefficient", "revised_since")  # fmt: skip
