"""Units: distinct energy bases, explicit parameters, round trips, known values."""

from __future__ import annotations

from decimal import Decimal

import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariffs import units
from tariffs.errors import TariffsError, UnitError
from tariffs.units import basis_of, conversion, convert, convert_price, parse_unit, with_basis

# --- known values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("moisture", "expected"),
    [(0.0, 5.1), (0.30, 3.366), ("30%", 3.366), (0.40, 2.788), (Decimal("0.35"), 3.077)],
)
def test_wood_pci_follows_the_moisture_formula(moisture, expected):
    # PCI(H) = 5.1 (1 - H) - 0.68 H  [MWh/t]
    assert convert(1, "t", "MWh_PCI", fuel="wood", moisture=moisture) == pytest.approx(expected)


def test_wood_at_30_and_40_percent_match_the_domain_orders_of_magnitude():
    assert round(units.wood_pci_mwh_per_t(0.30), 1) == 3.4
    assert round(units.wood_pci_mwh_per_t(0.40), 1) == 2.8


@pytest.mark.parametrize(
    ("value", "source", "target", "params", "expected"),
    [
        (1, "MWh_PCI", "MWh_useful", {"efficiency": 0.85}, 0.85),
        (1, "MWh_PCI", "kWh_PCI", {}, 1000),
        (3.6, "GJ_useful", "MWh_useful", {}, 1),
        (1, "MWh_PCS", "MWh_PCI", {"fuel": "gas"}, 0.9),
        (1.07, "MWh_PCS", "MWh_PCI", {"fuel": "fuel-oil"}, 1.0),
        (1000, "L", "MWh_PCI", {"fuel": "fuel-oil"}, 10.0),
        (1000, "L", "MWh_PCS", {"fuel": "fuel-oil"}, 10.7),
        (1000, "m3", "MWh_PCS", {"fuel": "gas"}, 11.0),
        (1000, "m3", "MWh_PCS", {"fuel": "gas", "pcs_kwh_per_m3": 11.2}, 11.2),
        (1000, "m3", "MWh_useful", {"fuel": "gas", "efficiency": 1.05}, 11 * 0.9 * 1.05),
        (
            1800,
            "t",
            "MWh_useful",
            {"fuel": "wood", "moisture": 0.3, "efficiency": 0.8},
            1800 * 3.366 * 0.8,
        ),  # fmt: skip
        (1, "MWh", "GJ", {}, 3.6),
    ],
)
def test_known_amount_conversions(value, source, target, params, expected):
    assert convert(value, source, target, **params) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "source", "target", "params", "expected"),
    [
        # EUR per useful MWh = EUR per MWh PCI / efficiency
        (26.3, "EUR/MWh_PCI", "EUR/MWh_useful", {"efficiency": 0.85}, 26.3 / 0.85),
        (30.0, "EUR/MWh_useful", "EUR/MWh_PCI", {"efficiency": 0.8}, 24.0),
        # EUR per MWh PCI = EUR per tonne / PCI(H)
        (100.0, "EUR/t", "EUR/MWh_PCI", {"fuel": "wood", "moisture": 0.3}, 100 / 3.366),
        (50.0, "EUR/MWh_PCI", "EUR/kWh_PCI", {}, 0.05),
        (0.9, "EUR/L", "EUR/MWh_PCI", {"fuel": "fuel-oil"}, 90.0),
        # gas: a price per MWh PCS is cheaper than per MWh PCI (more PCS MWh per PCI MWh)
        (45.0, "EUR/MWh_PCS", "EUR/MWh_PCI", {"fuel": "gas"}, 50.0),
        (0.55, "EUR/m3", "EUR/MWh_PCS", {"fuel": "gas"}, 50.0),
    ],
)
def test_known_price_conversions(value, source, target, params, expected):
    assert convert(value, source, target, **params) == pytest.approx(expected)


def test_convert_price_adds_the_currency_prefix():
    assert convert_price(26.3, "MWh_PCI", "MWh_useful", efficiency=0.85) == pytest.approx(
        26.3 / 0.85
    )
    assert convert_price(26.3, "EUR/MWh_PCI", "EUR/MWh_PCI") == pytest.approx(26.3)


def test_decimal_input_gives_a_float():
    value = convert(Decimal("26.30"), "EUR/MWh_PCI", "EUR/MWh_useful", efficiency=Decimal("0.85"))
    assert isinstance(value, float)
    assert value == pytest.approx(30.941176470588)


def test_conversion_lists_its_steps():
    result = conversion(1, "t", "MWh_useful", fuel="wood", moisture=0.3, efficiency=0.8)
    assert result.unit == "MWh_useful"
    assert "3.366 MWh_PCI" in result.steps[0]
    assert "x 0.8" in result.steps[1]


