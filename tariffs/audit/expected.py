"""The prices and index values due for each billed month, from the revision engine.

The audit never recomputes K itself: it asks :func:`tariffs.revision.compute`
for the revision date in force in each billed month, with the index values as
known on the invoice date, and once more with today's values (to say what a
provisional value's definitive version changes).

Notes
-----
- The price in force in month ``m`` is the one of the latest revision date
  ``at <= m`` (INTERFACE.md, ``revise --at``).
- ``as_of`` of a line: its ``invoice_date`` when the file has one, else the
  last day of the billed month. Lines are grouped by the latest publication
  date in the store on or before their ``as_of`` (the values known are the
  same within a group), so the engine runs once per group, not per line.
- The first vintage the store holds of a value counts as known from the
  start (a store built from a recent download dates every value by that
  download): an invoice is never blocked because the store learnt a value
  after the invoice date; later vintages (revisions) keep their dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from tariffs.formulas import Formulas
from tariffs.revision import compute
from tariffs.series import IndexStore

PRICE_COLUMNS = {
    "contract": pl.String, "term": pl.String, "at": pl.Int64, "cut": pl.Date,
    "exp_price": pl.Float64, "exp_coefficient": pl.Float64, "exp_missing": pl.Int64,
    "exp_provisional": pl.Boolean, "exp_base_price": pl.Float64, "current_price": pl.Float64,
    "kdec": pl.Int64, "pdec": pl.Int64,
}  # fmt: skip
TRACE_COLUMNS = {
    "contract": pl.String, "term": pl.String, "at": pl.Int64, "cut": pl.Date, "series": pl.String,
    "exp_period": pl.String, "exp_value": pl.Float64, "exp_status": pl.String, "exp_base": pl.Float64,
    "base_period": pl.String, "link_coefficient": pl.Float64, "current_value": pl.Float64,
    "weight": pl.Float64,
}  # fmt: skip
NO_CUT = date(1, 1, 1)


@dataclass
class Expected:
    """``prices``: one row per contract × term × revision date ``at`` × cut; ``trace``: + series.

    ``trace`` holds every index value only when asked (the file bills index
    values); ``provisional`` always holds the values that were provisional at
    the cut and have changed since (for the notes).
    """

    prices: pl.DataFrame
    trace: pl.DataFrame
    problems: list[str]
    provisional: pl.DataFrame | None = None


def publication_dates(store: IndexStore) -> pl.Series:
    """The cuts: distinct publication dates of the store's later vintages, ascending, after NO_CUT."""
    first = pl.col("published") == pl.col("published").min().over("series", "period")
    pubs = store.values.filter(~first.fill_null(True)).select(
        pl.col("published").drop_nulls().unique().sort()
    )["published"]
    return pl.concat([pl.Series("published", [NO_CUT], dtype=pl.Date), pubs.cast(pl.Date)])


def cut_number(month: pl.Expr, invoice_date: pl.Expr | None, cuts: pl.Series) -> pl.Expr:
    """``cut_no``: position in ``cuts`` (:func:`publication_dates`) of the latest publication date
    on or before ``as_of`` (0: NO_CUT), a binary search per line, no join.

    Without an invoice date ``as_of`` is the billed month's last day, and a date
    is on or before it exactly when its month is on or before ``month``: the
    search is on month numbers, no date is built per line.
    """
    later = cuts[1:]
    if later.len() == 0:  # one cut: every line's
        return pl.lit(0, pl.UInt32).alias("cut_no")
    months = later.dt.year().cast(pl.Int64) * 12 + later.dt.month().cast(pl.Int64) - 1
    by_month = pl.lit(months).search_sorted(month, side="right")
    if invoice_date is None:
        return by_month.alias("cut_no")
    by_date = pl.lit(later).search_sorted(invoice_date, side="right")
    return pl.when(invoice_date.is_null()).then(by_month).otherwise(by_date).alias("cut_no")


