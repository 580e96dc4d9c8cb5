"""History statistics of K: volatility, 12-month moves, worst year, variance shares, oil elasticity.

Every function takes complete paths (no missing month) and returns one row per
unit (its ``uid``). Floats throughout: these are analyses, not billed amounts.

Notes
-----
With ``k_t`` the monthly K of a unit over the window (tariffs.exposure.paths):

- annualised volatility = ``std(Δ log k_t) × √12`` (sample standard deviation,
  ddof = 1, of the month-to-month log changes);
- at the revision frequency: ``std(Δ log K_j) × √(12 / m)`` over consecutive
  revision dates ``j`` (``m`` = 12, 3 or 1 months between revisions), on the
  contract's coefficient as revised (rounded, capped);
- largest 12-month rise / fall = ``max`` / ``min`` of ``k_t / k_(t-12) − 1``;
- worst year for tenants = the calendar year (complete in the window, with a
  complete year before it) whose mean monthly K rose most over the previous
  year's mean (none when K never moves); worst revision = the largest
  ``K_j / K_(j-1) − 1``;
- variance shares: ``k_t − k̄ = Σ_i (x_it − x̄_i)`` with ``x_it = w_i I_i(t)/I_i,0``,
  so ``Var(k) = Σ_i Cov(x_i, k)`` and ``share_i = Cov(x_i, k) / Var(k)`` sums to 1
  (a share may be negative when an index moves against the others); when K does
  not move (``Var(k) ≤ 1e-18``) there is nothing to share and no share is given;
- elasticity = ordinary least squares slope ``β`` (with intercept) of
  ``Δ log k_t = α + β Δ log O_t + ε`` on the monthly pairs of the window, ``O``
  the oil reference series on the same month; ``points`` = number of pairs,
  ``r2`` = squared correlation.
"""

from __future__ import annotations

import math

import polars as pl

STEP_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
KEY = "uid"  # one exposure unit (tariffs.exposure.paths)


def _dlog(column: str, order: str) -> pl.Expr:
    return pl.col(column).log().diff().over(KEY, order_by=order)


def monthly_stats(path: pl.DataFrame) -> pl.DataFrame:
    """Volatility and largest 12-month rise and fall of each unit's monthly K."""
    k = pl.col("k")
    moves = path.with_columns(
        _dlog("k", "month").alias("dlog"),
        (k / k.shift(12).over(KEY, order_by="month") - 1).alias("r12"),
    )
    return moves.group_by(KEY).agg(
        (pl.col("dlog").std() * math.sqrt(12)).alias("volatility_annual"),
        pl.col("r12").max().alias("max_rise_12m"),
        pl.col("month").filter(pl.col("r12") == pl.col("r12").max()).first().alias("rise_month"),
        pl.col("r12").min().alias("max_fall_12m"),
        pl.col("month").filter(pl.col("r12") == pl.col("r12").min()).first().alias("fall_month"),
        pl.col("dlog").count().alias("monthly_changes"),
    )


def worst_year(path: pl.DataFrame) -> pl.DataFrame:
    """Calendar year whose mean K rose most over the previous year's (complete years only)."""
    years = (
        path.with_columns((pl.col("month") // 12).alias("year"))
        .group_by(KEY, "year")
        .agg(pl.col("k").mean().alias("mean_k"), pl.len().alias("n"))
        .filter(pl.col("n") == 12)
        .sort("year")
        .with_columns(
            pl.col("mean_k").shift(1).over(KEY).alias("prev"),
            pl.col("year").shift(1).over(KEY).alias("prev_year"),
        )
        .filter(pl.col("prev_year") == pl.col("year") - 1)
        .with_columns((pl.col("mean_k") / pl.col("prev") - 1).alias("rise"))
        .filter((pl.col("rise").abs() > 1e-12).any().over(KEY))  # a constant K has no worst year
    )
    return (
        years.sort("rise", descending=True)
        .group_by(KEY)
        .agg(
            pl.col("year").first().alias("worst_year"),
            pl.col("rise").first().alias("worst_year_rise"),
        )
    )


def revision_stats(revisions: pl.DataFrame, frequency: dict[str, str]) -> pl.DataFrame:
    """Volatility at the contract's revision frequency and its worst revision."""
    per_year = {c: 12 / STEP_MONTHS[f] for c, f in frequency.items()}
    moves = revisions.with_columns(
        _dlog("coefficient", "at").alias("dlog"),
        (pl.col("coefficient") / pl.col("coefficient").shift(1).over(KEY, order_by="at") - 1).alias(
            "rise"
        ),
        pl.col("contract").replace_strict(per_year, return_dtype=pl.Float64).alias("per_year"),
    )
    return moves.group_by(KEY).agg(
        (pl.col("dlog").std() * pl.col("per_year").first().sqrt()).alias(
            "volatility_annual_revision"
        ),
        pl.col("dlog").count().alias("revision_changes"),
        pl.col("rise").max().alias("worst_revision_rise"),
        pl.col("at").filter(pl.col("rise") == pl.col("rise").max()).first().alias("worst_revision"),
    )


def contributions(terms: pl.DataFrame) -> pl.DataFrame:
    """Share of Var(K) of each series: ``Cov(x_i, K) / Var(K)`` (uid, sid, share).

    ``terms``: uid, sid, month, x and the unit's k of the same month.
    """
    var = pl.col("k").var()
    return terms.group_by(KEY, "sid").agg(
        pl.when(var > 1e-18).then(pl.cov("x", "k") / var).alias("share")
    )


def elasticity(path: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """OLS slope of Δlog K on Δlog of the oil reference (``reference``: month, value)."""
    ref = reference.sort("month").select("month", pl.col("value").log().diff().alias("dlog_oil"))
    pairs = (
        path.with_columns(_dlog("k", "month").alias("dlog_k"))
        .join(ref, on="month")
        .drop_nulls(["dlog_k", "dlog_oil"])
    )
    return pairs.group_by(KEY).agg(
        (pl.cov("dlog_k", "dlog_oil") / pl.col("dlog_oil").var()).alias("elasticity"),
        pl.len().alias("elasticity_points"),
        (pl.corr("dlog_k", "dlog_oil") ** 2).alias("elasticity_r2"),
    )
