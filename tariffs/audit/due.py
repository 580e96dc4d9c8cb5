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
  gives the same prices as one call. With the first slice's keys the engine
  also prices the revision dates later slices will likely need
  (:meth:`Due._ahead`): each engine call has a fixed cost.
- The engine's *messages* (missing values) summarise every key at once
  ("… (12 later revision dates affected too)"): when the engine ran more than
  once, or priced dates ahead, and reported any, :attr:`Due.problems` asks it
  once more for the keys the lines asked, so they read as for one call on
  exactly those keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

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
PRICES = ["exp_price", "exp_coefficient", "exp_provisional", "current_price", "kdec", "pdec"]


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


def _keyed_schema(columns: dict, drop: tuple = ("contract", "term", "cut")) -> dict:
    typed = {"tid": pl.UInt32, "cut_no": pl.UInt32}
    return typed | {c: d for c, d in columns.items() if c not in drop}


def _empty(columns: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=_keyed_schema(columns) | {"key": pl.UInt64})


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
    _problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = first_vintage_known(self.store)

    def add(self, keys: pl.DataFrame, vat_keys: pl.DataFrame, more: bool = False) -> None:
        """Compute what ``keys`` (``ckey``: :func:`packed` ``cid``) and ``vat_keys`` need and
        was not known; ``more``: other slices follow (see :meth:`_ahead`)."""
        new = keys.cast(ASKED).drop_nulls().join(self.asked, on="ckey", how="anti")
        self.asked = pl.concat([self.asked, new])
        if more and self.calls == 0:
            new = pl.concat([new, self._ahead(new)]).unique()
        new = new.join(self.priced, on="ckey", how="anti")
        if new.height:
            self._priced(new)
        new_vat = vat_keys.cast(VAT_KEYS).join(
            self.vat, on=list(VAT_KEYS), how="anti", nulls_equal=True
        )
        if new_vat.height:
            self.vat = pl.concat([self.vat, due_table(new_vat, self.terms.vat_sets)])

    @property
    def problems(self) -> list[str]:
        """The engine's messages, as for one call on every key asked (see the module Notes)."""
        if self._problems and (self.calls > 1 or self.priced.height > self.asked.height):
            self._problems = expected_prices(
                self.terms.formulas, self.store, self._named(self.asked), with_trace=False
            ).problems
            self.calls = 1
        return self._problems

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
