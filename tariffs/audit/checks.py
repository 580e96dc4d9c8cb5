"""The audit pipeline: invoice lines × contracts × index values -> findings, in polars.

Every line is joined (never looped over in Python) with its contract's term,
the price due for the billed month and the index values behind it; each check
is a column expression, and the findings are the rows where a check fails.

Notes
-----
Per line, with ``q`` the quantity in the term's unit (kWh -> MWh for a price
per MWh), ``p`` the billed unit price and ``p*`` the price due:

- the price chain: ``index:S`` / ``base_index:S`` against the values due
  (``index-value-mismatch``, ``base-value-mismatch``), then ``coefficient``
  against K due (``coefficient-mismatch``), then ``p`` against ``p*``
  (``unit-price-mismatch``). Only the first link that differs is reported,
  with the effect ``q × (p − p*)`` [EUR] (split evenly between several index
  findings of one line); a later link that differs is its consequence.
- ``amount-mismatch``: ``amount_excl_vat − round(q × p, 2)``, when it differs
  from ``q × p`` by more than half a cent (an arithmetic slip).
- ``vat-rate-mismatch``: ``amount_excl_vat × (t − t*)`` with ``t*`` the rate
  due (:mod:`tariffs.audit.vat`); ``vat-amount-mismatch``:
  ``amount_incl_vat − round(amount_excl_vat × (1 + t), 2)``.
- ``energy-basis-mismatch``: the billed basis is not the contract's; no euro
  effect without a named efficiency or fuel (never assumed).

``difference_eur`` = billed − due (positive: overbilled). A line that cannot
be checked (unreadable value, duplicate, unknown contract or term, month
outside the contract, index value not in the store) gets one *blocking*
finding and no other; it is never counted as correct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl

from tariffs.audit.batches import count, duplicates, revision_at, slices
from tariffs.audit.expected import Expected, cut_of, expected_prices, publication_dates
from tariffs.audit.explain import explain
from tariffs.audit.invoices import Invoices
from tariffs.audit.vat import rate_due
from tariffs.formulas import Formulas, formulas_of
from tariffs.model import Contract
from tariffs.periods import first_day
from tariffs.series import IndexStore

BLOCKING = ("invalid-line", "duplicate-line", "unknown-contract", "unknown-term",
            "period-outside-contract", "missing-index")  # fmt: skip
CODES = ("index-value-mismatch", "base-value-mismatch", "coefficient-mismatch", "unit-price-mismatch",
         "amount-mismatch", "vat-rate-mismatch", "vat-amount-mismatch", "energy-basis-mismatch",
         "unknown-contract", "unknown-term", "missing-index", "invalid-line", "duplicate-line",
         "period-outside-contract")  # fmt: skip
FINDING_SCHEMA = {
    "row": pl.Int64, "invoice": pl.String, "invoice_line": pl.String, "contract": pl.String,
    "term": pl.String, "period": pl.String, "code": pl.String, "billed": pl.Float64,
    "expected": pl.Float64, "difference_eur": pl.Float64, "message": pl.String, "blocked": pl.Boolean,
    "column": pl.String, "ref_period": pl.String,
}  # fmt: skip
HALF_CENT = 0.005 + 1e-6


@dataclass
class Audit:
    """Findings (one row each), notes (provisional values) and the summary counts."""

    findings: pl.DataFrame
    notes: list[dict]
    lines: int
    problems: list[str] = field(default_factory=list)
    checked: pl.LazyFrame | None = None


def terms_frame(contracts: list[Contract], formulas: Formulas | None = None) -> pl.DataFrame:
    """One row per contract × term: validity window, unit, energy basis, schedule, VAT-rate set.

    ``_vat_set`` numbers the distinct sets of stated VAT rates (see :func:`_vat_table`).
    """
    formulas = formulas or formulas_of(contracts)
    sets: dict[tuple, int] = {}
    rows = [
        {"contract": c.id, "term": t.code, "start_month": c.start.year * 12 + c.start.month - 1,
         "end_month": c.end.year * 12 + c.end.month - 1 if c.end else None,
         "unit": t.unit, "contract_basis": t.energy_basis,
         "_vat_set": sets.setdefault(t.vat_rates, len(sets))}
        for c in contracts for t in c.terms
    ]  # fmt: skip
    schema = {"contract": pl.String, "term": pl.String, "start_month": pl.Int64, "end_month": pl.Int64,
              "unit": pl.String, "contract_basis": pl.String, "_vat_set": pl.Int64}  # fmt: skip
    schedule = formulas.params.select("contract", "frequency", "rev_month")
    return pl.DataFrame(rows, schema=schema).join(schedule, on="contract", how="left")


def vat_sets(contracts: list[Contract]) -> dict[int, tuple]:
    """``_vat_set`` number -> the stated rates, numbered as :func:`terms_frame` does."""
    sets: dict[tuple, int] = {}
    for c in contracts:
        for t in c.terms:
            sets.setdefault(t.vat_rates, len(sets))
    return {i: r for r, i in sets.items()}


def audit(invoices: Invoices, contracts: list[Contract], store: IndexStore) -> Audit:
    """Run every check on every line of ``invoices``; see the module Notes.

    Two passes over the file in row batches (:mod:`tariffs.audit.batches`):
    the first collects the distinct keys the engine and the VAT table need,
    the second checks the lines and keeps only the findings.
    """
    contracts = list(contracts)
    formulas = formulas_of(contracts)
    terms = terms_frame(contracts, formulas).lazy()
    known = pl.Series("contract", [c.id for c in contracts], dtype=pl.String).implode()
    copies = duplicates(invoices).lazy()
    cuts = publication_dates(store)
    lines = count(invoices)

    def prepared(batch: pl.LazyFrame) -> pl.LazyFrame:
        return _prepared(batch, terms, known, copies, cuts)

    keys, vat_keys = [], []
    for batch in slices(invoices, lines):
        ok = prepared(batch).filter(pl.col("block").is_null())
        k, v = pl.collect_all(
            [ok.select("contract", "at", "cut").unique(),
             ok.select("_vat_set", "month", "vat_rate").unique()], engine="in-memory",
        )  # fmt: skip
        keys.append(k)
        vat_keys.append(v)
    wanted = pl.concat(keys).unique()
    expected = expected_prices(formulas, store, wanted, with_trace=bool(invoices.index_columns))
    vat = _vat_table(pl.concat(vat_keys).unique(), vat_sets(contracts)).lazy()
    findings, notes = [], []
    for batch in slices(invoices, lines):
        f, n = _check(invoices, prepared(batch), expected, vat)
        findings.append(f)
        notes.append(n)
    findings = pl.concat(findings, how="diagonal_relaxed").sort("row")
    return Audit(
        findings=explain(findings.cast(FINDING_SCHEMA), store),
        notes=_notes(pl.concat(notes)).to_dicts(),
        lines=lines,
        problems=expected.problems,
        checked=invoices.frame,
    )


def _check(
    invoices: Invoices, lines: pl.LazyFrame, expected: Expected, vat: pl.LazyFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One batch: its findings and the rows behind its notes (both small)."""
    lines = _with_prices(lines, expected)
    lines = lines.join(vat, on=["_vat_set", "month", "vat_rate"], how="left", nulls_equal=True)
    index_rows = _index_checks(invoices, lines, expected)
    lines = lines.join(
        index_rows.filter(pl.col("bad")).group_by("row").agg(pl.len().alias("n_index_bad")),
        on="row", how="left",
    ).with_columns(pl.col("n_index_bad").fill_null(0).cast(pl.Int64))  # fmt: skip
    # the per-line columns computed once; the findings are filters of them
    lines = lines.collect(engine="in-memory").lazy()
    parts = [_blocked(lines), _index_findings(index_rows, lines), *_line_findings(lines)]
    # in-memory: on the default (streaming) engine polars 2.1 panics at random in a string
    # expression here ("assertion failed: i < self.len()", 3 runs in 4 on a 50,000-line file)
    findings, notes = pl.collect_all(
        [pl.concat(parts, how="diagonal_relaxed").select(list(FINDING_SCHEMA)),
         _note_rows(lines, expected)], engine="in-memory",
    )  # fmt: skip
    return findings, notes


