"""Portfolio tables (CSV or Parquet): many contracts in one file, read straight into frames.

One row per contract × term × (component) × index. Columns at the contract,
term and component levels repeat on every row of their contract, term and
component and must agree. A term or component with no index (a fixed price,
``fixed = 1``) is one row with ``series`` and ``weight`` empty.

The table goes through the rules of the TOML loader (:mod:`tariffs.contract`,
INTERFACE.md "Contract files"), checked column by column in polars, and
becomes the :class:`tariffs.formulas.Formulas` frames of the revision pipeline
without building one Python object per contract. Every problem names the file,
the line (CSV: the line of the file, header = line 1; Parquet: the 1-based row
number) and the column, e.g. ``portfolio.csv:12: weight: expected a number in
[0, 1], got "1.4"``; all problems of a file are reported together.

Notes
-----
Numbers are read from their text as float64: sums of weights are checked
within 1e-9 (as the TOML loader), and the exact decimal rounding of K and of
the price (tariffs.rounding) applies as for a TOML contract. The number of
decimals of ``base_value`` as written is kept (``base-value-differs`` compares
at that precision). A CSV must not hold line breaks inside a field (line
numbers count rows).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from tariffs import model, revision
from tariffs.errors import ContractError, Problem
from tariffs.formulas import (
    COMPONENTS_SCHEMA,
    INDICES_SCHEMA,
    PARAMS_SCHEMA,
    Formulas,
    formulas_of,
)
from tariffs.revision import Result

SUFFIXES = (".csv", ".parquet")
TOLERANCE = 1e-9
SHOWN_PER_RULE = 20  # problems listed per rule; the rest are counted in one line

# column -> (level, kind, required, arguments of the kind)
TEXT, ID, DATE, CHOICE, INTEGER, NUMBER, PERIOD, SERIES = range(8)
SHARE = ("a number in [0, 1]", lambda v: (v >= 0) & (v <= 1))
POSITIVE = ("a number > 0", lambda v: v > 0)
VAT = ("a number in [0, 1)", lambda v: (v >= 0) & (v < 1))
SAFEGUARD = ("a number in (0, 1]", lambda v: (v > 0) & (v <= 1))
COLUMNS: dict[str, tuple[str, int, bool, tuple]] = {
    "contract": ("contract", ID, True, ()),
    "title": ("contract", TEXT, False, ()),
    "client": ("contract", TEXT, False, ()),
    "operator": ("contract", TEXT, False, ()),
    "kind": ("contract", CHOICE, False, model.KINDS),
    "start": ("contract", DATE, True, ()),
    "end": ("contract", DATE, False, ()),
    "frequency": ("contract", CHOICE, True, model.FREQUENCIES),
    "month": ("contract", INTEGER, False, (1, 12)),
    "index_rule": ("contract", CHOICE, False, model.INDEX_RULES),
    "lag_months": ("contract", INTEGER, False, (0, None)),
    "window_months": ("contract", INTEGER, False, (1, None)),
    "coefficient_decimals": ("contract", INTEGER, False, (0, 10)),
    "price_decimals": ("contract", INTEGER, False, (0, 10)),
    "rounding": ("contract", CHOICE, False, model.ROUNDINGS),
    "cap": ("contract", NUMBER, False, POSITIVE),
    "floor": ("contract", NUMBER, False, POSITIVE),
    "safeguard": ("contract", NUMBER, False, SAFEGUARD),
    "term": ("term", TEXT, True, ()),
    "label": ("term", TEXT, False, ()),
    "unit": ("term", CHOICE, True, model.UNITS),
    "energy_basis": ("term", CHOICE, False, model.ENERGY_BASES),
    "base_period": ("term", PERIOD, True, ()),
    "vat_rate": ("term", NUMBER, False, VAT),
    "component": ("component", TEXT, False, ()),
    "share": ("component", NUMBER, False, SHARE),
    "base_price": ("component", NUMBER, True, POSITIVE),
    "fixed": ("component", NUMBER, False, SHARE),
    "series": ("index", SERIES, False, ()),
    "weight": ("index", NUMBER, False, SHARE),
    "base_value": ("index", NUMBER, False, POSITIVE),
}
LEVEL_KEYS = {
    "contract": ["contract"],
    "term": ["contract", "term"],
    "component": ["contract", "term", "component"],
}
MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
QUARTER_RE = r"^\d{4}-[QT][1-4]$"
ID_RE = r"^[a-z0-9-]+$"


DETAILS_SCHEMA = {
    "contract": pl.String, "title": pl.String, "client": pl.String, "operator": pl.String,
    "kind": pl.String, "start": pl.Date, "end": pl.Date, "term": pl.String, "label": pl.String,
    "vat_rate": pl.Float64,
}  # fmt: skip


@dataclass
class Portfolio:
    """The validated frames of one or more inputs, and the loader's warnings.

    The revision pipeline uses ``formulas`` directly. Iterating gives the
    contracts as :class:`tariffs.model.Contract` objects (built on first use,
    from ``formulas`` and ``details``: one row per contract × term with what the
    frames do not carry), for code that takes contracts, such as the audit.
    """

    formulas: Formulas
    warnings: list
    details: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=DETAILS_SCHEMA))
    loaded: list[model.Contract] = field(default_factory=list)  # TOML contracts given alongside
    _models: list[model.Contract] | None = field(default=None, repr=False)

    @property
    def contracts(self) -> int:
        return self.formulas.params.height

    @property
    def terms(self) -> int:
        return self.formulas.components.select("contract", "term").n_unique()

    def __len__(self) -> int:
        return self.contracts

    def __iter__(self):
        if self._models is None:
            self._models = self.loaded + contracts_of(self.formulas, self.details)
        return iter(self._models)


def is_portfolio(path: Path | str) -> bool:
    """A portfolio table is a ``.csv`` or ``.parquet`` file; anything else is TOML."""
    return Path(path).suffix.lower() in SUFFIXES


# --------------------------------------------------------------------------- reading


def read_table(path: Path) -> pl.DataFrame:
    """The table with text stripped (empty = null) and ``_line`` (see the module notes).

    CSV columns are all text; Parquet columns keep their types (numbers, dates).
    """
    return stripped(read_raw(path))


def read_raw(path: Path) -> pl.DataFrame:
    """The table as written (text not stripped), column names stripped, and ``_line``."""
    where = str(path)
    try:
        if Path(path).suffix.lower() == ".parquet":
            raw, first = pl.read_parquet(path), 1
        else:
            raw, first = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy"), 2
    except FileNotFoundError as exc:
        raise ContractError(problems=[Problem(where, "", "file not found")]) from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        message = f"not a readable {Path(path).suffix.lstrip('.')} table: {exc}"
        raise ContractError(problems=[Problem(where, "", message)]) from exc
    return (
        raw.rename({name: name.strip() for name in raw.columns})
        .with_row_index("_line", offset=first)
        .with_columns(pl.col("_line").cast(pl.Int64))
    )


def stripped(raw: pl.DataFrame) -> pl.DataFrame:
    """Text cells stripped of surrounding white space; an empty cell is null."""
    return raw.with_columns(_as_text(raw, name) for name in raw.columns if name != "_line")


def _as_text(raw: pl.DataFrame, name: str) -> pl.Expr:
    if raw.schema[name] != pl.String:
        return pl.col(name)
    col = pl.col(name).str.strip_chars()
    return pl.when(col == "").then(None).otherwise(col).alias(name)


def _header(where: str, columns: list[str]) -> list[Problem]:
    problems = []
    allowed = list(COLUMNS)
    for name in columns:
        if name not in COLUMNS and name != "_line":
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                Problem(where, name, f"unknown column{hint}; allowed: {', '.join(allowed)}", 1)
            )
    for name, (_, _, required, _) in COLUMNS.items():
        if required and name not in columns:
            problems.append(Problem(where, name, "missing required column", 1))
    return problems


# --------------------------------------------------------------------------- checks


class _Problems:
    """Collects problems as (line, column, message) frames; at most SHOWN_PER_RULE per rule."""

    def __init__(self, where: str):
        self.where = where
        self.items: list[Problem] = []

    def rows(
        self, bad: pl.DataFrame, column: str, message: pl.Expr | str, severity="error"
    ) -> None:
        """One problem per row of ``bad`` (which has ``_line``), message built per row."""
        if bad.height == 0:
            return
        text = message if isinstance(message, pl.Expr) else pl.lit(message)
        # rechunk: polars 2.1 panics in pl.format on a slice of a filtered frame
        # ("assertion failed: i < self.len()", binview/mod.rs:413)
        shown = bad.head(SHOWN_PER_RULE).rechunk().select("_line", text.alias("m"))
        for line, msg in shown.iter_rows():
            self.items.append(Problem(self.where, column, msg, line, severity))
        if bad.height > SHOWN_PER_RULE:
            more = f"... and {bad.height - SHOWN_PER_RULE} more rows with the same problem"
            self.items.append(Problem(self.where, column, more, None, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]


def _got(name: str) -> pl.Expr:
    return pl.format('got "{}"', pl.col(name))


def _typed(raw: pl.DataFrame, out: _Problems) -> pl.DataFrame:
    """Parse every known column to its type; report values that do not parse or are out of bounds."""
    exprs, flags, messages = [], {}, {}
    for name in raw.columns:
        if name not in COLUMNS:
            continue
        _, kind, required, args = COLUMNS[name]
        parsed, wanted, ok = _parse(name, kind, args, raw.schema[name])
        flags[f"_bad_{name}"] = pl.col(name).is_not_null() & (
            parsed.is_null() | ~ok.fill_null(False)
        )
        messages[f"_bad_{name}"] = (name, pl.format("expected {}, ", pl.lit(wanted)) + _got(name))
        if required:
            flags[f"_none_{name}"] = pl.col(name).is_null()
            messages[f"_none_{name}"] = (name, pl.lit("missing value (required column)"))
        exprs.append(pl.when(ok.fill_null(False)).then(parsed).alias(name))
    checked = raw.with_columns(**flags)
    found = checked.select(pl.col(list(flags)).any()).row(0, named=True)
    for flag, (name, message) in messages.items():
        if found[flag]:
            out.rows(checked.filter(pl.col(flag)), name, message)
    texts = [
        pl.col(c).cast(pl.String).alias(f"_text_{c}") for c in ("base_value",) if c in raw.columns
    ]
    bad = pl.lit(False)
    if any(found.values()):
        wrong = checked.filter(pl.any_horizontal(list(flags)))["contract"].unique()
        bad = pl.col("contract").is_in(wrong.implode())
    return raw.with_columns(*texts, bad.alias("_bad")).with_columns(exprs)


def _parse(name: str, kind: int, args: tuple, dtype: pl.DataType) -> tuple[pl.Expr, str, pl.Expr]:
    """The parsed column, what is expected (for messages), and whether each value is valid."""
    col = pl.col(name)
    if kind == NUMBER:
        value = col.cast(pl.Float64, strict=False)
        return value, args[0], args[1](value) & value.is_finite()
    if kind == INTEGER:
        value = col.cast(pl.Int64, strict=False)
        if dtype.is_float():
            value = pl.when(col == col.round()).then(value)
        low, high = args
        wanted = f"an integer in [{low}, {high}]" if high is not None else f"an integer ≥ {low}"
        return value, wanted, (value >= low) & ((value <= high) if high is not None else True)
    if kind == DATE:
        if dtype in (pl.Date, pl.Datetime):
            return col.cast(pl.Date), "a date YYYY-MM-DD", col.is_not_null()
        value = col.cast(pl.String).str.to_date("%Y-%m-%d", strict=False)
        return value, "a date YYYY-MM-DD", value.is_not_null()
    col = col if dtype == pl.String else col.cast(pl.String)
    if kind == CHOICE:
        return col, f"one of {', '.join(args)}", col.is_in(list(args))
    if kind == PERIOD:
        value = col.str.replace(r"^(\d{4})-T", "$1-Q")
        ok = col.str.contains(MONTH_RE) | col.str.contains(QUARTER_RE)
        return value, "a month YYYY-MM or a quarter YYYY-Qn", ok
    if kind == ID:
        return col, "lower-case letters, digits and '-' only ([a-z0-9-]+)", col.str.contains(ID_RE)
    return col, "a non-empty text", pl.lit(True)


def _consistent(t: pl.DataFrame, out: _Problems) -> set[str]:
    """Columns of a level must hold one value per contract / term / component.

    Returns the levels whose groups are contiguous (rows of a group one after the other).

    Notes
    -----
    When the rows of each contract / term / component are contiguous (the usual
    layout), comparing each row with the previous one is enough and needs no
    hashing; otherwise the groups are counted with a group-by.
    """
    contiguous = set()
    for level, keys in LEVEL_KEYS.items():
        keys = [k for k in keys if k in t.columns]
        names = [c for c in t.columns if COLUMNS.get(c, ("index",))[0] == level and c not in keys]
        same = ~pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift()) for k in keys)
        runs, groups = t.select(
            (~same).sum().alias("r"), pl.struct(keys).n_unique().alias("g")
        ).row(0)
        if runs == groups:
            contiguous.add(level)
            changed = (
                t.select((same & _changed(n)).any().alias(n) for n in names) if names else None
            )
            wrong = [n for n in names if changed[n].item()]
            flagged = (
                t.filter(same & pl.any_horizontal(_changed(n) for n in wrong)) if wrong else None
            )
        elif names:
            counts = t.group_by(keys).agg(pl.col(names).n_unique())
            flagged = counts.filter(pl.any_horizontal(pl.col(names) > 1))
            wrong = [n for n in names if flagged[n].max() > 1] if flagged.height else []
        else:
            wrong = []
        if wrong:
            differ = flagged.select(keys).unique()
            _differences(
                t.join(differ, on=keys, how="semi", nulls_equal=True), level, keys, wrong, out
            )
    return contiguous


def _changed(name: str) -> pl.Expr:
    """The value differs from the previous row's (nulls compared as values)."""
    return pl.col(name).ne_missing(pl.col(name).shift())


