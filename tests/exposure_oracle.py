"""The exposure report as tariffs computed it before the columnar rewrite: the test oracle.

A verbatim copy of the per-term implementation (tariffs/exposure/analysis.py,
paths.monthly_path and py as of commit 29bd27f): one polars filter per
term in ``_rows`` and ``_missing_notes``, one row per term x series x month in
``monthly_path``. tests/test_exposure_scale.py checks the new code against it.
Only the helpers the rewrite left unchanged (window, engine run, units, items,
portfolio weights, shock parsing) are imported from the package.
"""
# ruff: noqa: E501

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from tariffs.exposure.analysis import (
    _check_reference,
    _oil_share_notes,
    window_of,
)
from tariffs.exposure.paths import UNIT, engine_run, items_of, month_values, units_of
from tariffs.exposure.portfolio import PORTFOLIO, add_portfolio
from tariffs.exposure.shocks import Shock, check_shocks, per_dwelling_year
from tariffs.formulas import formulas_of
from tariffs.model import Contract
from tariffs.periods import format_month
from tariffs.series import IndexStore

DEFAULT_REFERENCE = "BRENT-EUR"
ROUND = True  # False: every figure unrounded (to compare before the report's rounding)


@dataclass
class ExposureReport:
    """The old report: rows, window, monthly K paths, oil reference, notes."""

    rows: list[dict]
    window: tuple[int, int]
    paths: pl.DataFrame
    reference: pl.DataFrame
    reference_id: str
    notes: list[str] = field(default_factory=list)


def exposure(
    contracts: list[Contract],
    store: IndexStore,
    first: int | None = None,
    last: int | None = None,
    shocks: list[Shock] | tuple = (),
    reference: str = DEFAULT_REFERENCE,
) -> ExposureReport:
    """Exposure figures of every term (and component) of ``contracts`` over months ``[first, last]``."""
    formulas = formulas_of(contracts)
    used = sorted(set(formulas.indices["series"].to_list()))
    check_shocks(list(shocks), set(used))
    _check_reference(store, reference)
    first, last = window_of(store, [*used, reference], reference, first, last)
    revisions, bases = engine_run(formulas, store, first, last)
    units = units_of(contracts, formulas)
    items = items_of(formulas, bases)
    units, items, portfolio_notes = add_portfolio(units, items)
    values = month_values(store, used, first, last)
    path, terms = monthly_path(items, units, values)
    notes = _oil_share_notes(store, used) + portfolio_notes
    complete = path.group_by(UNIT).agg((pl.col("missing") == 0).all().alias("ok"))
    complete = complete.filter(pl.col("ok")).select(UNIT)
    notes += _missing_notes(units.join(complete, on=UNIT, how="anti"), items, store, values)
    path = path.join(complete, on=UNIT)
    ref = month_values(store, [reference], first, last).select("month", "value")
    figures = _figures(
        units,
        path,
        terms.join(complete, on=UNIT),
        ref,
        revisions.join(complete, on=UNIT),
        contracts,
    )
    rows = _rows(units, items, figures, terms, store, list(shocks), (first, last), reference)
    labels = units.select(*UNIT, _label().alias("label"))
    return ExposureReport(
        rows=rows,
        window=(first, last),
        paths=path.join(labels, on=UNIT).select(*UNIT, "label", "month", "k"),
        reference=ref,
        reference_id=reference,
        notes=notes,
    )


def _label() -> pl.Expr:
    comp = pl.when(pl.col("comp") == "").then(pl.lit("")).otherwise(pl.lit(" ") + pl.col("comp"))
    return pl.col("contract") + pl.lit(" ") + pl.col("term") + comp