def _prepared(
    batch: pl.LazyFrame,
    terms: pl.LazyFrame,
    known: pl.Series,
    copies: pl.LazyFrame,
    cuts: pl.Series,
) -> pl.LazyFrame:
    """Lines with their term, ``as_of``, ``cut``, revision date ``at`` and first blocking reason
    (``block``; ``first_row`` for a later copy of a line)."""
    year, mon = pl.col("month") // 12, pl.col("month") % 12 + 1
    as_of = pl.coalesce("invoice_date", pl.date(year, mon, 1).dt.month_end())
    lines = (
        batch.join(terms, on=["contract", "term"], how="left")
        .join(copies, on="row", how="left")
        .with_columns(
            pl.col("contract").is_in(known).alias("known_contract"),
            as_of.alias("as_of"),
            revision_at(pl.col("month")),
        )
        .with_columns(cut_of(pl.col("as_of"), cuts))
    )
    block = (
        pl.when(pl.col("problem").is_not_null()).then(pl.lit("invalid-line"))
        .when(pl.col("first_row").is_not_null()).then(pl.lit("duplicate-line"))
        .when(~pl.col("known_contract")).then(pl.lit("unknown-contract"))
        .when(pl.col("unit").is_null()).then(pl.lit("unknown-term"))
        .when((pl.col("month") < pl.col("start_month")) | (pl.col("month") > pl.col("end_month")))
        .then(pl.lit("period-outside-contract"))
    )  # fmt: skip
    return lines.with_columns(block.alias("block"))


