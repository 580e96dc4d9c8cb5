"""The causes of index findings recognised once per distinct finding: the same messages as one
look-up per finding, on findings repeated many times (a systematic error)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tariffs.audit.checks import FINDING_SCHEMA
from tariffs.audit.explain import _base_cause, _index_cause, explain
from tariffs.series import load_store

INDICES = Path(__file__).parents[1] / "indices"


def _per_finding(findings: pl.DataFrame, store) -> list[str]:
    """The messages as first built: one look-up per finding row (the reference)."""
    out = []
    for f in findings.iter_rows(named=True):
        extra = None
        if f["code"] == "index-value-mismatch":
            extra = _index_cause(store.values, f)
        elif f["code"] == "base-value-mismatch":
            extra = _base_cause(store, f)
        out.append(f["message"] + (f"; {extra}" if extra else ""))
    return out


def test_explained_once_per_distinct_finding_as_per_finding():
    store = load_store(INDICES)
    fod = store.resolved().filter(pl.col("series") == "FOD").sort("key")
    periods, values = fod["period"].to_list(), fod["value"].to_list()
    rows = []
    for i in range(24, 60):
        wrong_month = values[i + (i % 5) - 2]  # the value of a month nearby (or its own)
        for billed in (wrong_month, values[i] * 1.37, values[i]):
            rows.append(("index-value-mismatch", "index:FOD", periods[i], billed, values[i]))
        rows.append(("base-value-mismatch", "base_index:FOD", periods[i], values[i] * 2, values[i]))
        rows.append(("unit-price-mismatch", "unit_price", None, 21.0, 20.5))
    findings = pl.DataFrame(
        [{"row": n, "code": c, "column": col, "ref_period": p, "billed": b, "expected": e,
          "message": f"finding {n}"} for n, (c, col, p, b, e) in enumerate(rows * 3)]
    ).with_columns(pl.lit(None, pl.String).alias(k) for k in FINDING_SCHEMA
                   if k not in ("row", "code", "column", "ref_period", "billed", "expected", "message"))  # fmt: skip
    findings = findings.cast(FINDING_SCHEMA).select(list(FINDING_SCHEMA))
    explained = explain(findings, store)
    assert explained["message"].to_list() == _per_finding(findings, store)
    assert explained.drop("message").equals(findings.drop("message"))
    said = explained["message"].str.contains("wrong index month").sum()
    assert said > 50  # the nearby months are recognised (a test that finds no cause proves little)
