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
  gives the same prices as one call. The engine's *messages* (missing values)
  summarise every key at once ("… (12 later revision dates affected too)"):
  when the engine ran more than once and reported any, :attr:`Due.problems`
  asks it once more for all the keys together, so they read as for one call.
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
from tariffs.formulas import Formulas
from tariffs.series import IndexStore

KEYS = ["tid", "at", "cut_no"]
ASKED = {"cid": pl.UInt32, "at": pl.Int64, "cut_no": pl.UInt32}
VAT_KEYS = {"_vat_set": pl.Int64, "month": pl.Int64, "vat_rate": pl.Float64}
PRICES = ["exp_price", "exp_coefficient", "exp_provisional", "current_price", "kdec", "pdec"]


def _keyed_schema(columns: dict, drop: tuple = ("contract", "term", "cut")) -> dict:
    typed = {"tid": pl.UInt32, "cut_no": pl.UInt32}
    return typed | {c: d for c, d in columns.items() if c not in drop}


@dataclass
class Due:
    """Prices (``prices``), index values (``trace``, ``provisional``) and VAT (``vat``) due."""

    terms: Terms
    store: IndexStore
    cuts: pl.Series
    with_trace: bool
    asked: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ASKED))
    prices: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=_keyed_schema(PRICE_COLUMNS))
    )
    trace: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=_keyed_schema(TRACE_COLUMNS))
    )
    provisional: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=_keyed_schema(TRACE_COLUMNS))
    )
    vat: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema=VAT_KEYS | {"vat_due": pl.Float64, "vat_why": pl.String}
        )
    )
    calls: int = 0
    _problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = first_vintage_known(self.store)

    def add(self, keys: pl.DataFrame, vat_keys: pl.DataFrame) -> None:
        """Compute what ``keys`` (``cid, at, cut_no``) and ``vat_keys`` need and was not known."""
        new = keys.cast(ASKED).drop_nulls("at").join(self.asked, on=list(ASKED), how="anti")
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
        if self.calls > 1 and self._problems:
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
        self.asked = pl.concat([self.asked, new])
        self.prices = pl.concat([self.prices, self._keyed(expected.prices, PRICE_COLUMNS)])
        self.trace = pl.concat([self.trace, self._keyed(expected.trace, TRACE_COLUMNS)])
        self.provisional = pl.concat(
            [self.provisional, self._keyed(expected.provisional, TRACE_COLUMNS)]
        )
        self._problems.extend(p for p in expected.problems if p not in self._problems)

    def _named(self, keys: pl.DataFrame) -> pl.DataFrame:
        """``contract, at, cut`` (the engine's keys) of ``cid, at, cut_no``."""
        contract = pl.lit(self.terms.formulas.params["contract"]).gather(pl.col("cid"))
        cut = pl.lit(self.cuts).gather(pl.col("cut_no"))
        return keys.select(contract.alias("contract"), "at", cut.alias("cut"))

    def _keyed(self, frame: pl.DataFrame, columns: dict) -> pl.DataFrame:
        cut_no = pl.int_range(self.cuts.len(), dtype=pl.UInt32).alias("cut_no")
        cuts = pl.select(self.cuts.alias("cut"), cut_no)
        keyed = self.terms.keyed(frame).join(cuts, on="cut")
        return keyed.select(list(_keyed_schema(columns))).cast(_keyed_schema(columns))
