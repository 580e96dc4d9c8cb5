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


def problems_of(missing: pl.DataFrame, store: IndexStore, as_of: date | None = None) -> list[str]:
    """One message per missing series and cause, naming the terms that need it.

    ``missing`` holds the trace rows whose value or base value is missing. A
    cause met at many revision dates gives one message with the first period
    missing and the number of dates affected.
    """
    bounds = bounds_of(store)
    groups: dict[tuple, dict] = {}
    for r in missing.sort("at", maintain_order=True).iter_rows(named=True):
        cause, message = missing_message(r, store, bounds.get(r["series"]), as_of)
        g = groups.setdefault(
            (r["series"], cause), {"message": message, "users": {}, "dates": set()}
        )
        g["users"].setdefault(f"{r['contract']} {r['term']}", None)
        g["dates"].add(r["at"])
    out = []
    for (_, cause), g in groups.items():
        msg = g["message"]
        if len(g["dates"]) > 1 and cause not in ("no-series", "base"):
            msg += f" ({len(g['dates']) - 1} later revision date(s) affected too)"
        out.append(f"{msg}; needed by: {', '.join(g['users'])}")
    return out


def bounds_of(store: IndexStore) -> dict[str, tuple[str, str]]:
    frame = store.values.group_by("series").agg(
        pl.col("period").min(), pl.col("period").max().alias("last")
    )
    return {s: (a, b) for s, a, b in frame.iter_rows()}


def missing_message(
    r: dict, store: IndexStore, bounds: tuple[str, str] | None = None, as_of: date | None = None
) -> tuple[str, str]:
    """Why a value is missing and what to do about it: ``(cause, message)``.

    Causes: ``no-series`` (declared without values), ``stopped`` (publication
    discontinued: a successor index is needed), ``not-yet`` (after the last value
    in the store), ``before`` (before the first value), ``hole`` (a gap inside
    the series), ``base`` (no value at the base period), ``not-known`` (in the
    store, but published after the ``as_of`` date).
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
        later = store.values.filter((pl.col("series") == sid) & (pl.col("period") == period))
        if later.height:
            first_pub = later["published"].min()
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
