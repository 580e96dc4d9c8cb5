"""The strict contract loader: valid fixtures load into the exact dataclasses,
every broken fixture gives its own message naming the file, line and key path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tariffs.contract import load_contract, load_contracts
from tariffs.errors import ContractError
from tariffs.model import Component, Contract, IndexRef, Revision, Settlement, Term, VatRate
from tariffs.series import load_catalog

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FIXTURES / "catalog.toml")


def test_plain_term_loads_into_the_exact_dataclasses(catalog):
    path = VALID / "plain.toml"
    contract = load_contract(path, catalog)
    expected = Contract(
        id="belfort-leon-blum",
        title="Chaufferie rue Léon Blum, Belfort",
        start=date(2000, 7, 1),
        revision=Revision(
            frequency="yearly", month=7, index_rule="lag", lag_months=3, window_months=1,
            coefficient_decimals=4, price_decimals=2, rounding="half-up",
            cap=Decimal("1.20"), floor=Decimal("1.00"), safeguard=Decimal("0.25"),
        ),
        terms=(
            Term(
                code="P1", label="Energy, fixed mix 80 % wood / 20 % fuel oil", unit="EUR/MWh",
                energy_basis="useful", base_period="2000-07",
                components=(
                    Component(
                        name=None, share=Decimal(1), base_price=Decimal("24.41"),
                        fixed=Decimal("0.0"),
                        indices=(
                            IndexRef("FOD", Decimal("0.20"), Decimal("58.3")),
                            IndexRef("TR-LD", Decimal("0.48")),
                            IndexRef("ICHT-BOIS", Decimal("0.32")),
                        ),
                    ),
                ),
                vat_rates=(VatRate(Decimal("0.055")),),
            ),
        ),
        path=str(path), client="OPDHLM du Territoire de Belfort",
        operator="Elyo Centre-Est-Méditerranée", kind="MCI", end=date(2007, 6, 30),
        dwellings=358, heated_area_m2=Decimal(20756), source="INTERFACE.md example",
    )  # fmt: skip
    assert contract == expected
    assert str(contract.terms[0].components[0].base_price) == "24.41"  # the text of the file
    assert contract.warnings == (
        f"{path}:31: terms[0].fixed: warning: fixed share 0.0 outside the customary bounds"
        " [0.125, 0.5]",
    )


def test_mix_term_loads_components_vat_rates_and_settlement(catalog):
    contract = load_contract(VALID / "mix.toml", catalog)
    r1, r2 = contract.terms
    assert r1.is_mix and not r2.is_mix
    assert r1.components == (
        Component("wood", Decimal("0.90"), Decimal("17.0"), Decimal("1.0"), ()),
        Component(
            "fuel-oil", Decimal("0.10"), Decimal("25.0"), Decimal(0),
            (IndexRef("FOD", Decimal("1.0")),),
        ),
    )  # fmt: skip
    assert r1.vat_rates == (
        VatRate(Decimal("0.196")),
        VatRate(Decimal("0.055"), date(2010, 1, 1)),
    )
    assert r1.base_period == "1993-Q1" and r2.energy_basis is None
    assert [ref.series for ref in r2.components[0].indices] == ["ICHT-BOIS", "BRENT-EUR"]
    # defaults stated by the loader: month of start, window 12 for mean, half-up
    assert contract.revision == Revision("quarterly", 1, "mean", 1, 12)
    assert contract.settlement == Settlement(Decimal(1300), Decimal(2450), price_term="R1")
    assert contract.yearly_consumption_mwh_useful == Decimal("1250.5")
    # the wood component at a fixed price is not warned about, fuel oil (fixed 0) is
    assert len(contract.warnings) == 1 and "components[1].fixed" in contract.warnings[0]


def test_folder_loads_sorted_and_ids_are_unique(catalog):
    contracts = load_contracts([VALID], catalog)
    assert [c.id for c in contracts] == ["wood-network-mix", "belfort-leon-blum"]


def test_missing_file_is_a_contract_error_naming_it(tmp_path):
    with pytest.raises(ContractError) as caught:
        load_contracts([tmp_path / "nope.toml"])
    assert caught.value.lines() == [f"{tmp_path / 'nope.toml'}: no such file or folder"]
