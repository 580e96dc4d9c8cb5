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

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from tariffs.diagnostics import problems_of
from tariffs.formulas import Formulas, formulas_of, on_schedule, revision_months
from tariffs.periods import format_month as month_name
from tariffs.picking import (
    WINDOW,
    dense_months,
    month_text,
    pick_latest,
    pick_windows,
    series_frame,
)
from tariffs.rounding import CONTEXT, ambiguous_expr, round_decimal, round_expr, to_decimal
from tariffs.series import IndexStore


class Result:
    """Revised prices (``frame``), their index trace (``trace``) and what could not be computed.

    ``frame``: one row per contract × term × component × date (plus a total row,
    ``comp`` null, per mix term). ``trace``: one row per index of each formula and
    date (series, period, value, status, base value...). The trace is built on
    first access from the pipeline's integer-keyed frames.
    """

    def __init__(self, frame: pl.DataFrame, trace: pl.DataFrame | None = None,
                 problems: list[str] | None = None, *, _lazy: Pipeline | None = None,
                 _keep: pl.DataFrame | None = None):  # fmt: skip
        self.frame = frame
        self._trace = trace
        self._lazy = _lazy
        self._keep = _keep  # (contract, at) rows the trace is restricted to
        self.problems = list(problems or [])

    @property
    def trace(self) -> pl.DataFrame:
        if self._trace is None:
            trace = self._lazy.trace()
            if self._keep is not None:
                trace = trace.join(self._keep, on=["contract", "at"], how="semi")
            self._trace = trace
        return self._trace

    def restricted(self, keep: pl.DataFrame, store: IndexStore, as_of: date | None,
                   notes: list[str] = ()) -> Result:  # fmt: skip
        """The same result for the (contract, at) rows of ``keep`` only; the trace stays lazy."""
        frame = self.frame.join(keep, on=["contract", "at"], how="semi")
        missing = self._lazy.missing_trace().join(keep, on=["contract", "at"], how="semi")
        problems = list(notes) + problems_of(missing, store, as_of)
        return Result(frame, problems=problems, _lazy=self._lazy, _keep=keep)

    def rows(self) -> list[dict]:
        """The JSON rows of INTERFACE.md ("JSON of revise")."""
        return to_rows(self.frame, self.trace)


@dataclass
class Pipeline:
    """The integer-keyed frames of one computation.

    ``big``: one row per formula index × date (iid, tid, at, wid, value);
    ``idx``: one row per formula index (iid) with its base value;
    ``windows``: one row per distinct index window looked up (wid);
    ``names``: one row per component (tid) with its text keys.
    """

    big: pl.DataFrame
    idx: pl.DataFrame
    windows: pl.DataFrame
    names: pl.DataFrame

    def missing_trace(self) -> pl.DataFrame:
        """The trace rows whose value or base value is missing."""
        no_base = self.idx.filter(pl.col("base_used").is_null()).select("iid")
        keys = pl.concat([self.big.filter(pl.col("value").is_null()).select(TKEY),
                          self.big.join(no_base, on="iid", how="semi").select(TKEY)]).unique()  # fmt: skip
        return _missing(self.trace(keys)) if keys.height else self.trace(keys)

    def trace(self, keys: pl.DataFrame | None = None) -> pl.DataFrame:
        """The readable trace, for every row or only those of ``keys`` (tid, at)."""
        big = self.big if keys is None else self.big.join(keys, on=TKEY, how="semi")
        return (
            big.drop("wb", "prov", "chained")
            .join(self.idx.drop("tid", "sid", "lag", "window", "is_latest", "cid", "wb"), on="iid", how="left")
            .join(self.windows.drop("value", "sid", "series", "first", "last", "prov"), on="wid", how="left")
            .join(self.names, on="tid", how="left")
            .with_columns((pl.col("chained").fill_null(False) | pl.col("base_any_chained")).alias("any_chained"))
        )  # fmt: skip


