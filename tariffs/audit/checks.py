"""The audit pipeline: invoice lines × contracts × index values -> findings, in polars.

Every line gets (never looped over in Python) its contract's term, the price
due for the billed month and the index values behind it, by integer keys and
row numbers (:mod:`tariffs.audit.due`); each check is a column expression, and
the findings are the rows where a check fails.

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

``difference_eur`` = billed − due (positive: overbilled). Euro figures (the
differences, the amounts due, the notes' effects) are computed on the numbers as
written (each float read as its shortest decimal, :func:`exact`, exact decimal
arithmetic at 9 decimals) and rounded to the cent half away from zero (*arrondi
commercial*, :func:`to_cent`): 151.41 × (22.18 − 21.68) = 75.705 gives 75.71, where
float arithmetic gives 75.70499999… and 75.70. A line that cannot
be checked (unreadable value, duplicate, unknown contract or term, month
outside the contract, index value not in the store) gets one *blocking*
finding and no other; it is never counted as correct.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain

import polars as pl

from tariffs.audit.batches import Copies, records, spans, typed_slices
from tariffs.audit.due import KEYS, Book, Due
from tariffs.audit.expected import cut_number, publication_dates
from tariffs.audit.explain import explain
from tariffs.audit.invoices import Invoices, key_problems, month_number, strip_keys
from tariffs.audit.terms import Terms, terms_of
from tariffs.picking import month_text
from tariffs.series import IndexStore

FINDING_SCHEMA = {
    "row": pl.Int64, "invoice": pl.String, "invoice_line": pl.String, "contract": pl.String,
    "term": pl.String, "period": pl.String, "code": pl.String, "billed": pl.Float64,
    "expected": pl.Float64, "difference_eur": pl.Float64, "message": pl.String, "blocked": pl.Boolean,
    "column": pl.String, "ref_period": pl.String,
}  # fmt: skip
HALF_CENT = 0.005 + 1e-6
#: the exact decimals euro figures are computed in (see the module Notes)
MONEY = pl.Decimal(38, 9)
#: the largest factor of a euro figure computed exactly (a line's numbers are below it,
#: :data:`tariffs.audit.invoices.MAX_NUMBER`): two such factors multiply within 128 bits
EXACT_BELOW = 1e9
#: the billed numbers the flags read
NUMBERS_READ = ("quantity", "unit_price", "amount_excl_vat", "vat_rate", "amount_incl_vat",
                "coefficient")  # fmt: skip
#: the columns of the price due every line needs (gathered by its price row), and those only the
#: flagged lines need
LINE_PRICES = ("at", "exp_price", "exp_coefficient", "exp_provisional", "kdec", "pdec")
LATER_PRICES = ("current_price", "at")
K_PRICES = ("exp_coefficient", "kdec")
PER_TERM = ("kdec", "pdec")  # the contract's, in the terms table too
#: the per-line flags computed on every line; a line with none of them (and no block) has no finding
FLAGS = ("k_bad", "price_bad", "slip_bad", "vat_rate_bad", "vat_rate_unknown", "vat_amount_bad", "reused",
         "basis_bad", "exp_provisional")  # fmt: skip


@dataclass
class Tally:
    """What the summary says of the findings, added up slice by slice (the findings themselves
    need not be kept). Euros [EUR] are summed in file order, as one ``sum`` over the list of
    every finding's ``difference_eur`` would."""

    rows_with_findings: int = 0
    blocked_rows: int = 0
    codes: Counter = field(default_factory=Counter)  # in order of first appearance
    over: float = 0.0  # Σ positive differences
    under: float = 0.0  # Σ negative differences (≤ 0)
    no_euros: bool = False  # a finding without a euro figure (a blocked line...)
    largest: float = 0.0  # the largest |difference_eur|

    def add(self, findings: pl.DataFrame) -> None:
        """Count one slice's findings (rows of one slice only: a line's findings are together)."""
        if findings.height == 0:
            return
        self.rows_with_findings += findings["row"].n_unique()
        self.blocked_rows += findings.filter(pl.col("blocked"))["row"].n_unique()
        for code, n in findings.group_by("code", maintain_order=True).len().iter_rows():
            self.codes[code] += n
        euros = findings["difference_eur"]
        self.no_euros |= euros.null_count() > 0
        euros = euros.drop_nulls()
        if euros.len():
            self.over = sum(euros.filter(euros > 0).to_list(), self.over)
            self.under = sum(euros.filter(euros < 0).to_list(), self.under)
            self.largest = max(self.largest, float(euros.abs().max()))


