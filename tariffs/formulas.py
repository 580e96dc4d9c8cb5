"""Contracts flattened into frames: the input of the revision pipeline.

Three frames, built once from validated :class:`tariffs.model.Contract`
objects (or directly from a portfolio table):

- ``params``: one row per contract (revision schedule, rule, rounding, cap/floor);
- ``components``: one row per contract × term × component (a plain term is one
  component named ``""``), with its share, base price, fixed part and base period;
- ``indices``: one row per contract × term × component × series, with its weight
  and the base value I0 the contract writes (null when the series gives it).

The engine numbers their rows (``cid``, ``tid``, ``iid``, ``sid``) and keys its
frames by those numbers (:func:`pack`, :func:`gather_at`, :func:`index_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tariffs.model import Contract
from tariffs.periods import month_of_date, parse_period

PARAMS_SCHEMA = {
    "contract": pl.String, "frequency": pl.String, "rev_month": pl.Int64, "start_month": pl.Int64,
    "end_month": pl.Int64, "rule": pl.String, "lag": pl.Int64, "window": pl.Int64,
    "kdec": pl.Int64, "pdec": pl.Int64, "rounding": pl.String, "cap": pl.Float64,
    "floor": pl.Float64, "safeguard": pl.Float64,
}  # fmt: skip
COMPONENTS_SCHEMA = {
    "contract": pl.String, "term": pl.String, "term_order": pl.Int64, "comp": pl.String,
    "comp_order": pl.Int64, "is_mix": pl.Boolean, "share": pl.Float64, "base_price": pl.Float64,
    "fixed": pl.Float64, "base_period": pl.String, "base_month": pl.Int64, "base_span": pl.Int64,
    "unit": pl.String, "energy_basis": pl.String,
}  # fmt: skip
INDICES_SCHEMA = {
    "contract": pl.String, "term": pl.String, "comp": pl.String, "series": pl.String,
    "index_order": pl.Int64, "weight": pl.Float64, "base_value": pl.Float64, "base_value_decimals": pl.Int64,
}  # fmt: skip


@dataclass(frozen=True)
class Formulas:
    params: pl.DataFrame
    components: pl.DataFrame
    indices: pl.DataFrame


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def base_month_span(base_period: str) -> tuple[int, int]:
    """First month index and number of months of a base period (month or quarter)."""
    freq, idx = parse_period(base_period)
    return (idx, 1) if freq == "monthly" else (idx * 3, 3)


def formulas_of(contracts: list[Contract]) -> Formulas:
    """Flatten contracts into the three frames of the pipeline."""
    params, components, indices = [], [], []
    for c in contracts:
        r = c.revision
        params.append({
            "contract": c.id, "frequency": r.frequency, "rev_month": r.month,
            "start_month": month_of_date(c.start),
            "end_month": month_of_date(c.end) if c.end else None,
            "rule": r.index_rule, "lag": r.lag_months, "window": r.window_months,
            "kdec": r.coefficient_decimals, "pdec": r.price_decimals, "rounding": r.rounding,
            "cap": _f(r.cap), "floor": _f(r.floor), "safeguard": _f(r.safeguard),
        })  # fmt: skip
        for t_order, term in enumerate(c.terms):
            base_month, span = base_month_span(term.base_period)
            for c_order, comp in enumerate(term.components):
                name = comp.name or ""
                components.append({
                    "contract": c.id, "term": term.code, "term_order": t_order, "comp": name,
                    "comp_order": c_order, "is_mix": term.is_mix, "share": float(comp.share),
                    "base_price": float(comp.base_price), "fixed": float(comp.fixed),
                    "base_period": term.base_period, "base_month": base_month, "base_span": span,
                    "unit": term.unit, "energy_basis": term.energy_basis,
                })  # fmt: skip
                for i_order, ref in enumerate(comp.indices):
                    indices.append({
                        "contract": c.id, "term": term.code, "comp": name, "series": ref.series,
                        "index_order": i_order, "weight": float(ref.weight),
                        "base_value": _f(ref.base_value),
                        "base_value_decimals": _decimals(str(ref.base_value)) if ref.base_value is not None else None,
                    })  # fmt: skip
    return Formulas(
        params=pl.DataFrame(params, schema=PARAMS_SCHEMA),
        components=pl.DataFrame(components, schema=COMPONENTS_SCHEMA),
        indices=pl.DataFrame(indices, schema=INDICES_SCHEMA),
    )


def _f(value) -> float | None:
    return None if value is None else float(value)


def on_schedule(month: pl.Expr) -> pl.Expr:
    """True when ``month`` falls on the contract's revision schedule (columns frequency, rev_month)."""
    phase = (month - (pl.col("rev_month") - 1)) % 12
    return (
        pl.when(pl.col("frequency") == "monthly").then(True)
        .when(pl.col("frequency") == "quarterly").then(phase % 3 == 0)
        .otherwise(phase == 0)
    )  # fmt: skip


