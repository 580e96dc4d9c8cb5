"""The portfolio as one more exposure unit: every term weighted by its yearly amount at base prices.

Notes
-----
The yearly amount of a term at base prices, ``A_j`` [EUR/year], is:

- ``P0 × yearly useful MWh`` for a price per MWh (the contract's
  ``yearly_consumption_mwh_useful``);
- ``P0`` for a price per year; ``P0 × dwellings`` for a price per dwelling and year;
- unknown otherwise (per kW, per tonne, per m²): such a term is left out and named.

The portfolio's K is ``K_t = Σ_j A_j K_j,t / Σ_j A_j``, linear in the index
ratios with weights ``A_j w_j,i / Σ A`` (fixed part alike), so every figure of a
term (oil weight, statistics, shocks) applies to it unchanged. Its base price
is ``Σ A`` [EUR/year]: a shock's ``delta_price`` is the change of the
portfolio's yearly bill, and per dwelling it is divided by ``Σ dwellings``.
It has no revision schedule of its own (no revision-frequency figures).
"""

from __future__ import annotations

import polars as pl

PORTFOLIO = "(portfolio)"
TERM = "all"
NAMED = 20  # terms left out named in the note, the others counted


def _amount() -> pl.Expr:
    price, unit = pl.col("base_price"), pl.col("unit")
    return (
        # yearly consumption is in useful MWh: only a price per useful MWh multiplies it
        pl.when((unit == "EUR/MWh") & (pl.col("energy_basis") == "useful")).then(price * pl.col("consumption_mwh"))
        .when(unit == "EUR/year").then(price)
        .when(unit == "EUR/dwelling/year").then(price * pl.col("dwellings"))
    )  # fmt: skip


def add_portfolio(
    units: pl.DataFrame, items: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """``units`` and ``items`` with the portfolio unit added (when two terms or more have an amount)."""
    terms = units.filter(pl.col("comp") == "").with_columns(_amount().alias("amount"))
    if terms.height < 2:
        return units, items, []
    # a contract pricing the same supply as another one present is counted once (the other)
    present = set(terms["contract"].to_list())
    twin = pl.col("same_supply_as").is_in(list(present)).fill_null(False)
    notes = [
        f"portfolio: left out {c} (prices the same supply as {o}, counted once)"
        for c, o in terms.filter(twin)
        .select("contract", "same_supply_as")
        .unique(maintain_order=True)
        .iter_rows()
    ]
    terms = terms.filter(~twin)
    known = terms.filter(pl.col("amount").is_not_null())
    left = [
        f"{r['contract']} {r['term']}"
        for r in terms.filter(pl.col("amount").is_null()).iter_rows(named=True)
    ]
    if left:
        named = ", ".join(left[:NAMED]) + (
            f" and {len(left) - NAMED:,} more" if len(left) > NAMED else ""
        )
        notes.append(
            f"portfolio: left out (no yearly amount: needs yearly_consumption_mwh_useful for a price per useful "
            f"MWh (per MWh PCI or PCS it would need the efficiency), "
            f"dwellings for a price per dwelling): {named}"
        )
    if known.height < 2:
        return (
            units,
            items,
            [*notes, "portfolio: fewer than two terms with a yearly amount, no portfolio row"],
        )
    known = known.with_columns((pl.col("amount") / pl.col("amount").sum()).alias("alpha"))
    key = ["contract", "term", "comp"]
    extra = known.select(
        pl.lit(PORTFOLIO).alias("contract"), pl.lit(TERM).alias("term"),
        pl.lit(10_000, pl.Int64).alias("term_order"), pl.lit("").alias("comp"),
        pl.lit(-1, pl.Int64).alias("comp_order"), pl.col("amount").sum().alias("base_price"),
        (pl.col("alpha") * pl.col("fixed")).sum().alias("fixed"), pl.lit("EUR/year").alias("unit"),
        pl.lit(None, pl.String).alias("energy_basis"), pl.lit(1.0).alias("share"),
        pl.lit(known.unique("contract")["dwellings"].sum()).cast(pl.Int64).alias("dwellings"),
        pl.lit(None, pl.Float64).alias("consumption_mwh"), pl.lit(None, pl.String).alias("same_supply_as"),
    ).head(1)  # fmt: skip
    own = items.join(known.select(*key, "alpha"), on=key).with_columns(
        pl.lit(PORTFOLIO).alias("contract"),
        pl.lit(TERM).alias("term"),
        pl.lit("").alias("comp"),
        (pl.col("alpha") * pl.col("weight")).alias("weight"),
    )
    units = pl.concat([units, extra.select(units.columns).cast(units.schema)])
    return units, pl.concat([items, own.select(items.columns)]), notes
