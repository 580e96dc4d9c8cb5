"""Exact decimal rounding of coefficients and prices, as contracts state it.

The rule used (documented in the README): a coefficient K is the exact decimal
value of ``fixed + Σ weight × I / I0`` computed with 28 significant digits
from the numbers as written (weights in the contract, index values as
published), then rounded to the contract's number of decimals by its rule:

- ``half-up``: ties away from zero (1.06525 → 1.0653), the usual French practice;
- ``half-even``: ties to the even digit (banker's rounding);
- ``up``: towards +∞ for positive values (*arrondi par excès*: 1.0652228 → 1.066 at 3 decimals);
- ``down``: towards zero (truncation).

For speed, the pipeline computes in float64 and rounds there; a row whose
float value lies within ``EPS`` of a rounding boundary (where float error
could flip the result) is recomputed exactly with :mod:`decimal`. So every
rounded figure equals the exact decimal result.
"""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
)

import polars as pl

CONTEXT = Context(prec=28)
DECIMAL_RULES = {
    "half-up": ROUND_HALF_UP,
    "half-even": ROUND_HALF_EVEN,
    "up": ROUND_CEILING,
    "down": ROUND_DOWN,
}
EPS = 1e-6  # in units of the last kept decimal


def round_decimal(value: Decimal, decimals: int | None, rule: str) -> Decimal:
    """Round an exact decimal by a contract rule; ``decimals=None`` leaves it as is."""
    if decimals is None:
        return value
    mode = DECIMAL_RULES[rule]
    if rule == "up" and value < 0:
        mode = ROUND_FLOOR  # away from zero for negative values too
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=mode)


def to_decimal(value: float) -> Decimal:
    """A float read back as the shortest decimal that round-trips (the number as written)."""
    return Decimal(repr(float(value)))


def round_expr(value: pl.Expr, decimals: pl.Expr, rule: pl.Expr, present=range(11),
               rules=None) -> pl.Expr:  # fmt: skip
    """Float rounding of ``value`` to ``decimals`` by ``rule`` (columns), null decimals = unrounded.

    ``present``: the decimal counts that occur in the frame; ``rules``: the rule
    names that occur (None: any). Fewer branches, faster; the same result.
    """
    scale = pl.lit(10.0).pow(decimals.cast(pl.Float64))
    scaled = value * scale
    floor_half = (scaled + 0.5).floor()
    is_tie = ((scaled + 0.5) - floor_half).abs() < EPS
    branches = {
        "half-up": (scaled.abs() + 0.5).floor() * scaled.sign(),
        "half-even": pl.when(is_tie & (floor_half % 2 != 0)).then(floor_half - 1).otherwise(floor_half),
        "up": pl.when(scaled >= 0).then(scaled.ceil()).otherwise(scaled.floor()),
    }  # fmt: skip
    rounded = scaled.abs().floor() * scaled.sign()  # down, and any other rule
    named = [r for r in branches if rules is None or r in rules]
    if rules is not None and len(set(rules)) == 1 and named:
        rounded = branches[named[0]]
    elif named:
        chain = pl.when(rule == named[0]).then(branches[named[0]])
        for r in named[1:]:
            chain = chain.when(rule == r).then(branches[r])
        rounded = chain.otherwise(rounded)
    return snap(
        pl.when(decimals.is_null()).then(value).otherwise(rounded / scale), decimals, present
    )


def snap(value: pl.Expr, decimals: pl.Expr, present=range(11)) -> pl.Expr:
    """The double nearest to an already rounded value (removes float noise such as 1.0652000000000001)."""
    out = pl.when(decimals.is_null()).then(value)
    for d in present:
        out = out.when(decimals == d).then(value.round(d))
    return out.otherwise(value)


def ambiguous_expr(value: pl.Expr, decimals: pl.Expr, rule: pl.Expr, rules=None) -> pl.Expr:
    """True where float error could change the rounded result (near a boundary).

    ``rules``: the rule names that occur (None: any).
    """
    scaled = value.abs() * pl.lit(10.0).pow(decimals.cast(pl.Float64))
    frac = scaled - scaled.floor()
    near_half = (frac - 0.5).abs() < EPS
    near_integer = (frac < EPS) | (frac > 1 - EPS)
    halves = ["half-up", "half-even"]
    if rules is None or (set(rules) & set(halves) and set(rules) - set(halves)):
        near = pl.when(rule.is_in(halves)).then(near_half).otherwise(near_integer)
    else:
        near = near_half if set(rules) & set(halves) else near_integer
    return pl.when(decimals.is_null()).then(False).otherwise(near)