class AuditView(IndexStore):
    """A store as the audit sees it (:func:`first_vintage_known`), its resolved values kept per
    ``as_of``: the audit asks the engine several times (:mod:`tariffs.audit.due`) and the
    store does not change meanwhile."""

    def resolved(self, as_of: date | None = None) -> pl.DataFrame:
        memo = self.__dict__.setdefault("_resolved", {})
        if as_of not in memo:
            memo[as_of] = super().resolved(as_of)
        return memo[as_of]


def first_vintage_known(store: IndexStore) -> AuditView:
    """A view of ``store`` whose first vintage of each value counts as known on any date.

    Only later vintages (revisions) are cut by the invoice date; the publication
    dates still decide which period ``latest-published`` takes, exactly as in
    ``tariffs revise`` (``IndexStore.first_vintages_known``).
    """
    if isinstance(store, AuditView):
        return store
    return AuditView(store.root, store.catalog, store.values, dict(store.link_coefficients),
                     first_vintages_known=True)  # fmt: skip


def expected_prices(
    formulas: Formulas, store: IndexStore, wanted: pl.DataFrame, with_trace: bool = True
) -> Expected:
    """Prices due for ``wanted`` (distinct ``contract, at, cut``), and the index trace if asked.

    The engine runs on distinct (contract, revision date) only, once per cut
    and once with today's values.
    """
    store = first_vintage_known(store)
    wanted = wanted.drop_nulls("at")
    if wanted.height == 0:
        empty = pl.DataFrame(schema=TRACE_COLUMNS)
        return Expected(pl.DataFrame(schema=PRICE_COLUMNS), empty, [], empty)
    kdec = formulas.params.select("contract", "kdec", "pdec")
    revised = _revised_components(formulas)
    dates = wanted.select("contract", "at").unique()
    results = {
        cut: compute(formulas, store, group.select("contract", "at").unique(), cut)
        for (cut,), group in wanted.group_by(["cut"])
    }
    current = _current(formulas, store, dates, results)
    prices, traces, provisional, problems = [], [], [], list(current.problems)
    for cut, result in results.items():
        now = None if current is result else current.frame  # today's prices are the cut's
        prices.append(_term_prices(result, now, revised, kdec).with_columns(cut=pl.lit(cut)))
        if with_trace:
            now = None if current is result else current.trace
            traces.append(_trace(result.trace, now).with_columns(cut=pl.lit(cut)))
        if result.frame["provisional"].any():
            provisional.append(_changed(result.trace, current.trace).with_columns(cut=pl.lit(cut)))
        problems.extend(p for p in result.problems if p not in problems)
    price = pl.concat(prices, how="diagonal_relaxed")

    def frame(parts):
        return (
            pl.concat(parts, how="diagonal_relaxed").select(list(TRACE_COLUMNS)).cast(TRACE_COLUMNS)
        )

    return Expected(
        prices=price.select(list(PRICE_COLUMNS)).cast(PRICE_COLUMNS),
        trace=frame(traces) if traces else pl.DataFrame(schema=TRACE_COLUMNS),
        problems=problems,
        provisional=frame(provisional) if provisional else pl.DataFrame(schema=TRACE_COLUMNS),
    )


def _current(formulas: Formulas, store: IndexStore, dates: pl.DataFrame, results: dict):
    """The engine's result with today's values for ``dates``.

    The result of the only cut is reused when the values known at that cut are
    today's (no later vintage: the usual store) and it reports no problem (the
    messages name the cut); else the engine runs once more.
    """
    if len(results) == 1:
        ((cut, result),) = results.items()
        if not result.problems and store.resolved(cut).equals(store.resolved(None)):
            return result
    return compute(formulas, store, dates)


