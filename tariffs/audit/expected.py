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

from tariffs.formulas import formulas_of, revision_months
from tariffs.model import Contract
from tariffs.revision import compute
from tariffs.series import IndexStore

PRICE_COLUMNS = {
    "contract": pl.String, "term": pl.String, "month": pl.Int64, "cut": pl.Date, "at": pl.Int64,
    "exp_price": pl.Float64, "exp_coefficient": pl.Float64, "exp_missing": pl.Int64,
    "exp_provisional": pl.Boolean, "exp_base_price": pl.Float64, "current_price": pl.Float64,
    "kdec": pl.Int64, "pdec": pl.Int64,
}  # fmt: skip
TRACE_COLUMNS = {
    "contract": pl.String, "term": pl.String, "month": pl.Int64, "cut": pl.Date, "series": pl.String,
    "exp_period": pl.String, "exp_value": pl.Float64, "exp_status": pl.String, "exp_base": pl.Float64,
    "base_period": pl.String, "link_coefficient": pl.Float64, "current_value": pl.Float64,
    "weight": pl.Float64,
}  # fmt: skip
NO_CUT = date(1, 1, 1)


@dataclass
class Expected:
    """``prices``: one row per contract × term × month × cut; ``trace``: + series."""

    prices: pl.DataFrame
    trace: pl.DataFrame
    problems: list[str]


def cut_dates(store: IndexStore, as_of: pl.Series) -> pl.Series:
    """Map each ``as_of`` date to the latest publication date on or before it (NO_CUT if none)."""
    pubs = first_vintage_known(store).values.select(
        pl.col("published").drop_nulls().unique().sort()
    )["published"]
    frame = pl.DataFrame({"as_of": as_of.cast(pl.Date)}).with_row_index("_i").sort("as_of")
    if pubs.len() == 0:
        return pl.Series("cut", [NO_CUT] * as_of.len(), dtype=pl.Date)
    joined = frame.join_asof(
        pl.DataFrame({"published": pubs}), left_on="as_of", right_on="published"
    )
    return joined.sort("_i")["published"].fill_null(NO_CUT).alias("cut")


def first_vintage_known(store: IndexStore) -> IndexStore:
    """A view of ``store`` whose first vintage of each value has no publication date."""
    values = store.values.with_columns(
        pl.when(pl.col("published") == pl.col("published").min().over("series", "period"))
        .then(None).otherwise(pl.col("published")).alias("published")
    )  # fmt: skip
    return IndexStore(store.root, store.catalog, values, dict(store.link_coefficients))


def expected_prices(contracts: list[Contract], store: IndexStore, wanted: pl.DataFrame) -> Expected:
    """Prices due for ``wanted`` (distinct ``contract, month, cut``) and the index trace."""
    formulas = formulas_of(contracts)
    store = first_vintage_known(store)
    if wanted.height == 0:
        return Expected(pl.DataFrame(schema=PRICE_COLUMNS), pl.DataFrame(schema=TRACE_COLUMNS), [])
    dates = revision_months(formulas.params, 0, int(wanted["month"].max()))
    wanted = wanted.sort("contract", "month").join_asof(
        dates.sort("contract", "at"),
        left_on="month",
        right_on="at",
        by="contract",
        strategy="backward",
        check_sortedness=False,
    )
    kdec = formulas.params.select("contract", "kdec", "pdec")
    revised = _revised_components(formulas)
    current = compute(formulas, store, wanted.select("contract", "at").unique().drop_nulls())
    prices, traces, problems = [], [], list(current.problems)
    for (cut,), group in wanted.drop_nulls("at").group_by(["cut"]):
        result = compute(formulas, store, group.select("contract", "at").unique(), cut)
        rows = group.join(_term_prices(result.frame, current.frame, revised), on=["contract", "at"])
        prices.append(rows)
        traces.append(group.join(_trace(result.trace, current.trace), on=["contract", "at"]))
        problems.extend(p for p in result.problems if p not in problems)
    price = pl.concat(prices, how="diagonal_relaxed").join(kdec, on="contract", how="left")
    trace = pl.concat(traces, how="diagonal_relaxed")
    return Expected(
        prices=price.select(list(PRICE_COLUMNS)).cast(PRICE_COLUMNS),
        trace=trace.select(list(TRACE_COLUMNS)).cast(TRACE_COLUMNS),
        problems=problems,
    )


def _term_prices(frame: pl.DataFrame, current: pl.DataFrame, revised: pl.DataFrame) -> pl.DataFrame:
    """One row per contract × term × at: the term's price, and the K an invoice shows.

    The K of a mix term is the K of its only revised component when it has
    exactly one (e.g. the fuel-oil part of an R1), else price / base price.
    """
    revised = (
        frame.filter(pl.col("comp").is_not_null())
        .join(revised, on=["contract", "term", "comp"], how="semi")
        .select("contract", "term", "at", pl.col("coefficient").alias("component_k"))
    )
    terms = frame.filter(pl.col("comp").is_null())
    now = current.filter(pl.col("comp").is_null()).select(
        "contract", "term", "at", pl.col("price").alias("current_price")
    )
    return (
        terms.join(revised, on=["contract", "term", "at"], how="left")
        .join(now, on=["contract", "term", "at"], how="left")
        .select(
            "contract", "term", "at",
            pl.when(pl.col("missing") == 0).then(pl.col("price")).alias("exp_price"),
            pl.when(pl.col("missing") == 0)
            .then(pl.coalesce("component_k", "coefficient")).alias("exp_coefficient"),
            pl.col("missing").cast(pl.Int64).alias("exp_missing"),
            pl.col("provisional").alias("exp_provisional"),
            pl.col("base_price").alias("exp_base_price"),
            "current_price",
        )
    )  # fmt: skip


def _revised_components(formulas) -> pl.DataFrame:
    """The component of each mix term that is the only one with indices (contract, term, comp)."""
    comps = (
        formulas.indices.filter(pl.col("comp") != "").select("contract", "term", "comp").unique()
    )
    single = comps.group_by("contract", "term").agg(pl.col("comp"))
    return single.filter(pl.col("comp").list.len() == 1).explode("comp")


def _trace(trace: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    now = current.select(
        "contract", "term", "comp", "series", "at", pl.col("value").alias("current_value")
    )
    return (
        trace.join(now, on=["contract", "term", "comp", "series", "at"], how="left")
        .sort("index_order")
        .unique(["contract", "term", "series", "at"], keep="first", maintain_order=True)
        .select(
            "contract", "term", "at", "series", "weight",
            pl.col("period").alias("exp_period"), pl.col("value").alias("exp_value"),
            pl.col("status").alias("exp_status"), pl.col("base_used").alias("exp_base"),
            "base_period",
            pl.coalesce("link_coefficient", "base_link_coefficient").alias("link_coefficient"),
            "current_value",
        )
    )  # fmt: skip
