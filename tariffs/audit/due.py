"""What is due for the lines seen so far: prices, index values and VAT rates, keyed by integers.

The audit reads the invoice file once, slice by slice. Before checking a
slice it hands this book the keys its lines need; the book asks the revision
engine (:func:`tariffs.audit.expected.expected_prices`) only for the keys it
has not seen, and the VAT rules only for the (rate set, month, billed rate)
it has not seen, then the slice is checked by joins on integers.

Notes
-----
- Keys: ``cid, at, cut_no`` for the engine (it prices every term of a
  contract at a revision date ``at`` with the values known at cut ``cut_no``);
  the tables are keyed ``tid, at, cut_no`` (:mod:`tariffs.audit.terms`).
- A price depends on its key only, so computing the keys in several calls
  gives the same prices as one call; each engine call has a fixed cost, so
  the dates the file will need are priced ahead, once: every revision date
  of the billed months (the file's least and greatest ``period``) before any
  line is read (:meth:`Due.price_span`, one publication cut), else those of
  the contracts and dates the first slice needs (:meth:`Due.prime`,
  :meth:`Due._ahead`). Keys priced ahead that no line asks are not counted as
  asked (:attr:`Due.problems`).
- Look-up: a line finds its price row by arithmetic, not by a join: the
  priced rows are laid out in a dense table of month slots (:class:`Slots`),
  slot ``(tid × months + month − first) × cuts + cut_no`` holding the row of
  :attr:`Due.prices` in force in that billed month (null: none). The lines
  it does not give (outside the table, or a date not priced) get their
  revision date and are looked up by key (:func:`packed`); when the table
  would exceed ``MAX_SLOTS`` every line is. Both give the same rows.
- VAT: the same dense look-up (:class:`VatSlots`) by VAT rate set, month
  and billed rate, the rate numbered by its place among the rates billed.
- The engine's *messages* (missing values) summarise every key at once
  ("… (12 later revision dates affected too)"): when the engine ran more than
  once, or priced dates ahead, and reported any, :attr:`Due.problems` asks it
  once more for the keys the lines asked, so they read as for one call on
  exactly those keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from tariffs.audit.batches import revision_at
from tariffs.audit.expected import (
    PRICE_COLUMNS,
    TRACE_COLUMNS,
    expected_prices,
    first_vintage_known,
)
from tariffs.audit.terms import Terms
from tariffs.audit.vat import due_table
from tariffs.formulas import Formulas, revision_months
from tariffs.series import IndexStore

KEYS = ["tid", "at", "cut_no"]
ASKED = {"ckey": pl.UInt64}
VAT_KEYS = {"_vat_set": pl.Int64, "month": pl.Int64, "vat_rate": pl.Float64}
OUTSIDE = "period-outside-contract"
#: the terms' columns their revision schedule and validity read
SCHEDULE = ("start_month", "end_month", "step", "rev_month")
#: the largest dense look-up table (Int32 slots, 4 bytes each: 128 MB)
MAX_SLOTS = 32_000_000


def packed(owner: str) -> pl.Expr:
    """One UInt64 key of ``owner`` (``cid`` or ``tid``), ``at`` and ``cut_no``: joins and
    ``unique`` on one integer column are about twice as fast as on three.

    ``owner × 2^40 + at × 2^20 + cut_no``: ``at`` is a month number of a
    four-digit year (< 120,000 < 2^20, never negative), fewer than 2^20 cuts,
    fewer than 2^24 contracts or terms.
    """
    return (
        pl.col(owner).cast(pl.UInt64) * 2**40
        + pl.col("at").cast(pl.UInt64) * 2**20
        + pl.col("cut_no").cast(pl.UInt64)
    )


def _no_rows(n: int, name: str = "prow") -> pl.Series:
    """``n`` null row numbers (Int32): a look-up that finds nothing."""
    return pl.repeat(None, n, dtype=pl.Int32, eager=True).alias(name)


def _keyed_schema(columns: dict, drop: tuple = ("contract", "term", "cut")) -> dict:
    typed = {"tid": pl.UInt32, "cut_no": pl.UInt32}
    return typed | {c: d for c, d in columns.items() if c not in drop}


def _empty(columns: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=_keyed_schema(columns) | {"key": pl.UInt64})


@dataclass(frozen=True)
class Slots:
    """The dense look-up of price rows by billed month: ``rows[slot]`` is the row of
    :attr:`Due.prices` of (tid, revision date in force in ``month``, cut_no), with
    ``slot = (tid × months + month − first) × cuts + cut_no`` (null: none, e.g. a month
    outside the contract, or a revision date not priced)."""

    first: int
    months: int
    cuts: int
    rows: pl.Series

    @classmethod
    def of(cls, prices: pl.DataFrame, terms: Terms, cuts: int) -> Slots | None:
        """The table of ``prices`` (``tid, at, cut_no``) for the months from their first revision
        date to 11 months after their last, with the schedules of ``terms``; None
        when it would hold more than :data:`MAX_SLOTS` slots.

        Each price row fills the slots of the months its date is in force: from
        ``at`` to the next date of the schedule, the date in force ``step`` months
        later (:func:`~tariffs.audit.batches.revision_at`; after a stub, the first
        scheduled date), the contract's end month included. A month whose own date was not priced is
        left empty, never given an earlier date's price."""
        if prices.height == 0:
            return None
        first, last = int(prices["at"].min()), int(prices["at"].max()) + 11
        months, tids = last - first + 1, terms.table.height
        size = tids * months * cuts
        if size > MAX_SLOTS:
            return None
        grid = cls(first, months, cuts, pl.Series(dtype=pl.Int32))
        return cls(first, months, cuts, grid._filled(_no_rows(size), prices, terms, 0))

    def extended(self, prices: pl.DataFrame, terms: Terms, start: int, cuts: int) -> Slots | None:
        """The table with the rows of ``prices`` from ``start`` on filled in, when their months
        fit in it (else the table of all ``prices`` anew, :meth:`of`)."""
        new = prices.slice(start)
        if new.height and (
            int(new["at"].min()) < self.first
            or int(new["at"].max()) + 11 >= self.first + self.months
            or cuts != self.cuts
        ):
            return Slots.of(prices, terms, cuts)
        return Slots(self.first, self.months, self.cuts, self._filled(self.rows, new, terms, start))

    def _filled(self, rows: pl.Series, prices: pl.DataFrame, terms: Terms, start: int) -> pl.Series:
        """``rows`` with the slots of the months each of ``prices`` (row ``start`` + its
        position) is in force set to that row."""
        last = self.first + self.months - 1
        at = pl.col("at")
        # a price row serves the months from its date to the next date of the schedule (the
        # first after a stub), the contract's end and the table's end excluded
        upcoming = revision_at(at + pl.col("step"), pl.col("step"))
        stop = pl.min_horizontal(upcoming, pl.col("end_month").fill_null(last) + 1, last + 1)
        prow = pl.int_range(start, start + pl.len(), dtype=pl.Int32).alias("prow")
        served = (
            prices.select("tid", "at", "cut_no", prow)
            .with_columns(terms.column(c) for c in SCHEDULE)
            .select("tid", "cut_no", "prow", pl.int_ranges(at, stop).alias("month"))
            .explode("month")
            .drop_nulls("month")
        )
        where = served.select(self.slot(pl.col("month")))["slot"]
        return rows.scatter(where, served["prow"])

    def slot(self, month: pl.Expr) -> pl.Expr:
        """The slot of a row's ``tid``, ``month`` (or revision date) and ``cut_no`` (null outside
        the table)."""
        m = month.cast(pl.Int64) - self.first
        inside = (m >= 0) & (m < self.months) & (pl.col("cut_no") < self.cuts)
        slot = (pl.col("tid").cast(pl.Int64) * self.months + m) * self.cuts + pl.col("cut_no")
        return pl.when(inside).then(slot).alias("slot")


