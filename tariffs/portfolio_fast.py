"""The fast path of :func:`tariffs.portfolio.read_portfolio`: a grouped table checked whole.

Most tables are valid and list the rows of each contract, term and component
one after the other (a *run*). For such a table every rule of the reader is
checked with a few whole-column expressions, and the located messages are
built only when a rule fails: :func:`read_grouped` then returns ``None`` and
the reader takes its general path, which reports every problem of the file
(same rules, same messages). Warnings (customary fixed share, a lone
``window_months``) are built here exactly as on the general path.

Notes
-----
Why the answer is the general path's:

- A text cell is used as written only when it is neither empty nor starts or
  ends with white space (Unicode ``\\s``, the set ``str.strip_chars`` removes),
  so stripping would not change it; otherwise the general path decides.
- A column of a level equal to the previous row inside every run of that level
  holds one value per run; the runs are the groups when there are as many runs
  as distinct keys (counted on hashes: a collision only sends the table to the
  general path). Then a value parsed and checked on the first row of its run
  stands for the whole run: contract columns are typed on one row per
  contract, term and component columns on one row per component, and typed
  Parquet columns are never turned into text.
- Sums per formula and per mix term are taken by run number (a sorted integer
  key), a series used twice in a formula is a repeated (run, series code)
  pair, and an unknown series is a null code of the catalog's enumeration.
"""

from __future__ import annotations

import polars as pl

from tariffs import portfolio as pf
from tariffs.formulas import Formulas
from tariffs.portfolio import COLUMNS, LEVEL_KEYS, TOLERANCE, Portfolio, _changed, _Problems

RUN_FLAGS = {"contract": "_c", "term": "_t", "component": "_f"}  # true on a run's first row
UNCHANGED_BY_STRIP = (pf.CHOICE, pf.ID, pf.PERIOD)  # their valid values hold no white space
PADDED = r"^\s|\s$"


def read_grouped(raw: pl.DataFrame, where: str, catalog: dict | None) -> Portfolio | None:
    """The portfolio of a valid grouped table (``raw`` as written, see :func:`pf.read_raw`).

    Returns ``None`` when the table is empty, not grouped, or breaks any rule.
    """
    if raw.height == 0:
        return None
    frame = _with_runs(raw)
    if not _same_within_runs(frame):
        return None
    level = {c: COLUMNS[c][0] for c in frame.columns if c in COLUMNS}
    heads = frame.filter(pl.col("_c")).select(
        "_line", *[c for c in level if level[c] == "contract"]
    )
    keys = [k for k in LEVEL_KEYS["component"] if k in frame.columns]
    inner = [c for c in level if level[c] in ("term", "component") and c not in keys]
    comps = frame.filter(pl.col("_f")).select("_line", "_c", "_t", *keys, *inner)
    if not _grouped(heads, comps, keys):
        return None
    clean_ids = catalog is not None and all(s and s == s.strip() for s in catalog)
    heads = _typed(heads, [c for c in heads.columns if c in COLUMNS])
    comps = _typed(comps, [c for c in keys + inner if c != "contract"])
    rows = _typed(frame.select("_line", "_f", *keys, *[c for c in level if level[c] == "index"]),
                  [c for c in level if level[c] == "index"], ("series",) if clean_ids else ())  # fmt: skip
    if heads is None or comps is None or rows is None:
        return None
    heads, comps = pf._defaults(heads, ("contract",)), pf._defaults(comps, ("term", "component"))
    rows = pf._defaults(rows, ("index",)).with_columns(
        pl.col("component") if "component" in keys else pl.lit(None, pl.String).alias("component")
    )
    out = _Problems(where)
    if _broken(heads, comps, rows, catalog) or not _sums_hold(comps, rows, out):
        return None
    _lone_window(heads, out)
    return Portfolio(_frames(heads, comps, rows), out.items, _details(heads, comps))


