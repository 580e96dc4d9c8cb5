"""The strict contract loader: valid fixtures load into the exact dataclasses,
every broken fixture gives its own message naming the file, line and key path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _expected(path: Path) -> list[str]:
    """The ``# expect: FILE:LINE: key: message`` lines a broken fixture declares."""
    text = path.read_text(encoding="utf-8")
    return [
        line.removeprefix("# expect: ").replace("FILE", str(path), 1)
        for line in text.splitlines()
        if line.startswith("# expect: ")
    ]


def _errors(paths, catalog=None) -> list[str]:
    with pytest.raises(ContractError) as caught:
        load_contracts(paths, catalog)
    return caught.value.lines()


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.toml")), ids=lambda p: p.stem)
def test_broken_fixture_gives_exactly_its_messages(path, catalog):
    """One fixture per loader error: the message names the file, the line and the key path."""
    expected = _expected(path)
    assert expected, f"{path.name} declares no '# expect:' line"
    assert sorted(_errors([path], catalog)) == sorted(expected)


def test_there_is_a_broken_fixture_per_error_kind():
    assert len(list(BROKEN.glob("*.toml"))) >= 70


def test_three_different_errors_are_reported_together(tmp_path):
    text = (VALID / "plain.toml").read_text(encoding="utf-8")
    text = text.replace('id = "belfort-leon-blum"', 'id = "Belfort"')
    text = text.replace('frequency = "yearly"', 'frequency = "annual"')
    text = text.replace("weight = 0.48", "weight = 1.4")
    path = tmp_path / "three.toml"
    path.write_text(text, encoding="utf-8")
    errors = _errors([path])
    assert [e.split(": ")[:2] for e in errors] == [
        [f"{path}:2", "id"],
        [f"{path}:14", "revision.frequency"],
        [f"{path}:41", "terms[0].indices[1].weight"],
    ]
    assert errors[2].endswith("expected a number in [0, 1], got 1.4")


def test_problems_of_several_files_are_collected(tmp_path, catalog):
    errors = _errors(
        [BROKEN / "negative-price.toml", VALID, BROKEN / "unknown-series.toml"], catalog
    )
    assert len(errors) == 2
    assert errors[0].startswith(f"{BROKEN / 'negative-price.toml'}:16: terms[0].base_price: ")
    assert errors[1].startswith(
        f"{BROKEN / 'unknown-series.toml'}:20: terms[0].indices[0].series: "
    )


def test_duplicate_id_across_files_names_both(tmp_path):
    text = (VALID / "plain.toml").read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text, encoding="utf-8")
    errors = _errors([tmp_path])
    assert errors == [
        f"{tmp_path / 'b.toml'}:2: id: duplicate id 'belfort-leon-blum': also the id of "
        f"{tmp_path / 'a.toml'}"
    ]


def test_same_file_given_twice_is_loaded_once():
    contracts = load_contracts([VALID / "plain.toml", VALID])
    assert [c.id for c in contracts] == ["belfort-leon-blum", "wood-network-mix"]


def test_empty_folder_missing_path_and_no_path_are_errors(tmp_path):
    assert _errors([tmp_path]) == [f"{tmp_path}: no contract file (*.toml) in this folder"]
    assert _errors([tmp_path / "nope.toml"]) == [
        f"{tmp_path / 'nope.toml'}: no such file or folder"
    ]
    assert _errors([]) == ["(command line): no contract file or folder given"]


def test_file_not_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('title = "Chaufferie Léon Blum"\n'.encode("latin-1"))
    [error] = _errors([path])
    assert error.startswith(f"{path}: not UTF-8 text")


def test_without_catalog_series_are_not_checked():
    contract = load_contract(BROKEN / "unknown-series.toml")
    assert contract.series_ids() == {"FDO", "TR-LD"}


def test_window_months_with_lag_rule_is_a_warning_and_ignored(tmp_path):
    text = (VALID / "plain.toml").read_text(encoding="utf-8")
    path = tmp_path / "w.toml"
    path.write_text(text.replace("lag_months = 3", "lag_months = 3\nwindow_months = 6"), "utf-8")
    contract = load_contract(path)
    assert contract.revision.window_months == 1
    assert f"{path}:17: revision.window_months: warning: only used with" in contract.warnings[0]


def _plain(fixed: str, weights: list[str]) -> str:
    indices = "".join(
        f'[[terms.indices]]\nseries = "S{i}"\nweight = {w}\n' for i, w in enumerate(weights)
    )
    return (
        'id = "p"\ntitle = "t"\nstart = 2001-01-01\n[revision]\nfrequency = "monthly"\n'
        '[[terms]]\ncode = "P2"\nunit = "EUR/year"\nbase_period = "2000-Q4"\n'
        f"base_price = 100\nfixed = {fixed}\n{indices}"
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=6))
def test_any_weights_summing_to_one_are_accepted(tmp_path, parts):
    """Weights in ten-thousandths summing to 1 with the fixed share: accepted, exactly."""
    total = sum(parts) or 1
    weights = [Decimal(p * 10_000 // total) / 10_000 for p in parts]
    fixed = 1 - sum(weights)
    path = tmp_path / "p.toml"
    path.write_text(_plain(str(fixed), [str(w) for w in weights]), encoding="utf-8")
    [component] = load_contract(path).terms[0].components
    assert component.fixed + sum(ref.weight for ref in component.indices) == 1
    assert [ref.weight for ref in component.indices] == weights


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=6), st.integers(1, 1000))
def test_weights_off_by_more_than_tolerance_are_refused(tmp_path, parts, off):
    total = sum(parts)
    weights = [Decimal(p * 10_000 // total) / 10_000 for p in parts]
    fixed = 1 - sum(weights) + Decimal(off) / 10**8
    path = tmp_path / "p.toml"
    path.write_text(_plain(str(fixed), [str(w) for w in weights]), encoding="utf-8")
    [error] = _errors([path])
    assert f"{path}:6: terms[0]: fixed + sum of weights must be 1, got " in error


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_gives_a_contract_or_a_contract_error(tmp_path, text):
    """Never a traceback: garbage is a ContractError naming the file."""
    path = tmp_path / "g.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_contract(path)
    except ContractError as exc:
        assert exc.lines() and all(line.startswith(str(path)) for line in exc.lines())


def test_lines_inside_multiline_arrays_and_strings(tmp_path):
    """Keys in multi-line strings are not keys; ``{...}`` lines of an array are numbered."""
    path = tmp_path / "edge.toml"
    path.write_text(
        'id = "edge"\ntitle = "Edge"\nsource = """\nkind = "nonsense"\n[revision]\n"""\n'
        'start = 2000-01-01\nrevision.frequency = "monthly"\n"revision".month = 13\n\n'
        '[[terms]]\ncode = "P2"\nunit = "EUR/year"\nbase_period = "2000-T1"\nbase_price = 10\n'
        "fixed = 0.2\nindices = [\n"
        '  { series = "A", weight = 0.5 },   # comment [\n'
        '  { series = "B", weight = 1.3 },\n]\n',
        encoding="utf-8",
    )
    assert _errors([path]) == [
        f"{path}:9: revision.month: expected an integer in [1, 12], got 13",
        f"{path}:19: terms[0].indices[1].weight: expected a number in [0, 1], got 1.3",
    ]
