"""The K paths an exposure report is computed on: the formula month by month, and at revision dates.

Notes
-----
An exposure *unit* is one row of the report: a plain term, a component of a mix
term (``comp`` = its name) or the mix term as a whole; inside this package the
plain term and the whole of a mix term have ``comp = ""`` (null in the report). Every unit is linear in the index ratios::

    K_t = a + Σ_i w_i × I_i(t) / I_i,0

For the whole of a mix term the weights are the components' weights scaled by
their part of the base price, ``α_c = share_c × P0_c / Σ share × P0`` (so that
``Σ α_c K_c`` times the term's base price is the term's price): ``a = Σ α_c a_c``
and ``w_(c,i) = α_c w_c,i``.

- *Monthly path* (``monthly_path``): the formula applied to the index values of
  each month ``t`` of the window (a quarterly series gives the value of the
  quarter containing ``t``); no lag, no averaging, no rounding, no cap. It shows
  how the formula itself moves with its indices.
- *Revision path* (``revision_path``): the contract's coefficient as the
  revision engine (tariffs.revision) computes it at each date of the contract's
  schedule inside the window (its lag or mean rule, rounding, cap and floor),
  whatever the contract's start and end dates: the analysis is about the formula.

``I_i,0`` is the base value the revision engine uses (the contract's
``base_value``, else the series value at the base period by the contract's rule).
"""

from __future__ import annotations

import polars as pl

from tariffs.formulas import Formulas, revision_months
from tariffs.model import Contract
from tariffs.revision import compute
from tariffs.series import IndexStore

UNIT = ["contract", "term", "comp"]


def units_of(contracts: list[Contract], formulas: Formulas) -> pl.DataFrame:
    """One row per exposure unit: contract, term, comp, orders, base price, fixed share, unit, sizes."""
    sizes = pl.DataFrame(
        [
            {
                "contract": c.id,
                "dwellings": c.dwellings,
                "consumption_mwh": _float(c.yearly_consumption_mwh_useful),
                "same_supply_as": c.same_supply_as,
            }
            for c in contracts
        ],
        schema={
            "contract": pl.String,
            "dwellings": pl.Int64,
            "consumption_mwh": pl.Float64,
            "same_supply_as": pl.String,
        },  # fmt: skip
    )
    comps = formulas.components.with_columns(_alpha().alias("alpha"))
    own = comps.select(
        "contract", "term", "term_order",
        pl.when(pl.col("is_mix")).then(pl.col("comp")).otherwise(pl.lit("")).alias("comp"),
        pl.col("comp_order"), "base_price", "fixed", "unit", "energy_basis", "share",
    )  # fmt: skip
    totals = (
        comps.filter(pl.col("is_mix"))
        .group_by("contract", "term", maintain_order=True)
        .agg(
            pl.col("term_order", "unit", "energy_basis").first(),
            (pl.col("share") * pl.col("base_price")).sum().alias("base_price"),
            (pl.col("alpha") * pl.col("fixed")).sum().alias("fixed"),
        )
        .with_columns(
            pl.lit("").alias("comp"),
            pl.lit(-1, pl.Int64).alias("comp_order"),
            pl.lit(1.0).alias("share"),
        )
    )
    units = pl.concat([own, totals.select(own.columns)])
    return units.join(sizes, on="contract", how="left").sort("contract", "term_order", "comp_order")


def items_of(formulas: Formulas, bases: pl.DataFrame) -> pl.DataFrame:
    """One row per unit × (source component, series): the effective weight and the base value I0.

    ``bases`` has contract, term, comp (the engine's component name, "" for a
    plain term), series, base_used.
    """
    comps = formulas.components.with_columns(_alpha().alias("alpha")).select(
        "contract", "term", "comp", "is_mix", "alpha"
    )
    src = (
        formulas.indices.join(comps, on=["contract", "term", "comp"])
        .join(bases, on=["contract", "term", "comp", "series"], how="left")
        .rename({"comp": "src_comp"})
    )
    own = src.select(
        "contract", "term",
        pl.when(pl.col("is_mix")).then(pl.col("src_comp")).otherwise(pl.lit("")).alias("comp"),
        "src_comp", "series", "index_order", "weight", "base_used",
    )  # fmt: skip
    totals = src.filter(pl.col("is_mix")).select(
        "contract", "term", pl.lit("").alias("comp"), "src_comp", "series",
        "index_order", (pl.col("alpha") * pl.col("weight")).alias("weight"), "base_used",
    )  # fmt: skip
    return pl.concat([own, totals])


def _alpha() -> pl.Expr:
    part = pl.col("share") * pl.col("base_price")
    return part / part.sum().over("contract", "term")


def _float(value) -> float | None:
    return None if value is None else float(value)