def _differences(
    t: pl.DataFrame, level: str, keys: list[str], names: list[str], out: _Problems
) -> None:
    for name in names:
        first = pl.col(name).first().over(keys)  # rows are in line order
        line = pl.col("_line").first().over(keys)
        bad = t.with_columns(first.alias("_first"), line.alias("_first_line")).filter(
            pl.col(name).ne_missing(pl.col("_first"))
        )
        message = pl.format(
            "differs from line {} of the same {} ({} there, {} here): give it once per {}",
            pl.col("_first_line"), pl.lit(level), pl.col("_first").cast(pl.String).fill_null("empty"),
            pl.col(name).cast(pl.String).fill_null("empty"), pl.lit(level),
        )  # fmt: skip
        out.rows(bad, name, message)


def _rules(t: pl.DataFrame, out: _Problems, catalog: dict | None) -> None:
    """The cross-column rules of the TOML loader."""
    if "end" in t.columns:
        out.rows(t.filter(pl.col("end") <= pl.col("start")), "end",
                 pl.format("end {} must be after start {}", pl.col("end"), pl.col("start")))  # fmt: skip
    if {"cap", "floor"} <= set(t.columns):
        out.rows(t.filter(pl.col("cap") < pl.col("floor")), "cap",
                 pl.format("cap {} is below floor {}", pl.col("cap"), pl.col("floor")))  # fmt: skip
    per_mwh = pl.col("unit") == "EUR/MWh"
    out.rows(t.filter(per_mwh & pl.col("energy_basis").is_null()), "energy_basis",
             f"missing for unit EUR/MWh: one of {', '.join(model.ENERGY_BASES)}")  # fmt: skip
    out.rows(t.filter(~per_mwh & pl.col("energy_basis").is_not_null()), "energy_basis",
             pl.format("only for unit EUR/MWh (here {})", pl.col("unit")))  # fmt: skip
    out.rows(t.filter(pl.col("series").is_null() != pl.col("weight").is_null()), "weight",
             "series and weight go together (both given, or both empty for a fixed price)")  # fmt: skip
    _components_rules(t, out)
    _series_rules(t, out, catalog)
    _sums(t, out)
    if "window_months" in t.columns:
        lone = t.filter(pl.col("window_months").is_not_null() & (pl.col("index_rule") != "mean"))
        out.rows(lone.unique("contract", keep="first", maintain_order=True), "window_months",
                 pl.format('only used with index_rule "mean" (here {}): ignored', pl.col("index_rule")), "warning")  # fmt: skip


