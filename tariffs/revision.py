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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from tariffs.diagnostics import NAMED_TERMS, problems_of
from tariffs.formulas import (
    Formulas,
    formulas_of,
    gather_at,
    index_rows,
    on_schedule,
    pack,
    revision_months,
    row_numbers,
    series_numbers,
    unpack,
)
from tariffs.periods import format_month as month_name
from tariffs.picking import (
    dense_months,
    grid_windows,
    hashed_windows,
    month_text,
    pick_latest,
    series_frame,
    with_base,
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
                 _keep: pl.Series | None = None, _cid: pl.Series | None = None,
                 _missing: pl.DataFrame | None = None):  # fmt: skip
        self.frame = frame
        self.missing = _missing  # the trace rows behind the missing-value problems (when known)
        self._trace = trace
        self._lazy = _lazy
        self._keep = _keep  # packed (cid, at) keys the trace is restricted to
        self._cid = _cid  # the contract number of each row of ``frame``
        self.problems = list(problems or [])

    @property
    def trace(self) -> pl.DataFrame:
        if self._trace is None:
            self._trace = self._lazy.trace(contract_keys=self._keep)
        return self._trace

    def restricted(self, keep: pl.DataFrame, store: IndexStore, as_of: date | None,
                   notes: list[str] = ()) -> Result:  # fmt: skip
        """The same result for the (contract, at) rows of ``keep`` only; the trace stays lazy."""
        keys = keep.join(self._lazy.cids, on="contract").select(pack(pl.col("cid"), pl.col("at")))
        return self.restricted_to(keys.to_series(), store, as_of, notes)

    def restricted_to(self, keys: pl.Series, store: IndexStore, as_of: date | None,
                      notes: list[str] = ()) -> Result:  # fmt: skip
        """:meth:`restricted` to the :func:`pack` keys of (cid, at)."""
        keys = keys.unique()
        if self._keep is not None:
            keys = keys.filter(keys.is_in(self._keep.implode()))
        rows = pack(pl.lit(self._cid), pl.col("at")).is_in(keys.implode())
        mask = self.frame.select(rows).to_series()
        frame, cid = self.frame.filter(mask), self._cid.filter(mask)
        missing = self._lazy.missing_trace(keys)
        problems = list(notes) + problems_of(missing, store, as_of)
        return Result(frame, problems=problems, _lazy=self._lazy, _keep=keys, _cid=cid,
                      _missing=missing)  # fmt: skip

    def rows(self) -> list[dict]:
        """The JSON rows of INTERFACE.md ("JSON of revise"), one dict per row.

        Fine for a few thousand rows; the reports of a portfolio are built by
        :mod:`tariffs.output` from ``frame`` and ``trace`` instead.
        """
        return to_rows(self.frame, self.trace)