def compute(
    formulas: Formulas, store: IndexStore, dates: pl.DataFrame, as_of: date | None = None
) -> Result:
    """Revise every term of every contract at the given dates (``contract``, ``at`` month index).

    ``as_of`` restricts the index values to those known on that date (vintages).
    """
    values = store.resolved(as_of)
    series = series_frame(store).with_row_index("sid").with_columns(pl.col("sid").cast(pl.Int64))
    comps = formulas.components.with_row_index("tid").with_columns(pl.col("tid").cast(pl.Int64))
    cids = (
        formulas.params.select("contract")
        .with_row_index("cid")
        .with_columns(pl.col("cid").cast(pl.Int64))
    )
    dense = dense_months(values)
    idx = _with_base(_index_rows(formulas, comps, cids, series), dense, series)
    stubs = _stubs(formulas.params, dates)
    dates_i = (
        dates.join(stubs, on=["contract", "at"], how="anti")
        .join(cids, on="contract")
        .select("cid", "at")
    )
    big, windows = _current(idx, dates_i, dense, series, store, values, as_of)
    pipe = Pipeline(big, idx, windows, comps.select("tid", "term", "comp", "base_period"))
    terms = _coefficients(formulas, comps, dates, pipe, stubs)
    terms = _round_all(terms, pipe)
    terms = _safeguard(terms)
    frame = _with_totals(terms)
    problems = problems_of(pipe.missing_trace(), store, as_of)
    return Result(
        frame=(
            frame.sort("cid", "term_order", "at", "comp_order") if frame["is_mix"].any() else frame
        ).drop("cid"),
        problems=problems,
        _lazy=pipe,
    )


def _index_rows(formulas: Formulas, comps, cids, series) -> pl.DataFrame:
    """One row per formula index (iid), with its rule and base window."""
    return (
        formulas.indices.join(comps.select("contract", "term", "comp", "tid", "base_month", "base_span"),
                              on=["contract", "term", "comp"])
        .join(formulas.params.select("contract", "rule", "lag", "window"), on="contract")
        .join(cids, on="contract")
        .join(series.select("series", "sid"), on="series", how="left")
        .with_columns((pl.col("base_month") + pl.col("base_span") - 1).alias("blast"))
        .with_columns(
            pl.when(pl.col("rule") == "mean").then(pl.col("blast") - pl.col("window") + 1)
            .otherwise(pl.col("base_month")).alias("bfirst"),
            (pl.col("rule") == "latest-published").alias("is_latest"),
        )
        .with_row_index("iid").with_columns(pl.col("iid").cast(pl.Int64))
        .select("iid", "tid", "cid", "contract", "series", "sid", "index_order", "weight", "base_value",
                "base_value_decimals", "is_latest", "lag", "window", "bfirst", "blast")
    )  # fmt: skip


def _with_base(idx: pl.DataFrame, dense: pl.DataFrame, series: pl.DataFrame) -> pl.DataFrame:
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
    base = pick_windows(idx.select("series", pl.col("bfirst").alias("first"), pl.col("blast").alias("last")),
                        dense, series).select(
        "series", pl.col("first").alias("bfirst"), pl.col("last").alias("blast"),
        pl.col("value").alias("series_base_value"), pl.col("value_sum").alias("base_sum"),
        pl.col("found").alias("base_found"), pl.col("chained").alias("base_chained"),
        pl.col("link_coefficient").alias("base_link_coefficient"),
    )  # fmt: skip
    idx = idx.join(base, on=["series", "bfirst", "blast"], how="left")
    scale = pl.lit(10.0).pow(pl.col("base_value_decimals"))
    given = pl.col("base_value").is_not_null()
    link = pl.col("base_link_coefficient")
    same = lambda a, b: ((a * scale).round(0) == (b * scale).round(0)).fill_null(False)  # noqa: E731
    old_base = given & pl.col("base_chained").fill_null(False) & same(pl.col("series_base_value") * link,
                                                                       pl.col("base_value"))  # fmt: skip
    differs = given & pl.col("series_base_value").is_not_null() & ~old_base & ~same(
        pl.col("series_base_value"), pl.col("base_value"))  # fmt: skip
    used = pl.when(old_base).then(pl.col("base_value") / link).otherwise(
        pl.coalesce("base_value", "series_base_value"))  # fmt: skip
    return idx.with_columns(
        used.alias("base_used"),
        pl.when(given).then(pl.lit("contract")).otherwise(pl.lit("series")).alias("base_source"),
        differs.alias("base_differs"),
        (old_base | (~given & pl.col("base_chained").fill_null(False))).alias("base_any_chained"),
    ).with_columns((pl.col("weight") / pl.col("base_used")).alias("wb"))