# --- refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "params", "needle"),
    [
        ("MWh_PCI", "MWh_useful", {}, "converting MWh_PCI to MWh_useful needs --efficiency"),
        ("EUR/MWh_PCI", "EUR/MWh_useful", {}, "needs --efficiency"),
        ("MWh_PCS", "MWh_PCI", {}, "converting MWh_PCS to MWh_PCI needs --fuel"),
        ("MWh_PCS", "MWh_useful", {"efficiency": 0.9}, "needs --fuel"),
        ("MWh_PCS", "MWh_useful", {"fuel": "gas"}, "needs --efficiency"),
        ("MWh_PCS", "MWh_PCI", {"fuel": "wood"}, "no PCS/PCI ratio for wood"),
        ("t", "MWh_PCI", {}, "needs --fuel wood"),
        ("t", "MWh_PCI", {"fuel": "wood"}, "needs --moisture"),
        ("EUR/t", "EUR/MWh_PCI", {"fuel": "wood"}, "needs --moisture"),
        ("t", "MWh_PCI", {"fuel": "gas", "moisture": 0.3}, "t is a quantity of wood, not of gas"),
        ("L", "MWh_PCI", {}, "needs --fuel fuel-oil"),
        ("m3", "MWh_PCS", {"fuel": "fuel-oil"}, "m3 is a quantity of gas"),
        ("t", "L", {"fuel": "wood", "moisture": 0.3}, "different fuels"),
        ("MWh", "MWh_PCI", {}, "MWh has no energy basis"),
        ("EUR/MWh_PCI", "MWh_PCI", {}, "cannot convert a price (EUR/MWh_PCI) to a quantity"),
        ("MWh_PCI", "MWh_useful", {"efficiency": 0}, "--efficiency must be in (0, 1.5]"),
        ("MWh_PCI", "MWh_useful", {"efficiency": 1.6}, "--efficiency must be in (0, 1.5]"),
        ("MWh_PCI", "MWh_useful", {"efficiency": "high"}, "--efficiency must be a number"),
        ("t", "MWh_PCI", {"fuel": "wood", "moisture": 1.0}, "--moisture must be a fraction"),
        ("t", "MWh_PCI", {"fuel": "wood", "moisture": -0.1}, "--moisture must be a fraction"),
        ("t", "MWh_PCI", {"fuel": "wood", "moisture": 0.9}, "no positive PCI"),
        ("MWh_PCS", "MWh_PCI", {"fuel": "coal"}, "unknown --fuel 'coal'"),
        (
            "m3",
            "MWh_PCS",
            {"fuel": "gas", "pcs_kwh_per_m3": 0},
            "--pcs-kwh-per-m3 must be positive",
        ),
        ("m3", "MWh_PCS", {"fuel": "gas", "pcs_kwh_per_m3": "11%"}, "must be a number"),
        ("MWh_XYZ", "MWh_PCI", {}, "unknown unit 'MWh_XYZ'"),
        ("MWh_PCI", "EUR/EUR", {}, "unknown unit 'EUR/EUR'"),
    ],
)
def test_refusals_name_the_missing_or_bad_parameter(source, target, params, needle):
    with pytest.raises(UnitError) as info:
        convert(1, source, target, **params)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TariffsError)


def test_non_finite_value_is_refused():
    with pytest.raises(UnitError, match="finite"):
        convert(float("nan"), "MWh_PCI", "GJ_PCI")


def test_pint_itself_refuses_to_mix_bases():
    ureg = units.registry()
    for source, target in [("MWh_PCS", "MWh_PCI"), ("MWh_PCI", "MWh_useful"), ("MWh", "MWh_PCI")]:
        with pytest.raises(pint.DimensionalityError):
            ureg.Quantity(1, source).to(target)
    assert ureg.Quantity(1, "GJ_PCI").to("kWh_PCI").magnitude == pytest.approx(1000 / 3.6)


# --- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical", "basis", "price"),
    [
        ("MWh_PCI", "MWh_PCI", "PCI", False),
        ("mwh_pcs", "MWh_PCS", "PCS", False),
        ("kWh_useful", "kWh_useful", "useful", False),
        (" EUR/GJ_PCI ", "EUR/GJ_PCI", "PCI", True),
        ("eur/t", "EUR/t", None, True),
        ("EUR/MWh", "EUR/MWh", None, True),
        ("m3", "m3", None, False),
        ("L", "L", None, False),
    ],
)
def test_parse_unit(text, canonical, basis, price):
    unit = parse_unit(text)
    assert (unit.text, unit.basis, unit.price) == (canonical, basis, price)
    assert basis_of(text) == basis