def _components_rules(t: pl.DataFrame, out: _Problems) -> None:
    named = pl.col("component").is_not_null()
    if t["component"].null_count() < t.height:
        mixed = named.any().over("contract", "term") & ~named.all().over("contract", "term")
        out.rows(t.filter(mixed & ~named), "component",
                 "missing: the other rows of this term name their component")  # fmt: skip
        out.rows(t.filter(named & pl.col("share").is_null()), "share", "missing for a component")
    out.rows(t.filter(~named & pl.col("share").is_not_null()), "share",
             "only for a term made of components (give component too)")  # fmt: skip
    if t["series"].null_count():
        loose = pl.col("series").is_null() & (pl.len().over("contract", "term", "component") > 1)
        out.rows(t.filter(loose & pl.col("weight").is_null()), "series",
                 "a row without series in a formula that has indices")  # fmt: skip


def _series_rules(t: pl.DataFrame, out: _Problems, catalog: dict | None) -> None:
    formula = ["contract", "term", "component", "series"]
    again = t.filter(pl.col("series").is_not_null() & ~pl.struct(formula).is_first_distinct())
    out.rows(again, "series", pl.format("series {} used twice in one formula", pl.col("series")))
    if catalog is None:
        return
    unknown = t.filter(pl.col("series").is_not_null() & ~pl.col("series").is_in(list(catalog)))
    hints = {}
    for sid in unknown["series"].unique().to_list():
        close = difflib.get_close_matches(sid, list(catalog), n=3, cutoff=0.5)
        hints[sid] = f"; close matches: {', '.join(close)}" if close else ""
    hint = pl.col("series").replace_strict(hints, default="", return_dtype=pl.String)
    out.rows(unknown, "series",
             pl.format("unknown series '{}': not in the index catalog{}", pl.col("series"), hint))  # fmt: skip