def _missing_notes(units: pl.DataFrame, items, store: IndexStore, values) -> list[str]:
    """Why a unit has no history figures: series without data in the window, or base values missing."""
    holes = values.group_by("series").agg(
        pl.col("value").null_count().alias("n"),
        pl.len().alias("of"),
        pl.col("month").filter(pl.col("value").is_null()).min().alias("at"),
    )
    gaps = {r["series"]: r for r in holes.filter(pl.col("n") > 0).iter_rows(named=True)}
    notes = []
    for u in units.iter_rows(named=True):
        its = _select(items, (u["contract"], u["term"], u["comp"]))
        why = []
        for s in sorted(set(its["series"].to_list()) & set(gaps)):
            g = gaps[s]
            if g["n"] == g["of"] and not store.has_data(s):
                why.append(f"no data for {s} ({_how(store, s)})")
            else:
                why.append(
                    f"{s} misses {g['n']} of the {g['of']} months (first {format_month(g['at'])})"
                )
        nobase = sorted(
            set(its.filter(pl.col("base_used").is_null())["series"].to_list()) - set(gaps)
        )
        if nobase:
            why.append(f"no value of {', '.join(nobase)} at the base period")
        name = f"{u['contract']}: {u['term']}" + (f": {u['comp']}" if u["comp"] else "")
        notes.append(f"{name}: history figures not computed: {'; '.join(why) or 'missing values'}")
    return notes


def _how(store: IndexStore, series: str) -> str:
    info = store.catalog.get(series)
    return "not in the catalog" if info is None else info.missing_message()


def _figures(units, path, terms, ref, revisions, contracts) -> pl.DataFrame:
    frequency = {c.id: c.revision.frequency for c in contracts}
    out = units.select(UNIT)
    parts = [
        monthly_stats(path),
        worst_year(path),
        revision_stats(revisions.drop_nulls("coefficient"), frequency),
        elasticity(path, ref),
    ]
    for part in parts:
        out = out.join(part, on=UNIT, how="left")
    shares = contributions(path, terms)
    by_unit = shares.group_by(UNIT).agg(pl.struct("series", "share").alias("contributions"))
    return out.join(by_unit, on=UNIT, how="left")


def _rows(units, items, figures, terms, store, shocks, window, reference) -> list[dict]:
    first, last = window
    oil = {s: (i.oil_share or 0.0) for s, i in store.catalog.items()}
    at_end = terms.filter(pl.col("month") == last)
    rows = []
    for u in units.join(figures, on=UNIT, how="left").iter_rows(named=True):
        key = (u["contract"], u["term"], u["comp"])
        its = (
            _select(items, key).group_by("series", maintain_order=True).agg(pl.col("weight").sum())
        )
        weights = dict(zip(its["series"], its["weight"], strict=True))
        direct = {s: w * oil.get(s, 0.0) for s, w in weights.items()}
        ends = dict(_select(at_end, key).select("series", "x").iter_rows())
        row = {
            "contract": u["contract"], "term": u["term"], "component": u["comp"] or None,
            "window": [format_month(first), format_month(last)],
            "oil_weight": _r(sum(direct.values())),
            "volatility_annual": _r(u["volatility_annual"]),
            "max_rise_12m": _r(u["max_rise_12m"]), "max_fall_12m": _r(u["max_fall_12m"]),
            "elasticity": _r(u["elasticity"]), "elasticity_reference": reference,
            "elasticity_points": u["elasticity_points"],
            "contributions": _shares(u["contributions"]),
            "shocks": [_shock(s, weights, ends, oil, u) for s in shocks],
            "weights": {s: _r(w) for s, w in weights.items()}, "fixed": _r(u["fixed"]),
            "direct_oil_weight": {s: _r(w) for s, w in direct.items()},
            "elasticity_r2": _r(u["elasticity_r2"]),
            "volatility_annual_revision": _r(u["volatility_annual_revision"]),
            "max_rise_12m_month": _m(u["rise_month"]), "max_fall_12m_month": _m(u["fall_month"]),
            "worst_year": u["worst_year"], "worst_year_rise": _r(u["worst_year_rise"]),
            "worst_revision": _m(u["worst_revision"]), "worst_revision_rise": _r(u["worst_revision_rise"]),
            "k_last": _r(u["fixed"] + sum(ends.values())) if ends and None not in ends.values() else None,
            "base_price": _r(u["base_price"]), "unit": u["unit"],
        }  # fmt: skip
        rows.append(row)
    return _ranked(rows)


def _shares(shares: list[dict] | None) -> dict:
    """Variance shares by series (12 decimals, so that they still sum to 1); {} when K is constant."""
    if not shares or any(s["share"] is None for s in shares):
        return {}
    return {s["series"]: _r(s["share"], 12) for s in shares}


