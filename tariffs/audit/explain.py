"""Say *why* a billed index value differs: the classic operator errors, recognised.

Runs on the findings only (a handful of rows), after the pipeline.

Notes
-----
- wrong index month: the billed value equals the series' value for another
  month within two years of the month due;
- provisional value never regularised: the billed value equals an earlier
  vintage (first publication) of the value due;
- base value from another base: billed / due base value equals the series'
  linking coefficient (*coefficient de raccordement*) or its inverse, within 0.1 %.
"""

from __future__ import annotations

import polars as pl

from tariffs.periods import format_month, parse_month
from tariffs.series import IndexStore


def explain(findings: pl.DataFrame, store: IndexStore) -> pl.DataFrame:
    """Append the recognised cause to the message of index and base-value findings."""
    if (
        findings.filter(
            pl.col("code").is_in(["index-value-mismatch", "base-value-mismatch"])
        ).height
        == 0
    ):
        return findings
    values = store.values
    messages = []
    for f in findings.iter_rows(named=True):
        extra = None
        if f["code"] == "index-value-mismatch":
            extra = _index_cause(values, f)
        elif f["code"] == "base-value-mismatch":
            extra = _base_cause(store, f)
        messages.append(f["message"] + (f"; {extra}" if extra else ""))
    return findings.with_columns(pl.Series("message", messages, dtype=pl.String))


def _series(f: dict) -> str:
    return (f["column"] or "").partition(":")[2]


def _index_cause(values: pl.DataFrame, f: dict) -> str | None:
    series, period, billed = _series(f), f["ref_period"], f["billed"]
    rows = values.filter((pl.col("series") == series) & ((pl.col("value") - billed).abs() < 1e-9))
    same = rows.filter(pl.col("period") == period).sort("published", nulls_last=False)
    if same.height:
        published = same["published"][0]
        when = f" published {published}" if published else ""
        return f"billed value is the earlier ({same['status'][0]}) value{when}, not regularised"
    try:
        due_month = parse_month(period)
    except (ValueError, TypeError):
        return None
    near = []
    for other in rows["period"].unique().sort().to_list():
        try:
            month = parse_month(other)
        except ValueError:
            continue
        if abs(month - due_month) <= 24:
            near.append((abs(month - due_month), month))
    if near:
        return f"billed value is that of {format_month(min(near)[1])}: wrong index month"
    return None


def _base_cause(store: IndexStore, f: dict) -> str | None:
    series = _series(f)
    if series not in store.catalog or not f["expected"]:
        return None
    coefficient = store.link_coefficient(series)
    if not coefficient:
        return None
    ratio = f["billed"] / f["expected"]
    for value in (coefficient, 1 / coefficient):
        if abs(ratio / value - 1) < 1e-3:
            return (
                f"ratio {ratio:.4f} = linking coefficient {coefficient:g} of {series}: "
                "base value taken in the other base (missing linking coefficient)"
            )
    return None