@dataclass(frozen=True)
class VatSlots:
    """The dense look-up of VAT rows: ``rows[slot]`` is the row of (``_vat_set``, ``month``,
    billed rate); the billed rate is numbered by its place among the rates seen (``rates``,
    sorted; a line without a rate takes the last number)."""

    first: int
    months: int
    sets: int
    rates: pl.Series
    rows: pl.Series

    @classmethod
    def of(cls, vat: pl.DataFrame) -> VatSlots | None:
        """The table of ``vat`` (:data:`VAT_KEYS`), or None when it would be too large."""
        if vat.height == 0 or vat["month"].null_count() or vat["_vat_set"].null_count():
            return None
        first, last = int(vat["month"].min()), int(vat["month"].max())
        rates = vat["vat_rate"].drop_nulls().unique().sort()
        sets = int(vat["_vat_set"].max()) + 1
        size = sets * (last - first + 1) * (rates.len() + 1)
        if size > MAX_SLOTS or int(vat["_vat_set"].min()) < 0:
            return None
        slots = cls(first, last - first + 1, sets, rates, pl.Series(dtype=pl.Int32))
        where = vat.select(slots.slot())["slot"]
        rows = _no_rows(size, "vrow")
        at = pl.int_range(vat.height, dtype=pl.Int32, eager=True)
        return cls(slots.first, slots.months, sets, rates, rows.scatter(where, at))

    def slot(self) -> pl.Expr:
        """The slot of a line's ``_vat_set``, ``month`` and ``vat_rate`` (null: not in the table)."""
        rate, known = pl.col("vat_rate"), pl.lit(self.rates)
        n = self.rates.len()
        code = pl.when(rate.is_null()).then(pl.lit(n, pl.Int64))
        if 0 < n <= 16:  # a few rates: one comparison each
            for i, value in enumerate(self.rates.to_list()):
                code = code.when(rate == value).then(pl.lit(i, pl.Int64))
        elif n:
            place = known.search_sorted(rate).cast(pl.Int64)
            found = (place < n) & (known.gather(place.clip(0, n - 1)) == rate)
            code = code.when(found).then(place)
        month = pl.col("month") - self.first
        vat_set = pl.col("_vat_set").cast(pl.Int64)
        inside = (month >= 0) & (month < self.months) & (vat_set >= 0) & (vat_set < self.sets)
        slot = (vat_set * self.months + month) * (n + 1) + code
        return pl.when(inside).then(slot).alias("slot")


