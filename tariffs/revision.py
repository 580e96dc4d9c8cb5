"""The revision pipeline: index values → K → revised prices, with their trace.

Notes
-----
For each contract × term × component × revision date ``at``::

    K = fixed + Σ weight_i × I_i(at) / I_i,0          (DOMAIN.md, "The revision formula")
    K' = min(max(K, floor), cap)                        flags ``floored`` / ``capped``
    price = round(base_price × round(K', kdec), pdec)   exact decimal rounding (tariffs.rounding)

``I_i(at)`` is picked by the contract's rule (tariffs.picking); ``I_i,0`` is the
value the contract writes, else the series value at the base period picked by
the same rule. A term made of components also gets a total row (component
null): ``price = round(Σ share × component price, pdec)``.

A value that is not in the store never gets guessed: the row's status is
``missing-index`` and ``messages`` says which series and period are missing
and how to import them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl

from tariffs.formulas import Formulas, formulas_of, revision_months
from tariffs.model import Contract
from tariffs.picking import month_text, pick_latest, pick_window, series_frame
from tariffs.rounding import CONTEXT, ambiguous_expr, round_decimal, round_expr, to_decimal
from tariffs.series import IndexStore

KEY = ["contract", "term", "comp", "at"]


@dataclass
class Result:
    """Revised prices (``frame``), their index trace (``trace``) and what could not be computed."""

    frame: pl.DataFrame
    trace: pl.DataFrame
    problems: list[str] = field(default_factory=list)

    def rows(self) -> list[dict]:
        """The JSON rows of INTERFACE.md ("JSON of revise")."""
        return to_rows(self.frame, self.trace)


def compute(
    formulas: Formulas, store: IndexStore, dates: pl.DataFrame, as_of: date | None = None
) -> Result:
    """Revise every term of every contract at the given dates (``contract``, ``at`` month index).

    ``as_of`` restricts the index values to those known on that date (vintages).
    """
    values = store.resolved(as_of)
    series = series_frame(store)
    p = formulas.params
    wanted = formulas.indices.join(dates, on="contract").join(p, on="contract")
    trace = _current_values(wanted, values, series, store, as_of)
    trace = trace.join(
        _base_values(formulas, values, series),
        on=["contract", "term", "comp", "series"],
        how="left",
    )
    trace = _with_base(trace)
    terms = _coefficients(formulas, dates, trace)
    terms = _round_all(terms, trace)
    terms = _safeguard(terms)
    frame = _with_totals(terms)
    problems = _problems(trace, store)
    return Result(
        frame=frame.sort("contract", "term_order", "at", "comp_order"),
        trace=trace,
        problems=problems,
    )


def _current_values(wanted, values, series, store, as_of) -> pl.DataFrame:
    group = ["contract", "term", "comp", "series", "at"]
    keep = [
        "contract",
        "term",
        "comp",
        "series",
        "at",
        "weight",
        "index_order",
        "base_value",
        "base_value_decimals",
    ]
    window = wanted.filter(pl.col("rule") != "latest-published").with_columns(
        (pl.col("at") - pl.col("lag")).alias("last"),
        (pl.col("at") - pl.col("lag") - pl.col("window") + 1).alias("first"),
    )
    parts = [
        window.select(*keep).join(
            pick_window(window.select(*group, "first", "last"), values, series, group), on=group
        )
    ]
    latest = wanted.filter(pl.col("rule") == "latest-published")
    if latest.height:
        parts.append(
            latest.select(*keep).join(
                pick_latest(latest.select(group), store, group, as_of), on=group
            )
        )
    return pl.concat(parts, how="diagonal_relaxed")


def _base_values(formulas: Formulas, values, series) -> pl.DataFrame:
    """Series value at each formula's base period (same mean rule as the current value)."""
    group = ["contract", "term", "comp", "series"]
    base = (
        formulas.indices.join(formulas.components.select("contract", "term", "comp", "base_month", "base_span", "base_period"),
                              on=["contract", "term", "comp"])
        .join(formulas.params.select("contract", "rule", "window"), on="contract")
        .with_columns((pl.col("base_month") + pl.col("base_span") - 1).alias("last"))
        .with_columns(
            pl.when(pl.col("rule") == "mean").then(pl.col("last") - pl.col("window") + 1)
            .otherwise(pl.col("base_month")).alias("first")
        )
    )  # fmt: skip
    picked = pick_window(base.select(*group, "first", "last"), values, series, group)
    return base.select(*group, "base_period").join(
        picked.select(
            *group,
            pl.col("value").alias("series_base_value"),
            pl.col("value_sum").alias("base_sum"),
            pl.col("found").alias("base_found"),
            pl.col("chained").alias("base_chained"),
            pl.col("link_coefficient").alias("base_link_coefficient"),
        ),
        on=group,
    )


