"""Degree-day settlement of MCI/MTI contracts: adjusted target, bonus or penalty.

An MCI/MTI contract fixes a target consumption for a season with a reference
number of heating degree-days (DJU). Each season the target is adjusted to the
season's actual DJU, and the gap between adjusted target and metered
consumption gives the operator a share of the savings (bonus) or makes it bear
a share of the overrun (penalty), outside a tolerance band (*franchise*).

Notes
-----
With ``T`` the target [MWh], ``D`` the season's DJU, ``D0`` the reference DJU,
``C`` the metered consumption [MWh], ``f`` the franchise [fraction of the
adjusted target], ``p`` the price of the settlement term [EUR/MWh]::

    T_adj = T × D / D0
    gap   = T_adj − C                       (> 0: savings, < 0: overrun)
    band  = f × T_adj
    bonus = + savings_share × (gap − band) × p      if gap > band
    penalty = − overrun_share × (−gap − band) × p    if −gap > band
    0 otherwise

The amount is signed from the operator's side: positive = due to the
operator, negative = due by the operator. Amounts are rounded half-up to the
cent. Source: DOMAIN.md (MCI/MTI contracts; the Belfort and Angers cases).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from tariffs.errors import InvoiceError, Problem
from tariffs.model import Settlement

CENT = Decimal("0.01")


@dataclass(frozen=True)
class SettlementResult:
    """The settlement of one season [MWh, EUR]."""

    adjusted_target_mwh: Decimal
    metered_mwh: Decimal
    gap_mwh: Decimal
    band_mwh: Decimal
    price_eur_per_mwh: Decimal
    amount_eur: Decimal

    @property
    def kind(self) -> str:
        if self.amount_eur > 0:
            return "bonus"
        return "penalty" if self.amount_eur < 0 else "none"

    def as_dict(self) -> dict:
        return {
            "adjusted_target_mwh": float(self.adjusted_target_mwh),
            "metered_mwh": float(self.metered_mwh),
            "gap_mwh": float(self.gap_mwh),
            "band_mwh": float(self.band_mwh),
            "price_eur_per_mwh": float(self.price_eur_per_mwh),
            "amount_eur": float(self.amount_eur),
            "kind": self.kind,
        }


def settle(
    rule: Settlement, actual_dju: Decimal, metered_mwh: Decimal, price_eur_per_mwh: Decimal
) -> SettlementResult:
    """Adjusted target and bonus (+) or penalty (−) of one season; see the module Notes."""
    if rule.reference_dju <= 0 or actual_dju < 0 or metered_mwh < 0:
        raise ValueError("DJU and consumption must be positive")
    adjusted = rule.target_mwh * actual_dju / rule.reference_dju
    gap = adjusted - metered_mwh
    band = rule.franchise * adjusted
    if gap > band:
        amount = rule.savings_share * (gap - band) * price_eur_per_mwh
    elif -gap > band:
        amount = -rule.overrun_share * (-gap - band) * price_eur_per_mwh
    else:
        amount = Decimal(0)
    return SettlementResult(
        adjusted_target_mwh=adjusted,
        metered_mwh=metered_mwh,
        gap_mwh=gap,
        band_mwh=band,
        price_eur_per_mwh=price_eur_per_mwh,
        amount_eur=amount.quantize(CENT, rounding=ROUND_HALF_UP),
    )


def check_billed(
    result: SettlementResult, billed_eur: Decimal, tolerance_eur: Decimal
) -> dict | None:
    """A finding dict when the billed settlement differs from the computed one, else None.

    ``difference_eur`` = billed − expected (positive: the operator claims too much).
    """
    difference = billed_eur - result.amount_eur
    if abs(difference) <= max(tolerance_eur, CENT / 2):
        return None
    return {
        "code": "settlement-mismatch",
        "billed": float(billed_eur),
        "expected": float(result.amount_eur),
        "difference_eur": float(difference),
        "message": (
            f"adjusted target {result.adjusted_target_mwh:.3f} MWh, metered {result.metered_mwh} MWh, "
            f"band {result.band_mwh:.3f} MWh at {result.price_eur_per_mwh} EUR/MWh: "
            f"{result.kind} of {result.amount_eur} EUR due, {billed_eur} EUR billed"
        ),
    }


SEASON_FIELDS = (
    "contract",
    "season",
    "actual_dju",
    "metered_mwh",
    "price_eur_per_mwh",
    "billed_eur",
)


MAX_NUMBER = 10**12  # DJU, MWh and EUR/MWh of one season are far below


def read_seasons(path: Path) -> list[dict]:
    """A settlement file: ``contract,season,actual_dju,metered_mwh[,price_eur_per_mwh][,billed_eur]``.

    ``season`` is ``YYYY-YYYY`` (heating season, October to May). Numbers may
    use a decimal comma in a semicolon-separated file. Problems are reported
    together with their line numbers.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvoiceError(
            problems=[Problem(str(path), "", f"not a UTF-8 text (CSV) file: {exc.reason}")]
        ) from exc
    head = text.split("\n", 1)[0]
    separator = ";" if head.count(";") > head.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=separator)
    problems: list[Problem] = []
    for column in ("contract", "actual_dju", "metered_mwh"):
        if column not in (reader.fieldnames or []):
            problems.append(Problem(str(path), column, "missing required column", 1))
    if problems:
        raise InvoiceError(problems=problems)
    seasons = []
    for line, row in enumerate(reader, start=2):
        season = {
            "contract": (row.get("contract") or "").strip(),
            "season": (row.get("season") or "").strip() or None,
        }
        for key in SEASON_FIELDS[2:]:
            season[key] = _decimal(
                path, line, key, row.get(key), problems, key in ("actual_dju", "metered_mwh")
            )
        if season["season"] and not SEASON_RE.match(season["season"]):
            problems.append(
                Problem(str(path), "season", f"expected YYYY-YYYY, got {season['season']!r}", line)
            )
        season["line"] = line
        seasons.append(season)
    if problems:
        raise InvoiceError(problems=problems)
    return seasons


SEASON_RE = re.compile(r"^\d{4}-\d{4}$")


def _decimal(path, line, key, text, problems, required) -> Decimal | None:
    text = (text or "").strip().replace(" ", "").replace(",", ".")
    if not text:
        if required:
            problems.append(Problem(str(path), key, "missing value", line))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) >= MAX_NUMBER:
        problems.append(
            Problem(str(path), key, f"expected a number below {MAX_NUMBER:,}, got {text!r}", line)
        )
        return None
    return value


def season_end_month(season: str) -> int:
    """``2003-2004`` -> month index of May 2004 (end of the heating season)."""
    return int(season[5:9]) * 12 + 4