@dataclass
class Pipeline:
    """The integer-keyed frames of one computation.

    ``big``: one row per formula index × date (iid, tid, at, wid, value, wb, prov, chained);
    ``idx``: one row per formula index, row number ``iid``, with its base value;
    ``windows``: one row per distinct index window looked up, row number ``wid``;
    ``names``: one row per component, row number ``tid``, with its text keys;
    ``cids``: one row per contract, row number ``cid`` (contract, cid).
    """

    big: pl.DataFrame
    idx: pl.DataFrame
    windows: pl.DataFrame
    names: pl.DataFrame
    cids: pl.DataFrame

    def missing_rows(self) -> pl.DataFrame:
        """The rows of ``big`` whose value or base value is missing (no trace built)."""
        if "_missing" not in self.__dict__:
            no_base = self.idx.filter(pl.col("base_used").is_null())["iid"]
            missing = pl.col("value").is_null()
            if no_base.len():
                missing = missing | pl.col("iid").is_in(no_base.implode())
            self.__dict__["_missing"] = self.big.filter(missing)
        return self.__dict__["_missing"]

    def missing_trace(self, contract_keys: pl.Series | None = None) -> pl.DataFrame:
        """The trace rows whose value or base value is missing (of ``contract_keys`` only)."""
        rows = self.missing_rows()
        if contract_keys is not None and rows.height:
            rows = rows.filter(self._contract_key().is_in(contract_keys.implode()))
        return _missing(self._readable(rows))

    def trace(self, keys: pl.DataFrame | None = None,
              contract_keys: pl.Series | None = None) -> pl.DataFrame:  # fmt: skip
        """The readable trace, for every row, or only those of ``keys`` (tid, at), or of
        ``contract_keys`` (:func:`pack` of cid, at)."""
        big = self.big
        if keys is not None:
            big = big.filter(pack(pl.col("tid"), pl.col("at")).is_in(
                keys.select(pack(pl.col("tid"), pl.col("at"))).to_series().implode()))  # fmt: skip
        if contract_keys is not None:
            big = big.filter(self._contract_key().is_in(contract_keys.implode()))
        return self._readable(big)

    def _contract_key(self) -> pl.Expr:
        return pack(pl.lit(self.idx["cid"]).gather(pl.col("iid")), pl.col("at"))

    def _readable(self, big: pl.DataFrame) -> pl.DataFrame:
        """``big`` rows with the columns of their formula index, window and component.

        ``iid``, ``wid`` and ``tid`` are row numbers: gathers, no hash join.
        """
        idx = self.idx.drop("iid", "tid", "sid", "lag", "window", "is_latest", "cid", "wb")
        windows = self.windows.drop("wid", "value", "sid", "series", "first", "last", "prov")
        names = self.names.drop("tid")
        big = big.drop("wb", "prov", "chained")
        columns = [
            *(idx[c].gather(big["iid"]) for c in idx.columns),
            *(windows[c].gather(big["wid"]) for c in windows.columns),
            *(names[c].gather(big["tid"]) for c in names.columns),
        ]
        return big.with_columns(columns).with_columns(
            (pl.col("chained").fill_null(False) | pl.col("base_any_chained")).alias("any_chained")
        )


def compute(
    formulas: Formulas, store: IndexStore, dates: pl.DataFrame, as_of: date | None = None
) -> Result:
    """Revise every term of every contract at the given dates (``contract``, ``at`` month index).

    ``as_of`` restricts the index values to those known on that date (vintages).

    Notes
    -----
    Every frame is keyed by row numbers: ``cid`` (contract), ``tid`` (component),
    ``iid`` (formula index), ``sid`` (series), ``wid`` (window); text keys are
    joined once, on the small formula frames.
    """
    values = store.resolved(as_of)
    series = series_frame(store).with_row_index("sid").with_columns(pl.col("sid").cast(pl.Int64))
    sids = series_numbers(series, formulas.indices)
    params = formulas.params.with_row_index("cid").with_columns(pl.col("cid").cast(pl.Int64))
    cids = params.select("contract", "cid")
    comps = (
        formulas.components.with_row_index("tid")
        .with_columns(pl.col("tid").cast(pl.Int64))
        .pipe(row_numbers, params, ["contract"], "cid")
    )
    dense = dense_months(values)
    idx = with_base(index_rows(formulas, comps, params, sids), dense, series, sids)
    dated = _dated(params, dates)
    dates_i = dated.filter(~pl.col("stub")).select("cid", "at")
    big, windows = _current(
        idx, dates_i.sort("cid", "at"), dense, series, sids, store, values, as_of
    )
    names = comps.select("tid", "term", "comp", "base_period")
    pipe = Pipeline(big, idx, windows, names, cids)
    terms = _coefficients(comps, params, dated, pipe)
    terms = _round_all(terms, pipe)
    terms = _safeguard(terms)
    frame = _with_totals(terms)
    missing = pipe.missing_trace()
    problems = problems_of(missing, store, as_of)
    if frame["is_mix"].any():
        frame = frame.sort("cid", "term_order", "at", "comp_order")
    return Result(frame.drop("cid"), problems=problems, _lazy=pipe, _cid=frame["cid"],
                  _missing=missing)  # fmt: skip