def _sums(t: pl.DataFrame, out: _Problems) -> None:
    """fixed + Σ weights = 1 per formula; Σ shares = 1 per mix term; customary bounds of fixed."""
    keys = ["contract", "term", "component"]
    if t["component"].null_count() == t.height:
        keys = ["contract", "term"]  # no component named: same groups, a cheaper key
    per = t.group_by(keys, maintain_order=True).agg(
        pl.col("_line").min(), pl.col("fixed").first(), pl.col("share").first(),
        pl.col("weight").sum().alias("weights"), pl.col("series").drop_nulls().len().alias("n"),
    )  # fmt: skip
    off = per.filter((pl.col("fixed") + pl.col("weights") - 1).abs() > TOLERANCE)
    out.rows(off, "weight", pl.format("fixed + sum of weights must be 1, got {} + {}",
                                      pl.col("fixed"), pl.col("weights")))  # fmt: skip
    customary = (pl.col("fixed") >= 0.125) & (pl.col("fixed") <= 0.5)
    odd = per.filter(~customary & ~((pl.col("fixed") == 1) & (pl.col("n") == 0)))
    out.rows(odd, "fixed", pl.format("fixed share {} outside the customary bounds [0.125, 0.5]",
                                     pl.col("fixed")), "warning")  # fmt: skip
    if "component" not in per.columns:
        return
    mix = per.filter(pl.col("component").is_not_null()).group_by(
        "contract", "term", maintain_order=True
    )
    shares = mix.agg(pl.col("_line").min(), pl.col("share").sum())
    out.rows(shares.filter((pl.col("share") - 1).abs() > TOLERANCE), "share",
             pl.format("shares of a term must sum to 1, got {}", pl.col("share")))  # fmt: skip


