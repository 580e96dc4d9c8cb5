"""Why a value is missing, and what the user can do about it.

The revision never guesses a missing index value: each missing value becomes
one message naming the series, the cause (no values at all, publication
stopped, not yet in the store, before its first value, a gap, not yet
published on the ``--as-of`` date, no value at the base period), the terms that
need it, and how to import it.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from tariffs.periods import format_month as month_name
from tariffs.series import IndexStore

#: at most this many terms are named in one message; the rest are counted (every term's own row
#: says ``missing-index``)
NAMED_TERMS = 20
#: the trace columns a message reads
READ = ("series", "contract", "term", "at", "period", "value", "base_period")


def problems_of(missing: pl.DataFrame, store: IndexStore, as_of: date | None = None) -> list[str]:
    """One message per missing series and cause, naming the terms that need it.

    ``missing`` holds the trace rows whose value or base value is missing. A
    cause met at many revision dates gives one message with the first period
    missing and the number of dates affected.

    Notes
    -----
    A row's cause depends on its series, its period and whether its value is
    there (then the base value is missing) only: the cause is found once per
    distinct ``(series, period, value present)``, not per row (a portfolio
    priced past the store's end has one missing row per term and date). The
    message of a (series, cause) is the one of its earliest row (by ``at``,
    then row order); it names the first :data:`NAMED_TERMS` terms needing it,
    in that order, and counts the others.
    """
    if missing.height == 0:
        return []
    bounds = bounds_of(store)
    known = _published(store) if as_of is not None else {}
    rows = missing.select(READ).sort("at", maintain_order=True)
    keys = rows.select("series", "period", pl.col("value").is_not_null().alias("has")).unique()
    causes = [
        missing_message({"series": s, "period": p, "value": 1 if has else None, "at": 0,
                         "base_period": ""}, store, bounds.get(s), as_of, known)[0]
        for s, p, has in keys.iter_rows()
    ]  # fmt: skip
    keys = keys.with_columns(pl.Series("cause", causes, dtype=pl.String))
    rows = rows.with_columns(pl.col("value").is_not_null().alias("has")).join(
        keys, on=["series", "period", "has"], how="left", nulls_equal=True, maintain_order="left"
    )
    groups = rows.group_by("series", "cause", maintain_order=True).agg(
        pl.all().exclude("has").first().name.prefix("first_"),
        pl.format("{} {}", "contract", "term").unique(maintain_order=True).alias("users"),
        pl.col("at").n_unique().alias("dates"),
    )
    out = []
    for g in groups.iter_rows(named=True):
        first = {c: g[f"first_{c}"] for c in READ if c != "series"} | {"series": g["series"]}
        cause, msg = missing_message(first, store, bounds.get(g["series"]), as_of, known)
        if g["dates"] > 1 and cause not in ("no-series", "base"):
            msg += f" ({g['dates'] - 1} later revision date(s) affected too)"
        out.append(f"{msg}; needed by: {_named(g['users'])}")
    return out


def _named(users: list[str]) -> str:
    """The first :data:`NAMED_TERMS` terms, and how many more."""
    if len(users) <= NAMED_TERMS:
        return ", ".join(users)
    return f"{', '.join(users[:NAMED_TERMS])} and {len(users) - NAMED_TERMS:,} more term(s)"


def _published(store: IndexStore) -> dict[tuple[str, str], date | None]:
    """(series, period) -> first publication date, of every value in the store."""
    first = store.values.group_by("series", "period").agg(pl.col("published").min())
    return {(s, p): d for s, p, d in first.iter_rows()}


def bounds_of(store: IndexStore) -> dict[str, tuple[str, str]]:
    frame = store.values.group_by("series").agg(
        pl.col("period").min(), pl.col("period").max().alias("last")
    )
    return {s: (a, b) for s, a, b in frame.iter_rows()}


def missing_message(
    r: dict,
    store: IndexStore,
    bounds: tuple[str, str] | None = None,
    as_of: date | None = None,
    published: dict[tuple[str, str], date | None] | None = None,
) -> tuple[str, str]:
    """Why a value is missing and what to do about it: ``(cause, message)``.

    Causes: ``no-series`` (declared without values), ``stopped`` (publication
    discontinued: a successor index is needed), ``not-yet`` (after the last value
    in the store), ``before`` (before the first value), ``hole`` (a gap inside
    the series), ``base`` (no value at the base period), ``not-known`` (in the
    store, but published after the ``as_of`` date). ``published``: (series, period) -> first
    publication date (:func:`_published`), to find ``not-known`` without a look-up per call.
    """
    info = store.catalog.get(r["series"])
    if info is None or not info.available or bounds is None:
        text = info.missing_message() if info else f"series {r['series']} is not in the catalog"
        return "no-series", text
    sid = info.id
    if r["value"] is not None:
        return "base", (f"no value of {sid} at the base period {r['base_period']} (values from {bounds[0]}); "
                        "write base_value in the contract or import older values")  # fmt: skip
    period = r.get("period") or ""
    first, _, last = period.partition("..")
    last = last or first
    if as_of is not None and period and "." not in period:
        published = _published(store) if published is None else published
        if (sid, period) in published:
            first_pub = published[(sid, period)]
            return "not-known", (f"the value of {sid} for {period} was not yet published on {as_of.isoformat()}"
                                 + (f" (first published {first_pub.isoformat()})" if first_pub else ""))  # fmt: skip
    if info.stopped and (not period or last > info.stopped):
        return "stopped", (f"series {sid} stopped after {info.stopped} (publication discontinued); "
                           f"it cannot serve the revision of {month_name(r['at'])}: the contract needs a "
                           "successor index from then on (amendment)")  # fmt: skip
    if not period:
        return "not-yet", (f"no value of {sid} was published by the revision date {month_name(r['at'])} "
                           "(latest-published); import the publication of that time")  # fmt: skip
    if last > bounds[1]:
        return "not-yet", (f"no value of {sid} for {period}: the store ends at {bounds[1]}; "
                           "import a newer download (tariffs indices import FILE)")  # fmt: skip
    if first < bounds[0]:
        return "before", (f"no value of {sid} for {period}: the store starts at {bounds[0]}; "
                          "import older values (tariffs indices import FILE)")  # fmt: skip
    return (
        "hole",
        f"no value of {sid} for some month of {period} (a gap in the store); import the missing values",
    )