def _with_base(trace: pl.DataFrame) -> pl.DataFrame:
    given = pl.col("base_value").is_not_null()
    differs = (
        given
        & pl.col("series_base_value").is_not_null()
        & (
            (pl.col("series_base_value") * pl.lit(10.0).pow(pl.col("base_value_decimals"))).round(0)
            != (pl.col("base_value") * pl.lit(10.0).pow(pl.col("base_value_decimals"))).round(0)
        )
    )
    return trace.with_columns(
        pl.coalesce("base_value", "series_base_value").alias("base_used"),
        pl.when(given).then(pl.lit("contract")).otherwise(pl.lit("series")).alias("base_source"),
        differs.alias("base_differs"),
        (pl.col("chained") | (~given & pl.col("base_chained").fill_null(False))).alias(
            "any_chained"
        ),
    ).with_columns((pl.col("weight") * pl.col("value") / pl.col("base_used")).alias("term_value"))


def _coefficients(formulas: Formulas, dates: pl.DataFrame, trace: pl.DataFrame) -> pl.DataFrame:
    per = trace.group_by(KEY).agg(
        pl.col("term_value").sum().alias("indexed"),
        pl.col("term_value").null_count().alias("missing"),
        (pl.col("status") == "provisional").any().alias("provisional"),
        pl.col("base_differs").any(),
        pl.col("any_chained").any().alias("chained"),
    )
    terms = formulas.components.join(dates, on="contract").join(formulas.params, on="contract")
    terms = terms.join(per, on=KEY, how="left").with_columns(
        pl.col("indexed").fill_null(0.0), pl.col("missing").fill_null(0),
        pl.col("provisional").fill_null(False), pl.col("base_differs").fill_null(False),
        pl.col("chained").fill_null(False),
    )  # fmt: skip
    raw = pl.col("fixed") + pl.col("indexed")
    return terms.with_columns(
        pl.when(pl.col("missing") == 0).then(raw).alias("k_raw"),
    ).with_columns(
        (pl.col("cap").is_not_null() & (pl.col("k_raw") > pl.col("cap")))
        .fill_null(False)
        .alias("capped"),
        (pl.col("floor").is_not_null() & (pl.col("k_raw") < pl.col("floor")))
        .fill_null(False)
        .alias("floored"),
        pl.col("k_raw").clip(pl.col("floor"), pl.col("cap")).alias("k_clamped"),
    )


def _round_all(terms: pl.DataFrame, trace: pl.DataFrame) -> pl.DataFrame:
    """Round K and the price, in float where unambiguous, exactly (Decimal) near a boundary."""
    rule = pl.col("rounding")
    terms = terms.with_columns(
        round_expr(pl.col("k_clamped"), pl.col("kdec"), rule).alias("coefficient")
    )
    terms = terms.with_columns(
        round_expr(pl.col("base_price") * pl.col("coefficient"), pl.col("pdec"), rule).alias(
            "price"
        ),
        (
            ambiguous_expr(pl.col("k_clamped"), pl.col("kdec"), rule)
            | ambiguous_expr(pl.col("base_price") * pl.col("coefficient"), pl.col("pdec"), rule)
        )
        .fill_null(False)
        .alias("ambiguous"),
    )
    hard = terms.filter(pl.col("ambiguous"))
    if hard.height == 0:
        return terms
    exact = _exact(hard, trace)
    return terms.update(exact, on=KEY)


