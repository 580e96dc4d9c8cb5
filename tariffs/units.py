"""Energy and price units: MWh PCS, MWh PCI and useful MWh as distinct quantities.

A pint registry built from scratch (no default units) gives each energy basis
its own base dimension, so pint itself refuses ``MWh_PCS -> MWh_PCI``. Within
one basis pint does the scaling (``kWh_PCI``, ``GJ_PCI``, ``MWh_PCI``). Every
change of basis, and every step from a physical quantity of fuel (tonnes of
wood, litres of fuel oil, cubic metres of gas) to energy, goes through an
explicit step of this module that needs a named parameter; without it a
:class:`~tariffs.errors.UnitError` names the missing option. Nothing is assumed.

Units understood (case-insensitive; the canonical spelling is shown):

- energy: ``MWh_PCS``, ``MWh_PCI``, ``MWh_useful`` and the ``kWh_`` and ``GJ_``
  forms; ``MWh``/``kWh``/``GJ`` without basis (convertible only among themselves);
- fuel: ``t`` (tonnes of wood, ``fuel="wood"`` and ``moisture``), ``L``
  (litres of fuel oil, ``fuel="fuel-oil"``), ``m3`` (cubic metres of gas,
  ``fuel="gas"``);
- prices: ``EUR/`` followed by any of the above (``EUR/MWh_PCI``, ``EUR/t``).

Notes
-----
The chain of steps, each with its parameter:

    m3 --(PCS per m3, fuel=gas)--> MWh_PCS --(PCI/PCS ratio of the fuel)--> MWh_PCI
    t  --(PCI(H), fuel=wood, moisture H)--> MWh_PCI
    L  --(PCI per litre, fuel=fuel-oil)--> MWh_PCI
    MWh_PCI --(global efficiency eta = useful/PCI)--> MWh_useful

A price per unit B from a price per unit A: ``price_B = price_A x (A per B)``,
e.g. EUR per useful MWh = EUR per MWh PCI / eta; EUR per MWh PCI = EUR per
tonne / PCI(H). The constants and their sources are documented in
``docs/units.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from math import isfinite

import pint

from tariffs.errors import UnitError

ENERGY_BASES = ("PCS", "PCI", "useful")
FUELS = ("gas", "fuel-oil", "wood")

#: Natural gas: PCI / PCS [-]. shared DOMAIN.md "PCI ~ 0.9 x PCS"; the French
#: conventional PCS/PCI ratio of natural gas is 1.11 (1 / 1.11 = 0.90).
GAS_PCI_PER_PCS = 0.9
#: Heating fuel oil: PCS / PCI [-]. Conventional French value ~1.07; consistent
#: with typical gross/net calorific values of gas oil (~45.6 / ~42.8 MJ/kg).
FUEL_OIL_PCS_PER_PCI = 1.07
#: Heating fuel oil: net calorific value per litre [MWh PCI / L]: ~10 kWh PCI/L
#: (DOMAIN.md; ~0.845 kg/L x ~42.8 MJ/kg = 36 MJ/L = 10.0 kWh/L).
FUEL_OIL_MWH_PCI_PER_L = 0.010
#: Natural gas (H gas, France): gross calorific value per cubic metre [kWh PCS / m3].
#: A rounded national AVERAGE; the actual monthly coefficient is printed on each
#: gas bill (coefficient de conversion). Override with ``pcs_kwh_per_m3``.
GAS_PCS_KWH_PER_M3 = 11.0
#: Wood: net calorific value of the dry matter [MWh PCI / t dry] (~18.4 GJ/t; DOMAIN.md).
WOOD_PCI_DRY_MWH_PER_T = 5.1
#: Latent heat of the water in wet wood [MWh / t of water]: 0.02443 MJ/kg per % of
#: moisture in EN ISO 18125 = 2.443 GJ/t = 0.679 MWh/t (DOMAIN.md: ~0.68).
WATER_LATENT_HEAT_MWH_PER_T = 0.68

EFFICIENCY_MAX = 1.5

_PARAMETER_HELP = {
    "fuel": "--fuel (gas, fuel-oil or wood)",
    "moisture": "--moisture (moisture content of the wood, wet basis, fraction in [0, 1))",
    "efficiency": "--efficiency (global efficiency useful/PCI)",
}

# name -> (pint definition, node). A node is what the explicit steps connect.
_DEFINITIONS = {
    "MWh": ("[energy_unspecified]", "MWh"),
    "MWh_PCS": ("[energy_pcs]", "MWh_PCS"),
    "MWh_PCI": ("[energy_pci]", "MWh_PCI"),
    "MWh_useful": ("[energy_useful]", "MWh_useful"),
    "t": ("[wood_mass]", "t"),
    "L": ("[fuel_oil_volume]", "L"),
    "m3": ("[gas_volume]", "m3"),
}
_PREFIXED = {"kWh": "0.001 * {}", "GJ": "{} / 3.6"}  # 1 GJ = 1/3.6 MWh
_FUEL_OF_NODE = {"t": "wood", "L": "fuel-oil", "m3": "gas"}
_BASIS_OF_NODE = {"MWh_PCS": "PCS", "MWh_PCI": "PCI", "MWh_useful": "useful"}
_LEVEL = {"PCS": 0, "PCI": 1, "useful": 2, None: -1}
_NATIVE_BASIS = {**_BASIS_OF_NODE, "t": "PCI", "L": "PCI", "m3": "PCS", "MWh": None}


@cache
def registry() -> pint.UnitRegistry:
    """The pint registry: only our units, one base dimension per energy basis and per fuel."""
    ureg = pint.UnitRegistry(None)
    ureg.define("EUR = [currency]")
    for name, (definition, _node) in _DEFINITIONS.items():
        ureg.define(f"{name} = {definition}")
        if name.startswith("MWh"):
            suffix = name[3:]
            for prefix, scale in _PREFIXED.items():
                ureg.define(f"{prefix}{suffix} = " + scale.format(name))
    return ureg


@cache
def _names() -> dict[str, tuple[str, str]]:
    """Lower-case name -> (canonical name, node)."""
    names = {}
    for name, (_definition, node) in _DEFINITIONS.items():
        names[name.lower()] = (name, node)
        if name.startswith("MWh"):
            for prefix in _PREFIXED:
                names[(prefix + name[3:]).lower()] = (prefix + name[3:], node)
    return names


@dataclass(frozen=True)
class Unit:
    """A parsed unit: ``EUR/`` (price) or not, then one known quantity name."""

    text: str  # canonical spelling, e.g. "EUR/MWh_PCI"
    quantity: str  # canonical quantity name, e.g. "MWh_PCI"
    node: str  # the reference unit of its dimension, e.g. "MWh_PCI" for "GJ_PCI"
    price: bool

    @property
    def basis(self) -> str | None:
        return _BASIS_OF_NODE.get(self.node)

    @property
    def fuel(self) -> str | None:
        return _FUEL_OF_NODE.get(self.node)


def known_units() -> list[str]:
    """Canonical quantity names, for messages and help."""
    return [name for name, _node in _names().values()]


def parse_unit(text: str) -> Unit:
    """Validate a unit written as ``QUANTITY`` or ``EUR/QUANTITY`` (see the module doc).

    Raises :class:`UnitError` naming the known units when ``text`` is not one of them.
    """
    raw = str(text).strip().replace(" ", "")
    price = raw.upper().startswith("EUR/")
    name = raw[4:] if price else raw
    found = _names().get(name.lower())
    if found is None:
        raise UnitError(
            f"unknown unit {text!r}; expected one of {', '.join(known_units())}, "
            "optionally as a price EUR/<unit>"
        )
    quantity, node = found
    return Unit(("EUR/" if price else "") + quantity, quantity, node, price)


def basis_of(unit_text: str) -> str | None:
    """The energy basis (``"PCS"``, ``"PCI"``, ``"useful"``) of a unit, or None.

    None for a unit without basis (``MWh``, ``EUR/MWh``, ``t``, ``L``, ``m3``).
    Raises :class:`UnitError` for an unknown unit.
    """
    return parse_unit(unit_text).basis


def with_basis(unit_text: str, basis: str) -> str:
    """``("EUR/MWh", "PCI") -> "EUR/MWh_PCI"``: name the basis of an unbased energy unit."""
    unit = parse_unit(unit_text)
    found = {b.lower(): b for b in ENERGY_BASES}.get(str(basis).strip().lower())
    if found is None:
        raise UnitError(
            f"unknown energy basis {basis!r}; expected one of {', '.join(ENERGY_BASES)}"
        )
    if unit.node != "MWh":
        if unit.basis == found:
            return unit.text
        raise UnitError(f"{unit.text} is not an energy unit without basis; cannot name it {found}")
    return parse_unit(f"{unit.text}_{found}").text


def wood_pci_mwh_per_t(moisture: float) -> float:
    """Net calorific value of wet wood [MWh PCI / t as received].

    Parameters
    ----------
    moisture : float
        Moisture content H on a wet basis [fraction, 0 <= H < 1].

    Notes
    -----
    PCI(H) = PCI_dry x (1 - H) - L x H, with PCI_dry = 5.1 MWh/t and L = 0.68 MWh/t
    (EN ISO 18125 form; shared DOMAIN.md). 30 % -> 3.366 MWh/t, 40 % -> 2.788 MWh/t.
    Refused where the result is not positive (H above ~0.88).
    """
    h = check_moisture(moisture)
    pci = WOOD_PCI_DRY_MWH_PER_T * (1 - h) - WATER_LATENT_HEAT_MWH_PER_T * h
    if pci <= 0:
        raise UnitError(f"--moisture {h:g}: wood this wet has no positive PCI ({pci:.3f} MWh/t)")
    return pci


def check_moisture(moisture: float | Decimal | str) -> float:
    """A moisture fraction in [0, 1); ``"35%"`` is read as 0.35."""
    h = _number(moisture, "moisture")
    if not 0 <= h < 1:
        raise UnitError(
            f"--moisture must be a fraction in [0, 1) (e.g. 0.35 or 35%), got {moisture}"
        )
    return h


def check_efficiency(efficiency: float | Decimal | str) -> float:
    """A global efficiency useful/PCI in (0, 1.5]; ``"85%"`` is read as 0.85."""
    eta = _number(efficiency, "efficiency")
    if not 0 < eta <= EFFICIENCY_MAX:
        raise UnitError(
            f"--efficiency must be in (0, {EFFICIENCY_MAX}] (useful/PCI; above 1 only for "
            f"condensing boilers on a PCI basis), got {efficiency}"
        )
    return eta


def _number(value: float | Decimal | str, name: str) -> float:
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = float(text[:-1] if percent else text)
    except ValueError:
        raise UnitError(f"--{name} must be a number (e.g. 0.35 or 35%), got {value!r}") from None
    if not isfinite(number):
        raise UnitError(f"--{name} must be a finite number, got {value!r}")
    return number / 100 if percent else number


@dataclass
class Conversion:
    """The result of a conversion, with each explicit step for an audit trail."""

    value: float
    unit: str
    from_value: float
    from_unit: str
    factor: float  # amount in `to` units per amount in `from` units
    steps: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # parameters given but not needed


@dataclass(frozen=True)
class Parameters:
    fuel: str | None = None
    moisture: float | None = None
    efficiency: float | None = None
    pcs_kwh_per_m3: float | None = None


def convert(
    value: float | Decimal,
    from_unit: str,
    to_unit: str,
    *,
    fuel: str | None = None,
    moisture: float | Decimal | str | None = None,
    efficiency: float | Decimal | str | None = None,
    pcs_kwh_per_m3: float | Decimal | None = None,
) -> float:
    """Convert a quantity or a price between units; see :func:`conversion`."""
    return conversion(
        value, from_unit, to_unit, fuel=fuel, moisture=moisture,
        efficiency=efficiency, pcs_kwh_per_m3=pcs_kwh_per_m3,
    ).value  # fmt: skip


def convert_price(value: float | Decimal, from_unit: str, to_unit: str, **parameters) -> float:
    """Convert a price (``EUR/...`` units; the ``EUR/`` may be omitted on both sides).

    Notes
    -----
    price_B = price_A x (A per B): EUR/MWh_useful = EUR/MWh_PCI / efficiency.
    """

    def as_price(text: str) -> str:
        return text if parse_unit(text).price else "EUR/" + str(text).strip()

    return convert(value, as_price(from_unit), as_price(to_unit), **parameters)


def conversion(
    value: float | Decimal,
    from_unit: str,
    to_unit: str,
    *,
    fuel: str | None = None,
    moisture: float | Decimal | str | None = None,
    efficiency: float | Decimal | str | None = None,
    pcs_kwh_per_m3: float | Decimal | None = None,
) -> Conversion:
    """Convert ``value`` [from_unit] to [to_unit], with the steps taken.

    Parameters
    ----------
    value : float or Decimal
        The amount or price to convert.
    from_unit, to_unit : str
        Units of :func:`parse_unit`; both prices (``EUR/...``) or both amounts.
    fuel : {"gas", "fuel-oil", "wood"}, optional
        Needed for PCS <-> PCI and for ``t``, ``L``, ``m3``.
    moisture : float, optional
        Wood moisture content, wet basis [fraction]; needed for ``t``.
    efficiency : float, optional
        Global efficiency useful/PCI [-]; needed for PCI <-> useful.
    pcs_kwh_per_m3 : float, optional
        Gas PCS per cubic metre [kWh PCS/m3]; default :data:`GAS_PCS_KWH_PER_M3`.

    Notes
    -----
    Amounts: ``value x factor``; prices: ``value / factor``, where ``factor`` is the
    amount of ``to`` per amount of ``from`` (linear conversions only).
    Raises :class:`UnitError` when a parameter a step needs is missing.
    """
    amount = float(value)
    if not isfinite(amount):
        raise UnitError(f"value must be a finite number, got {value}")
    source, target = parse_unit(from_unit), parse_unit(to_unit)
    if source.price != target.price:
        kinds = {True: "a price", False: "a quantity"}
        raise UnitError(
            f"cannot convert {kinds[source.price]} ({source.text}) to "
            f"{kinds[target.price]} ({target.text})"
        )
    params = _parameters(fuel, moisture, efficiency, pcs_kwh_per_m3)
    factor, steps = _amount_factor(source, target, params)
    result = amount / factor if source.price else amount * factor
    if source.price and factor != 1:
        steps.append(f"price per {target.quantity} = price per {source.quantity} / {factor:.10g}")
    unused = _unused(source, target, params)
    return Conversion(result, target.text, amount, source.text, factor, steps, unused)


def _unused(source: Unit, target: Unit, params: Parameters) -> list[str]:
    """Names of the parameters given that this conversion does not need (for a warning)."""
    nodes = {source.node, target.node}
    levels = {_LEVEL[_NATIVE_BASIS[n]] for n in nodes} if len(nodes) > 1 else set()
    needed = {
        "fuel": bool(nodes & set(_FUEL_OF_NODE)) or (0 in levels and len(levels) > 1),
        "moisture": "t" in nodes,
        "efficiency": 2 in levels and len(levels) > 1,
        "pcs_kwh_per_m3": "m3" in nodes,
    }
    return [name for name, need in needed.items() if getattr(params, name) is not None and not need]


def _parameters(fuel, moisture, efficiency, pcs_kwh_per_m3) -> Parameters:
    if fuel is not None and fuel not in FUELS:
        raise UnitError(f"unknown --fuel {fuel!r}; expected one of {', '.join(FUELS)}")
    return Parameters(
        fuel=fuel,
        moisture=None if moisture is None else check_moisture(moisture),
        efficiency=None if efficiency is None else check_efficiency(efficiency),
        pcs_kwh_per_m3=None if pcs_kwh_per_m3 is None else _positive(pcs_kwh_per_m3),
    )


def _positive(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UnitError(f"--pcs-kwh-per-m3 must be a number, got {value!r}") from None
    if not (isfinite(number) and number > 0):
        raise UnitError(f"--pcs-kwh-per-m3 must be positive, got {value}")
    return number


def _scale(quantity: str, node: str) -> float:
    """Amount of ``node`` in one ``quantity`` of the same dimension (pint)."""
    ureg = registry()
    return float(ureg.Quantity(1.0, quantity).to(node).magnitude)


def _missing(parameter: str, source: str, target: str) -> UnitError:
    return UnitError(f"converting {source} to {target} needs {_PARAMETER_HELP[parameter]}")


def _amount_factor(source: Unit, target: Unit, params: Parameters) -> tuple[float, list[str]]:
    """Amount of ``target.quantity`` per one ``source.quantity``, and the steps."""
    steps: list[str] = []
    factor = _scale(source.quantity, source.node)
    if source.node == target.node:
        factor /= _scale(target.quantity, target.node)
        if factor != 1:
            steps.append(f"1 {source.quantity} = {factor:.10g} {target.quantity}")
        return factor, steps
    if "MWh" in (source.node, target.node):
        raise UnitError(
            f"converting {source.text} to {target.text}: MWh has no energy basis; "
            "name it MWh_PCS, MWh_PCI or MWh_useful"
        )
    _check_same_fuel(source, target, params)
    labels = (source.text, target.text)
    start, start_factor = _to_energy(source.node, params, labels, steps)
    end, end_factor = _to_energy(target.node, params, labels, steps)
    factor *= start_factor * _basis_factor(start, end, params, labels, steps) / end_factor
    factor /= _scale(target.quantity, target.node)
    return factor, steps


def _check_same_fuel(source: Unit, target: Unit, params: Parameters) -> None:
    fuels = {u.fuel for u in (source, target) if u.fuel}
    if len(fuels) > 1:
        raise UnitError(
            f"{source.quantity} and {target.quantity} are different fuels; "
            "convert each to MWh_PCI separately"
        )
    for unit in (source, target):
        if unit.fuel and params.fuel != unit.fuel:
            if params.fuel is None:
                raise UnitError(
                    f"converting {source.text} to {target.text} needs --fuel {unit.fuel} "
                    f"({unit.quantity} is a quantity of {unit.fuel})"
                )
            raise UnitError(f"{unit.quantity} is a quantity of {unit.fuel}, not of {params.fuel}")


def _to_energy(node: str, params: Parameters, labels, steps: list[str]) -> tuple[str, float]:
    """(basis, MWh of that basis per one ``node``) for a node; fuel nodes need their parameter."""
    if node in _BASIS_OF_NODE:
        return _BASIS_OF_NODE[node], 1.0
    if node == "t":
        if params.moisture is None:
            raise _missing("moisture", *labels)
        pci = wood_pci_mwh_per_t(params.moisture)
        steps.append(
            f"1 t of wood at H = {params.moisture:g}: {WOOD_PCI_DRY_MWH_PER_T:g} x (1 - H) "
            f"- {WATER_LATENT_HEAT_MWH_PER_T:g} x H = {pci:.10g} MWh_PCI",
        )
        return "PCI", pci
    if node == "L":
        steps.append(f"1 L of fuel oil = {FUEL_OIL_MWH_PCI_PER_L:g} MWh_PCI")
        return "PCI", FUEL_OIL_MWH_PCI_PER_L
    kwh = params.pcs_kwh_per_m3 or GAS_PCS_KWH_PER_M3
    steps.append(f"1 m3 of gas = {kwh:g} kWh_PCS")
    return "PCS", kwh / 1000


def _basis_factor(start: str, end: str, params: Parameters, labels, steps) -> float:
    """MWh of basis ``end`` per MWh of basis ``start``, one adjacent step at a time."""
    factor = 1.0
    level = _LEVEL[start]
    while level != _LEVEL[end]:
        step = 1 if _LEVEL[end] > level else -1
        low = min(level, level + step)  # 0: PCS<->PCI, 1: PCI<->useful
        ratio = _pci_per_pcs(params, labels) if low == 0 else _efficiency(params, labels)
        name = f"PCI/PCS of {params.fuel}" if low == 0 else "efficiency useful/PCI"
        factor *= ratio if step > 0 else 1 / ratio
        sign = "x" if step > 0 else "/"
        bases = ENERGY_BASES[level], ENERGY_BASES[level + step]
        steps.append(f"MWh_{bases[0]} -> MWh_{bases[1]}: {sign} {ratio:.10g} ({name})")
        level += step
    return factor


def _efficiency(params: Parameters, labels) -> float:
    if params.efficiency is None:
        raise _missing("efficiency", *labels)
    return params.efficiency


def _pci_per_pcs(params: Parameters, labels) -> float:
    """PCI/PCS of the fuel: gas 0.9, fuel oil 1/1.07; wood refused (counted on PCI only)."""
    if params.fuel is None:
        raise _missing("fuel", *labels)
    if params.fuel == "gas":
        return GAS_PCI_PER_PCS
    if params.fuel == "fuel-oil":
        return 1 / FUEL_OIL_PCS_PER_PCI
    raise UnitError(
        f"converting {labels[0]} to {labels[1]}: no PCS/PCI ratio for wood in this tool "
        "(wood is counted on PCI; its PCS/PCI gap depends on moisture and hydrogen content)"
    )