@dataclass
class Audit:
    """Findings (one row each; none kept when they went to a ``sink``), notes (provisional
    values), the number of lines and the summary counts (``tally``)."""

    findings: pl.DataFrame
    notes: list[dict]
    lines: int
    problems: list[str] = field(default_factory=list)
    checked: pl.LazyFrame | None = None
    tally: Tally = field(default_factory=Tally)


def audit(
    invoices: Invoices,
    contracts,
    store: IndexStore,
    on_slice=None,
    sink: Callable[[pl.DataFrame], None] | None = None,
) -> Audit:
    """Run every check on every line of ``invoices``; see the module Notes.

    ``on_slice(done, total, slices)``, when given, is called after each slice is checked with
    the number of lines checked so far and in the file, and the number of slices (a progress
    bar). ``sink(findings)``,
    when given, receives each slice's findings (:data:`FINDING_SCHEMA`, in file order) as
    soon as they are known, and they are not kept: a report is written while the file is
    read, whatever the number of findings; ``Audit.tally`` holds the summary either way.

    ``contracts``: a :class:`tariffs.portfolio.Portfolio` or a list of
    :class:`tariffs.model.Contract`. One pass over the file in row batches
    (:mod:`tariffs.audit.batches`): each slice is read and typed once, the
    prices its lines need that are not known yet are computed
    (:class:`tariffs.audit.due.Due`), then its lines are checked and only the
    findings kept. Three slices are in flight: the next one read (a thread),
    this one keyed and priced, the previous one checked (another thread,
    against a :meth:`~tariffs.audit.due.Due.book` of the prices then: the
    tables only grow, so the rows it was given stay valid; the VAT table is
    grown by the checking thread alone). The dates the file needs are priced
    while its duplicated lines are found (:func:`_started`).
    """
    terms = terms_of(contracts)
    cuts = publication_dates(store)
    due = Due(terms, store, cuts, with_trace=bool(invoices.index_columns))
    dated = pl.col("invoice_date") if invoices.has("invoice_date") else None
    # the file's records: the lines, and a CSV/XLSX export's blank lines (dropped as read); the
    # lines are counted as they are checked (counting them first would read every column twice)
    lines = records(invoices)
    copies, first, typed_ones = _started(invoices, due, lines, dated)
    out = _Collected(store, sink, on_slice, lines, len(spans(invoices)))
    with ThreadPoolExecutor(1) as checker:
        running = None
        for typed in chain([first], typed_ones):
            later = copies.in_slice(typed)
            prepared = _prepared(typed, terms, later, cuts, dated)
            more = _more(lines, typed)
            prow, block = due.attach(prepared, more)
            prepared = prepared.with_columns(block)
            if running is not None:
                out.take(*running.result())
            book = due.book()
            running = checker.submit(_check, invoices, prepared, prow, due, book, terms, later)
        out.take(*running.result())
    return Audit(
        findings=pl.concat(out.kept) if out.kept else pl.DataFrame(schema=FINDING_SCHEMA),
        notes=_notes(pl.concat(out.notes)).to_dicts(),
        lines=out.done,
        problems=due.problems,
        checked=invoices.frame,
        tally=out.tally,
    )


@dataclass
class _Collected:
    """Each checked slice's findings, explained, ordered, counted, then kept or handed on."""

    store: IndexStore
    sink: Callable[[pl.DataFrame], None] | None
    on_slice: Callable[[int, int, int], None] | None
    lines: int
    slices: int
    done: int = 0
    kept: list[pl.DataFrame] = field(default_factory=list)
    notes: list[pl.DataFrame] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def take(self, findings: pl.DataFrame, notes: pl.DataFrame, lines: int) -> None:
        findings = findings.cast(FINDING_SCHEMA).sort("row", maintain_order=True)
        findings = explain(findings, self.store)
        self.tally.add(findings)
        if self.sink is None:
            self.kept.append(findings)
        else:
            self.sink(findings)
        self.notes.append(notes)
        self.done += lines
        if self.on_slice is not None:
            self.on_slice(self.done, self.lines, self.slices)


