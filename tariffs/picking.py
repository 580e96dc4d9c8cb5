"""Index values picked by a contract's rule, for every revision date and base period.

Rules (INTERFACE.md ``[revision].index_rule``):

- ``lag``: the value of month ``at - lag_months`` (for a quarterly series, the
  quarter containing that month);
- ``mean``: the mean of the ``window_months`` monthly values ending at month
  ``at - lag_months`` (a quarterly series counts once per month it covers); the
  base value is the same mean ending at the base period;
- ``latest-published``: the last period whose value was published on or before
  the first day of the revision month, as known on that day (vintages); a value
  without a publication date (or whose only date is when it was first seen, see
  ``IndexStore.dated``) is assumed published at the end of the month after its
  period (a one-month publication delay). A
  series that stopped (catalog ``stopped``) no longer serves once the revision
  month is more than ``STOPPED_GRACE_MONTHS`` after its last period: the
  contract needs a successor index, and the value is reported missing.

A needed value that is not in the store leaves ``value`` null; the caller
reports it as missing, never guesses.

Notes
-----
Every window is looked up in a *dense monthly table* of each series (one row per
month from its first to its last value, quarterly values repeated over their
three months) carrying running sums: the mean over months ``[first, last]`` is
``(S[last] - S[first-1]) / (N[last] - N[first-1])``, complete when the count
equals ``last - first + 1``. Windows are deduplicated before the lookup, so
the cost grows with the number of distinct (series, window) pairs, not with the
number of contracts.

The engine (:mod:`tariffs.revision`) reads the windows of every formula index ×
date from a grid of (series, lag, window) shapes × months (:func:`grid_windows`):
a row's window number is arithmetic on integers, no hash join per row.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from tariffs.formulas import gather_at, pack, unpack
from tariffs.periods import first_day
from tariffs.series import IndexStore

STOPPED_GRACE_MONTHS = 3
WINDOW = ["series", "first", "last"]


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
    schema = {
        "series": pl.String,
        "frequency": pl.String,
        "available": pl.Boolean,
        "stopped": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def dense_months(values: pl.DataFrame) -> pl.DataFrame:
    """One row per series × month between its first and last value, with running sums.

    ``values`` is ``IndexStore.resolved()``. Columns: series, month, value,
    status, published, link_coefficient, and the running ``s`` (sum of values),
    ``n`` (count), ``p`` (provisional), ``c`` (chained), ``r`` (revised since first
    publication).
    """
    monthly = values.with_columns(
        pl.when(pl.col("frequency") == "quarterly")
        .then(pl.int_ranges(pl.col("key") * 3, pl.col("key") * 3 + 3))
        .otherwise(pl.concat_list(pl.col("key")))
        .alias("month")
    ).explode("month")
    bounds = monthly.group_by("series").agg(
        pl.col("month").min().alias("lo"), pl.col("month").max().alias("hi")
    )
    grid = bounds.with_columns(pl.int_ranges("lo", pl.col("hi") + 1).alias("month")).explode(
        "month"
    )
    dense = grid.select("series", "month").join(
        monthly.select("series", "month", "frequency", "period", "value", "status", "published", "chained",
                       "link_coefficient", "first_value", "assumed"),
        on=["series", "month"], how="left",
    ).sort("series", "month")  # fmt: skip
    present = pl.col("value").is_not_null()
    return dense.with_columns(
        pl.col("value").fill_null(0.0).cum_sum().over("series").alias("s"),
        present.cast(pl.Int64).cum_sum().over("series").alias("n"),
        (pl.col("status") == "provisional").fill_null(False).cast(pl.Int64).cum_sum().over("series").alias("p"),
        pl.col("chained").fill_null(False).cast(pl.Int64).cum_sum().over("series").alias("c"),
        (present & (pl.col("first_value") != pl.col("value"))).fill_null(False).cast(pl.Int64)
        .cum_sum().over("series").alias("r"),
        pl.col("link_coefficient").max().over("series").alias("series_link"),
    )  # fmt: skip


def pick_windows(windows: pl.DataFrame, dense: pl.DataFrame, series: pl.DataFrame) -> pl.DataFrame:
    """Mean value of each distinct window ``(series, first, last)`` (month indices).

    Returns the window columns + value (null when a month is missing), value_sum,
    found, expected, period (``YYYY-MM``, ``YYYY-Qn`` or ``first..last``),
    status, published, chained, link_coefficient, revised_since.
    """
    windows = windows.unique().join(series.select("series", "frequency"), on="series", how="left")
    bounds = dense.group_by("series").agg(
        pl.col("month").min().alias("lo"), pl.col("month").max().alias("hi")
    )
    cums = dense.select("series", "month", "s", "n", "p", "c", "r")
    w = windows.join(bounds, on="series", how="left").with_columns(
        pl.min_horizontal("last", "hi").alias("_end"), (pl.col("first") - 1).alias("_start")
    )
    w = w.join(cums.rename({c: f"{c}1" for c in "snpcr"}), left_on=["series", "_end"],
               right_on=["series", "month"], how="left")  # fmt: skip
    w = w.join(cums.rename({c: f"{c}0" for c in "snpcr"}), left_on=["series", "_start"],
               right_on=["series", "month"], how="left")  # fmt: skip
    diff = {c: (pl.col(f"{c}1").fill_null(0) - pl.col(f"{c}0").fill_null(0)) for c in "snpcr"}
    before_data = pl.col("_start") < pl.col("lo")
    w = w.with_columns(
        pl.when(pl.col("_end") < pl.col("first")).then(0).otherwise(diff["n"]).alias("found"),
        diff["s"].alias("value_sum"), diff["p"].alias("_prov"), diff["c"].alias("_chained"),
        diff["r"].alias("_revised"), (pl.col("last") - pl.col("first") + 1).alias("expected"),
    ).with_columns(
        # a window starting before the data has no "previous" running sum: the left join gave nulls (0)
        pl.when(before_data | pl.col("s0").is_not_null()).then(pl.col("found")).otherwise(0).alias("found")
    )  # fmt: skip
    at_last = dense.select("series", "month", "period", "status", "published", "assumed", "link_coefficient", "series_link",
                           pl.col("value").alias("_v_last"))  # fmt: skip
    w = w.join(at_last, left_on=["series", "last"], right_on=["series", "month"], how="left")
    single = pl.col("first") == pl.col("last")
    label = (
        pl.when(single)
        .then(period_text(pl.col("first"), pl.col("frequency")))
        .otherwise(pl.format("{}..{}", month_text(pl.col("first")), month_text(pl.col("last"))))
    )
    complete = pl.col("found") == pl.col("expected")
    # one month: the value itself, not a difference of running sums (no float noise)
    value_sum = pl.when(single).then(pl.col("_v_last")).otherwise(pl.col("value_sum"))
    return w.select(
        *WINDOW,
        pl.when(complete).then(value_sum / pl.col("found")).alias("value"),
        value_sum.alias("value_sum"), pl.col("found").cast(pl.Int64), pl.col("expected").cast(pl.Int64),
        label.alias("period"),
        pl.when(pl.col("_prov") > 0).then(pl.lit("provisional")).otherwise(pl.col("status")).alias("status"),
        "published",
        pl.col("assumed").fill_null(False),
        (pl.col("_chained") > 0).alias("chained"),
        pl.when(pl.col("_chained") > 0).then(pl.col("series_link")).alias("link_coefficient"),
        (pl.col("_revised") > 0).alias("revised_since"),
    )  # fmt: skip


def vintages(store: IndexStore) -> pl.DataFrame:
    """Every vintage, chained series extended back in their own base (series, period, value, status, published)."""
    frame = (
        store.dated()
        .drop("assumed")
        .with_columns(
            (
                pl.col("published").is_null()
                | (pl.col("published") == pl.col("published").min().over("series", "period"))
            ).alias("is_first")
        )
    )
    return store.chain_extended(frame).drop("chained", "link_coefficient")


def pick_latest(wanted: pl.DataFrame, store: IndexStore, values: pl.DataFrame,
                series: pl.DataFrame, as_of: date | None = None) -> pl.DataFrame:  # fmt: skip
    """``latest-published``: for each distinct (series, at), the last value published by the revision date.

    Returns series, at + the columns of :func:`pick_windows` (first = last = the
    month of the period picked).
    """
    pairs = wanted.select("series", "at").unique()
    days = (
        pairs.select("at")
        .unique()
        .with_columns(
            pl.col("at")
            .map_elements(
                lambda m: _day(m, None if store.first_vintages_known else as_of),
                return_dtype=pl.Date,
            )
            .alias("day")
        )
    )
    pairs = pairs.join(days, on="at").join(series, on="series", how="left")
    periods = values.select(
        "series",
        "period",
        "key",
        "frequency",
        "first_published",
        "link_coefficient",
        "chained",
        "assumed",
    )
    end_month = (
        pl.when(pl.col("frequency") == "quarterly")
        .then(pl.col("key") * 3 + 2)
        .otherwise(pl.col("key"))
    )
    cand = pairs.join(periods.drop("frequency"), on="series").with_columns(end_month.alias("_end"))
    # undated values: assumed published at the end of the month after their period
    cand = cand.filter(
        (pl.col("first_published").is_null() & (pl.col("_end") + 1 < pl.col("at")))
        | ((pl.col("first_published") <= pl.col("day")) & (pl.col("_end") < pl.col("at")))
    )
    best = cand.sort("key").group_by("series", "at").agg(pl.all().last())
    vint = vintages(store).rename({"value": "v", "status": "st", "published": "pub"})
    seen = pl.col("pub").is_null() | (pl.col("pub") <= pl.col("day"))
    if (
        store.first_vintages_known and as_of is not None
    ):  # revisions after the cut are not known yet
        seen = seen & (pl.col("is_first") | (pl.col("pub") <= as_of))
    known = best.select("series", "at", "day", "period").join(vint, on=["series", "period"]).filter(seen).sort("pub", nulls_last=False).group_by("series", "at").agg(
        pl.col("v").last(), pl.col("st").last(), pl.col("pub").last(), pl.col("v").first().alias("v0")
    )  # fmt: skip
    stopped_month = (pl.col("stopped").str.slice(0, 4).cast(pl.Int64) * 12
                     + pl.col("stopped").str.slice(5, 2).cast(pl.Int64, strict=False) - 1)  # fmt: skip
    out = pairs.join(best.select("series", "at", "period", "_end", "link_coefficient", "chained", "assumed"),
                     on=["series", "at"], how="left").join(known, on=["series", "at"], how="left")  # fmt: skip
    serves = pl.col("stopped").is_null() | (
        pl.col("at") <= stopped_month + STOPPED_GRACE_MONTHS + 1
    )
    value = pl.when(serves).then(pl.col("v"))
    return out.select(
        "series", "at", pl.col("_end").alias("first"), pl.col("_end").alias("last"),
        value.alias("value"), value.alias("value_sum"),
        value.is_not_null().cast(pl.Int64).alias("found"), pl.lit(1, pl.Int64).alias("expected"),
        pl.when(serves).then(pl.col("period")).otherwise(pl.lit(None, pl.String)).alias("period"),
        pl.col("st").alias("status"), pl.col("pub").alias("published"),
        (pl.col("assumed").fill_null(False) & (pl.col("v0") == pl.col("v")).fill_null(False)).alias("assumed"),
        pl.col("chained").fill_null(False), "link_coefficient",
        (pl.col("v0") != pl.col("v")).fill_null(False).alias("revised_since"),
    )  # fmt: skip


def _day(month: int, as_of: date | None) -> date:
    day = first_day(month)
    return min(day, as_of) if as_of is not None else day


def with_base(idx: pl.DataFrame, dense: pl.DataFrame, series: pl.DataFrame,
               sids: pl.DataFrame) -> pl.DataFrame:  # fmt: skip
    """The base value used (I0) of each formula index, its source, and the flags it raises.

    Notes
    -----
    The contract's ``base_value`` binds. When the series at the base period comes
    from an older chained series and the contract's I0 equals the *older* series'
    value (as written, to its decimals), I0 is converted into the current base by
    the linking coefficient (I0 / coefficient) and the row is flagged
    ``chained-series``; otherwise a different published value gives
    ``base-value-differs``. ``wb`` = weight / I0.
    """
    idx = idx.with_columns(
        window_key(pl.col("sid"), pl.col("bfirst"), pl.col("blast")).alias("_wkey")
    )
    wanted = windows_of(idx["_wkey"].unique().to_frame(), sids)
    base = pick_windows(wanted.select(WINDOW), dense, series).join(
        wanted, on=WINDOW, maintain_order="left"
    ).select(
        "_wkey",
        pl.col("value").alias("series_base_value"), pl.col("value_sum").alias("base_sum"),
        pl.col("found").alias("base_found"), pl.col("chained").alias("base_chained"),
        pl.col("link_coefficient").alias("base_link_coefficient"),
    )  # fmt: skip
    idx = idx.join(base, on="_wkey", how="left", maintain_order="left").drop("_wkey")
    scale = pl.lit(10.0).pow(pl.col("base_value_decimals"))
    link = pl.col("base_link_coefficient")
    same = lambda a, b: ((a * scale).round(0) == (b * scale).round(0)).fill_null(False)  # noqa: E731
    old_base = pl.col("base_chained").fill_null(False) & same(pl.col("series_base_value") * link,
                                                              pl.col("base_value"))  # fmt: skip
    differs = pl.col("series_base_value").is_not_null() & ~pl.col("_old") & ~same(
        pl.col("series_base_value"), pl.col("base_value"))  # fmt: skip
    used = pl.when(pl.col("_old")).then(pl.col("base_value") / link).otherwise(pl.col("base_value"))
    # the flags and the conversion concern the indices whose contract writes I0 only
    rows = idx["base_value"].is_not_null().arg_true()
    given = (
        idx[rows]
        .with_columns(old_base.alias("_old"))
        .select("_old", differs.alias("_differs"), used.alias("_used"))
    )
    old = pl.repeat(False, idx.height, eager=True).scatter(rows, given["_old"])
    differs = pl.repeat(False, idx.height, eager=True).scatter(rows, given["_differs"])
    given_bv = pl.col("base_value").is_not_null()
    return idx.with_columns(
        idx["series_base_value"].scatter(rows, given["_used"]).alias("base_used"),
        pl.when(given_bv).then(pl.lit("contract")).otherwise(pl.lit("series")).alias("base_source"),
        differs.alias("base_differs"),
        (old | (~given_bv & pl.col("base_chained").fill_null(False))).alias("base_any_chained"),
    ).with_columns((pl.col("weight") / pl.col("base_used")).alias("wb"))


def windows_of(keys: pl.DataFrame, sids: pl.DataFrame) -> pl.DataFrame:
    """``_wkey`` (:func:`window_key`) -> + sid, series, first, last."""
    sid, last = unpack(pl.col("_wkey"))
    sid, first = unpack(sid)
    keys = keys.with_columns(sid.alias("sid"), first.alias("first"), last.alias("last"))
    return keys.with_columns(gather_at(sids["series"], "sid"))


def window_key(sid: pl.Expr, first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """One Int64 key of a window (series number, first month, last month), see :func:`pack`."""
    return pack(pack(sid, first), last)


GRID_LIMIT = 2_000_000  # windows in a grid of (series, lag, window) shapes × months


def grid_windows(idx, plain, dates_i, dense, series, sids) -> tuple[pl.DataFrame, pl.Expr] | None:
    """Every window of every index shape (series, lag, window) at every month of the dates,
    and the expression of a row's ``wid`` in that grid (no hash join); None when the
    grid would hold more than ``GRID_LIMIT`` windows.

    Notes
    -----
    ``wid = shape × span + at - first_month``. A window of a series the catalog
    does not know is not looked up (``wid`` null: the value is missing).
    """
    if plain.height == 0 or dates_i.height == 0:
        return None
    shape_key = (pl.col("sid") * 2**20 + pl.col("lag")) * 2**20 + pl.col("window")
    shapes = plain.select(shape_key.unique(maintain_order=True).alias("_shape"))
    lo, hi = dates_i["at"].min(), dates_i["at"].max()
    span = hi - lo + 1
    if shapes.height * span > GRID_LIMIT:
        return None
    shapes = shapes.with_columns(
        (pl.col("_shape") // 2**40).alias("sid"), (pl.col("_shape") // 2**20 % 2**20).alias("lag"),
        (pl.col("_shape") % 2**20).alias("window"),
    ).with_row_index("shape")  # fmt: skip
    grid = shapes.join(pl.DataFrame({"at": pl.int_range(lo, hi + 1, eager=True)}), how="cross")
    grid = grid.select(
        "sid", (pl.col("at") - pl.col("lag") - pl.col("window") + 1).alias("first"),
        (pl.col("at") - pl.col("lag")).alias("last"),
    ).with_columns(gather_at(sids["series"], "sid"))  # fmt: skip
    looked = pick_windows(grid.select(WINDOW), dense, series)
    windows = grid.join(looked, on=WINDOW, how="left", maintain_order="left").select(
        *looked.columns, "sid"
    )
    windows = windows.with_row_index("wid").with_columns(
        pl.col("wid").cast(pl.Int64),
        (pl.col("status") == "provisional").fill_null(False).alias("prov"),
    )
    number = shapes.select("_shape", pl.col("shape").cast(pl.Int64))
    shape_of = idx.select(shape_key.alias("_shape")).join(  # by iid, the row number in idx
        number, on="_shape", how="left", maintain_order="left"
    )["shape"]
    known = gather_at(idx["sid"], "iid") < series.height
    place = gather_at(shape_of, "iid") * span + pl.col("at") - lo
    return windows, pl.when(known).then(place)


def hashed_windows(wanted: pl.LazyFrame, dense, series, sids) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``big`` and the windows, each distinct window looked up once and joined by its key."""
    cols = ["iid", "tid", "at", "wid", "value", "wb", "prov", "chained"]
    last = pl.col("at") - pl.col("lag")
    wkey = window_key(pl.col("sid"), last - pl.col("window") + 1, last)
    wanted = wanted.select("iid", "tid", "at", "wb", wkey.alias("wkey")).collect()
    keys = windows_of(wanted.select(pl.col("wkey").unique().alias("_wkey")), sids)
    windows = pick_windows(keys.select(WINDOW), dense, series)
    windows = windows.join(keys.rename({"_wkey": "wkey"}), on=WINDOW, maintain_order="left")
    # a series the catalog does not know has no window: its value is missing
    windows = windows.filter(pl.col("sid") < series.height).with_row_index("wid")
    windows = windows.with_columns(
        pl.col("wid").cast(pl.Int64),
        (pl.col("status") == "provisional").fill_null(False).alias("prov"),
    )
    looked = windows.select("wkey", "wid", "value", "prov", "chained")
    big = wanted.join(looked, on="wkey", how="left", maintain_order="left").select(cols)
    return big, windows.drop("wkey")