def _with_prices(lines: pl.LazyFrame, expected: Expected) -> pl.LazyFrame:
    per_mwh = pl.col("unit").str.ends_with("/MWh").fill_null(False)
    q = (
        pl.when(per_mwh)
        .then(pl.col("quantity") * pl.col("mwh_per_unit"))
        .otherwise(pl.col("quantity"))
    )
    p_tol = pl.when(pl.col("pdec").is_not_null()).then(1e-7).otherwise(HALF_CENT)
    k_tol = pl.when(pl.col("kdec").is_not_null()).then(1e-9).otherwise(5e-5 + 1e-9)
    lines = lines.join(expected.prices.lazy(), on=["contract", "term", "at", "cut"], how="left")
    missing = pl.col("block").is_null() & pl.col("exp_price").is_null()
    return lines.with_columns(
        pl.when(missing).then(pl.lit("missing-index")).otherwise(pl.col("block")).alias("block"),
        q.alias("q"),
    ).with_columns(
        (pl.col("q") * (pl.col("unit_price") - pl.col("exp_price"))).alias("price_effect"),
        ((pl.col("unit_price") - pl.col("exp_price")).abs() > p_tol).alias("price_bad"),
        (pl.col("coefficient").is_not_null()
         & ((pl.col("coefficient") - pl.col("exp_coefficient")).abs() > k_tol)).alias("k_bad"),
        (pl.col("amount_excl_vat") - pl.col("q") * pl.col("unit_price")).alias("slip"),
    )  # fmt: skip


def _vat_table(keys: pl.DataFrame, rates: dict[int, tuple]) -> pl.DataFrame:
    """Rate due per distinct set of contract rates × month × billed rate (a small table).

    Terms with the same stated rates share their rows: 10,000 contracts without
    ``vat_rate`` give one set, so the Python loop runs per month × billed rate only.
    """
    due, why = [], []
    for vat_set, month, billed in keys.iter_rows():
        rate, reason = rate_due(
            None if billed is None else Decimal(repr(round(billed, 6))), rates.get(vat_set, ()),
            first_day(month),
        )  # fmt: skip
        due.append(None if rate is None else float(rate))
        why.append(reason)
    return keys.with_columns(
        pl.Series("vat_due", due, dtype=pl.Float64), pl.Series("vat_why", why, dtype=pl.String)
    )


def _index_checks(invoices: Invoices, lines: pl.LazyFrame, expected: Expected) -> pl.LazyFrame:
    """One row per line × ``index:S`` / ``base_index:S`` column, with the value due."""
    keys = ["row", "contract", "term", "at", "cut"]
    parts = []
    for column in invoices.index_columns:
        kind, _, series = column.partition(":")
        parts.append(
            lines.filter(pl.col("block").is_null() & pl.col(column).is_not_null()).select(
                *keys,
                pl.lit(kind).alias("kind"),
                pl.lit(series).alias("series"),
                pl.lit(column).alias("column"),
                pl.col(column).alias("billed_index"),
            )  # fmt: skip
        )
    if not parts:
        return pl.LazyFrame(schema={"row": pl.UInt32, "bad": pl.Boolean})
    rows = pl.concat(parts).join(
        expected.trace.lazy(), on=["contract", "term", "at", "cut", "series"]
    )
    due = pl.when(pl.col("kind") == "index").then(pl.col("exp_value")).otherwise(pl.col("exp_base"))
    return rows.with_columns(due.alias("due")).with_columns(
        ((pl.col("billed_index") - pl.col("due")).abs() > 1e-6 * pl.col("due").abs() + 1e-9).alias(
            "bad"
        )
    )