# --------------------------------------------------------------------------- frames


DEFAULTS = {"index_rule": "lag", "lag_months": 0, "rounding": "half-up", "fixed": 0.0}


def _defaults(t: pl.DataFrame, levels: tuple = ("contract", "term", "component", "index")):
    """Optional columns of ``levels`` absent from the file, with the TOML loader's defaults."""
    names = [n for n, spec in COLUMNS.items() if spec[0] in levels]
    absent = [pl.lit(None, _dtype(n)).alias(n) for n in names if n not in t.columns]
    if "base_value" in names and "base_value" not in t.columns:
        absent.append(pl.lit(None, pl.String).alias("_text_base_value"))
    t = t.with_columns(absent)
    return t.with_columns(pl.col(n).fill_null(v) for n, v in DEFAULTS.items() if n in names)


def _dtype(name: str) -> pl.DataType:
    kind = COLUMNS[name][1]
    return {NUMBER: pl.Float64, INTEGER: pl.Int64, DATE: pl.Date}.get(kind, pl.String)


def _month(c: str) -> pl.Expr:
    """Date column -> month index (year × 12 + month - 1)."""
    return pl.col(c).dt.year().cast(pl.Int64) * 12 + pl.col(c).dt.month().cast(pl.Int64) - 1


def details_of(comps: pl.DataFrame) -> pl.DataFrame:
    """What a Contract object needs beyond the frames: one row per contract × term."""
    rows = comps.unique(["contract", "term"], keep="first", maintain_order=True)
    return rows.select([pl.col(c).cast(d) for c, d in DETAILS_SCHEMA.items()])


