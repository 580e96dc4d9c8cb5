"""Price shocks on index series: ``FOD=+50%``, and the ``oil=+50%`` shortcut.

Notes
-----
A shock multiplies a series by ``(1 + s)`` at the last month ``T`` of the
window. For a unit ``K = a + Σ_i w_i I_i/I_i,0`` the change in K is exact
(the formula is linear)::

    ΔK = Σ_i w_i × s_i × I_i(T) / I_i,0

``oil=+s`` shocks every series by ``s × oil_share`` (the catalog's share of the
series that moves with oil). The change in price is ``P0 × ΔK`` (P0 the base
price, in the term's unit); per dwelling and year it is ``ΔP × yearly useful
MWh / dwellings`` for a price per MWh, ``ΔP / dwellings`` for a price per year,
``ΔP`` for a price per dwelling and year (other units: not computed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tariffs.errors import OptionError

OIL = "oil"
_SHOCK = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\s*=\s*([+-]?\d+(?:[.,]\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Shock:
    """A relative change ``change`` (0.5 = +50 %) of ``series`` (or of every series' oil part)."""

    series: str
    change: float
    text: str

    @property
    def is_oil(self) -> bool:
        return self.series == OIL


def parse_shock(text: str) -> Shock:
    """``"FOD=+50%"`` -> Shock("FOD", 0.5). Raises OptionError on anything else.

    The change must be a percentage (``+50%``, ``-20%``, ``12.5%``), above -100 %.
    """
    m = _SHOCK.match(text)
    if not m:
        raise OptionError(f"--shock {text!r}: expected SERIES=+NN% (e.g. FOD=+50%, oil=-20%)")
    series, number = m.group(1), m.group(2).replace(",", ".")
    change = float(number) / 100.0
    if change <= -1.0:
        raise OptionError(f"--shock {text!r}: a change must be above -100%, got {number}%")
    shown = f"{series}={'+' if change >= 0 else ''}{number.lstrip('+')}%"
    return Shock(series=series, change=change, text=shown)


def check_shocks(shocks: list[Shock], used: set[str]) -> None:
    """Refuse shocks on series that no analysed formula uses (all of them listed together)."""
    unused = [s.text for s in shocks if not s.is_oil and s.series not in used]
    if unused:
        names = ", ".join(sorted(used)) or "none"
        raise OptionError(
            f"--shock {'; '.join(unused)}: no analysed formula uses this series "
            f"(series used: {names})"
        )


def per_dwelling_year(
    delta_price: float | None,
    unit: str,
    dwellings: int | None,
    consumption_mwh: float | None,
    energy_basis: str | None = "useful",
) -> float | None:
    """The change of a price in euros per dwelling and year, when the contract says enough.

    The yearly consumption is in useful MWh: a price per MWh on another basis (PCI,
    PCS) is not multiplied by it (that would need the efficiency): no figure.
    """
    if delta_price is None:
        return None
    if unit == "EUR/MWh" and energy_basis != "useful":
        return None
    if unit == "EUR/dwelling/year":
        return delta_price
    if not dwellings:
        return None
    if unit == "EUR/MWh" and consumption_mwh:
        return delta_price * consumption_mwh / dwellings
    if unit == "EUR/year":
        return delta_price / dwellings
    return None