def test_units_bases_constant():
    assert units.ENERGY_BASES == ("PCS", "PCI", "useful")


@pytest.mark.parametrize("text", ["", "MWh_LHV", "kg", "EUR", "EUR/", "MWh_PCI/t", "2*MWh_PCI"])
def test_parse_unit_refuses_unknown_units(text):
    with pytest.raises(UnitError, match="unknown unit"):
        parse_unit(text)


def test_with_basis_names_the_basis_of_an_invoice_unit():
    assert with_basis("EUR/MWh", "pci") == "EUR/MWh_PCI"
    assert with_basis("kWh", "useful") == "kWh_useful"
    assert with_basis("MWh_PCS", "PCS") == "MWh_PCS"
    with pytest.raises(UnitError, match="cannot name it PCI"):
        with_basis("MWh_PCS", "PCI")
    with pytest.raises(UnitError, match="unknown energy basis"):
        with_basis("MWh", "HHV")


# --- round trips (hypothesis) --------------------------------------------------

ENERGY = [f"{p}_{b}" for p in ("MWh", "kWh", "GJ") for b in units.ENERGY_BASES]
AMOUNTS = [*ENERGY, "m3", "L", "t"]
FUEL_OF = {"m3": "gas", "L": "fuel-oil", "t": "wood"}

values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).filter(lambda v: abs(v) > 1e-6)
moistures = st.floats(min_value=0.0, max_value=0.8)
efficiencies = st.floats(min_value=0.05, max_value=1.5)


def _parameters(source: str, target: str, fuel: str, moisture: float, efficiency: float) -> dict:
    fuels = {FUEL_OF[u] for u in (source, target) if u in FUEL_OF}
    return {"fuel": fuels.pop() if fuels else fuel, "moisture": moisture, "efficiency": efficiency}


def _convertible(source: str, target: str, fuel: str) -> bool:
    fuels = {FUEL_OF[u] for u in (source, target) if u in FUEL_OF}
    if len(fuels) > 1:
        return False
    fuel = fuels.pop() if fuels else fuel
    bases = {basis_of(u) or ("PCS" if u == "m3" else "PCI") for u in (source, target)}
    return not (fuel == "wood" and "PCS" in bases)


@given(
    value=values,
    source=st.sampled_from(AMOUNTS),
    target=st.sampled_from(AMOUNTS),
    fuel=st.sampled_from(units.FUELS),
    moisture=moistures,
    efficiency=efficiencies,
    price=st.booleans(),
)
def test_round_trip(value, source, target, fuel, moisture, efficiency, price):
    if not _convertible(source, target, fuel):
        return
    params = _parameters(source, target, fuel, moisture, efficiency)
    prefix = "EUR/" if price else ""
    there = convert(value, prefix + source, prefix + target, **params)
    back = convert(there, prefix + target, prefix + source, **params)
    assert back == pytest.approx(value, rel=1e-9)


@given(value=values, efficiency=efficiencies)
def test_price_times_amount_is_invariant(value, efficiency):
    # what is paid does not depend on the basis: EUR/MWh_PCI x MWh_PCI = EUR/MWh_useful x MWh_useful
    energy_pci = 1234.5
    price_useful = convert(value, "EUR/MWh_PCI", "EUR/MWh_useful", efficiency=efficiency)
    energy_useful = convert(energy_pci, "MWh_PCI", "MWh_useful", efficiency=efficiency)
    assert price_useful * energy_useful == pytest.approx(value * energy_pci, rel=1e-12)


@given(source=st.sampled_from(AMOUNTS), target=st.sampled_from(AMOUNTS))
def test_changing_basis_without_parameters_is_always_refused(source, target):
    same_dimension = parse_unit(source).node == parse_unit(target).node
    if same_dimension:
        assert convert(1.0, source, target) > 0
    else:
        with pytest.raises(UnitError, match="needs --|different fuels"):
            convert(1.0, source, target)


@pytest.mark.parametrize(
    ("source", "target", "unused"),
    [
        ("MWh_PCI", "GJ_PCI", ["fuel", "moisture", "efficiency", "pcs_kwh_per_m3"]),
        ("MWh_PCS", "MWh_useful", ["moisture", "pcs_kwh_per_m3"]),
        ("m3", "MWh_PCS", ["moisture", "efficiency"]),
        ("EUR/MWh_useful", "EUR/MWh_PCI", ["fuel", "moisture", "pcs_kwh_per_m3"]),
    ],
)
def test_parameters_given_but_not_needed_are_reported(source, target, unused):
    params = {"moisture": 0.3, "efficiency": 0.8, "pcs_kwh_per_m3": 11.0}
    result = conversion(1, source, target, fuel="gas", **params)
    assert result.unused == unused