def contracts_of(formulas: Formulas, details: pl.DataFrame) -> list[model.Contract]:
    """Frames -> :class:`tariffs.model.Contract` objects (numbers as the shortest decimal text)."""
    refs: dict[tuple, list] = {}
    for r in formulas.indices.sort("index_order").iter_rows(named=True):
        ref = model.IndexRef(
            r["series"], _dec(r["weight"]), _dec(r["base_value"], r["base_value_decimals"])
        )
        refs.setdefault((r["contract"], r["term"], r["comp"]), []).append(ref)
    comps: dict[tuple, list] = {}
    for r in formulas.components.sort("term_order", "comp_order").iter_rows(named=True):
        key = (r["contract"], r["term"], r["comp"])
        comp = model.Component(r["comp"] if r["is_mix"] else None, _dec(r["share"]), _dec(r["base_price"]),
                               _dec(r["fixed"]), tuple(refs.get(key, ())))  # fmt: skip
        comps.setdefault((r["contract"], r["term"]), [r, []])[1].append(comp)
    terms: dict[str, list] = {}
    for d in details.iter_rows(named=True):
        first, parts = comps[(d["contract"], d["term"])]
        vat = () if d["vat_rate"] is None else (model.VatRate(_dec(d["vat_rate"])),)
        term = model.Term(d["term"], d["label"] or "", first["unit"], first["energy_basis"],
                          first["base_period"], tuple(parts), vat)  # fmt: skip
        terms.setdefault(d["contract"], [d, []])[1].append((first["term_order"], term))
    out = []
    for p in formulas.params.iter_rows(named=True):
        if p["contract"] not in terms:  # a TOML contract given alongside: it has its own object
            continue
        d, items = terms[p["contract"]]
        revision = model.Revision(
            p["frequency"], p["rev_month"], p["rule"], p["lag"], p["window"], p["kdec"], p["pdec"],
            p["rounding"], _dec(p["cap"]), _dec(p["floor"]), _dec(p["safeguard"]),
        )  # fmt: skip
        out.append(model.Contract(
            id=p["contract"], title=d["title"] or p["contract"], start=d["start"], end=d["end"],
            revision=revision, terms=tuple(t for _, t in sorted(items, key=lambda x: x[0])),
            client=d["client"], operator=d["operator"], kind=d["kind"],
        ))  # fmt: skip
    return out


def _dec(value: float | None, decimals: int | None = None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(f"{value:.{decimals}f}") if decimals is not None else Decimal(repr(value))


def frames_of(t: pl.DataFrame, comps: pl.DataFrame, contiguous: bool = False) -> Formulas:
    """A checked table (typed, defaults filled, in line order) -> the frames of the pipeline.

    ``comps`` is the first row of each contract × term × component. Orders of
    terms, components and indices are their orders of appearance in the file.
    ``contiguous``: the rows of each formula follow one another (then the index
    order is counted along runs, without hashing the keys).
    """
    first = comps.unique("contract", keep="first", maintain_order=True)
    terms = comps.unique(["contract", "term"], keep="first", maintain_order=True).select(
        "contract", "term", pl.int_range(pl.len()).over("contract").alias("term_order")
    )
    ordered = comps.join(terms, on=["contract", "term"], maintain_order="left").with_columns(
        pl.int_range(pl.len()).over("contract", "term").alias("comp_order")
    )
    formula = (
        ["contract", "term"]
        if t["component"].null_count() == t.height
        else ["contract", "term", "component"]
    )
    if contiguous:
        change = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift()) for k in formula)
        order = _run_position(change)
    else:
        order = pl.int_range(pl.len()).over(formula)
    return assemble(first, ordered, t.filter(pl.col("series").is_not_null()), order)


def _run_position(start: pl.Expr) -> pl.Expr:
    """0, 1, 2, ... along each run of rows; a run begins where ``start`` is true."""
    row = pl.int_range(pl.len())
    return row - pl.when(start).then(row).forward_fill()