def _started(
    invoices: Invoices, due: Due, lines: int, dated: pl.Expr | None
) -> tuple[Copies, pl.DataFrame, Iterator[pl.DataFrame]]:
    """The duplicated lines, the first slice and the slices after it, with the revision dates
    the file needs priced: those of its billed months before any line is read
    (:meth:`~tariffs.audit.due.Due.price_span`), else those the first slice needs
    (:meth:`~tariffs.audit.due.Due.prime`). The hash pass over the file and the engine run
    at the same time; which keys the lines asked is recorded as each slice is priced."""
    span = _billed_span(invoices) if dated is None else None
    with ThreadPoolExecutor(2) as pool:
        found = pool.submit(Copies, invoices)
        early = pool.submit(due.price_span, *span, lines) if span else None
        typed_ones = typed_slices(invoices)
        first = next(typed_ones)
        if early is None or not early.result():
            keyed = _prepared(first, due.terms, Copies.NONE, due.cuts, dated)
            due.prime(keyed, _more(lines, first))
        return found.result(), first, typed_ones


def _billed_span(invoices: Invoices) -> tuple[int, int] | None:
    """First and last billed month of the file from the ``period`` texts' least and greatest
    (one quick pass over one column); None when either is no month (a typo). Text order can
    miss a month written with blanks before it: the span only decides what is priced ahead,
    the lines it misses are priced when read."""
    ends = invoices.source if invoices.source is not None else invoices.loose
    ends = ends.select(pl.col("period").min().alias("a"), pl.col("period").max().alias("b"))
    try:
        row = ends.collect(engine="in-memory").cast(pl.String).row(0)
        first, last = month_number(pl.Series(row, dtype=pl.String)).to_list()
    except (pl.exceptions.PolarsError, TypeError):
        return None
    return None if first is None or last is None else (first, last)


def _more(lines: int, typed: pl.DataFrame) -> bool:
    """Price ahead only when later slices hold at least half as many lines as this one."""
    return 2 * (lines - typed.height) >= typed.height


