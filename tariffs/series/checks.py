"""Checks of an index store (``tariffs indices check``) and its per-series summary (``list``).

Notes
-----
Findings, per series with data:

- ``gap``: periods missing between the first and the last value;
- ``duplicate``: two rows for one period with the same publication date (error);
- ``non-positive``: a value <= 0 (error);
- ``jump``: |v_t / v_(t-1) - 1| above ``threshold`` between consecutive periods
  (a base change or a typo is likely);
- ``chain-jump``: the same test across the link of a chained series;
- ``base-change-without-link``: two series whose ids differ by a suffix
  plus a year (``ICHT-IME`` / ``ICHT-IME-1997``) with different bases and no chain between them;
- ``old-provisional``: a value still provisional more than a year after it was published;
- ``declared``: a series named in the catalog without values (how to import it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from tariffs.periods import format_month, format_quarter, parse_period
from tariffs.series.store import IndexStore


@dataclass(frozen=True)
class Finding:
    series: str
    check: str
    severity: str  # error | warning | info
    message: str
    period: str | None = None

    def row(self) -> dict:
        return {"series": self.series, "check": self.check, "severity": self.severity,
                "period": self.period, "message": self.message}  # fmt: skip


def summary(store: IndexStore) -> list[dict]:
    """One row per catalog series: coverage, last period, last update, status counts."""
    known = store.known()
    rows = []
    for sid, info in store.catalog.items():
        own = known.filter(pl.col("series") == sid)
        counts = dict(own.group_by("status").len().iter_rows()) if own.height else {}
        vintages = store.values.filter(pl.col("series") == sid)
        rows.append({
            "id": sid, "title": info.title, "frequency": info.frequency, "base": info.base,
            "first": own["period"].min() if own.height else None,
            "last": own["period"].max() if own.height else None,
            "periods": own.height, "vintage_rows": vintages.height,
            "last_update": _iso(vintages["published"].max()) if vintages.height else None,
            "status": ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
            "oil_share": info.oil_share,
            "chain": f"{info.chain.series} until {info.chain.until}" if info.chain else None,
            "stopped": info.stopped,
            "available": info.available,
        })  # fmt: skip
    return rows


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def check_store(
    store: IndexStore, threshold: float = 0.25, today: date | None = None
) -> list[Finding]:
    today = today or date.today()
    findings: list[Finding] = []
    known = store.known()
    for sid, info in store.catalog.items():
        if not info.available:
            findings.append(Finding(sid, "declared", "info", info.missing_message()))
            continue
        own = known.filter(pl.col("series") == sid).sort("period")
        findings += _gaps(sid, own["period"].to_list())
        findings += _jumps(sid, own, threshold, "jump")
        findings += _values(sid, store.values.filter(pl.col("series") == sid))
        old = own.filter(
            (pl.col("status") == "provisional")
            & (pl.col("published") < today - timedelta(days=365))
        )
        for period, published in old.select("period", "published").iter_rows():
            findings.append(
                Finding(
                    sid,
                    "old-provisional",
                    "warning",
                    f"still provisional, published {published}",
                    period,
                )
            )
    findings += _links(store, threshold)
    return findings


def _gaps(sid: str, periods: list[str]) -> list[Finding]:
    if len(periods) < 2:
        return []
    keys = [parse_period(p)[1] for p in periods]
    fmt = format_quarter if "-Q" in periods[0] else format_month
    missing = sorted(set(range(keys[0], keys[-1] + 1)) - set(keys))
    if not missing:
        return []
    shown = ", ".join(fmt(k) for k in missing[:6]) + (" ..." if len(missing) > 6 else "")
    return [
        Finding(
            sid,
            "gap",
            "warning",
            f"{len(missing)} periods missing between {periods[0]} and {periods[-1]}: {shown}",
        )
    ]


def _jumps(sid: str, own: pl.DataFrame, threshold: float, check: str) -> list[Finding]:
    moves = own.with_columns(
        (pl.col("value") / pl.col("value").shift(1) - 1).alias("move"),
        pl.col("period").shift(1).alias("before"),
    ).filter(pl.col("move").abs() > threshold)
    return [
        Finding(sid, check, "warning", f"moves {move:+.1%} from {before} (threshold {threshold:.0%}): base change or typo?", period)
        for period, before, move in moves.select("period", "before", "move").iter_rows()
    ]  # fmt: skip


def _values(sid: str, vintages: pl.DataFrame) -> list[Finding]:
    out = [
        Finding(sid, "non-positive", "error", f"value {v} is not positive", p)
        for p, v in vintages.filter(pl.col("value") <= 0).select("period", "value").iter_rows()
    ]
    dup = vintages.filter(pl.struct("period", "published").is_duplicated())
    out += [
        Finding(sid, "duplicate", "error", "two rows with the same publication date", p)
        for p in dup["period"].unique().sort()
    ]
    return out


def _links(store: IndexStore, threshold: float) -> list[Finding]:
    findings = []
    resolved = store.resolved()
    for sid, info in store.catalog.items():
        if info.chain and info.available:
            own = resolved.filter(pl.col("series") == sid).sort("key")
            for f in _jumps(sid, own, threshold, "chain-jump"):
                findings.append(f)
        for other, o in store.catalog.items():
            if (
                re.fullmatch(re.escape(sid) + r"-\d{4}", other)
                and info.base
                and o.base
                and info.base != o.base
            ):
                linked = (info.chain and info.chain.series == other) or (
                    o.chain and o.chain.series == sid
                )
                if not linked:
                    findings.append(Finding(sid, "base-change-without-link", "warning",
                        f"{other} ({o.base}) looks like another base of {sid} ({info.base}) but no chain links them; "
                        "values of the two cannot be mixed in one K"))  # fmt: skip
    return findings