def _blocked(lines: pl.LazyFrame) -> pl.LazyFrame:
    message = (
        pl.when(pl.col("block") == "invalid-line").then(pl.col("problem"))
        .when(pl.col("block") == "duplicate-line").then(pl.format("same line as line {}; billed twice", "first_row"))
        .when(pl.col("block") == "unknown-contract")
        .then(pl.format("contract '{}' is not among the contracts given (--contracts)", "contract"))
        .when(pl.col("block") == "unknown-term").then(pl.format("contract {} has no term '{}'", "contract", "term"))
        .when(pl.col("block") == "period-outside-contract")
        .then(pl.format("{} is outside the contract's term", "period"))
        .otherwise(pl.lit("an index value due for this month is not in the store: the line cannot be checked"))
    )  # fmt: skip
    duplicate = pl.col("block") == "duplicate-line"
    return lines.filter(pl.col("block").is_not_null()).select(
        *_ids(), pl.col("block").alias("code"),
        pl.when(duplicate).then(pl.col("amount_excl_vat")).alias("billed"),
        pl.when(duplicate).then(0.0).alias("expected"),
        pl.when(duplicate).then(pl.col("amount_excl_vat")).alias("difference_eur"),
        message.alias("message"), pl.lit(True).alias("blocked"), pl.lit(None, pl.String).alias("column"),
    )  # fmt: skip


def _ids() -> list[pl.Expr]:
    return [
        pl.col("row").cast(pl.Int64),
        "invoice",
        pl.col("line").alias("invoice_line"),
        "contract",
        "term",
        "period",
    ]