def revision_months(
    params: pl.DataFrame, first: int, last: int, stubs: bool = True
) -> pl.DataFrame:
    """Every revision date (month index) of every contract within ``[first, last]``.

    Notes
    -----
    A contract is revised from its start month to its end month: every month
    (``monthly``), every third month counted from the revision month
    (``quarterly``), or in the revision month of each year (``yearly``). The
    start month itself is a date: a revision when it falls on the schedule,
    otherwise (``stubs``) the start of a stub period in which the base prices
    apply (K = 1) until the first revision.

    The months are generated on the schedule only (a range with a step of 1, 3
    or 12 from the first scheduled month on or after the window's start), the
    stub month put in front: the same dates, in the same order, as keeping the
    months of ``[first, last]`` that ``on_schedule`` accepts.
    """
    lo = pl.max_horizontal(pl.col("start_month"), pl.lit(first))
    hi = pl.min_horizontal(pl.col("end_month").fill_null(last), pl.lit(last))
    frame = params.select(
        "contract", "frequency", "rev_month", "start_month", lo.alias("lo"), hi.alias("hi")
    )
    frame = frame.filter(pl.col("lo") <= pl.col("hi"))
    freq = pl.col("frequency")
    step = pl.when(freq == "monthly").then(1).when(freq == "quarterly").then(3).otherwise(12)
    # (rev_month - 1 - lo) mod step, kept non-negative (12 is a multiple of every step)
    ahead = (pl.col("rev_month") - 1 - pl.col("lo") % 12 + 12) % step
    start = pl.col("lo") + pl.when(freq == "monthly").then(0).otherwise(ahead)
    months = pl.int_ranges(start, pl.col("hi") + 1, step, dtype=pl.Int64)
    if stubs:
        stub = (pl.col("start_month") == pl.col("lo")) & ~on_schedule(pl.col("lo"))
        months = pl.when(stub).then(pl.concat_list(pl.col("lo"), months)).otherwise(months)
    return (
        frame.select("contract", months.alias("at"))
        .explode("at")
        .filter(pl.col("at").is_not_null())
        .select("contract", pl.col("at").cast(pl.Int64))
    )


# --- frames keyed by row numbers ---------------------------------------------------------------


MONTH_BITS = 21
MONTH_OFFSET = 2**20


def pack(owner: pl.Expr, month: pl.Expr) -> pl.Expr:
    """One Int64 key of a row number (``tid``, ``cid``, ``sid``...) and a month number.

    Notes
    -----
    ``owner × 2^21 + month + 2^20``: a month number of a four-digit year is
    below 120,000, far inside ±2^20; owners below 2^42. Joins, group-bys and
    ``is_in`` on one integer column are two to four times as fast as on two.
    """
    return owner.cast(pl.Int64) * 2**MONTH_BITS + (month.cast(pl.Int64) + MONTH_OFFSET)


def unpack(key: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The (owner, month) of a :func:`pack` key."""
    return key // 2**MONTH_BITS, key % 2**MONTH_BITS - MONTH_OFFSET


def gather_at(column: pl.Series, row: str) -> pl.Expr:
    """``column`` at the row numbers held in column ``row`` (a gather, no hash join)."""
    return pl.lit(column).gather(pl.col(row)).alias(column.name)


def series_numbers(series: pl.DataFrame, indices: pl.DataFrame) -> pl.DataFrame:
    """``series, sid`` of the catalog's series, then of series the catalog does not know."""
    unknown = indices.select(pl.col("series").drop_nulls().unique().sort())
    unknown = unknown.join(series, on="series", how="anti")
    extra = unknown.with_columns(
        pl.int_range(series.height, series.height + unknown.height).alias("sid")
    )
    return pl.concat(
        [series.select("series", "sid"), extra.select("series", pl.col("sid").cast(pl.Int64))]
    )


def _series_number(sids: pl.DataFrame) -> pl.Expr:
    """``sid`` of column ``series`` (every series of the formulas is in ``sids``, in sid order)."""
    return pl.col("series").cast(pl.Enum(sids["series"])).to_physical().cast(pl.Int64).alias("sid")


def index_rows(formulas: Formulas, comps, params, sids) -> pl.DataFrame:
    """One row per formula index (iid), with its rule and base window."""
    rules = params.select(
        "lag", "window", (pl.col("rule") == "mean").alias("_mean"),
        (pl.col("rule") == "latest-published").alias("is_latest"),
    )  # fmt: skip
    return (
        row_numbers(formulas.indices, comps, ["contract", "term", "comp"], "tid")
        .filter(pl.col("tid").is_not_null())
        .with_columns(gather_at(comps[c], "tid") for c in ("cid", "base_month", "base_span"))
        .with_columns(gather_at(rules[c], "cid") for c in rules.columns)
        .with_columns(_series_number(sids))
        .with_columns((pl.col("base_month") + pl.col("base_span") - 1).alias("blast"))
        .with_columns(
            pl.when(pl.col("_mean")).then(pl.col("blast") - pl.col("window") + 1)
            .otherwise(pl.col("base_month")).alias("bfirst"),
        )
        .pipe(lambda f: f if f["tid"].is_sorted() else f.sort("tid", maintain_order=True))
        .with_row_index("iid").with_columns(pl.col("iid").cast(pl.Int64))
        .select("iid", "tid", "cid", "contract", "series", "sid", "index_order", "weight", "base_value",
                "base_value_decimals", "is_latest", "lag", "window", "bfirst", "blast")
    )  # fmt: skip


def row_numbers(
    frame: pl.DataFrame, target: pl.DataFrame, keys: list[str], name: str
) -> pl.DataFrame:
    """``frame`` + ``name``: the row number in ``target`` of the row with the same ``keys``
    (null when none).

    Notes
    -----
    Consecutive rows of ``frame`` with the same keys form a run (string
    comparisons with the previous row, no hashing); only the runs' keys are
    joined with ``target``, or none when the runs are ``target``'s rows, in
    order (the usual frames: components in their contracts' order, indices in
    their components' order).
    """
    new = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift()) for k in keys)
    flags = frame.select(new.alias("_new"))["_new"]
    runs = frame.select(keys).filter(flags)
    run = flags.cast(pl.Int64).cum_sum() - 1
    if runs.equals(target.select(keys)):
        return frame.with_columns(run.alias(name))
    numbers = target.select(keys).with_row_index(name).with_columns(pl.col(name).cast(pl.Int64))
    numbers = runs.join(numbers, on=keys, how="left", maintain_order="left")
    return frame.with_columns(numbers[name].gather(run))