def _check(
    invoices: Invoices,
    lines: pl.DataFrame,
    prow: pl.Series,
    due: Due,
    book: Book,
    terms: Terms,
    later: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """One batch: its findings, the rows behind its notes (both small) and its number of lines.

    The flags are computed on a narrow frame (:func:`_narrow`: the columns they
    read, the price due gathered by its row ``prow`` in ``book``, the VAT rate
    due by its row in ``due.vat``: the VAT table is read and grown by the
    checking thread only); only the lines with a block or a flag are then taken
    whole (their text keys stripped, the first copy of a duplicated line
    joined) before any message is built.
    """
    narrow = _with_flags(_narrow(invoices, lines, prow, due, book, terms))
    index_rows = _index_checks(invoices, narrow, book)
    if invoices.index_columns:
        bad = index_rows.filter(pl.col("bad")).collect(engine="in-memory")
        index_rows = bad.lazy()
        narrow = narrow.join(
            bad.lazy().group_by("row").agg(pl.len().alias("n_index_bad")), on="row", how="left"
        ).with_columns(pl.col("n_index_bad").fill_null(0).cast(pl.Int64))
    else:
        narrow = narrow.with_columns(pl.lit(0, pl.Int64).alias("n_index_bad"))
    flagged = pl.col("block").is_not_null() | (pl.col("n_index_bad") > 0) | pl.any_horizontal(FLAGS)
    narrow = narrow.filter(flagged).collect(engine="in-memory")
    whole = lines[narrow["_pos"]].drop(narrow.columns, strict=False).hstack(narrow)
    later_prices = [c for c in (*LATER_PRICES, *K_PRICES) if c not in narrow.columns or
                    narrow[c].null_count() == narrow.height]  # fmt: skip
    whole = whole.drop(later_prices, strict=False).hstack(
        [book.prices[c].gather(whole["prow"]).alias(c) for c in later_prices]
        + [due.vat["vat_why"].gather(whole["vrow"])]
    )
    flagged_lines = (
        strip_keys(whole.lazy().with_columns(terms.column("unit")))
        .join(later.lazy(), on="row", how="left")
        .collect(engine="in-memory")
        .lazy()
    )
    parts = [
        _blocked(flagged_lines),
        _index_findings(index_rows, flagged_lines),
        *_line_findings(flagged_lines),
    ]
    findings, notes = pl.collect_all(
        [pl.concat(parts, how="diagonal_relaxed").select(list(FINDING_SCHEMA)),
         _note_rows(flagged_lines, book)], engine="in-memory",
    )  # fmt: skip
    return findings, notes, lines.height


def _narrow(
    invoices: Invoices, lines: pl.DataFrame, prow: pl.Series, due: Due, book: Book, terms: Terms
) -> pl.LazyFrame:
    """The columns the flags read, with ``_pos`` (the line's position in ``lines``), the price
    due of :data:`LINE_PRICES` gathered by ``prow`` and the VAT rate due by ``vrow``.

    A column the file lacks reads null: the values due it would be compared with
    are not gathered (``coefficient``: K due; energy basis: the contract's)."""
    keep = ["row", "tid", "cut_no", "month", "block", *NUMBERS_READ, "mwh_per_unit",
            "billed_basis", "reused", *invoices.index_columns]  # fmt: skip
    wanted = [c for c in LINE_PRICES if invoices.has("coefficient") or c not in K_PRICES]
    wanted = [c for c in wanted if c != "at" or invoices.index_columns]
    # a gather by price row reads a 700,000-row table at random (4 ms per 500,000 lines):
    # the decimals are the term's (a small table), and no price provisional gives no flag
    by_row = [c for c in wanted if c not in PER_TERM]
    if not book.prices["exp_provisional"].any():
        by_row.remove("exp_provisional")
    price = [book.prices[c].gather(prow).alias(c) for c in by_row]
    narrow = (
        lines.select(*keep)
        .hstack([prow.alias("prow"), *price])
        .with_columns(
            *[terms.column(c) for c in wanted if c in PER_TERM],
            *[pl.lit(False).alias("exp_provisional")] * ("exp_provisional" not in by_row),
        )
    )
    # without a quantity unit the quantity is in the term's unit (factor 1): no per-MWh flag needed
    per_mwh = terms.column("per_mwh") if invoices.has("quantity_unit") else pl.lit(False)
    vat_sets = terms.table["_vat_set"].unique()
    vat_set = (
        pl.lit(vat_sets.item(0), pl.Int64) if vat_sets.len() == 1 else terms.column("_vat_set")
    )
    narrow = narrow.with_columns(per_mwh.alias("per_mwh"), vat_set.alias("_vat_set"))
    vrow = due.vat_rows(narrow)
    basis = [terms.column("contract_basis")] if _has_basis(invoices) else [
        pl.lit(None, pl.String).alias("contract_basis")]  # fmt: skip
    return (
        narrow.hstack([vrow.alias("vrow"), due.vat["vat_due"].gather(vrow)])
        .lazy()
        .with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_pos"),
            *basis,
            *[pl.lit(None, book.prices[c].dtype).alias(c) for c in LINE_PRICES if c not in wanted],
        )
    )


def _has_basis(invoices: Invoices) -> bool:
    """The file states an energy basis (``energy_basis`` or a unit like ``MWh_PCI``)."""
    return invoices.has("energy_basis") or invoices.has("quantity_unit")


def _prepared(
    batch: pl.DataFrame,
    terms: Terms,
    copies: pl.DataFrame,
    cuts: pl.Series,
    invoice_date: pl.Expr | None,
) -> pl.DataFrame:
    """Lines with ``cid``, ``tid``, ``cut_no`` and first blocking reason known from the line
    alone (``block``; ``copy`` for a later copy of a line); a month outside the contract is
    found with the price (:meth:`tariffs.audit.due.Due.attach`).

    The new columns are computed apart and put beside the slice's (one chunk each): a
    frame collected from a lazy query comes in several chunks, and every later eager
    operation on it would first copy its columns into one."""
    lines = _blank_keys(terms.identify(batch))
    block = (
        pl.when(pl.col("problem").is_not_null()).then(pl.lit("invalid-line"))
        .when(pl.col("copy")).then(pl.lit("duplicate-line"))
        .when(pl.col("cid").is_null()).then(pl.lit("unknown-contract"))
        .when(pl.col("tid").is_null()).then(pl.lit("unknown-term"))
    )  # fmt: skip
    new = (
        lines.lazy()
        .select(
            "problem",
            "cid",
            "tid",
            pl.col("row").is_in(copies.filter(pl.col("same"))["row"].implode()).alias("copy"),
            pl.col("row").is_in(copies.filter(~pl.col("same"))["row"].implode()).alias("reused"),
            cut_number(pl.col("month"), invoice_date, cuts),
        )  # fmt: skip
        .select("copy", "reused", "cut_no", block.alias("block"))
        .collect(engine="in-memory")
        .rechunk()
    )
    return lines.hstack(new)