def _current(
    idx, dates_i, dense, series, store, values, as_of
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each formula index at each date: ``big`` (iid, tid, at, wid, value, wb, prov, chained) and the windows."""
    cols = ["iid", "tid", "at", "wid", "value", "wb", "prov", "chained"]
    wanted = idx.filter(~pl.col("is_latest")).select(
        "iid", "tid", "cid", "series", "sid", "lag", "window", "wb"
    )
    wanted = wanted.join(dates_i, on="cid").with_columns(
        (pl.col("at") - pl.col("lag")).alias("last"),
        (pl.col("at") - pl.col("lag") - pl.col("window") + 1).alias("first"),
    )
    windows = pick_windows(wanted.select(WINDOW).unique(), dense, series)
    windows = windows.join(series.select("series", "sid"), on="series").with_row_index("wid")
    windows = windows.with_columns(
        pl.col("wid").cast(pl.Int64),
        (pl.col("status") == "provisional").fill_null(False).alias("prov"),
    )
    looked = windows.select("sid", "first", "last", "wid", "value", "prov", "chained")
    parts = [wanted.join(looked, on=["sid", "first", "last"], how="left").select(cols)]
    latest = idx.filter(pl.col("is_latest"))
    if latest.height:
        rows = latest.select("iid", "tid", "cid", "series", "wb").join(dates_i, on="cid")
        picked = pick_latest(rows, store, values, series, as_of).join(
            series.select("series", "sid"), on="series"
        )
        picked = picked.with_row_index("wid").with_columns(
            pl.col("wid").cast(pl.Int64) + windows.height,
            (pl.col("status") == "provisional").fill_null(False).alias("prov"),
        )
        looked = picked.select("series", "at", "wid", "value", "prov", "chained")
        parts.append(rows.join(looked, on=["series", "at"], how="left").select(cols))
        windows = pl.concat([windows, picked.select(windows.columns)], how="vertical_relaxed")
    return pl.concat(parts), windows


TKEY = ["tid", "at"]


def _stubs(params: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """The (contract, at) dates that open a stub period: the start month, off the revision schedule.

    Until the first revision the base prices apply: K = 1, no index is looked up.
    """
    return (
        dates.join(
            params.select("contract", "start_month", "frequency", "rev_month"), on="contract"
        )
        .filter((pl.col("at") == pl.col("start_month")) & ~on_schedule(pl.col("at")))
        .select("contract", "at")
    )


def _coefficients(
    formulas: Formulas,
    comps: pl.DataFrame,
    dates: pl.DataFrame,
    pipe: Pipeline,
    stubs: pl.DataFrame,
) -> pl.DataFrame:
    """K per component and date: ``fixed + Σ weight × I/I0`` (1 in a stub period), then cap and floor."""
    term_value = pl.col("wb") * pl.col("value")
    per = pipe.big.group_by(TKEY).agg(
        term_value.sum().alias("indexed"),
        term_value.null_count().alias("missing"),
        pl.col("prov").any().alias("provisional"),
        pl.col("chained").any().alias("chained_now"),
    )
    base_flags = pipe.idx.group_by("tid").agg(
        pl.col("base_differs").any(), pl.col("base_any_chained").any()
    )
    params = formulas.params.with_row_index("cid").with_columns(pl.col("cid").cast(pl.Int64))
    comps = comps.join(params.select("contract", "cid"), on="contract").join(
        base_flags, on="tid", how="left"
    )
    # components without any index (a fixed price) have no row in `per`: add their dates
    dates_i = dates.join(params.select("contract", "cid"), on="contract").select("cid", "at")
    bare = comps.join(pipe.idx.select("tid").unique(), on="tid", how="anti").select("tid", "cid")
    stub_i = stubs.join(params.select("contract", "cid"), on="contract").select("cid", "at")
    indexed = comps.join(bare, on="tid", how="anti").select("tid", "cid")
    keys = pl.concat(
        [
            per,
            bare.join(dates_i, on="cid").select(TKEY),
            indexed.join(stub_i, on="cid").select(TKEY),
        ],
        how="diagonal_relaxed",
    )
    # output order (contract, term, date, component), sorted on integers only; then joins with
    # small right-hand frames (per component, per contract) that keep that order
    order = comps.select("tid", (pl.col("comp_order") == 0).cum_sum().alias("trid"), "comp_order")
    keys = (
        keys.join(order, on="tid", how="left")
        .sort("trid", "at", "comp_order")
        .drop("trid", "comp_order")
    )
    terms = keys.join(comps, on="tid", how="left", maintain_order="left")
    terms = terms.join(params.drop("contract"), on="cid", how="left", maintain_order="left")
    terms = terms.join(stub_i.with_columns(pl.lit(True).alias("stub")), on=["cid", "at"], how="left",
                       maintain_order="left").with_columns(pl.col("stub").fill_null(False))  # fmt: skip
    stub = pl.col("stub")
    terms = terms.with_columns(
        pl.col("indexed").fill_null(0.0), pl.col("missing").fill_null(0).cast(pl.Int64),
        pl.col("provisional").fill_null(False), (pl.col("base_differs").fill_null(False) & ~stub),
        ((pl.col("chained_now").fill_null(False) | pl.col("base_any_chained").fill_null(False)) & ~stub)
        .alias("chained"),
    )  # fmt: skip
    raw = pl.when(stub).then(pl.lit(1.0)).otherwise(pl.col("fixed") + pl.col("indexed"))
    return terms.with_columns(pl.when(pl.col("missing") == 0).then(raw).alias("k_raw")).with_columns(
        (pl.col("cap").is_not_null() & (pl.col("k_raw") > pl.col("cap"))).fill_null(False).alias("capped"),
        (pl.col("floor").is_not_null() & (pl.col("k_raw") < pl.col("floor"))).fill_null(False).alias("floored"),
        pl.col("k_raw").clip(pl.col("floor"), pl.col("cap")).alias("k_clamped"),
    )  # fmt: skip


def _round_all(terms: pl.DataFrame, pipe: Pipeline) -> pl.DataFrame:
    """Round K and the price, in float where unambiguous, exactly (Decimal) near a boundary."""
    rule = pl.col("rounding")
    kdecs = terms["kdec"].drop_nulls().unique().to_list()
    pdecs = terms["pdec"].drop_nulls().unique().to_list()
    terms = terms.with_columns(
        round_expr(pl.col("k_clamped"), pl.col("kdec"), rule, kdecs).alias("coefficient")
    )
    product = pl.col("base_price") * pl.col("coefficient")
    terms = terms.with_columns(
        round_expr(product, pl.col("pdec"), rule, pdecs).alias("price"),
        (ambiguous_expr(pl.col("k_clamped"), pl.col("kdec"), rule) | ambiguous_expr(product, pl.col("pdec"), rule))
        .fill_null(False).alias("ambiguous"),
    )  # fmt: skip
    hard = terms.filter(pl.col("ambiguous"))
    if hard.height == 0:
        return terms
    exact = _exact(hard, pipe.trace(hard.select(TKEY))).rename({"coefficient": "_k", "price": "_p"})
    return (
        terms.join(exact, on=TKEY, how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_k", "coefficient").alias("coefficient"),
            pl.coalesce("_p", "price").alias("price"),
        )
        .drop("_k", "_p")
    )


def _exact(hard: pl.DataFrame, trace: pl.DataFrame) -> pl.DataFrame:
    """Recompute K and price with exact decimals for the rows near a rounding boundary."""
    parts = (
        trace.join(hard.select(TKEY), on=TKEY)
        .group_by(TKEY)
        .agg("weight", "value_sum", "found", "base_value", "base_sum", "base_found", "base_used")
    )
    by_key = {(r["tid"], r["at"]): r for r in parts.iter_rows(named=True)}
    rows = []
    for r in hard.iter_rows(named=True):
        k = _exact_k(r, by_key.get((r["tid"], r["at"])))
        k = round_decimal(k, r["kdec"], r["rounding"])
        price = round_decimal(
            CONTEXT.multiply(to_decimal(r["base_price"]), k), r["pdec"], r["rounding"]
        )
        rows.append(
            {"tid": r["tid"], "at": r["at"], "coefficient": float(k), "price": float(price)}
        )
    return pl.DataFrame(
        rows,
        schema={"tid": pl.Int64, "at": pl.Int64, "coefficient": pl.Float64, "price": pl.Float64},
    )


def _exact_k(r: dict, t: dict | None) -> Decimal:
    """K = fixed + Σ w × I/I0 with 28 significant digits, clamped by cap and floor."""
    k = to_decimal(r["fixed"])
    if t is not None:
        for w, vs, n, bv, bs, bn, bu in zip(t["weight"], t["value_sum"], t["found"], t["base_value"],
                                            t["base_sum"], t["base_found"], t["base_used"], strict=True):  # fmt: skip
            value = CONTEXT.divide(_exact_sum(vs), Decimal(n))
            if bv is not None and to_decimal(bv) == to_decimal(bu):
                base = to_decimal(bv)
            elif bv is None:
                base = CONTEXT.divide(_exact_sum(bs), Decimal(bn))
            else:  # the contract's I0 in an older base, divided by the linking coefficient
                base = Decimal(repr(round(bu, 12)))
            k = CONTEXT.add(k, CONTEXT.multiply(to_decimal(w), CONTEXT.divide(value, base)))
    if r["cap"] is not None:
        k = min(k, to_decimal(r["cap"]))
    if r["floor"] is not None:
        k = max(k, to_decimal(r["floor"]))
    return k


def _exact_sum(value_sum: float) -> Decimal:
    """A sum of published decimals (≤ 8 decimals each) recovered exactly from its float."""
    return Decimal(repr(round(value_sum, 8)))


def _safeguard(terms: pl.DataFrame) -> pl.DataFrame:
    """Flag a K that moved more than ``safeguard`` since the previous revision date computed."""
    if terms["safeguard"].null_count() == terms.height:
        return terms.with_columns(pl.lit(False).alias("safeguard_hit"))
    prev = pl.col("coefficient").shift(1).over("tid", order_by="at")
    moved = ((pl.col("coefficient") / prev - 1).abs() > pl.col("safeguard")).fill_null(False)
    return terms.with_columns(moved.alias("safeguard_hit"))


TERM_COLUMNS = ["cid", "stub", "contract", "term", "term_order", "comp", "comp_order", "is_mix", "at", "base_period", "unit",
                "energy_basis", "share", "base_price", "coefficient", "price", "missing", "provisional",
                "base_differs", "chained", "capped", "floored", "safeguard_hit", "pdec", "rounding"]  # fmt: skip


def _with_totals(terms: pl.DataFrame) -> pl.DataFrame:
    """Add one total row (comp = null) per mix term and date; plain terms keep comp = null.

    The total's price is ``round(Σ share × component price, pdec)``, exact: the
    component prices are already rounded decimals, so the float sum is rounded
    in float unless it lies near a boundary, where it is recomputed with Decimal.
    """
    terms = terms.select(TERM_COLUMNS)
    mix = terms.filter(pl.col("is_mix"))
    plain = terms.filter(~pl.col("is_mix")).with_columns(pl.lit(None, pl.String).alias("comp"))
    if mix.height == 0:
        return plain
    group = ["contract", "term", "at"]
    totals = mix.group_by(group, maintain_order=True).agg(
        pl.col("cid", "term_order", "is_mix", "base_period", "unit", "energy_basis", "pdec", "rounding").first(),
        (pl.col("share") * pl.col("base_price")).sum().alias("base_price"),
        (pl.col("share") * pl.col("price")).sum().alias("price_raw"),
        pl.col("missing").sum(),
        pl.col("stub", "provisional", "base_differs", "chained", "capped", "floored", "safeguard_hit").any(),
        pl.col("share"), pl.col("price").alias("prices"),
    )  # fmt: skip
    rule = pl.col("rounding")
    totals = totals.with_columns(
        round_expr(
            pl.col("price_raw"),
            pl.col("pdec"),
            rule,
            totals["pdec"].drop_nulls().unique().to_list(),
        ).alias("price"),
        ambiguous_expr(pl.col("price_raw"), pl.col("pdec"), rule)
        .fill_null(False)
        .alias("ambiguous"),
    )
    hard = totals.filter(pl.col("ambiguous") & (pl.col("missing") == 0))
    if hard.height:
        exact = [
            float(round_decimal(sum((to_decimal(a) * to_decimal(b) for a, b in zip(ss, ps, strict=True)),
                                    Decimal(0)), d, r))
            for ss, ps, d, r in hard.select("share", "prices", "pdec", "rounding").iter_rows()
        ]  # fmt: skip
        fixed = hard.select(group).with_columns(pl.Series("price", exact, dtype=pl.Float64))
        totals = totals.update(fixed, on=group)
    totals = totals.with_columns(
        pl.lit(None, pl.String).alias("comp"), pl.lit(-1, pl.Int64).alias("comp_order"), pl.lit(1.0).alias("share"),
    ).with_columns((pl.col("price") / pl.col("base_price")).round(6).alias("coefficient"))  # fmt: skip
    return pl.concat([plain, mix, totals.select(TERM_COLUMNS)], how="diagonal_relaxed")


def to_rows(frame: pl.DataFrame, trace: pl.DataFrame) -> list[dict]:
    """Frame + trace -> JSON rows of INTERFACE.md."""
    trace_rows: dict[tuple, list[dict]] = {}
    for t in trace.sort("index_order").iter_rows(named=True):
        entry = {
            "series": t["series"], "weight": t["weight"], "base_period": t["base_period"],
            "base_value": _snap(t["base_used"]), "base_source": t["base_source"], "period": t["period"],
            "value": _snap(t["value"]), "status": t["status"] if t["value"] is not None else "missing",
        }  # fmt: skip
        if t["published"] is not None:
            entry["published"] = t["published"].isoformat()
            if t.get("assumed"):  # the store only knows when the value was first seen
                entry["published_assumed"] = True
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
                 ("chained-series", "chained"), ("not-yet-revised", "stub")) if r[col]]  # fmt: skip
        status = "ok" if r["missing"] == 0 else "missing-index"
        rows.append({
            "contract": r["contract"], "term": r["term"], "component": r["comp"],
            "at": month_name(r["at"]), "base_price": r["base_price"],
            "coefficient": _snap(r["coefficient"]) if status == "ok" else None,
            "price": _snap(r["price"]) if status == "ok" else None,
            "unit": r["unit"], "energy_basis": r["energy_basis"],
            "indices": trace_rows.get((r["contract"], r["term"], comp_key, r["at"]), []) if r["comp"] is not None or not r["is_mix"] else [],
            "flags": flags, "status": status,
        })  # fmt: skip
    return rows


def _snap(value: float | None) -> float | None:
    """Remove float noise from an unrounded figure (0.9999999999999999 -> 1.0): 10 decimals."""
    return None if value is None else round(value, 10)


# --- entry points -------------------------------------------------------------------------------


def history(inputs, store: IndexStore, first: int, last: int, as_of: date | None = None) -> Result:
    """Coefficient and price at every revision date in months ``[first, last]``.

    ``inputs``: contracts, or their :class:`Formulas` (e.g. from a portfolio table).
    The revision date just before the window is computed too (then dropped), so
    the safeguard flag of the window's first date compares with it.
    """
    formulas = _formulas(inputs)
    dates = revision_months(formulas.params, first, last)
    before = (
        revision_months(formulas.params, first - 12, first - 1)
        .group_by("contract")
        .agg(pl.col("at").max())
    )
    result = compute(formulas, store, pl.concat([before, dates]).unique(), as_of)
    if before.height == 0:
        return result
    return result.restricted(dates, store, as_of)


def revise(inputs, store: IndexStore, at: int | None = None, today: int | None = None,
           as_of: date | None = None) -> Result:  # fmt: skip
    """The price of every term in force in month ``at`` (the latest revision date on or before it).

    ``inputs``: contracts, or their :class:`Formulas`. With ``at=None``, each
    contract's latest revision date (up to ``today``) whose index values are all
    in the store; if none is complete, its latest date.

    Notes
    -----
    With ``at`` given, only the revision dates of ``[at - 23, at]`` are generated:
    the two latest dates of any schedule (yearly at worst) lie in that window, and
    they are all ``revise`` needs (the latest, and the one before for the safeguard).
    """
    formulas = _formulas(inputs)
    last = at if at is not None else (today if today is not None else _this_month())
    notes = _not_in_force(formulas.params, last, explicit=at is not None)
    if at is None:
        dates = revision_months(formulas.params, 0, last)
    else:
        in_force = formulas.params.filter(
            pl.col("end_month").is_null() | (pl.col("end_month") >= at)
        )
        dates = revision_months(in_force, at - 23, at)
        dates = dates.sort("at").group_by("contract", maintain_order=True).tail(2)
        notes += _not_yet_revised(in_force, dates, at)
    result = compute(formulas, store, dates, as_of)
    frame = result.frame
    if at is None:
        complete = frame.group_by("contract", "at").agg((pl.col("missing") == 0).all().alias("ok"))
        best = complete.sort("at").group_by("contract").agg(
            pl.col("at").filter(pl.col("ok")).last().alias("ok_at"), pl.col("at").last().alias("last_at"),
        ).select("contract", pl.coalesce("ok_at", "last_at").alias("at"))  # fmt: skip
    else:
        best = frame.group_by("contract").agg(pl.col("at").max())
    return result.restricted(best, store, as_of, notes)


def _formulas(inputs) -> Formulas:
    if isinstance(inputs, Formulas):
        return inputs
    formulas = getattr(inputs, "formulas", None)  # a loaded portfolio
    return formulas if isinstance(formulas, Formulas) else formulas_of(list(inputs))


def _missing(trace: pl.DataFrame) -> pl.DataFrame:
    return trace.filter(pl.col("value").is_null() | pl.col("base_used").is_null())


def _not_yet_revised(params: pl.DataFrame, dates: pl.DataFrame, at: int) -> list[str]:
    """Contracts in force in ``at`` whose first revision date is still to come: base prices apply."""
    started = params.filter(pl.col("start_month") <= at).join(dates, on="contract", how="anti")
    return [
        f"{cid}: no revision date yet on or before {month_name(at)}: the base prices of the contract apply"
        for cid in started["contract"].to_list()
    ]


def _not_in_force(params: pl.DataFrame, month: int, explicit: bool) -> list[str]:
    """Messages for contracts with no price in force in ``month`` (not started, or ended)."""
    when = month_name(month)
    later = params.filter(pl.col("start_month") > month)
    notes = [f"{c}: starts in {month_name(m)}: no price in force in {when}"
             for c, m in later.select("contract", "start_month").iter_rows()]  # fmt: skip
    if explicit:
        ended = params.filter(pl.col("end_month") < month)
        notes += [f"{c}: ended in {month_name(m)}: no price in force in {when}"
                  for c, m in ended.select("contract", "end_month").iter_rows()]  # fmt: skip
    return notes


def _this_month() -> int:
    d = date.today()
    return d.year * 12 + d.month - 1


__all__ = ["Result", "compute", "history", "revise", "to_rows", "month_text", "formulas_of"]