def _exact(hard: pl.DataFrame, trace: pl.DataFrame) -> pl.DataFrame:
    """Recompute K and price with exact decimals for the rows near a rounding boundary."""
    parts = (
        trace.join(hard.select(KEY), on=KEY)
        .group_by(KEY)
        .agg("weight", "value_sum", "found", "base_value", "base_sum", "base_found")
    )
    by_key = {tuple(r[k] for k in KEY): r for r in parts.iter_rows(named=True)}
    rows = []
    for r in hard.iter_rows(named=True):
        k = Decimal(str(r["fixed"]))
        t = by_key.get(tuple(r[c] for c in KEY))
        if t is not None:
            for w, vs, n, bv, bs, bn in zip(
                t["weight"],
                t["value_sum"],
                t["found"],
                t["base_value"],
                t["base_sum"],
                t["base_found"],
                strict=True,
            ):
                value = CONTEXT.divide(_exact_sum(vs), Decimal(n))
                base = (
                    to_decimal(bv)
                    if bv is not None
                    else CONTEXT.divide(_exact_sum(bs), Decimal(bn))
                )
                k = CONTEXT.add(k, CONTEXT.multiply(to_decimal(w), CONTEXT.divide(value, base)))
        if r["cap"] is not None:
            k = min(k, to_decimal(r["cap"]))
        if r["floor"] is not None:
            k = max(k, to_decimal(r["floor"]))
        k = round_decimal(k, r["kdec"], r["rounding"])
        price = round_decimal(
            CONTEXT.multiply(to_decimal(r["base_price"]), k), r["pdec"], r["rounding"]
        )
        rows.append({**{c: r[c] for c in KEY}, "coefficient": float(k), "price": float(price)})
    return pl.DataFrame(
        rows,
        schema={**{c: hard.schema[c] for c in KEY}, "coefficient": pl.Float64, "price": pl.Float64},
    )


def _exact_sum(value_sum: float) -> Decimal:
    """A sum of published decimals (≤ 8 decimals each) recovered exactly from its float."""
    return Decimal(repr(round(value_sum, 8)))


def _safeguard(terms: pl.DataFrame) -> pl.DataFrame:
    prev = pl.col("coefficient").shift(1).over(["contract", "term", "comp"], order_by="at")
    moved = ((pl.col("coefficient") / prev - 1).abs() > pl.col("safeguard")).fill_null(False)
    return terms.with_columns(pl.col("coefficient").alias("_k")).with_columns(
        moved.alias("safeguard_hit")
    )


def _with_totals(terms: pl.DataFrame) -> pl.DataFrame:
    """Add one total row (comp = null) per mix term and date; plain terms keep comp = null."""
    cols = ["contract", "term", "term_order", "comp", "comp_order", "is_mix", "at", "base_period", "unit",
            "energy_basis", "share", "base_price", "coefficient", "price", "missing", "provisional",
            "base_differs", "chained", "capped", "floored", "safeguard_hit", "pdec", "rounding"]  # fmt: skip
    terms = terms.select(cols)
    mix = terms.filter(pl.col("is_mix"))
    plain = terms.filter(~pl.col("is_mix")).with_columns(pl.lit(None, pl.String).alias("comp"))
    if mix.height == 0:
        return plain
    totals = mix.group_by(["contract", "term", "at"], maintain_order=True).agg(
        pl.col(
            "term_order", "is_mix", "base_period", "unit", "energy_basis", "pdec", "rounding"
        ).first(),
        (pl.col("share") * pl.col("base_price")).sum().alias("base_price"),
        (pl.col("share") * pl.col("price")).sum().alias("price_raw"),
        pl.col("missing").sum(),
        pl.col(
            "provisional", "base_differs", "chained", "capped", "floored", "safeguard_hit"
        ).any(),
    )
    exact = [
        float(round_decimal(sum((to_decimal(s) * to_decimal(p) for s, p in zip(ss, ps, strict=True)), Decimal(0)), d, r))
        if None not in ps else None
        for ss, ps, d, r in mix.group_by(["contract", "term", "at"], maintain_order=True)
        .agg("share", "price", pl.col("pdec").first(), pl.col("rounding").first())
        .select("share", "price", "pdec", "rounding").iter_rows()
    ]  # fmt: skip
    totals = totals.with_columns(
        pl.Series("price", exact, dtype=pl.Float64),
        pl.lit(None, pl.String).alias("comp"),
        pl.lit(-1, pl.Int64).alias("comp_order"),
        pl.lit(1.0).alias("share"),
    ).with_columns((pl.col("price") / pl.col("base_price")).round(6).alias("coefficient"))
    return pl.concat([plain, mix, totals.select(cols)], how="diagonal_relaxed")


