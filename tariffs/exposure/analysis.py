"""``exposure()``: oil weight, history statistics and shocks of every term of every contract.

Notes
-----
- Direct oil weight of a unit = ``Σ_i w_i × oil_share_i`` (catalog ``oil_share``;
  a series without one counts 0 and is named in the notes).
- Window: ``[first, last]`` in months. By default, the longest window every
  series with data (and the oil reference) covers. A series with data that does
  not cover a given window is an error; a series declared without data leaves
  the history figures of the units using it null, with a note naming it.
- Statistics and shocks: tariffs.exposure.stats and tariffs.exposure.shocks.
- Rows are ranked by the direct oil weight of their term (largest first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import polars as pl

from tariffs.errors import MissingIndexError, OptionError
from tariffs.exposure import stats
from tariffs.exposure.paths import (
    UNIT,
    coefficients,
    engine_run,
    items_of,
    month_values,
    monthly_path,
    units_of,
)
from tariffs.exposure.portfolio import PORTFOLIO, add_portfolio
from tariffs.exposure.shocks import Shock, check_shocks, per_dwelling_year
from tariffs.formulas import formulas_of
from tariffs.model import Contract
from tariffs.periods import format_month
from tariffs.portfolio import Portfolio
from tariffs.series import IndexStore

DEFAULT_REFERENCE = "BRENT-EUR"
BATCH = 4096  # units whose monthly paths are held in memory at once


@dataclass
class ExposureReport:
    """Rows of INTERFACE.md "JSON of exposure", the monthly K paths, the oil reference and notes.

    The monthly paths are computed again when asked for (``paths``, or by
    slices with ``path_slices``): a portfolio's are far bigger than its rows.
    """

    rows: list[dict]
    window: tuple[int, int]
    reference: pl.DataFrame  # month, value
    reference_id: str
    notes: list[str] = field(default_factory=list)
    monthly: Callable[[pl.Expr | None], Iterator[pl.DataFrame]] | None = field(
        default=None, repr=False
    )
    drawn: pl.DataFrame | None = None  # contract, term, comp, label of the units with a path

    def path_slices(self, units: pl.Expr | None = None) -> Iterator[pl.DataFrame]:
        """Frames of contract, term, comp, label, month, k (complete units only, ``units`` kept)."""
        return iter(()) if self.monthly is None else self.monthly(units)

    @property
    def paths(self) -> pl.DataFrame:
        """contract, term, comp, label, month, k of every complete unit, in that order."""
        schema = {"contract": pl.String, "term": pl.String, "comp": pl.String,
                  "label": pl.String, "month": pl.Int64, "k": pl.Float64}  # fmt: skip
        return pl.concat([pl.DataFrame(schema=schema), *self.path_slices()])


def exposure(
    contracts: list[Contract] | Portfolio,
    store: IndexStore,
    first: int | None = None,
    last: int | None = None,
    shocks: list[Shock] | tuple = (),
    reference: str = DEFAULT_REFERENCE,
) -> ExposureReport:
    """Exposure figures of every term (and component) of ``contracts`` over months ``[first, last]``.

    ``contracts``: Contract objects, or a :class:`tariffs.portfolio.Portfolio`
    (its frames are used as they are: no Contract object is built).
    """
    if isinstance(contracts, Portfolio):
        formulas, sized = contracts.formulas, contracts.loaded  # table rows give no sizes
    else:
        formulas, sized = formulas_of(contracts), contracts
    used = sorted(set(formulas.indices["series"].to_list()))
    check_shocks(list(shocks), set(used))
    _check_reference(store, reference)
    first, last = window_of(store, [*used, reference], reference, first, last)
    revisions, bases = engine_run(formulas, store, first, last)
    units = units_of(sized, formulas)
    items = items_of(formulas, bases)
    units, items, portfolio_notes = add_portfolio(units, items)
    # uid follows (contract, term, comp): the order of the monthly paths; ``order`` the rows'
    units = units.with_row_index("order").sort(UNIT).with_row_index("uid")
    sids = {s: i for i, s in enumerate(used)}
    values = month_values(store, used, first, last)
    sid = pl.col("series").replace_strict(sids, return_dtype=pl.UInt16).alias("sid")
    by_sid = values.select(sid, "month", "value")
    coef = coefficients(items, units, sids)
    ref = month_values(store, [reference], first, last).select("month", "value")
    frequency = dict(formulas.params.select("contract", "frequency").iter_rows())
    revisions = revisions.join(units.select(*UNIT, "uid"), on=UNIT)
    figures, ends, complete = _history(units, coef, by_sid, ref, revisions, frequency, last)
    notes = _oil_share_notes(store, used) + portfolio_notes
    incomplete = units.join(complete, on="uid", how="anti").sort("order")
    notes += _missing_notes(incomplete, items, store, values)
    rows = _rows(units, items, figures, ends, used, store, list(shocks), (first, last), reference)
    labels = units.join(complete, on="uid", how="semi").select(
        "uid", *UNIT, "fixed", _label().alias("label")
    )
    return ExposureReport(
        rows=rows,
        window=(first, last),
        reference=ref,
        reference_id=reference,
        notes=notes,
        monthly=lambda keep=None: _monthly(labels, coef, by_sid, keep),
        drawn=labels.select(*UNIT, "label"),
    )


def _history(units, coef, values, ref, revisions, frequency, last):
    """Statistics of every unit, computed by batches of ``BATCH`` units.

    Returns ``(figures, ends, complete)``: figures = uid + the statistics of
    tariffs.exposure.stats (null for a unit missing a month) + contributions
    (list of sid, share); ends = uid, sid, x at the last month; complete = uid
    of the units whose K has every month of the window.
    """
    parts, ends, complete = [], [], []
    for lo in range(0, units.height, BATCH):
        part = units.slice(lo, BATCH)
        hi = lo + part.height - 1
        path, terms = monthly_path(part, coef.filter(pl.col("uid").is_between(lo, hi)), values)
        ends.append(terms.filter(pl.col("month") == last).select("uid", "sid", "x"))
        bad = path.filter(pl.col("missing") > 0).get_column("uid").unique()
        ok = part.select("uid").filter(~pl.col("uid").is_in(bad.implode()))
        complete.append(ok)
        terms = terms.with_columns(path["k"].gather(terms["row"]).alias("k"))
        path = path.filter(~pl.col("uid").is_in(bad.implode()))
        terms = terms.filter(~pl.col("uid").is_in(bad.implode()))
        out = part.select("uid")
        for figures in (
            stats.monthly_stats(path),
            stats.worst_year(path),
            stats.elasticity(path, ref),
        ):
            out = out.join(figures, on="uid", how="left")
        shares = stats.contributions(terms)
        by_unit = shares.group_by("uid").agg(pl.struct("sid", "share").alias("contributions"))
        parts.append(out.join(by_unit, on="uid", how="left"))
    complete = pl.concat(complete)
    done = revisions.join(complete, on="uid", how="semi").drop_nulls("coefficient")
    figures = pl.concat(parts).join(stats.revision_stats(done, frequency), on="uid", how="left")
    return figures, pl.concat(ends), complete


def _monthly(labels: pl.DataFrame, coef, values, keep: pl.Expr | None) -> Iterator[pl.DataFrame]:
    """The monthly K of the ``labels`` units (those kept by ``keep``), by batches, in uid order."""
    if keep is not None:
        labels = labels.filter(keep)
    for lo in range(0, labels.height, BATCH):
        part = labels.slice(lo, BATCH)
        path, _ = monthly_path(part, coef.join(part.select("uid"), on="uid", how="semi"), values)
        yield path.join(part, on="uid").select(*UNIT, "label", "month", "k")


def _label() -> pl.Expr:
    comp = pl.when(pl.col("comp") == "").then(pl.lit("")).otherwise(pl.lit(" ") + pl.col("comp"))
    return pl.col("contract") + pl.lit(" ") + pl.col("term") + comp


def _check_reference(store: IndexStore, reference: str) -> None:
    info = store.catalog.get(reference)
    if info is None:
        raise OptionError(
            f"--oil-reference {reference}: not in the index catalog "
            f"(e.g. {', '.join(sorted(store.catalog)[:8])})"
        )
    if store.values.filter(pl.col("series") == reference).height == 0:
        raise MissingIndexError(
            f"--oil-reference {reference}: the store has no values of this series; "
            f"{info.missing_message()}"
        )


def coverage(store: IndexStore, series: list[str]) -> dict[str, tuple[int, int, bool]]:
    """First month, last month and whether every month between has a value, per series with data."""
    known = store.resolved().filter(pl.col("series").is_in(series))
    quarterly = pl.col("frequency") == "quarterly"
    spans = (
        known.with_columns(
            pl.when(quarterly).then(pl.col("key") * 3).otherwise(pl.col("key")).alias("lo"),
            pl.when(quarterly).then(pl.col("key") * 3 + 2).otherwise(pl.col("key")).alias("hi"),
        )
        .group_by("series")
        .agg(
            pl.col("lo").min(),
            pl.col("hi").max(),
            (pl.col("hi") - pl.col("lo") + 1).sum().alias("n"),
        )
    )
    return {
        r["series"]: (r["lo"], r["hi"], r["n"] == r["hi"] - r["lo"] + 1)
        for r in spans.iter_rows(named=True)
    }


def window_of(
    store: IndexStore, series: list[str], reference: str, first: int | None, last: int | None
) -> tuple[int, int]:
    """The window asked for, checked against the data.

    By default, the longest window that the oil reference and every series with
    complete data (no gap between its first and last value) cover. A window
    beyond the first or last value of such a series is an error. A series with
    gaps (a few transcribed points) neither narrows the window nor stops it: the
    units using it get a note, like those using a series without data.
    """
    if first is not None and last is not None and first > last:
        raise OptionError(f"--from {format_month(first)} is after --to {format_month(last)}")
    spans = coverage(store, series)
    dense = [v for s, v in spans.items() if v[2] or s == reference]
    lo, hi = max(v[0] for v in dense), min(v[1] for v in dense)
    given = (first is not None, last is not None)
    first = lo if first is None else first
    last = hi if last is None else last
    if first > last:
        raise MissingIndexError(
            f"no window that all series cover: they have values together over "
            f"{format_month(lo)}..{format_month(hi)} only, asked {format_month(first)}..{format_month(last)}"
        )
    outside = [
        f"{s} has values {format_month(a)}..{format_month(b)} only"
        for s, (a, b, full) in sorted(spans.items())
        if (full or s == reference) and ((given[0] and first < a) or (given[1] and last > b))
    ]
    outside += _reference_gaps(store, reference, first, last)
    if outside:
        raise MissingIndexError(
            f"the indices do not cover the window {format_month(first)}..{format_month(last)}: "
            + "; ".join(outside)
        )
    return first, last


def _reference_gaps(store: IndexStore, reference: str, first: int, last: int) -> list[str]:
    values = month_values(store, [reference], first, last)
    holes = values.filter(pl.col("value").is_null())["month"]
    if holes.len() == 0:
        return []
    return [
        f"the oil reference {reference} misses {holes.len()} month(s) "
        f"(first {format_month(holes.min())})"
    ]


def _oil_share_notes(store: IndexStore, used: list[str]) -> list[str]:
    none = [s for s in used if s in store.catalog and store.catalog[s].oil_share is None]
    if not none:
        return []
    return [
        f"oil_share not declared in the catalog for {', '.join(none)}: counted as 0 in oil_weight"
    ]


def _missing_notes(incomplete: pl.DataFrame, items, store: IndexStore, values) -> list[str]:
    """Why a unit has no history figures: series without data in the window, or base values missing."""
    holes = values.group_by("series").agg(
        pl.col("value").null_count().alias("n"),
        pl.len().alias("of"),
        pl.col("month").filter(pl.col("value").is_null()).min().alias("at"),
    )
    gaps = {r["series"]: r for r in holes.filter(pl.col("n") > 0).iter_rows(named=True)}
    per_unit = (
        items.join(incomplete.select(UNIT), on=UNIT, how="semi")
        .group_by(UNIT)
        .agg(
            pl.col("series").unique().alias("series"),
            pl.col("series").filter(pl.col("base_used").is_null()).unique().alias("nobase"),
        )
    )
    per_unit = incomplete.select(UNIT).join(per_unit, on=UNIT, how="left", maintain_order="left")
    notes = []
    for u in per_unit.iter_rows(named=True):
        why = []
        for s in sorted(set(u["series"] or ()) & set(gaps)):
            g = gaps[s]
            if g["n"] == g["of"] and not store.has_data(s):
                why.append(f"no data for {s} ({_how(store, s)})")
            else:
                why.append(
                    f"{s} misses {g['n']} of the {g['of']} months (first {format_month(g['at'])})"
                )
        nobase = sorted(set(u["nobase"] or ()) - set(gaps))
        if nobase:
            why.append(f"no value of {', '.join(nobase)} at the base period")
        name = f"{u['contract']}: {u['term']}" + (f": {u['comp']}" if u["comp"] else "")
        notes.append(f"{name}: history figures not computed: {'; '.join(why) or 'missing values'}")
    return notes


def _how(store: IndexStore, series: str) -> str:
    info = store.catalog.get(series)
    return "not in the catalog" if info is None else info.missing_message()


def _rows(units, items, figures, ends, used, store, shocks, window, reference) -> list[dict]:
    """The report rows, in the units' order then ranked (tariffs.exposure.analysis._ranked)."""
    first, last = window
    oil = {s: (i.oil_share or 0.0) for s, i in store.catalog.items()}
    weights = (
        items.group_by(*UNIT, "series", maintain_order=True)
        .agg(pl.col("weight").sum())
        .group_by(UNIT, maintain_order=True)
        .agg(pl.col("series").alias("w_series"), pl.col("weight").alias("w"))
    )
    at_end = ends.group_by("uid").agg(pl.col("sid").alias("e_sid"), pl.col("x").alias("e_x"))
    table = (
        units.join(figures, on="uid", how="left")
        .join(weights, on=UNIT, how="left")
        .join(at_end, on="uid", how="left")
        .sort("order")
    )
    span = [format_month(first), format_month(last)]
    rows = []
    for u in table.iter_rows(named=True):
        weights = dict(zip(u["w_series"] or (), u["w"] or (), strict=True))
        direct = {s: w * oil.get(s, 0.0) for s, w in weights.items()}
        ends = {used[s]: x for s, x in zip(u["e_sid"] or (), u["e_x"] or (), strict=True)}
        shares = u["contributions"] and [{"series": used[s["sid"]], "share": s["share"]}
                                         for s in u["contributions"]]  # fmt: skip
        row = {
            "contract": u["contract"], "term": u["term"], "component": u["comp"] or None,
            "window": list(span),
            "oil_weight": _r(sum(direct.values())),
            "volatility_annual": _r(u["volatility_annual"]),
            "max_rise_12m": _r(u["max_rise_12m"]), "max_fall_12m": _r(u["max_fall_12m"]),
            "elasticity": _r(u["elasticity"]), "elasticity_reference": reference,
            "elasticity_points": u["elasticity_points"],
            "contributions": _shares(shares, list(weights)),
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


def _shares(shares: list[dict] | None, order: list[str]) -> dict:
    """Variance shares by series (12 decimals, so that they still sum to 1); {} when K is constant.

    In the order of the unit's weights.
    """
    if not shares or any(s["share"] is None for s in shares):
        return {}
    by = {s["series"]: _r(s["share"], 12) for s in shares}
    return {s: by[s] for s in order if s in by}


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
    return round(float(value), digits)


def _m(month) -> str | None:
    return None if month is None else format_month(month)