def _select(frame: pl.DataFrame, key: tuple) -> pl.DataFrame:
    c, t, comp = key
    return frame.filter(
        (pl.col("contract") == c) & (pl.col("term") == t) & (pl.col("comp") == comp)
    )


def _shock(shock: Shock, weights: dict, ends: dict, oil: dict, u: dict) -> dict:
    """ΔK, ΔP and € per dwelling-year of one shock at the last month of the window."""
    moves = {s: shock.change * (oil.get(s, 0.0) if shock.is_oil else float(s == shock.series))
             for s in weights}  # fmt: skip
    hit = [s for s, m in moves.items() if m != 0.0]
    missing = [s for s in hit if ends.get(s) is None]
    out = {"shock": shock.text}
    if missing:
        delta = None
        out["note"] = f"no value of {', '.join(missing)} at the last month of the window"
    else:
        delta = sum(ends[s] * moves[s] for s in hit)
    price = None if delta is None else delta * u["base_price"]
    out.update(
        delta_coefficient=_r(delta),
        delta_price=_r(price),
        delta_eur_per_dwelling_year=_r(
            # a component's share of the term: its part of the yearly energy (or of the yearly price)
            per_dwelling_year(
                None if price is None else price * (u.get("share") or 1.0),
                u["unit"],
                u["dwellings"],
                u["consumption_mwh"],
                u["energy_basis"],
            )  # fmt: skip
        ),
        delta_coefficient_at_base=_r(sum(weights[s] * moves[s] for s in hit)),
    )
    return out


def _ranked(rows: list[dict]) -> list[dict]:
    """Rows ordered by their term's oil weight (largest first), the portfolio last; ``oil_rank`` set."""
    own = [r for r in rows if r["contract"] != PORTFOLIO]
    term_weight = {
        (r["contract"], r["term"]): r["oil_weight"] for r in own if r["component"] is None
    }
    order = sorted(term_weight, key=lambda k: -term_weight[k])
    rank = {k: i + 1 for i, k in enumerate(order)}
    for r in rows:
        r["oil_rank"] = rank.get((r["contract"], r["term"]))
    return sorted(rows, key=lambda r: (r["oil_rank"] or len(rank) + 1, r["component"] is not None))


def _r(value, digits: int = 10):
    if value is None or value != value:  # None or NaN
        return None
    return round(float(value), digits) if ROUND else float(value)


def _m(month) -> str | None:
    return None if month is None else format_month(month)