def _problems(trace: pl.DataFrame, store: IndexStore) -> list[str]:
    """One message per missing series (or missing value), naming the terms that need it.

    A series missing at many revision dates gives one message with the first
    period missing and the number of dates affected.
    """
    missing = trace.filter(pl.col("value").is_null() | pl.col("base_used").is_null())
    groups: dict[tuple, dict] = {}
    for r in missing.sort("at").iter_rows(named=True):
        info = store.catalog.get(r["series"])
        kind = (
            "series"
            if info is None or not info.available
            else ("value" if r["value"] is None else "base")
        )
        g = groups.setdefault((r["series"], kind), {"first": r, "users": {}, "dates": set()})
        g["users"].setdefault(f"{r['contract']} {r['term']}", None)
        g["dates"].add(r["at"])
    out = []
    for (_, kind), g in groups.items():
        msg = missing_message(g["first"], store)
        more = len(g["dates"]) - 1
        if more > 0 and kind == "value":
            msg += f" ({more} later revision date(s) affected too)"
        out.append(f"{msg}; needed by: {', '.join(g['users'])}")
    return out


def missing_message(r: dict, store: IndexStore) -> str:
    """Why a value is missing and what to do about it (import, successor series, base value)."""
    info = store.catalog.get(r["series"])
    if info is None or not info.available:
        return info.missing_message() if info else f"series {r['series']} is not in the catalog"
    if r["value"] is None:
        where = f"for {r['period']}" if r.get("period") else ""
        if info.stopped and r.get("period") and r["period"].split("..")[-1] > info.stopped:
            return (
                f"series {info.id} stopped after {info.stopped} (publication discontinued); "
                f"no value {where}: the contract needs a successor index from then on (amendment)"
            )
        return f"no value of {info.id} {where} in the store; import a newer download (tariffs indices import FILE)"
    return (
        f"no value of {info.id} at the base period {r['base_period']}; "
        "write base_value in the contract or import older values"
    )


def to_rows(frame: pl.DataFrame, trace: pl.DataFrame) -> list[dict]:
    """Frame + trace -> JSON rows of INTERFACE.md."""
    trace_rows: dict[tuple, list[dict]] = {}
    for t in trace.sort("index_order").iter_rows(named=True):
        entry = {
            "series": t["series"], "weight": t["weight"], "base_period": t["base_period"],
            "base_value": t["base_used"], "base_source": t["base_source"], "period": t["period"],
            "value": t["value"], "status": t["status"] if t["value"] is not None else "missing",
        }  # fmt: skip
        if t["published"] is not None:
            entry["published"] = t["published"].isoformat()
        if t["any_chained"]:
            entry["link_coefficient"] = t["link_coefficient"] or t["base_link_coefficient"]
        if t["base_differs"]:
            entry["series_base_value"] = t["series_base_value"]
        trace_rows.setdefault((t["contract"], t["term"], t["comp"], t["at"]), []).append(entry)
    rows = []
    for r in frame.iter_rows(named=True):
        comp_key = r["comp"] if r["comp"] is not None else ""
        flags = [name for name, col in (("capped", "capped"), ("floored", "floored"), ("safeguard", "safeguard_hit"),
                 ("provisional-index", "provisional"), ("base-value-differs", "base_differs"),
                 ("chained-series", "chained")) if r[col]]  # fmt: skip
        status = "ok" if r["missing"] == 0 else "missing-index"
        rows.append({
            "contract": r["contract"], "term": r["term"], "component": r["comp"],
            "at": f"{r['at'] // 12:04d}-{r['at'] % 12 + 1:02d}", "base_price": r["base_price"],
            "coefficient": r["coefficient"] if status == "ok" else None,
            "price": r["price"] if status == "ok" else None,
            "unit": r["unit"], "energy_basis": r["energy_basis"],
            "indices": trace_rows.get((r["contract"], r["term"], comp_key, r["at"]), []) if r["comp"] is not None or not r["is_mix"] else [],
            "flags": flags, "status": status,
        })  # fmt: skip
    return rows