def assemble(
    first: pl.DataFrame, comps: pl.DataFrame, rows: pl.DataFrame, order: pl.Expr
) -> Formulas:
    """The :class:`Formulas` frames from typed rows with defaults filled.

    ``first``: the first row of each contract; ``comps``: the first row of each
    contract × term × component with ``term_order`` and ``comp_order``; ``rows``:
    the rows that name a series, with ``_text_base_value``; ``order``: the
    position of an index in its formula (an expression on ``rows``).
    """
    params = first.select(
        "contract", "frequency",
        pl.coalesce("month", pl.col("start").dt.month().cast(pl.Int64)).alias("rev_month"),
        _month("start").alias("start_month"), _month("end").alias("end_month"),
        pl.col("index_rule").alias("rule"), pl.col("lag_months").alias("lag"),
        pl.when(pl.col("index_rule") == "mean").then(pl.col("window_months").fill_null(12))
        .otherwise(1).alias("window"),
        pl.col("coefficient_decimals").alias("kdec"), pl.col("price_decimals").alias("pdec"),
        "rounding", "cap", "floor", "safeguard",
    )  # fmt: skip
    year = pl.col("base_period").str.slice(0, 4).cast(pl.Int64)
    quarterly = pl.col("base_period").str.contains("Q")
    quarter = pl.col("base_period").str.slice(-1).cast(pl.Int64, strict=False)
    month_of_year = pl.col("base_period").str.slice(5, 2).cast(pl.Int64, strict=False)
    components = comps.select(
        "contract", "term", "term_order",
        pl.col("component").fill_null("").alias("comp"), "comp_order",
        pl.col("component").is_not_null().alias("is_mix"),
        pl.col("share").fill_null(1.0), "base_price", "fixed",
        "base_period",
        pl.when(quarterly).then((year * 4 + quarter - 1) * 3).otherwise(year * 12 + month_of_year - 1)
        .alias("base_month"),
        pl.when(quarterly).then(3).otherwise(1).cast(pl.Int64).alias("base_span"),
        "unit", "energy_basis",
    )  # fmt: skip
    text = pl.col("_text_base_value")
    point = text.str.find(".", literal=True)
    decimals = pl.when(point.is_null()).then(0).otherwise(text.str.len_chars() - point - 1)
    indices = rows.select(
        "contract", "term", pl.col("component").fill_null("").alias("comp"), "series",
        order.alias("index_order"),
        "weight", "base_value",
        pl.when(pl.col("base_value").is_not_null()).then(decimals).cast(pl.Int64)
        .alias("base_value_decimals"),
    )  # fmt: skip
    return Formulas(
        params=params.select([pl.col(c).cast(d) for c, d in PARAMS_SCHEMA.items()]),
        components=components.select([pl.col(c).cast(d) for c, d in COMPONENTS_SCHEMA.items()]),
        indices=indices.select([pl.col(c).cast(d) for c, d in INDICES_SCHEMA.items()]),
    )


def read_portfolio(path: Path, catalog: dict | None = None) -> Portfolio:
    """Read, check and flatten one portfolio table.

    ``catalog`` (series id -> SeriesInfo), when given, must hold every ``series``.
    Raises :class:`ContractError` with every problem of the file (line and column).
    """
    from tariffs.portfolio_fast import read_grouped

    where = str(path)
    raw = read_raw(Path(path))
    problems = _header(where, raw.columns)
    if problems:
        raise ContractError(problems=problems)
    grouped = read_grouped(raw, where, catalog)  # most tables: valid, rows grouped
    if grouped is not None:
        return grouped
    raw = stripped(raw)
    out = _Problems(where)
    t = _typed(raw, out)
    t = _defaults(t)
    checked = t.filter(~pl.col("_bad"))  # cross-checks only on contracts whose cells all parse
    contiguous = _consistent(
        checked.select(["_line", *[c for c in raw.columns if c in COLUMNS]]), out
    )
    _rules(checked, out, catalog)
    if out.errors:
        raise ContractError(
            problems=sorted(out.errors, key=lambda p: (p.line is None, p.line or 0))
        )
    if t.height == 0:
        raise ContractError(
            problems=[Problem(where, "", "no contract found (the table has no row)")]
        )
    warnings = [p for p in out.items if p.severity == "warning"]
    comps = t.unique(["contract", "term", "component"], keep="first", maintain_order=True)
    return Portfolio(frames_of(t, comps, "component" in contiguous), warnings, details_of(comps))


def load_portfolio(paths: list[Path], catalog: dict | None = None) -> Portfolio:
    """Portfolio tables and TOML contract files/folders together, as one set of frames.

    Contract ids must be unique across all inputs. TOML files go through
    :func:`tariffs.contract.load_contracts`; tables through :func:`read_portfolio`.
    """
    from tariffs.contract import load_contracts

    tables = [p for p in paths if is_portfolio(p) and not Path(p).is_dir()]
    others = [p for p in paths if p not in tables]
    parts, warnings, problems, seen, details, loaded = [], [], [], {}, [], []
    if others:
        loaded = load_contracts(others, catalog)
        warnings += [w for c in loaded for w in c.warnings]
        parts.append(("TOML contracts", formulas_of(loaded)))
    for path in tables:
        try:
            portfolio = read_portfolio(path, catalog)
        except ContractError as exc:
            problems += exc.problems
            continue
        warnings += portfolio.warnings
        details.append(portfolio.details)
        parts.append((str(path), portfolio.formulas))
    for where, formulas in parts:
        for cid in formulas.params["contract"].to_list():
            if cid in seen:
                problems.append(
                    Problem(where, "contract", f"duplicate id {cid!r}: also in {seen[cid]}")
                )
            seen.setdefault(cid, where)
    if problems:
        raise ContractError(problems=problems)
    merged = Formulas(
        *(pl.concat([getattr(f, n) for _, f in parts]) for n in ("params", "components", "indices"))
    )
    return Portfolio(
        merged, warnings, pl.concat([pl.DataFrame(schema=DETAILS_SCHEMA), *details]), loaded
    )


