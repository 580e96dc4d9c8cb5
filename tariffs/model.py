"""The contract model: what a contract file says, once validated.

Numbers that money depends on (weights, prices, base values, VAT rates) are
``Decimal``, read from the file's own text, so the revision can round with
exact decimal semantics. The strict loader that builds these objects from TOML
lives in :mod:`tariffs.contract`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

FREQUENCIES = ("yearly", "quarterly", "monthly")
INDEX_RULES = ("lag", "latest-published", "mean")
ROUNDINGS = ("half-up", "up", "down", "half-even")
UNITS = ("EUR/MWh", "EUR/kW/year", "EUR/year", "EUR/dwelling/year", "EUR/t", "EUR/m2/year")
ENERGY_BASES = ("useful", "PCI", "PCS")
KINDS = ("MF", "MT", "CP", "MC", "PF", "MCI", "MTI", "network")


@dataclass(frozen=True)
class IndexRef:
    """One ``series × weight`` term of a formula; ``base_value`` is I0 when the contract writes it."""

    series: str
    weight: Decimal
    base_value: Decimal | None = None


@dataclass(frozen=True)
class Component:
    """A priced part of a term: ``price = base_price × (fixed + Σ weight × I/I0)``.

    A plain term is a single component named ``None`` with share 1.
    """

    name: str | None
    share: Decimal
    base_price: Decimal
    fixed: Decimal
    indices: tuple[IndexRef, ...] = ()


@dataclass(frozen=True)
class VatRate:
    """A VAT rate the contract sets for a term, in force from ``since`` (None: always)."""

    rate: Decimal
    since: date | None = None


@dataclass(frozen=True)
class Term:
    """A price term (P1, P2, R1...). ``components`` holds one unnamed component for a plain term."""

    code: str
    label: str
    unit: str
    energy_basis: str | None
    base_period: str  # "YYYY-MM" or "YYYY-Qn"
    components: tuple[Component, ...]
    vat_rates: tuple[VatRate, ...] = ()

    @property
    def is_mix(self) -> bool:
        return len(self.components) > 1 or self.components[0].name is not None


@dataclass(frozen=True)
class Revision:
    """The ``[revision]`` table: when and how prices are revised and rounded."""

    frequency: str
    month: int
    index_rule: str = "lag"
    lag_months: int = 0
    window_months: int = 1
    coefficient_decimals: int | None = None
    price_decimals: int | None = None
    rounding: str = "half-up"
    cap: Decimal | None = None
    floor: Decimal | None = None
    safeguard: Decimal | None = None


@dataclass(frozen=True)
class Settlement:
    """Degree-day settlement of an MCI/MTI contract (``[settlement]``), used by the audit.

    ``target_mwh`` is the contractual target consumption for a season with
    ``reference_dju`` degree-days, on ``energy_basis``. The adjusted target is
    ``target_mwh × actual_dju / reference_dju``. Within ``franchise`` (a fraction
    of the adjusted target) nothing is due; beyond it, the operator receives
    ``savings_share`` of the savings or bears ``overrun_share`` of the overrun,
    valued at the price of term ``price_term``.
    """

    target_mwh: Decimal
    reference_dju: Decimal
    energy_basis: str = "useful"
    savings_share: Decimal = Decimal("0.5")
    overrun_share: Decimal = Decimal("1")
    franchise: Decimal = Decimal("0")
    price_term: str = "P1"


@dataclass(frozen=True)
class Contract:
    id: str
    title: str
    start: date
    revision: Revision
    terms: tuple[Term, ...]
    path: str = ""
    client: str | None = None
    operator: str | None = None
    kind: str | None = None
    end: date | None = None
    dwellings: int | None = None
    heated_area_m2: Decimal | None = None
    yearly_consumption_mwh_useful: Decimal | None = None
    source: str | None = None
    settlement: Settlement | None = None
    same_supply_as: str | None = (
        None  # another contract pricing the same supply: counted once in totals
    )
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def term(self, code: str) -> Term | None:
        return next((t for t in self.terms if t.code == code), None)

    def series_ids(self) -> set[str]:
        return {ref.series for t in self.terms for c in t.components for ref in c.indices}