def _with_runs(raw: pl.DataFrame) -> pl.DataFrame:
    """Flags ``_c``, ``_t``, ``_f``: the row begins a contract, term, component run."""
    keys = [k for k in LEVEL_KEYS["component"] if k in raw.columns]
    changed = raw.select(_changed(k) for k in keys)
    contract = changed["contract"].scatter(0, True).alias("_c")  # the first row begins all
    term = (contract | changed["term"]).alias("_t")
    comp = (term | changed["component"]) if "component" in keys else term
    return raw.with_columns(contract, term, comp.alias("_f"))


def _same_within_runs(frame: pl.DataFrame) -> bool:
    """Every contract / term / component column equals the previous row inside its run."""
    checks = []
    for name in frame.columns:
        level = COLUMNS.get(name, ("index",))[0]
        if level != "index" and name not in LEVEL_KEYS[level]:
            checks.append(~pl.col(RUN_FLAGS[level]) & _changed(name))
    return not checks or not frame.select(pl.any_horizontal(checks).any()).item()


def _grouped(heads: pl.DataFrame, comps: pl.DataFrame, keys: list[str]) -> bool:
    """As many runs as distinct keys at every level (counted on hashes of the keys)."""
    term = pl.col("_t")
    contracts = heads.select(pl.col("contract").hash().n_unique()).item()
    runs_t, terms, comps_n = comps.select(
        term.sum(), pl.struct("contract", "term").hash().filter(term).n_unique().alias("t"),
        pl.struct(keys).hash().n_unique().alias("f"),
    ).row(0)  # fmt: skip
    return contracts == heads.height and terms == runs_t and comps_n == comps.height


def _typed(frame: pl.DataFrame, names: list[str], padded_ok: tuple = ()) -> pl.DataFrame | None:
    """``frame`` with ``names`` parsed to their types, or None if a cell would be reported.

    ``padded_ok``: text columns whose later checks already refuse white space.
    """
    parsed, bad = [], []
    for name in names:
        _, kind, required, args = COLUMNS[name]
        dtype = frame.schema[name]
        value, _, ok = pf._parse(name, kind, args, dtype)
        col = pl.col(name)
        flag = col.is_not_null() & (value.is_null() | ~ok.fill_null(False))
        if required:
            flag = flag | col.is_null()
        if dtype == pl.String and kind not in UNCHANGED_BY_STRIP and name not in padded_ok:
            flag = flag | (col == "") | col.str.contains(PADDED)
        parsed.append(value.alias(name))
        bad.append(flag)
    if "base_value" in names:
        parsed.append(pl.col("base_value").cast(pl.String).alias("_text_base_value"))
    # one lazy pass: a value is parsed once for its check and its column
    typed = frame.lazy().with_columns(*parsed, pl.any_horizontal(False, *bad).alias("_bad"))
    typed = typed.collect()
    return None if typed["_bad"].any() else typed.drop("_bad")


def _broken(heads, comps, rows, catalog: dict | None) -> bool:
    """Any error of the cross-column rules (:func:`pf._rules`) but the sums."""
    col, named = pl.col, pl.col("component").is_not_null()
    per_mwh = col("unit") == "EUR/MWh"
    on_heads = [(col("end") <= col("start")).any(), (col("cap") < col("floor")).any()]
    on_comps = [
        (per_mwh & col("energy_basis").is_null()).any(),
        (~per_mwh & col("energy_basis").is_not_null()).any(),
        (named & col("share").is_null()).any(), (~named & col("share").is_not_null()).any(),
        (~col("_t") & named.ne(named.shift())).any(),  # named and unnamed rows in one term
    ]  # fmt: skip
    alone = col("_f") & col("_f").shift(-1).fill_null(True)  # the only row of its formula
    series, weight = col("series"), col("weight")
    code, unknown = _series_code(catalog)
    run = col("_f").cum_sum().cast(pl.Int64)
    if catalog:  # (run, code) as one integer; else hashed (a collision: the general path)
        pair = run * len(catalog) + code.cast(pl.Int64)
    else:
        pair = pl.struct(run, code).hash()
    pair = pair.filter(series.is_not_null())
    on_rows = [
        (series.is_null() != weight.is_null()).any(),
        (series.is_null() & weight.is_null() & ~alone).any(),
        pair.n_unique() < series.count(),  # a series twice in one formula
        unknown.any(),
    ]
    return any(
        f.select(pl.any_horizontal(c)).item()
        for f, c in ((heads, on_heads), (comps, on_comps), (rows, on_rows))
    )