# --------------------------------------------------------------------------- pipeline entry points


def history(inputs, store, first: int, last: int, as_of: date | None = None) -> Result:
    """:func:`tariffs.revision.history` for contracts or :class:`Formulas` (a portfolio)."""
    return revision.history(_formulas(inputs), store, first, last, as_of)


def revise(inputs, store, at: int | None = None, today: int | None = None,
           as_of: date | None = None) -> Result:  # fmt: skip
    """:func:`tariffs.revision.revise` for contracts or a portfolio (same rules, same result)."""
    return revision.revise(_formulas(inputs), store, at, today, as_of)


def _formulas(inputs) -> Formulas:
    if isinstance(inputs, Portfolio):
        return inputs.formulas
    return inputs if isinstance(inputs, Formulas) else formulas_of(list(inputs))


def count(inputs) -> tuple[int, int]:
    """Number of contracts and of terms of contracts or of a portfolio."""
    if isinstance(inputs, Portfolio):
        return inputs.contracts, inputs.terms
    return len(inputs), sum(len(c.terms) for c in inputs)


# --------------------------------------------------------------------------- writing


def table_of(formulas: Formulas) -> pl.DataFrame:
    """Frames -> a portfolio table (the inverse of :func:`read_portfolio`, for tools and tests)."""
    p = formulas.params
    params = p.select(
        "contract", _day_text(pl.col("start_month")).alias("start"),
        pl.when(pl.col("end_month").is_not_null()).then(_day_text(pl.col("end_month"))).alias("end"),
        "frequency", pl.col("rev_month").alias("month"), pl.col("rule").alias("index_rule"),
        pl.col("lag").alias("lag_months"),
        pl.when(pl.col("rule") == "mean").then(pl.col("window")).alias("window_months"),
        pl.col("kdec").alias("coefficient_decimals"), pl.col("pdec").alias("price_decimals"),
        "rounding", "cap", "floor", "safeguard",
    )  # fmt: skip
    comps = formulas.components.select(
        "contract", "term", "term_order", "unit", "energy_basis", "base_period",
        pl.when(pl.col("is_mix")).then(pl.col("comp")).alias("component"), "comp_order",
        pl.when(pl.col("is_mix")).then(pl.col("share")).alias("share"), "base_price", "fixed",
        pl.col("comp").alias("comp"),
    )  # fmt: skip
    indices = formulas.indices.with_columns(_decimal_text("base_value", "base_value_decimals"))
    rows = comps.join(indices, on=["contract", "term", "comp"], how="left")
    order = params.select("contract").with_row_index("_c")
    return (
        params.join(rows, on="contract").join(order, on="contract")
        .sort("_c", "term_order", "comp_order", "index_order", nulls_last=False)
        .select(*[c for c in COLUMNS if c in {*params.columns, *rows.columns}])
    )  # fmt: skip


def _day_text(month: pl.Expr) -> pl.Expr:
    """Month index -> the first day of the month, ``YYYY-MM-01``."""
    year = (month // 12).cast(pl.String).str.zfill(4)
    return pl.format("{}-{}-01", year, (month % 12 + 1).cast(pl.String).str.zfill(2))


def _decimal_text(value: str, decimals: str) -> pl.Expr:
    """A float written with the given number of decimals (``58.3``, 2 -> ``"58.30"``)."""
    parts = pl.col(value).cast(pl.String).str.split_exact(".", 1)
    whole, frac = parts.struct.field("field_0"), parts.struct.field("field_1")
    frac = frac.fill_null("").str.pad_end(12, "0").str.slice(0, pl.col(decimals))
    return (
        pl.when(pl.col(decimals) > 0)
        .then(pl.format("{}.{}", whole, frac))
        .otherwise(whole)
        .alias(value)
    )


def write_table(table: pl.DataFrame, path: Path) -> None:
    """Write a portfolio table as CSV or Parquet (by suffix)."""
    if Path(path).suffix.lower() == ".parquet":
        table.write_parquet(path)
    else:
        table.write_csv(path)