def _blank_keys(lines: pl.DataFrame) -> pl.DataFrame:
    """``problem`` with the messages for a missing contract or term (see
    :meth:`tariffs.audit.invoices.Invoices.lines`): a key null or made of blanks is found by
    no look-up (``tid`` null), so only those lines are stripped and examined."""
    where = lines["tid"].is_null().arg_true()
    if where.len() == 0:
        return lines
    messages = pl.concat_str([*key_problems(), "problem"], separator="; ", ignore_nulls=True)
    some = strip_keys(lines[where].lazy()).select(messages.replace("", None)).collect()
    return lines.with_columns(lines["problem"].scatter(where, some.to_series()))


def _with_flags(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Every per-line check column (:data:`FLAGS`) of the narrow lines, which carry their price
    and VAT rate due already (:func:`_narrow`)."""
    q = (
        pl.when(pl.col("per_mwh").fill_null(False))
        .then(pl.col("quantity") * pl.col("mwh_per_unit"))
        .otherwise(pl.col("quantity"))
    )
    p_tol = pl.when(pl.col("pdec").is_not_null()).then(1e-7).otherwise(HALF_CENT)
    k_tol = pl.when(pl.col("kdec").is_not_null()).then(1e-9).otherwise(5e-5 + 1e-9)
    missing = pl.col("block").is_null() & pl.col("exp_price").is_null()
    rate = pl.coalesce("vat_rate", "vat_due")
    return lines.with_columns(
        pl.when(missing).then(pl.lit("missing-index")).otherwise(pl.col("block")).alias("block"),
        q.alias("q"),
    ).with_columns(
        (pl.col("q") * (pl.col("unit_price") - pl.col("exp_price"))).alias("price_effect"),
        ((pl.col("unit_price") - pl.col("exp_price")).abs() > p_tol).alias("price_bad"),
        (pl.col("coefficient").is_not_null()
         & ((pl.col("coefficient") - pl.col("exp_coefficient")).abs() > k_tol)).alias("k_bad"),
        (pl.col("amount_excl_vat") - pl.col("q") * pl.col("unit_price")).alias("slip"),
        ((pl.col("amount_excl_vat") - pl.col("q") * pl.col("unit_price")).abs() > HALF_CENT)
        .alias("slip_bad"),
        (pl.col("vat_rate").is_not_null() & pl.col("vat_due").is_not_null()
         & ((pl.col("vat_rate") - pl.col("vat_due")).abs() > 1e-6)).alias("vat_rate_bad"),
        (pl.col("vat_rate").is_not_null() & pl.col("vat_due").is_null()).alias("vat_rate_unknown"),
        # the amount incl. VAT is checked with the rate billed when that rate is right (or not
        # in the table); a wrong rate is the first link of the chain (its finding says the euros)
        (pl.col("amount_incl_vat").is_not_null() & rate.is_not_null()
         & ((pl.col("amount_incl_vat") - pl.col("amount_excl_vat") * (1 + rate)).abs() > HALF_CENT)
         & ~(pl.col("vat_rate").is_not_null() & pl.col("vat_due").is_not_null()
             & ((pl.col("vat_rate") - pl.col("vat_due")).abs() > 1e-6)))
        .alias("vat_amount_bad"),
        (pl.col("billed_basis").is_not_null() & pl.col("contract_basis").is_not_null()
         & (pl.col("billed_basis") != pl.col("contract_basis"))).alias("basis_bad"),
    )  # fmt: skip


def _index_checks(invoices: Invoices, lines: pl.LazyFrame, book: Book) -> pl.LazyFrame:
    """One row per line × ``index:S`` / ``base_index:S`` column, with the value due."""
    keys = ["row", *KEYS]
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
    rows = pl.concat(parts).join(book.trace.lazy(), on=[*KEYS, "series"])
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
    unblocked = lines.filter(pl.col("block").is_null())  # the lines index findings are of
    info = unblocked.select(
        "row", *_ids()[1:], _effect().alias("effect"), "price_bad", "n_index_bad"
    )
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
        pl.when(pl.col("price_bad")).then(to_cent(pl.col("effect") / pl.col("n_index_bad")))
        .otherwise(0.0).alias("difference_eur"),
        pl.format("{} for {}: billed {}, due {} ({})", "series", what, pl.col("billed_index").round(6),
                  pl.col("due").round(6), pl.when(pl.col("kind") == "index").then(pl.col("exp_status"))
                  .otherwise(pl.lit("base value"))).alias("message"),
        pl.lit(False).alias("blocked"), "column", what.alias("ref_period"),
    )  # fmt: skip


def _line_findings(lines: pl.LazyFrame) -> list[pl.LazyFrame]:
    ok = lines.filter(pl.col("block").is_null())
    effect = pl.when(pl.col("price_bad")).then(to_cent(_effect())).otherwise(0.0)
    root = pl.col("n_index_bad") == 0

    def finding(cond, code, column, billed, due, diff, message) -> pl.LazyFrame:
        return ok.filter(cond).select(
            *_ids(), pl.lit(code).alias("code"), billed.alias("billed"), due.alias("expected"),
            diff.alias("difference_eur"), message.alias("message"), pl.lit(False).alias("blocked"),
            pl.lit(column).alias("column"),
        )  # fmt: skip

    amount_due = _cents(_exact_q() * exact("unit_price"))
    expected_amount = amount_due.cast(pl.Float64)
    rate = pl.coalesce("vat_rate", "vat_due")
    incl_due = _cents(exact("amount_excl_vat") * (1 + exact(rate)))
    expected_incl = incl_due.cast(pl.Float64)
    # a wrong rate: what the bill incl. VAT is off by, when it states it (a typo in the rate
    # alone costs nothing); else the VAT on the amount excl. VAT at the wrong rate
    incl_at_due = _cents(exact("amount_excl_vat") * (1 + exact("vat_due")))
    rate_effect = pl.coalesce(
        to_cent(exact("amount_incl_vat") - incl_at_due),
        to_cent(exact("amount_excl_vat") * (exact("vat_rate") - exact("vat_due"))),
    )
    return [
        finding(root & pl.col("k_bad"), "coefficient-mismatch", "coefficient", pl.col("coefficient"),
                pl.col("exp_coefficient"), effect,
                pl.format("K billed {}, due {} (revision of {})", pl.col("coefficient"),
                          pl.col("exp_coefficient"), month_text(pl.col("at")))),
        finding(root & ~pl.col("k_bad") & pl.col("price_bad"), "unit-price-mismatch", "unit_price",
                pl.col("unit_price"), pl.col("exp_price"), effect,
                pl.format("unit price billed {}, due {} {} (K {}, revision of {})", pl.col("unit_price"),
                          pl.col("exp_price"), pl.col("unit"), pl.col("exp_coefficient"), month_text(pl.col("at")))),
        finding(pl.col("slip_bad"), "amount-mismatch", "amount_excl_vat",
                pl.col("amount_excl_vat"), expected_amount, to_cent(exact("amount_excl_vat") - amount_due),
                pl.format("amount billed {}, quantity × unit price = {} × {} = {}", pl.col("amount_excl_vat"),
                          pl.col("q"), pl.col("unit_price"), _shown(expected_amount))),
        finding(pl.col("vat_rate_bad"), "vat-rate-mismatch", "vat_rate",
                pl.col("vat_rate"), pl.col("vat_due"), rate_effect,
                pl.concat_str(pl.format("VAT rate billed {}, due {}: {}", pl.col("vat_rate"), pl.col("vat_due"),
                                        pl.col("vat_why")),
                              pl.format("; amount incl. VAT billed {}, due {} × (1 + {}) = {}",
                                        pl.col("amount_incl_vat"), pl.col("amount_excl_vat"), pl.col("vat_due"),
                                        incl_at_due.cast(pl.Float64)), ignore_nulls=True)),
        finding(pl.col("vat_rate_unknown"), "vat-rate-mismatch", "vat_rate",
                pl.col("vat_rate"), pl.lit(None, pl.Float64), pl.lit(None, pl.Float64),
                pl.format("VAT rate billed {}: {}", pl.col("vat_rate"), pl.col("vat_why"))),
        finding(pl.col("vat_amount_bad"), "vat-amount-mismatch", "amount_incl_vat", pl.col("amount_incl_vat"), expected_incl,
                to_cent(exact("amount_incl_vat") - incl_due),
                pl.format("amount incl. VAT billed {}, {} × (1 + {}) = {}", pl.col("amount_incl_vat"),
                          pl.col("amount_excl_vat"), rate, _shown(expected_incl))),
        finding(pl.col("reused"), "line-number-reused", "line", pl.lit(None, pl.Float64),
                pl.lit(None, pl.Float64), pl.lit(None, pl.Float64),
                pl.format("same invoice and line number as line {}, another content: a line number "
                          "reused? this line is checked as any other, not counted as billed twice",
                          "first_row")),
        finding(pl.col("basis_bad"), "energy-basis-mismatch", "energy_basis", pl.lit(None, pl.Float64),
                pl.lit(None, pl.Float64), pl.lit(None, pl.Float64),
                pl.format("billed on MWh {}, the contract prices MWh {}: the amount cannot be compared without "
                          "the conversion (e.g. tariffs convert 1 MWh_{} --to MWh_{} with --fuel/--efficiency)",
                          "billed_basis", "contract_basis", "billed_basis", "contract_basis")),
    ]  # fmt: skip


def exact(value: str | pl.Expr) -> pl.Expr:
    """A Float64 column (or expression) as the decimal it was written as: its shortest repr
    (``22.18``, not 22.17999…), in :data:`MONEY`."""
    value = pl.col(value) if isinstance(value, str) else value
    value = pl.when(value.abs() < EXACT_BELOW).then(value)  # else null: no overflow, no figure
    return pl.coalesce(
        value.cast(pl.String).cast(MONEY, strict=False), value.cast(MONEY, strict=False)
    )


def _shown(euros: pl.Expr) -> pl.Expr:
    """A euro figure in a message; one too large to compute exactly says so (never a null
    message)."""
    return euros.cast(pl.String).fill_null("(too large to compute exactly)")


def _cents(value: pl.Expr) -> pl.Expr:
    """An exact decimal rounded to the cent, half away from zero (still a decimal)."""
    return value.round(2, mode="half_away_from_zero")


def to_cent(value: pl.Expr) -> pl.Expr:
    """An exact decimal rounded to the cent, half away from zero, as Float64 [EUR]."""
    return _cents(value).cast(pl.Float64)


def _exact_q() -> pl.Expr:
    """The quantity in the term's unit, exactly: ``quantity`` × its factor to MWh when the
    term is priced per MWh (``q`` in floats)."""
    per_mwh = pl.col("per_mwh").fill_null(False)
    by_mwh = pl.when(pl.col("q").abs() < EXACT_BELOW).then(
        exact("quantity") * exact("mwh_per_unit")
    )
    return pl.when(per_mwh).then(by_mwh).otherwise(exact("quantity"))


def _effect() -> pl.Expr:
    """The euro effect of the unit price billed, ``q × (p − p*)``, exact (a decimal)."""
    return _exact_q() * (exact("unit_price") - exact("exp_price"))


def _note_rows(lines: pl.LazyFrame, book: Book) -> pl.LazyFrame:
    """The checked lines priced with a provisional value that has changed since, one row per value."""
    ok = lines.filter(pl.col("block").is_null() & pl.col("exp_provisional").fill_null(False))
    changed = book.provisional.select(*KEYS, "series", "exp_period", "exp_value", "current_value")
    return ok.join(changed.lazy(), on=KEYS).select(
        "contract", "term", "period", "series", "exp_period", "exp_value", "current_value",
        pl.col("row").cast(pl.Int64),
        (_exact_q() * (exact("current_price") - exact("exp_price"))).alias("effect"),
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
            to_cent(pl.col("effect").sum()).alias("effect_eur"),
        )
    )