def _current(
    idx, dates_i, dense, series, sids, store, values, as_of
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each formula index at each date: ``big`` (iid, tid, at, wid, value, wb, prov, chained) and the windows.

    ``windows`` is numbered by ``wid`` (its row number). ``big`` lists the
    dates of ``dates_i`` in their order, each with its contract's indices in
    ``iid`` order: the rows of one (tid, at) are consecutive.
    """
    cols = ["iid", "tid", "at", "wid", "value", "wb", "prov", "chained"]
    plain = idx.filter(~pl.col("is_latest")).select(
        "iid", "tid", "cid", "sid", "lag", "window", "wb"
    )
    wanted = dates_i.lazy().join(plain.lazy(), on="cid", maintain_order="left_right")
    found = grid_windows(idx, plain, dates_i, dense, series, sids)
    if found is None:
        big, windows = hashed_windows(wanted, dense, series, sids)
    else:
        windows, place = found
        looked = windows.select("value", "prov", "chained")
        big = wanted.with_columns(place.alias("wid")).with_columns(
            gather_at(looked[c], "wid") for c in looked.columns
        )
        big = big.select(cols).collect()
    parts = [big]
    latest = idx.filter(pl.col("is_latest"))
    if latest.height:
        rows = dates_i.join(latest.select("iid", "tid", "cid", "series", "wb"), on="cid",
                            maintain_order="left_right")  # fmt: skip
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


def _dated(params: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """The dates with their contract number and ``stub``: the start month, off the revision schedule.

    Until the first revision the base prices apply: K = 1, no index is looked up.
    """
    dated = dates.select("contract", "at").join(params.select("contract", "cid"), on="contract")
    columns = [gather_at(params[c], "cid") for c in ("start_month", "frequency", "rev_month")]
    stub = (pl.col("at") == pl.col("start_month")) & ~on_schedule(pl.col("at"))
    return dated.with_columns(columns).select("cid", "at", stub.alias("stub"))


def _coefficients(comps: pl.DataFrame, params: pl.DataFrame, dated: pl.DataFrame,
                  pipe: Pipeline) -> pl.DataFrame:  # fmt: skip
    """K per component and date: ``fixed + Σ weight × I/I0`` (1 in a stub period), then cap and floor.

    Notes
    -----
    The rows: every (component, date) with an index value looked up, the
    components without index (a fixed price) at every date, and every
    component at a stub date. Output order: contract, term, date, component
    (one integer sort), the component's and contract's columns gathered by
    row number.
    """
    per = _per_date(pipe.big)
    with_index = pl.col("tid").is_in(pipe.idx["tid"].unique().implode())
    indexed = comps.select(with_index.alias("_i")).to_series()
    flags = (
        pipe.idx.lazy()
        .group_by(pl.col("tid").set_sorted())
        .agg(  # idx is sorted by tid
            pl.col("base_differs").any(), pl.col("base_any_chained").any()
        )
    )
    base_flags = comps.select("tid").join(
        flags.collect(), on="tid", how="left", maintain_order="left"
    )
    at_dates = comps.select("tid", "cid").filter(~indexed).join(dated, on="cid")
    at_stubs = (
        comps.select("tid", "cid").filter(indexed).join(dated.filter(pl.col("stub")), on="cid")
    )
    keys = pl.concat([per, at_dates.drop("cid"), at_stubs.drop("cid")], how="diagonal_relaxed")
    keys = _in_output_order(keys, comps)
    comp_cols = [
        "cid",
        "contract",
        "term",
        "term_order",
        "comp",
        "comp_order",
        "is_mix",
        "share",
        "base_price",
        "fixed",
        "base_period",
        "unit",
        "energy_basis",
    ]
    param_cols = ["kdec", "pdec", "rounding", "cap", "floor", "safeguard"]  # fmt: skip
    terms = pl.concat([keys, comps.select(comp_cols)[keys["tid"]]], how="horizontal")
    terms = pl.concat(
        [
            terms,
            params.select(param_cols)[terms["cid"]],
            base_flags.select("base_differs", "base_any_chained")[terms["tid"]],
        ],
        how="horizontal",
    ).rechunk()  # one chunk per column: later steps do not realign them one by one
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


def _in_output_order(keys: pl.DataFrame, comps: pl.DataFrame) -> pl.DataFrame:
    """``keys`` (tid, at...) sorted by contract, term, date, component: one Int64 sort key
    (term number, date, component number) when the numbers fit, else three keys."""
    trid = (pl.col("comp_order") == 0).cum_sum().cast(pl.Int64)
    order = comps.select(trid.alias("_trid"), pl.col("comp_order").cast(pl.Int64).alias("_comp"))
    keys = keys.with_columns(gather_at(order[c], "tid") for c in order.columns)
    if order.height < 2**32 and order["_comp"].min() >= 0 and order["_comp"].max() < 2**10:
        packed = pack(pl.col("_trid"), pl.col("at")) * 2**10 + pl.col("_comp")
        keys = keys.sort(packed)
    else:
        keys = keys.sort("_trid", "at", "_comp")
    return keys.drop("_trid", "_comp")


def _per_date(big: pl.DataFrame) -> pl.DataFrame:
    """Per (tid, at): ``indexed`` = Σ wb × value, ``missing`` (count), ``provisional``, ``chained_now``.

    Notes
    -----
    ``big`` holds each (tid, at) group in consecutive rows (see :func:`_current`).
    The counts are differences of running sums (integers, exact), computed
    only when a value is missing, provisional or chained. The sum of floats is
    the compensated (Kahan) sum a polars hash group-by computes, in row order,
    nulls skipped: the same K to the last bit, without hashing every row.
    """
    term_value = pl.col("wb") * pl.col("value")
    key = pack(pl.col("tid"), pl.col("at"))
    rows = big.select(key.alias("_key"), term_value.alias("_v")).rechunk()  # gathers by position
    first = (pl.col("_key") != pl.col("_key").shift()).fill_null(True)
    starts = rows.select(first.arg_true().cast(pl.Int64)).to_series()
    ends = pl.concat([starts.slice(1), pl.Series([rows.height], dtype=pl.Int64)])
    ends = ends.head(starts.len()) - 1
    tid, at = unpack(pl.lit(rows["_key"].gather(starts)))
    out = pl.select(
        tid.alias("tid"), at.alias("at"),
        _kahan(rows["_v"], starts, ends - starts + 1).alias("indexed"),
        pl.lit(0, pl.Int64).alias("missing"), pl.lit(False).alias("provisional"),
        pl.lit(False).alias("chained_now"), pl.lit(False).alias("stub"),
    )  # fmt: skip
    flagged = rows["_v"].null_count() or big["prov"].any() or big["chained"].any()
    if not flagged:
        return out
    flag = lambda c, bit: pl.col(c).fill_null(False).cast(pl.Int64) * 2**bit  # noqa: E731
    counts = term_value.is_null().cast(pl.Int64) + flag("prov", 21) + flag("chained", 42)
    running = big.select(counts.cum_sum()).to_series()
    n = running.gather(ends) - running.gather((starts - 1).clip(0)) * (starts > 0)
    return out.with_columns(
        (n % 2**21).alias("missing"), (n // 2**21 % 2**21 > 0).alias("provisional"),
        (n // 2**42 > 0).alias("chained_now"),
    )  # fmt: skip


def _kahan(values: pl.Series, starts: pl.Series, sizes: pl.Series) -> pl.Series:
    """Kahan sum of each run ``values[start : start + size]``, nulls skipped (0.0 when all null).

    Notes
    -----
    ``s, c = 0, 0``; for each value ``x``: ``y = x - c; t = s + y; c = (t - s) - y;
    s = t``, vectorised over the runs (one step per position in the runs).
    """
    total = pl.repeat(0.0, starts.len(), dtype=pl.Float64, eager=True)
    carry = total
    last = values.len() - 1
    nulls = values.null_count() > 0
    smallest = int(sizes.min() or 0)
    for k in range(int(sizes.max() or 0)):
        x = values.gather((starts + k).clip(upper_bound=last))
        y = x - carry
        t = total + y
        if k < smallest and not nulls:  # a value at this position in every run
            carry, total = (t - total) - y, t
            continue
        valid = (sizes > k) & x.is_not_null()
        carry = ((t - total) - y).zip_with(valid, carry)
        total = t.zip_with(valid, total)
    odd = (~total.is_finite()).arg_true()  # an overflow: polars' own sum for those runs
    if odd.len():
        runs = (
            pl.repeat(0, values.len(), dtype=pl.Int64, eager=True).scatter(starts, 1).cum_sum() - 1
        )
        sums = pl.DataFrame({"run": runs, "v": values}).filter(pl.col("run").is_in(odd.implode()))
        sums = sums.group_by("run").agg(pl.col("v").sum())
        total = total.scatter(sums["run"], sums["v"])
    return total


def _round_all(terms: pl.DataFrame, pipe: Pipeline) -> pl.DataFrame:
    """Round K and the price, in float where unambiguous, exactly (Decimal) near a boundary."""
    rule = pl.col("rounding")
    kdecs = terms["kdec"].drop_nulls().unique().to_list()
    pdecs = terms["pdec"].drop_nulls().unique().to_list()
    rules = terms["rounding"].unique().to_list()
    k = pl.col("k_clamped")
    product = pl.col("base_price") * pl.col("coefficient")
    added = (  # lazy: the scaled values shared by rounding and the boundary test computed once
        terms.lazy()
        .with_columns(
            round_expr(k, pl.col("kdec"), rule, kdecs, rules).alias("coefficient"),
            ambiguous_expr(k, pl.col("kdec"), rule, rules).alias("_ambiguous_k"),
        )
        .with_columns(
            round_expr(product, pl.col("pdec"), rule, pdecs, rules).alias("price"),
            (pl.col("_ambiguous_k") | ambiguous_expr(product, pl.col("pdec"), rule, rules))
            .fill_null(False).alias("ambiguous"),
        )
        .select("coefficient", "price", "ambiguous")
        .collect()
        .rechunk()
    )  # fmt: skip
    rows = added["ambiguous"].arg_true()
    if rows.len():
        hard = terms.hstack(added)[rows]
        exact = _exact(hard, pipe.trace(hard.select(TKEY)))  # in the order of ``hard``
        added = added.with_columns(
            added[c].scatter(rows, exact[c]) for c in ("coefficient", "price")
        )
    return terms.hstack(added)


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
    # rows are in date order within each component (see _coefficients); a plain term's rows
    # are consecutive
    if terms["is_mix"].any():
        prev = pl.col("coefficient").shift(1).over("tid")
    else:
        prev = pl.when(pl.col("tid") == pl.col("tid").shift()).then(pl.col("coefficient").shift())
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
    the safeguard flag of the window's first date compares with it (only when
    a contract has a safeguard: the flag is that date's only use).
    """
    formulas = _formulas(inputs)
    dates = revision_months(formulas.params, first, last)
    if formulas.params["safeguard"].is_null().all():  # no safeguard: no date before is needed
        return compute(formulas, store, dates, as_of)
    before = (
        revision_months(formulas.params, first - 12, first - 1)
        .group_by("contract")
        .agg(pl.col("at").max())
    )
    result = compute(formulas, store, pl.concat([before, dates]), as_of)  # disjoint
    if before.height == 0:
        return result
    return result.restricted(dates, store, as_of)


#: contracts per batch of :func:`history_batches`
HISTORY_BATCH = 2_000


def history_batches(inputs, store: IndexStore, first: int, last: int, as_of: date | None = None,
                    size: int = HISTORY_BATCH) -> Iterator[Result]:  # fmt: skip
    """:func:`history` of ``size`` contracts at a time, in the contracts' order: the rows of
    the batches, one after the other, are those of one run; memory holds one batch.

    Each result's ``problems`` speak of its batch only: :func:`problems_of` the
    concatenated ``missing`` rows gives the messages of one run.
    """
    formulas = _formulas(inputs)
    names = formulas.params["contract"]
    for start in range(0, max(names.len(), 1), size):
        mine = pl.col("contract").is_in(names.slice(start, size).implode())
        part = Formulas(*(f.filter(mine) for f in (formulas.params, formulas.components,
                                                    formulas.indices)))  # fmt: skip
        yield history(part, store, first, last, as_of)


def batch_problems(missing: list[pl.DataFrame], store: IndexStore,
                   as_of: date | None = None) -> list[str]:  # fmt: skip
    """The messages of one run from the ``missing`` rows of its batches (in their order)."""
    rows = [m for m in missing if m is not None and m.height]
    return problems_of(pl.concat(rows, how="diagonal_relaxed"), store, as_of) if rows else []


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
    they are all ``revise`` needs (the latest, and the one before for the safeguard;
    only the latest when no contract has a safeguard).
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
        # a contract's dates are consecutive and ascending (revision_months): its last two,
        # or its last one when no contract has a safeguard (the flag is the other's only use)
        two = 2 if in_force["safeguard"].is_not_null().any() else 1
        dates = dates.filter(pl.col("contract").ne_missing(pl.col("contract").shift(-two)))
        notes += _not_yet_revised(in_force, dates, at)
    result = compute(formulas, store, dates, as_of)
    frame = result.frame.select("at", "missing", result._cid.alias("cid"))
    if at is None:
        complete = frame.group_by("cid", "at").agg((pl.col("missing") == 0).all().alias("ok"))
        best = complete.sort("at").group_by("cid").agg(
            pl.col("at").filter(pl.col("ok")).last().alias("ok_at"), pl.col("at").last().alias("last_at"),
        ).select("cid", pl.coalesce("ok_at", "last_at").alias("at"))  # fmt: skip
    else:
        best = frame.group_by("cid").agg(pl.col("at").max())
    keys = best.select(pack(pl.col("cid"), pl.col("at"))).to_series()
    return result.restricted_to(keys, store, as_of, notes)


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
    when = month_name(at)
    return _listed(
        [f"{cid}: no revision date yet on or before {when}: the base prices of the contract apply"
         for cid in started["contract"].head(NAMED_TERMS + 1).to_list()],
        started.height, f"with no revision date yet on or before {when} (base prices apply)",
    )  # fmt: skip


def _not_in_force(params: pl.DataFrame, month: int, explicit: bool) -> list[str]:
    """Messages for contracts with no price in force in ``month`` (not started, or ended); at
    most :data:`~tariffs.diagnostics.NAMED_TERMS` named per cause, the others counted."""
    when = month_name(month)
    later = params.filter(pl.col("start_month") > month)
    notes = _listed(
        [f"{c}: starts in {month_name(m)}: no price in force in {when}"
         for c, m in later.select("contract", "start_month").head(NAMED_TERMS + 1).iter_rows()],
        later.height, f"that start after {when}: no price in force",
    )  # fmt: skip
    if explicit:
        ended = params.filter(pl.col("end_month") < month)
        notes += _listed(
            [f"{c}: ended in {month_name(m)}: no price in force in {when}"
             for c, m in ended.select("contract", "end_month").head(NAMED_TERMS + 1).iter_rows()],
            ended.height, f"that ended before {when}: no price in force",
        )  # fmt: skip
    return notes


def _listed(lines: list[str], total: int, what: str) -> list[str]:
    """``lines`` (one per contract), the first :data:`~tariffs.diagnostics.NAMED_TERMS` of
    ``total`` and one line counting the others (a portfolio's thousands of ended contracts)."""
    if total <= NAMED_TERMS:
        return lines
    return [*lines[:NAMED_TERMS], f"... and {total - NAMED_TERMS:,} more contract(s) {what}"]


def _this_month() -> int:
    d = date.today()
    return d.year * 12 + d.month - 1


__all__ = ["Result", "compute", "history", "revise", "to_rows", "month_text", "formulas_of"]