@dataclass(frozen=True)
class Book:
    """What was due when a slice was priced (:meth:`Due.book`): the tables only grow, so the
    rows a slice was given stay valid while later slices are priced."""

    prices: pl.DataFrame
    trace: pl.DataFrame
    provisional: pl.DataFrame


@dataclass
class Due:
    """Prices (``prices``), index values (``trace``, ``provisional``) and VAT (``vat``) due."""

    terms: Terms
    store: IndexStore
    cuts: pl.Series
    with_trace: bool
    asked: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ASKED))  # ckey
    priced: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ASKED))
    prices: pl.DataFrame = field(default_factory=lambda: _empty(PRICE_COLUMNS))
    trace: pl.DataFrame = field(default_factory=lambda: _empty(TRACE_COLUMNS))
    provisional: pl.DataFrame = field(default_factory=lambda: _empty(TRACE_COLUMNS))
    vat: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema=VAT_KEYS | {"vat_due": pl.Float64, "vat_why": pl.String}
        )
    )
    calls: int = 0
    slots: Slots | None = None
    vat_slots: VatSlots | None = None
    used: pl.Series = field(default_factory=lambda: pl.Series("used", [], dtype=pl.Boolean))
    _problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = first_vintage_known(self.store)

    def attach(self, lines: pl.DataFrame, more: bool = False) -> tuple[pl.Series, pl.Series]:
        """The row of :attr:`prices` (``prow``, null: none) of each of ``lines`` (``cid, tid,
        month, cut_no, block``), and ``block`` with ``period-outside-contract`` for the months
        outside their contract. The keys of unblocked lines not priced yet are priced first
        (``more``: other slices follow, see :meth:`_ahead`).

        The month slots (:class:`Slots`) give most rows; the few lines they do not
        (outside the table, or not priced) get their revision date computed and are
        looked up by key.
        """
        block = lines["block"]
        for _ in range(2):
            prow = self._by_month(lines)
            open_ = (block.is_null() & prow.is_null()).arg_true()
            if open_.len() == 0:
                break
            some = (
                lines.select("cid", "tid", "month", "cut_no")[open_]
                .with_columns(*(self.terms.column(c) for c in SCHEDULE))
                .with_columns(revision_at(pl.col("month"), pl.col("step")))
            )
            outside = (
                some.select(
                    (pl.col("month") < pl.col("start_month"))
                    | (pl.col("month") > pl.col("end_month"))
                )
                .to_series()
                .fill_null(False)
            )
            block = block.scatter(
                open_, pl.select(pl.when(pl.lit(outside)).then(pl.lit(OUTSIDE))).to_series()
            )
            found = self._by_key(some) if self.prices.height else _no_rows(some.height)
            prow = prow.scatter(open_, found)
            need = some.filter(~outside & found.is_null())
            if need.height == 0 or not self._ask(
                need.select(packed("cid").alias("ckey")).unique(), more
            ):
                break
        used = prow.filter(block.is_null()).drop_nulls()  # the keys unblocked lines asked
        if used.len():
            self.used = self.used.scatter(used, True)
        return prow, block

    def prime(self, lines: pl.DataFrame, more: bool = False) -> None:
        """Price what ``lines`` need before their duplicates are known (:meth:`attach`), without
        recording which keys they asked: the lines of the same slice, attached again once
        their blocks are final, find these prices and record their keys then."""
        asked = self.asked
        self.attach(lines, more)
        self.asked = asked
        self.used = pl.repeat(False, self.prices.height, dtype=pl.Boolean, eager=True).alias("used")

    def price_span(self, first: int, last: int, lines: int) -> bool:
        """Price every revision date in force in months ``first .. last`` of every contract, at
        the one publication cut, before any line is read (the billed months of a file are known
        from its ``period`` column alone); False, and nothing done, when the store has several
        cuts or when the dates would be more than one per 8 lines (a small file of a large
        portfolio: the first slice's keys are priced instead, :meth:`prime`)."""
        if self.cuts.len() != 1 or first > last:
            return False
        params = self.terms.formulas.params.with_row_index("cid")
        dates = revision_months(params, first - 11, last)  # a yearly date is in force 12 months
        if dates.height == 0 or 8 * dates.height > lines:
            return False
        dates = dates.join(params.select("contract", "cid"), on="contract")
        keys = dates.select(pl.lit(0, pl.UInt32).alias("cut_no"), "cid", "at")
        self._ask(keys.select(packed("cid").alias("ckey")), more=False, record=False)
        return True

    def book(self) -> Book:
        """The tables as they are now."""
        return Book(self.prices, self.trace, self.provisional)

    def add_vat(self, vat_keys: pl.DataFrame) -> None:
        """The VAT rates due for the ``vat_keys`` (:data:`VAT_KEYS`) not known yet."""
        new_vat = vat_keys.cast(VAT_KEYS).join(
            self.vat, on=list(VAT_KEYS), how="anti", nulls_equal=True
        )
        if new_vat.height:
            self.vat = pl.concat([self.vat, due_table(new_vat, self.terms.vat_sets)])
            self.vat_slots = VatSlots.of(self.vat)

    def vat_rows(self, lines: pl.DataFrame) -> pl.Series:
        """The row of :attr:`vat` (``vrow``) of each of ``lines`` (:data:`VAT_KEYS`); the keys of
        unblocked lines not known yet are added first."""
        vrow = self._vat_rows(lines)
        new = lines.filter(pl.col("block").is_null() & vrow.is_null())
        if new.height:
            self.add_vat(new.select(list(VAT_KEYS)).unique())
            vrow = self._vat_rows(lines)
        return vrow

    def _vat_rows(self, lines: pl.DataFrame) -> pl.Series:
        if self.vat_slots is not None:
            return self.vat_slots.rows.gather(lines.select(self.vat_slots.slot())["slot"])
        rows = self.vat.select(list(VAT_KEYS)).with_row_index("vrow")
        keys = lines.select(list(VAT_KEYS)).cast(VAT_KEYS)
        joined = keys.join(rows, on=list(VAT_KEYS), how="left", nulls_equal=True,
                           maintain_order="left")  # fmt: skip
        return joined["vrow"].cast(pl.Int32)

    @property
    def problems(self) -> list[str]:
        """The engine's messages, as for one call on every key asked (see the module Notes)."""
        if not self._problems:
            return self._problems
        asked = self._asked()
        if self.calls > 1 or self.priced.height > asked.height:
            self._problems = expected_prices(
                self.terms.formulas, self.store, self._named(asked), with_trace=False
            ).problems
            self.calls = 1
        return self._problems

    def _asked(self) -> pl.DataFrame:
        """``ckey`` of every key a line asked: priced rows looked up, and keys the engine had no
        row for."""
        cid = self.terms.column("cid")
        looked = self.prices.filter(self.used).select(cid, "at", "cut_no")
        return pl.concat([self.asked, looked.select(packed("cid").alias("ckey"))]).unique()

    def _by_month(self, lines: pl.DataFrame) -> pl.Series:
        """The row of :attr:`prices` of each line by its month slot (null: none there)."""
        if self.slots is None:
            return _no_rows(lines.height)
        slot = lines.select(self.slots.slot(pl.col("month")))["slot"]
        return self.slots.rows.gather(slot).alias("prow")

    def _by_key(self, lines: pl.DataFrame) -> pl.Series:
        """The row of :attr:`prices` of each line's key ``tid, at, cut_no`` (null: not priced)."""
        rows = self.prices.select("key").with_row_index("prow")
        keys = lines.select(packed("tid").alias("key"))
        return keys.join(rows, on="key", how="left", maintain_order="left")["prow"].cast(pl.Int32)

    def _ask(self, keys: pl.DataFrame, more: bool, record: bool = True) -> bool:
        """Price the ``keys`` (``ckey``) not asked before; True when the engine ran. ``record``:
        the keys count as asked by lines (see :attr:`problems`)."""
        new = keys.cast(ASKED).drop_nulls().join(self.asked, on="ckey", how="anti")
        if record:
            self.asked = pl.concat([self.asked, new])
        if more and self.calls == 0:
            new = pl.concat([new, self._ahead(new)]).unique()
        new = new.join(self.priced, on="ckey", how="anti")
        if new.height == 0:
            return False
        start = self.prices.height
        self._priced(new)
        self.used = self.used.extend_constant(False, self.prices.height - self.used.len())
        if self.slots is None:
            self.slots = Slots.of(self.prices, self.terms, self.cuts.len())
        else:
            self.slots = self.slots.extended(self.prices, self.terms, start, self.cuts.len())
        return True

    def _priced(self, new: pl.DataFrame) -> None:
        """Ask the engine for ``new``, with the formulas of their contracts only."""
        named = self._named(new)
        mine = pl.col("contract").is_in(named["contract"].unique().implode())
        every = self.terms.formulas
        formulas = Formulas(
            *(f.filter(mine) for f in (every.params, every.components, every.indices))
        )
        expected = expected_prices(formulas, self.store, named, with_trace=self.with_trace)
        self.calls += 1
        self.priced = pl.concat([self.priced, new])
        self.prices = pl.concat([self.prices, self._keyed(expected.prices, PRICE_COLUMNS)])
        self.trace = pl.concat([self.trace, self._keyed(expected.trace, TRACE_COLUMNS)])
        self.provisional = pl.concat(
            [self.provisional, self._keyed(expected.provisional, TRACE_COLUMNS)]
        )
        self._problems.extend(p for p in expected.problems if p not in self._problems)

    def _ahead(self, keys: pl.DataFrame) -> pl.DataFrame:
        """The keys later slices will likely need, asked with the first slice's: every revision
        date of the contracts seen between the first and last dates seen, when one cut was seen.

        A file in no particular order needs most of them; each later engine call
        costs 0.05-0.2 s of fixed work whatever its size.
        """
        unpacked = keys.select(
            cid=pl.col("ckey") // 2**40,
            at=pl.col("ckey") // 2**20 % 2**20,
            cut=pl.col("ckey") % 2**20,
        )
        if unpacked["cut"].n_unique() != 1:
            return keys.clear()
        params = self.terms.formulas.params.with_row_index("cid")
        seen = params.join(unpacked.select(pl.col("cid").cast(pl.UInt32)).unique(), on="cid")
        dates = revision_months(seen, int(unpacked["at"].min()), int(unpacked["at"].max()))
        dates = dates.join(seen.select("contract", "cid"), on="contract")
        cut = pl.lit(unpacked["cut"][0], pl.UInt32).alias("cut_no")
        return dates.with_columns(cut).select(packed("cid").alias("ckey"))

    def _named(self, keys: pl.DataFrame) -> pl.DataFrame:
        """``contract, at, cut`` (the engine's keys) of ``ckey``."""
        key = pl.col("ckey")
        contract = pl.lit(self.terms.formulas.params["contract"]).gather(key // 2**40)
        cut = pl.lit(self.cuts).gather(key % 2**20)
        at = (key // 2**20 % 2**20).cast(pl.Int64)
        return keys.select(contract.alias("contract"), at.alias("at"), cut.alias("cut"))

    def _keyed(self, frame: pl.DataFrame, columns: dict) -> pl.DataFrame:
        cut_no = pl.int_range(self.cuts.len(), dtype=pl.UInt32).alias("cut_no")
        cuts = pl.select(self.cuts.alias("cut"), cut_no)
        keyed = self.terms.keyed(frame).join(cuts, on="cut")
        keyed = keyed.select(list(_keyed_schema(columns))).cast(_keyed_schema(columns))
        return keyed.with_columns(packed("tid").alias("key"))
