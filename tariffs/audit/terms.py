"""The contracts' terms as the audit needs them, found from an invoice line by integers.

One row per contract × term (``tid``) with what a line is checked against:
validity window, unit, energy basis, revision schedule, the decimals its
coefficient and price are rounded to, and the set of VAT rates the contract
states. A line's ``cid`` (contract) and ``tid`` come from an ``Enum`` cast
(contract ids; a few term codes are compared instead) and a gather, never from a
join on text keys per line; every later join of the audit is on these integers.

Notes
-----
- ``cid``: position of the contract in ``formulas.params``; ``tno``: position
  of the term code among the distinct codes; ``tid = dense[cid × codes + tno]``
  (null when the contract has no such term). A text that is no contract id or
  term code casts to null (``strict=False``), exactly as a left join finds no row.
- From a :class:`tariffs.portfolio.Portfolio` the table is built from its frames
  (no :class:`tariffs.model.Contract` objects; the VAT rate from its
  ``details``); TOML contracts loaded alongside, and plain lists of contracts,
  give their VAT rates from the objects.
- ``_vat_set`` numbers the distinct sets of stated VAT rates (see
  :func:`tariffs.audit.vat.due_table`); ``step`` is the revision period in
  months (monthly 1, quarterly 3, yearly 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from tariffs.formulas import Formulas, formulas_of
from tariffs.model import VatRate
from tariffs.portfolio import Portfolio

STEPS = {"monthly": 1, "quarterly": 3}  # any other frequency: yearly, 12 months


@dataclass
class Terms:
    """The terms table (one row per ``tid``) and the integer look-ups of a line's keys."""

    formulas: Formulas
    table: pl.DataFrame
    contracts: pl.Enum
    codes: pl.Enum
    dense: pl.Series
    vat_sets: dict[int, tuple]

    def identify(self, lines: pl.DataFrame) -> pl.DataFrame:
        """``lines`` with ``cid`` and ``tid`` (UInt32, null: unknown) of their ``contract`` and
        ``term`` texts as read; the few texts not found as read are stripped and looked up
        again (see the module Notes).

        The casts are built once (:meth:`_code`): an ``Enum`` of 10,000 contract ids
        is converted for polars each time a cast names it."""
        codes = []
        for column in ("contract", "term"):
            text = lines.get_column(column)
            code = lines.select(self._code(column)).to_series()
            lost = code.is_null() & text.is_not_null()
            if lost.any():
                where = lost.arg_true()
                again = text.gather(where).str.strip_chars().to_frame(column)
                code = code.scatter(where, again.select(self._code(column)).to_series())
            codes.append(code)
        cid, tno = codes
        tid = self.dense.gather(cid * len(self.codes.categories) + tno)
        return lines.with_columns(cid.alias("cid"), tid.alias("tid"))

    def _code(self, column: str) -> pl.Expr:
        """``column`` (``contract`` or ``term``) as its UInt32 code, null when unknown."""
        cache = self.__dict__.setdefault("_codes", {})
        if column not in cache:
            enum = self.contracts if column == "contract" else self.codes
            known = enum.categories.to_list()
            if len(known) <= 16:  # a few codes (P1, P2, P3): a comparison each, 3× faster
                code = pl.when(pl.col(column) == known[0]).then(pl.lit(0, pl.UInt32))
                for i, text in enumerate(known[1:], 1):
                    code = code.when(pl.col(column) == text).then(pl.lit(i, pl.UInt32))
            else:
                code = pl.col(column).cast(enum, strict=False).to_physical().cast(pl.UInt32)
            cache[column] = code
        return cache[column]

    def column(self, name: str) -> pl.Expr:
        """The term's ``name`` for each line (by ``tid``; null for an unknown term)."""
        return pl.lit(self.table[name]).gather(pl.col("tid")).alias(name)

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (``contract``, ``term`` columns) with ``tid`` instead of the text keys."""
        return frame.join(self.table.select("tid", "contract", "term"), on=["contract", "term"])


def terms_of(contracts) -> Terms:
    """The :class:`Terms` of a portfolio or of a list of contracts (see the module Notes)."""
    if isinstance(contracts, Portfolio):
        formulas = contracts.formulas
        vat = [
            (c, t, () if v is None else (VatRate(Decimal(repr(v))),))
            for c, t, v in contracts.details.select("contract", "term", "vat_rate").iter_rows()
        ]
        vat += [(c.id, t.code, t.vat_rates) for c in contracts.loaded for t in c.terms]
    else:
        contracts = list(contracts)
        formulas = formulas_of(contracts)
        vat = [(c.id, t.code, t.vat_rates) for c in contracts for t in c.terms]
    sets: dict[tuple, int] = {}
    numbers = pl.DataFrame(
        [(c, t, sets.setdefault(rates, len(sets))) for c, t, rates in vat],
        schema={"contract": pl.String, "term": pl.String, "_vat_set": pl.Int64},
        orient="row",
    )
    return _terms(formulas, numbers, {i: r for r, i in sets.items()})


def _terms(formulas: Formulas, vat: pl.DataFrame, vat_sets: dict[int, tuple]) -> Terms:
    params = formulas.params.with_row_index("cid")
    codes = formulas.components["term"].unique(maintain_order=True)
    step = pl.col("frequency").replace_strict(STEPS, default=12, return_dtype=pl.Int64)
    table = (
        formulas.components.sort("term_order", "comp_order")
        .unique(["contract", "term"], keep="first", maintain_order=True)
        .join(params, on="contract")
        .join(vat, on=["contract", "term"], how="left")
        .select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("tid"),
            "cid", "contract", "term", "start_month", "end_month", "unit",
            pl.col("energy_basis").alias("contract_basis"),
            pl.col("unit").str.ends_with("/MWh").alias("per_mwh"),
            step.alias("step"), "rev_month", "_vat_set", "kdec", "pdec",
        )
    )  # fmt: skip
    width = codes.len()
    slot = pl.col("cid").cast(pl.Int64) * width + pl.col("term").replace_strict(
        codes, range(width), return_dtype=pl.Int64
    )
    dense = pl.Series("tid", [None] * (params.height * width), dtype=pl.UInt32)
    positions = table.select(slot)["cid"]
    dense = dense.scatter(positions, table["tid"])
    return Terms(formulas, table, pl.Enum(params["contract"]), pl.Enum(codes), dense, vat_sets)
