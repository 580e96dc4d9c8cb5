"""Say *why* a billed index value differs: the classic operator errors, recognised.

Runs on the findings only, after the pipeline, once per distinct (finding code,
column, period, billed and due values): a systematic error repeated on every line
of a big file is recognised once.

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
    keys = ["code", "column", "ref_period", "billed", "expected"]
    kinds = pl.col("code").is_in(["index-value-mismatch", "base-value-mismatch"])
    distinct = findings.filter(kinds).select(keys).unique(maintain_order=True)
    by_series: dict[str, pl.DataFrame] = {}
    extras = []
    for f in distinct.iter_rows(named=True):
        if f["code"] == "index-value-mismatch":
            series = _series(f)
            if series not in by_series:
                by_series[series] = store.values.filter(pl.col("series") == series)
            extras.append(_index_cause(by_series[series], f))
        else:
            extras.append(_base_cause(store, f))
    distinct = distinct.with_columns(pl.Series("_extra", extras, dtype=pl.String))
    explained = findings.join(distinct, on=keys, how="left", nulls_equal=True,
                              maintain_order="left")  # fmt: skip
    message = (
        pl.when(pl.col("_extra").is_not_null())
        .then(pl.format("{}; {}", "message", "_extra"))
        .otherwise("message")
    )
    return explained.with_columns(message.alias("message")).drop("_extra")


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