def monthly_path(items: pl.DataFrame, units: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """K of every unit for every month (``UNIT`` + month, k, missing) and the per-item terms.

    Returns ``(path, terms)``; terms = ``UNIT`` + series, month, x (= w × I/I0).
    """
    terms = (
        items.join(values, on="series", how="left")
        .with_columns((pl.col("weight") * pl.col("value") / pl.col("base_used")).alias("x"))
        .group_by(*UNIT, "series", "month")
        .agg(pl.col("x").sum(), pl.col("x").null_count().alias("missing"))
        .with_columns(pl.when(pl.col("missing") == 0).then(pl.col("x")).alias("x"))
    )
    months = values.select("month").unique()
    grid = units.select(*UNIT, "fixed").join(months, how="cross")
    per = terms.group_by(*UNIT, "month").agg(
        pl.col("x").sum().alias("indexed"), pl.col("x").null_count().alias("missing")
    )
    path = grid.join(per, on=[*UNIT, "month"], how="left").with_columns(
        pl.col("indexed").fill_null(0.0), pl.col("missing").fill_null(0)
    )
    path = path.with_columns(
        pl.when(pl.col("missing") == 0).then(pl.col("fixed") + pl.col("indexed")).alias("k")
    ).select(*UNIT, "month", "k", "missing")
    return path.sort(*UNIT, "month", nulls_last=False), terms.drop("missing")


STEP_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


def _dlog(column: str, order: str) -> pl.Expr:
    return pl.col(column).log().diff().over(UNIT, order_by=order)


def monthly_stats(path: pl.DataFrame) -> pl.DataFrame:
    """Volatility and largest 12-month rise and fall of each unit's monthly K."""
    k = pl.col("k")
    moves = path.with_columns(
        _dlog("k", "month").alias("dlog"),
        (k / k.shift(12).over(UNIT, order_by="month") - 1).alias("r12"),
    )
    return moves.group_by(UNIT).agg(
        (pl.col("dlog").std() * math.sqrt(12)).alias("volatility_annual"),
        pl.col("r12").max().alias("max_rise_12m"),
        pl.col("month").filter(pl.col("r12") == pl.col("r12").max()).first().alias("rise_month"),
        pl.col("r12").min().alias("max_fall_12m"),
        pl.col("month").filter(pl.col("r12") == pl.col("r12").min()).first().alias("fall_month"),
        pl.col("dlog").count().alias("monthly_changes"),
    )


def worst_year(path: pl.DataFrame) -> pl.DataFrame:
    """Calendar year whose mean K rose most over the previous year's (complete years only)."""
    years = (
        path.with_columns((pl.col("month") // 12).alias("year"))
        .group_by(*UNIT, "year")
        .agg(pl.col("k").mean().alias("mean_k"), pl.len().alias("n"))
        .filter(pl.col("n") == 12)
        .sort("year")
        .with_columns(
            pl.col("mean_k").shift(1).over(UNIT).alias("prev"),
            pl.col("year").shift(1).over(UNIT).alias("prev_year"),
        )
        .filter(pl.col("prev_year") == pl.col("year") - 1)
        .with_columns((pl.col("mean_k") / pl.col("prev") - 1).alias("rise"))
        .filter((pl.col("rise").abs() > 1e-12).any().over(UNIT))  # a constant K has no worst year
    )
    return (
        years.sort("rise", descending=True)
        .group_by(UNIT)
        .agg(
            pl.col("year").first().alias("worst_year"),
            pl.col("rise").first().alias("worst_year_rise"),
        )
    )


def revision_stats(revisions: pl.DataFrame, frequency: dict[str, str]) -> pl.DataFrame:
    """Volatility at the contract's revision frequency and its worst revision."""
    per_year = {c: 12 / STEP_MONTHS[f] for c, f in frequency.items()}
    moves = revisions.with_columns(
        _dlog("coefficient", "at").alias("dlog"),
        (
            pl.col("coefficient") / pl.col("coefficient").shift(1).over(UNIT, order_by="at") - 1
        ).alias("rise"),
        pl.col("contract").replace_strict(per_year, return_dtype=pl.Float64).alias("per_year"),
    )
    return moves.group_by(UNIT).agg(
        (pl.col("dlog").std() * pl.col("per_year").first().sqrt()).alias(
            "volatility_annual_revision"
        ),
        pl.col("dlog").count().alias("revision_changes"),
        pl.col("rise").max().alias("worst_revision_rise"),
        pl.col("at").filter(pl.col("rise") == pl.col("rise").max()).first().alias("worst_revision"),
    )


def contributions(path: pl.DataFrame, terms: pl.DataFrame) -> pl.DataFrame:
    """Share of Var(K) of each series: ``Cov(x_i, K) / Var(K)`` (UNIT + series, share)."""
    joined = terms.join(path.select(*UNIT, "month", "k"), on=[*UNIT, "month"])
    var = pl.col("k").var()
    return joined.group_by(*UNIT, "series").agg(
        pl.when(var > 1e-18).then(pl.cov("x", "k") / var).alias("share")
    )


def elasticity(path: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """OLS slope of Δlog K on Δlog of the oil reference (``reference``: month, value)."""
    ref = reference.sort("month").select("month", pl.col("value").log().diff().alias("dlog_oil"))
    pairs = (
        path.with_columns(_dlog("k", "month").alias("dlog_k"))
        .join(ref, on="month")
        .drop_nulls(["dlog_k", "dlog_oil"])
    )
    return pairs.group_by(UNIT).agg(
        (pl.cov("dlog_k", "dlog_oil") / pl.col("dlog_oil").var()).alias("elasticity"),
        pl.len().alias("elasticity_points"),
        (pl.corr("dlog_k", "dlog_oil") ** 2).alias("elasticity_r2"),
    )