def _changed(trace: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """The trace rows of values provisional at the cut whose current value differs.

    Only the (contract, term, series, at) groups holding a provisional value go
    through :func:`_trace` (the same first-row choice as the full trace).
    """
    keys = ["contract", "term", "series", "at"]
    groups = trace.filter(pl.col("status") == "provisional").select(keys).unique()
    part = _trace(trace.join(groups, on=keys, how="semi"), current)
    return part.filter(
        (pl.col("exp_status") == "provisional") & (pl.col("current_value") != pl.col("exp_value"))
    )


def _term_prices(result, current: pl.DataFrame | None, revised: pl.DataFrame,
                 kdec: pl.DataFrame) -> pl.DataFrame:  # fmt: skip
    """One row per contract × term × at: the term's price, and the K an invoice shows.

    The K of a mix term is the K of its only revised component when it has
    exactly one (e.g. the fuel-oil part of an R1), else price / base price.
    ``current``: the prices with today's values, None when they are the
    result's own. ``kdec``: contract, kdec, pdec (in the formulas' order).

    Notes
    -----
    The joins on text keys are made only when needed: with no mix term the
    component K does not apply, and the contract's decimals are gathered by
    contract number.
    """
    frame = result.frame
    whole = frame["comp"].is_null()
    terms = frame.filter(whole)
    keys = ["contract", "term", "at"]
    if frame["is_mix"].any():
        component_k = (
            frame.filter(pl.col("comp").is_not_null())
            .join(revised, on=["contract", "term", "comp"], how="semi")
            .select(*keys, pl.col("coefficient").alias("component_k"))
        )
        terms = terms.join(component_k, on=keys, how="left", maintain_order="left")
    else:
        terms = terms.with_columns(pl.lit(None, pl.Float64).alias("component_k"))
    if current is None:
        terms = terms.with_columns(pl.col("price").alias("current_price"))
    else:
        now = current.filter(pl.col("comp").is_null()).select(
            *keys, pl.col("price").alias("current_price")
        )
        terms = terms.join(now, on=keys, how="left", maintain_order="left")
    if result._cid is not None:
        decimals = kdec.select("kdec", "pdec")[result._cid.filter(whole)]
        terms = pl.concat([terms.drop("pdec"), decimals], how="horizontal")
    else:
        terms = terms.drop("pdec").join(kdec, on="contract", how="left", maintain_order="left")
    return terms.select(
        *keys,
        pl.when(pl.col("missing") == 0).then(pl.col("price")).alias("exp_price"),
        pl.when(pl.col("missing") == 0)
        .then(pl.coalesce("component_k", "coefficient")).alias("exp_coefficient"),
        pl.col("missing").cast(pl.Int64).alias("exp_missing"),
        pl.col("provisional").alias("exp_provisional"),
        pl.col("base_price").alias("exp_base_price"),
        "current_price", "kdec", "pdec",
    )  # fmt: skip


def _revised_components(formulas) -> pl.DataFrame:
    """The component of each mix term that is the only one with indices (contract, term, comp)."""
    comps = (
        formulas.indices.filter(pl.col("comp") != "").select("contract", "term", "comp").unique()
    )
    single = comps.group_by("contract", "term").agg(pl.col("comp"))
    return single.filter(pl.col("comp").list.len() == 1).explode("comp")


def _trace(trace: pl.DataFrame, current: pl.DataFrame | None) -> pl.DataFrame:
    """The index values of each (contract, term, series, at), with today's value
    (``current``: today's trace; None when it is ``trace`` itself, no join).

    Notes
    -----
    A series in two components of a mix term keeps its row of the lowest
    ``index_order`` (the first in row order among equals); without a mix term
    every (contract, term, series, at) is already unique and no ``unique`` runs.
    The sort and the ``unique`` work on the columns kept only.
    """
    keys = ["contract", "term", "series", "at"]
    if current is None:
        trace = trace.with_columns(pl.col("value").alias("current_value"))
    else:
        now = current.select(
            "contract", "term", "comp", "series", "at", pl.col("value").alias("current_value")
        )
        trace = trace.join(now, on=["contract", "term", "comp", "series", "at"], how="left")
    shared = (trace["comp"] != "").any()  # a mix term: a series may serve two components
    narrow = trace.select(
        "contract", "term", "at", "series", "weight",
        pl.col("period").alias("exp_period"), pl.col("value").alias("exp_value"),
        pl.col("status").alias("exp_status"), pl.col("base_used").alias("exp_base"),
        "base_period",
        pl.coalesce("link_coefficient", "base_link_coefficient").alias("link_coefficient"),
        "current_value", "index_order",
    ).sort("index_order", maintain_order=True)  # fmt: skip
    if shared:
        narrow = narrow.unique(keys, keep="first", maintain_order=True)
    return narrow.drop("index_order")