def _series_code(catalog: dict | None) -> tuple[pl.Expr, pl.Expr]:
    """A small key for ``series`` and whether a named series is not in the catalog."""
    series = pl.col("series")
    if not catalog:
        return series, pl.lit(False) if catalog is None else series.is_not_null()
    code = series.cast(pl.Enum(list(catalog)), strict=False)
    return code.to_physical(), series.is_not_null() & code.is_null()


def _sums_hold(comps: pl.DataFrame, rows: pl.DataFrame, out: _Problems) -> bool:
    """fixed + Σ weights = 1 per formula, Σ shares = 1 per mix term; fixed-share warnings."""
    run = pl.col("_f").cum_sum().set_sorted().alias("_run")
    per_run = rows.group_by(run, maintain_order=True).agg(
        pl.col("weight").sum().alias("weights"), pl.col("series").count().alias("n")
    )
    per = pl.concat([comps.select("_line", "_t", "fixed", "share", "component"),
                     per_run.select("weights", "n")], how="horizontal")  # fmt: skip
    if (per["fixed"] + per["weights"] - 1).abs().max() > TOLERANCE:
        return False
    customary = (pl.col("fixed") >= 0.125) & (pl.col("fixed") <= 0.5)
    odd = per.filter(~customary & ~((pl.col("fixed") == 1) & (pl.col("n") == 0)))
    out.rows(odd, "fixed", pl.format("fixed share {} outside the customary bounds [0.125, 0.5]",
                                     pl.col("fixed")), "warning")  # fmt: skip
    mix = per.with_columns(pl.col("_t").cum_sum().alias("_term")).filter(
        pl.col("component").is_not_null()
    )
    shares = mix.group_by("_term").agg(pl.col("share").sum())["share"]
    return shares.len() == 0 or (shares - 1).abs().max() <= TOLERANCE


def _lone_window(heads: pl.DataFrame, out: _Problems) -> None:
    lone = heads.filter(pl.col("window_months").is_not_null() & (pl.col("index_rule") != "mean"))
    out.rows(lone, "window_months",
             pl.format('only used with index_rule "mean" (here {}): ignored', pl.col("index_rule")),
             "warning")  # fmt: skip


def _frames(heads: pl.DataFrame, comps: pl.DataFrame, rows: pl.DataFrame) -> Formulas:
    """The pipeline's frames, orders counted along runs (the table is grouped)."""
    term_no = pl.col("_t").cum_sum()
    ordered = comps.with_columns(
        (term_no - pl.when(pl.col("_c")).then(term_no).forward_fill()).alias("term_order"),
        pf._run_position(pl.col("_t")).alias("comp_order"),
    )
    named = rows.filter(pl.col("series").is_not_null()) if rows["series"].has_nulls() else rows
    return pf.assemble(heads, ordered, named, pf._run_position(pl.col("_f")))


def _details(heads: pl.DataFrame, comps: pl.DataFrame) -> pl.DataFrame:
    """:func:`pf.details_of`: the first row of each term with its contract's columns."""
    terms = comps.filter(pl.col("_t"))
    contract_no = terms.select(pl.col("_c").cum_sum() - 1).to_series()
    parts = heads.drop("_line")[contract_no].hstack(terms.drop(heads.columns, strict=False))
    return parts.select(pl.col(c).cast(d) for c, d in pf.DETAILS_SCHEMA.items())