# --- entry points -------------------------------------------------------------------------------


def history(
    contracts: list[Contract], store: IndexStore, first: int, last: int, as_of: date | None = None
) -> Result:
    """Coefficient and price at every revision date of every contract in months ``[first, last]``."""
    formulas = formulas_of(contracts)
    dates = revision_months(formulas.params, first, last)
    return compute(formulas, store, dates, as_of)


def revise(
    contracts: list[Contract],
    store: IndexStore,
    at: int | None = None,
    today: int | None = None,
    as_of: date | None = None,
) -> Result:
    """The price of every term in force in month ``at`` (the latest revision date on or before it).

    With ``at=None``, each contract's latest revision date (up to ``today``) whose
    index values are all in the store; if none is complete, its latest date.
    """
    formulas = formulas_of(contracts)
    last = at if at is not None else (today if today is not None else _this_month())
    notes = _not_in_force(formulas.params, last, explicit=at is not None)
    dates = revision_months(formulas.params, 0, last)
    if at is not None:
        dates = dates.join(
            formulas.params.filter(
                pl.col("end_month").is_null() | (pl.col("end_month") >= at)
            ).select("contract"),
            on="contract",
        )
    # two latest dates per contract: the second one only serves the safeguard comparison
    dates = (
        dates.sort("at")
        .group_by("contract", maintain_order=True)
        .tail(2 if at is not None else 10_000)
    )
    result = compute(formulas, store, dates, as_of)
    frame = result.frame
    if at is None:
        complete = frame.group_by("contract", "at").agg((pl.col("missing") == 0).all().alias("ok"))
        best = (
            complete.sort("at")
            .group_by("contract")
            .agg(
                pl.col("at").filter(pl.col("ok")).last().alias("ok_at"),
                pl.col("at").last().alias("last_at"),
            )
            .select("contract", pl.coalesce("ok_at", "last_at").alias("at"))
        )
    else:
        best = frame.group_by("contract").agg(pl.col("at").max())
    frame = frame.join(best, on=["contract", "at"], how="semi")
    trace = result.trace.join(best, on=["contract", "at"], how="semi")
    return Result(frame=frame, trace=trace, problems=notes + _problems(trace, store))


def _not_in_force(params: pl.DataFrame, month: int, explicit: bool) -> list[str]:
    """Messages for contracts with no price in force in ``month``."""
    notes = []
    for r in params.iter_rows(named=True):
        when = month_name(month)
        if r["start_month"] > month:
            notes.append(
                f"{r['contract']}: starts in {month_name(r['start_month'])}: no price in force in {when}"
            )
        elif explicit and r["end_month"] is not None and r["end_month"] < month:
            notes.append(
                f"{r['contract']}: ended in {month_name(r['end_month'])}: no price in force in {when}"
            )
    return notes


def month_name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _this_month() -> int:
    d = date.today()
    return d.year * 12 + d.month - 1


__all__ = ["Result", "compute", "history", "revise", "to_rows", "month_text", "formulas_of"]