def _index_findings(index_rows: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    if "kind" not in index_rows.collect_schema().names():
        return pl.LazyFrame(schema=FINDING_SCHEMA)
    info = lines.select("row", *_ids()[1:], "price_effect", "price_bad", "n_index_bad")
    bad = index_rows.filter(pl.col("bad")).join(info, on="row")
    what = (
        pl.when(pl.col("kind") == "index")
        .then(pl.col("exp_period"))
        .otherwise(pl.col("base_period"))
    )
    return bad.select(
        pl.col("row").cast(pl.Int64), "invoice", "invoice_line", "contract", "term", "period",
        pl.when(pl.col("kind") == "index").then(pl.lit("index-value-mismatch"))
        .otherwise(pl.lit("base-value-mismatch")).alias("code"),
        pl.col("billed_index").alias("billed"), pl.col("due").alias("expected"),
        pl.when(pl.col("price_bad")).then(pl.col("price_effect") / pl.col("n_index_bad"))
        .otherwise(0.0).round(2).alias("difference_eur"),
        pl.format("{} for {}: billed {}, due {} ({})", "series", what, pl.col("billed_index").round(6),
                  pl.col("due").round(6), pl.when(pl.col("kind") == "index").then(pl.col("exp_status"))
                  .otherwise(pl.lit("base value"))).alias("message"),
        pl.lit(False).alias("blocked"), "column", what.alias("ref_period"),
    )  # fmt: skip


def _line_findings(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
    ok = lines.filter(pl.col("block").is_null())
    effect = pl.when(pl.col("price_bad")).then(pl.col("price_effect")).otherwise(0.0).round(2)
    root = pl.col("n_index_bad") == 0

    def finding(cond, code, column, billed, due, diff, message) -> pl.LazyFrame:
        return ok.filter(cond).select(
            *_ids(), pl.lit(code).alias("code"), billed.alias("billed"), due.alias("expected"),
            diff.alias("difference_eur"), message.alias("message"), pl.lit(False).alias("blocked"),
            pl.lit(column).alias("column"),
        )  # fmt: skip

    expected_amount = (pl.col("q") * pl.col("unit_price")).round(2, mode="half_away_from_zero")
    rate = pl.coalesce("vat_rate", "vat_due")
    expected_incl = (pl.col("amount_excl_vat") * (1 + rate)).round(2, mode="half_away_from_zero")
    basis_bad = pl.col("billed_basis").is_not_null() & pl.col("contract_basis").is_not_null() & (
        pl.col("billed_basis") != pl.col("contract_basis"))  # fmt: skip
    return [
        finding(root & pl.col("k_bad"), "coefficient-mismatch", "coefficient", pl.col("coefficient"),
                pl.col("exp_coefficient"), effect,
                pl.format("K billed {}, due {} (revision of {})", pl.col("coefficient"),
                          pl.col("exp_coefficient"), _month_text(pl.col("at")))),
        finding(root & ~pl.col("k_bad") & pl.col("price_bad"), "unit-price-mismatch", "unit_price",
                pl.col("unit_price"), pl.col("exp_price"), effect,
                pl.format("unit price billed {}, due {} {} (K {}, revision of {})", pl.col("unit_price"),
                          pl.col("exp_price"), pl.col("unit"), pl.col("exp_coefficient"), _month_text(pl.col("at")))),
        finding(pl.col("slip").abs() > HALF_CENT, "amount-mismatch", "amount_excl_vat",
                pl.col("amount_excl_vat"), expected_amount, (pl.col("amount_excl_vat") - expected_amount).round(2),
                pl.format("amount billed {}, quantity × unit price = {} × {} = {}", pl.col("amount_excl_vat"),
                          pl.col("q"), pl.col("unit_price"), expected_amount)),
        finding(pl.col("vat_rate").is_not_null() & pl.col("vat_due").is_not_null()
                & ((pl.col("vat_rate") - pl.col("vat_due")).abs() > 1e-6), "vat-rate-mismatch", "vat_rate",
                pl.col("vat_rate"), pl.col("vat_due"),
                (pl.col("amount_excl_vat") * (pl.col("vat_rate") - pl.col("vat_due"))).round(2),
                pl.format("VAT rate billed {}, due {}: {}", pl.col("vat_rate"), pl.col("vat_due"), pl.col("vat_why"))),
        finding(pl.col("vat_rate").is_not_null() & pl.col("vat_due").is_null(), "vat-rate-mismatch", "vat_rate",
                pl.col("vat_rate"), pl.lit(None, pl.Float64), pl.lit(None, pl.Float64),
                pl.format("VAT rate billed {}: {}", pl.col("vat_rate"), pl.col("vat_why"))),
        finding(pl.col("amount_incl_vat").is_not_null() & rate.is_not_null()
                & ((pl.col("amount_incl_vat") - pl.col("amount_excl_vat") * (1 + rate)).abs() > HALF_CENT),
                "vat-amount-mismatch", "amount_incl_vat", pl.col("amount_incl_vat"), expected_incl,
                (pl.col("amount_incl_vat") - expected_incl).round(2),
                pl.format("amount incl. VAT billed {}, {} × (1 + {}) = {}", pl.col("amount_incl_vat"),
                          pl.col("amount_excl_vat"), rate, expected_incl)),
        finding(basis_bad, "energy-basis-mismatch", "energy_basis", pl.lit(None, pl.Float64),
                pl.lit(None, pl.Float64), pl.lit(None, pl.Float64),
                pl.format("billed on MWh {}, the contract prices MWh {}: the amount cannot be compared without "
                          "the conversion (e.g. tariffs convert 1 MWh_{} --to MWh_{} with --fuel/--efficiency)",
                          "billed_basis", "contract_basis", "billed_basis", "contract_basis")),
    ]  # fmt: skip


def _month_text(month: pl.Expr) -> pl.Expr:
    return pl.format(
        "{}-{}", (month // 12).cast(pl.String), (month % 12 + 1).cast(pl.String).str.zfill(2)
    )


def _note_rows(lines: pl.LazyFrame, expected: Expected) -> pl.LazyFrame:
    """The checked lines priced with a provisional value that has changed since, one row per value."""
    ok = lines.filter(pl.col("block").is_null() & pl.col("exp_provisional").fill_null(False))
    changed = expected.provisional.select(
        "contract", "term", "at", "cut", "series", "exp_period", "exp_value", "current_value"
    )
    return ok.join(changed.lazy(), on=["contract", "term", "at", "cut"]).select(
        "contract", "term", "period", "series", "exp_period", "exp_value", "current_value",
        pl.col("row").cast(pl.Int64),
        (pl.col("q") * (pl.col("current_price") - pl.col("exp_price"))).alias("effect"),
    )  # fmt: skip


def _notes(rows: pl.DataFrame) -> pl.DataFrame:
    """Provisional values used correctly, and what their current version changes [EUR]."""
    return (
        rows.sort("row")
        .group_by("contract", "term", "period", "series", "exp_period", maintain_order=True)
        .agg(
            pl.col("exp_value").first().alias("provisional_value"),
            pl.col("current_value").first().alias("current_value"),
            pl.col("row").alias("lines"),
            pl.col("effect").sum().round(2).alias("effect_eur"),
        )
    )


def as_of_default(month: int) -> date:
    """The default invoice date of a billed month: its last day."""
    nxt = first_day(month + 1)
    return date.fromordinal(nxt.toordinal() - 1)