def engine_run(formulas: Formulas, store: IndexStore, first: int, last: int, batch: int = 2500):
    """The engine's coefficients at the contract schedule in ``[first, last]``, and the base values.

    Returns ``(revisions, bases)``: revisions = contract, term, comp ("" for a
    plain term or a mix total), at, coefficient; bases = contract, term, comp,
    series, base_used (I0 as the engine uses it). The engine runs on ``batch``
    contracts at a time (its memory grows with contracts × dates × indices).
    """
    params = formulas.params.with_columns(
        pl.lit(first, pl.Int64).alias("start_month"), pl.lit(None, pl.Int64).alias("end_month")
    )
    revisions, bases = [], []
    for lo in range(0, max(params.height, 1), batch):
        part = params.slice(lo, batch)
        keep = pl.col("contract").is_in(part["contract"].implode())
        sub = Formulas(part, formulas.components.filter(keep), formulas.indices.filter(keep))
        dates = revision_months(part, first, last, stubs=False)
        extra = part.select("contract", pl.lit(last, pl.Int64).alias("at"))
        result = compute(sub, store, pl.concat([dates, extra]).unique(maintain_order=True))
        frame = result.frame.join(dates, on=["contract", "at"], how="semi")
        revisions.append(
            frame.select("contract", "term", pl.col("comp").fill_null(""), "at", "coefficient")
        )
        # I0 does not depend on the date: the trace at the last month (every contract has it)
        trace = result.restricted(extra, store, None).trace
        bases.append(
            trace.group_by("contract", "term", "comp", "series").agg(pl.col("base_used").first())
        )
    return pl.concat(revisions), pl.concat(bases)


def month_values(store: IndexStore, series: list[str], first: int, last: int) -> pl.DataFrame:
    """Current value of each series for every month of ``[first, last]`` (null when absent).

    Columns: series, month, value. A quarterly series gives each month the value
    of its quarter.
    """
    freq = {s: (store.catalog[s].frequency if s in store.catalog else "monthly") for s in series}
    grid = pl.DataFrame({"series": series}).join(
        pl.DataFrame({"month": pl.int_range(first, last + 1, eager=True)}), how="cross"
    )
    grid = grid.with_columns(
        pl.col("series").replace_strict(freq, return_dtype=pl.String).alias("frequency")
    ).with_columns(
        pl.when(pl.col("frequency") == "quarterly")
        .then(pl.col("month") // 3)
        .otherwise(pl.col("month"))
        .alias("key")
    )
    values = store.resolved().select("series", "key", "value")
    return grid.join(values, on=["series", "key"], how="left").select("series", "month", "value")


def coefficients(items: pl.DataFrame, units: pl.DataFrame, sids: dict[str, int]) -> pl.DataFrame:
    """One row per unit and series: ``x_t = w × I(t) / b``, with ``w / b = Σ w_i / I_i,0``.

    ``units`` carries ``UNIT`` + ``uid``; ``sids`` numbers the series. Columns:
    uid, sid, w, b. A series with one item keeps its weight and base value (so
    that ``x`` is computed as the item's ``w × I / I0``); several items (a mix
    term as a whole, the portfolio) give ``w = Σ w_i / I_i,0`` and ``b = 1``.
    ``w`` is null when an item of that series has no base value (the unit then
    has no monthly path).
    """
    ratio = pl.col("weight") / pl.col("base_used")
    one = pl.len() == 1
    return (
        items.join(units.select(*UNIT, "uid"), on=UNIT)
        .with_columns(pl.col("series").replace_strict(sids, return_dtype=pl.UInt16).alias("sid"))
        .group_by("uid", "sid")
        .agg(
            pl.when(ratio.is_null().any())
            .then(None)
            .when(one)
            .then(pl.col("weight").first())
            .otherwise(ratio.sum())
            .alias("w"),
            pl.when(one).then(pl.col("base_used").first()).otherwise(1.0).alias("b"),
        )
        .sort("uid", "sid")
    )


def monthly_path(
    units: pl.DataFrame, coef: pl.DataFrame, values: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """K of every unit of ``units`` (uid, fixed) for every month of ``values`` (sid, month, value).

    ``coef``: :func:`coefficients` of these units (sorted by uid, sid);
    ``values``: every month of the window for each series. Returns ``(path,
    terms)``: path = uid, month, k (null in a month missing a value), missing,
    one row per unit and month in the order of ``units`` then month; terms =
    uid, sid, month, row (that of the unit and month in ``path``), x (= w × I(t)
    / b, null when missing), in the order of ``coef`` then month. Units without
    any index keep ``k = fixed``.

    Notes
    -----
    Row numbers instead of joins on keys: ``row = position of the unit × n +
    month − first``, so that ``path`` is laid out by scattering the sums of
    ``x`` and ``k`` is found for each ``terms`` row by a gather.
    """
    months = values.get_column("month").unique().sort()
    first, n = (months[0] if months.len() else 0), months.len()
    values = values.sort("sid", "month")
    place = units.select("uid").with_row_index("pos")
    terms = (
        coef.join(place, on="uid", maintain_order="left")
        .join(values, on="sid", maintain_order="left_right")
        .select(
            "uid", "sid", "month",
            (pl.col("pos").cast(pl.Int64) * n + pl.col("month") - first).alias("row"),
            (pl.col("w") * pl.col("value") / pl.col("b")).alias("x"),
        )
    )  # fmt: skip
    per = terms.group_by("row").agg(
        pl.col("x").sum().alias("indexed"), pl.col("x").null_count().alias("missing")
    )
    size = units.height * n
    indexed = pl.zeros(size, pl.Float64, eager=True).scatter(per["row"], per["indexed"])
    missing = pl.zeros(size, pl.UInt32, eager=True).scatter(per["row"], per["missing"])
    row = pl.int_range(0, size, eager=True)
    path = pl.DataFrame(
        {
            "uid": units["uid"].gather(row // n) if n else units["uid"].clear(),
            "month": row % n + first if n else row,
            "fixed": units["fixed"].gather(row // n) if n else units["fixed"].clear(),
            "indexed": indexed,
            "missing": missing,
        }
    ).select(
        "uid",
        "month",
        pl.when(pl.col("missing") == 0).then(pl.col("fixed") + pl.col("indexed")).alias("k"),
        "missing",
    )
    return path, terms
