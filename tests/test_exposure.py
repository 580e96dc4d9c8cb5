"""Exposure: direct oil weight, shocks against the analytic value, statistics against plain-Python
recomputations on the same history. Every series value here is a test input chosen for the test."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from conftest import memory_store, plain_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffs.errors import MissingIndexError, OptionError
from tariffs.exposure import exposure, parse_shock
from tariffs.model import Component, IndexRef, Term
from tariffs.periods import format_month, parse_month

M = parse_month
START = M("2010-01")


def months(values, start=START):
    return [(format_month(start + i), v) for i, v in enumerate(values)]


def wave(n, level, amplitude, trend, period=5.0):
    return [round(level + amplitude * math.sin(i / period) + trend * i, 2) for i in range(n)]


def oil_store(series: dict, oil: dict, declared=(), frequency=None):
    store = memory_store(series, frequency=frequency, declared=declared)
    for sid, share in oil.items():
        store.catalog[sid] = replace(store.catalog[sid], oil_share=share)
    return store


N = 48
FOD = wave(N, 100, 12, 0.6)
BRENT = wave(N, 60, 9, 0.3, period=4.0)
LAB = [round(100 + 0.25 * i, 2) for i in range(N)]


def store3(declared=()):
    return oil_store(
        {"FOD": months(FOD), "BRENT-EUR": months(BRENT), "LAB": months(LAB)},
        {"FOD": 1.0, "BRENT-EUR": 1.0, "LAB": 0.0, **{d: 1 / 3 for d in declared}},
        declared=declared,
    )


def belfort_like(declared=True):
    transport = "TR" if declared else "LAB"
    return plain_contract("belfort", 24.41, 0, [("FOD", 0.2), (transport, 0.48), ("LAB", 0.32)],
                          base_period="2010-01", start=date(2010, 1, 1))  # fmt: skip


def row_of(report, contract, component=None):
    (row,) = [r for r in report.rows if r["contract"] == contract and r["component"] == component]
    return row


def test_direct_oil_weight_is_weight_times_oil_share():
    report = exposure([belfort_like()], store3(declared=("TR",)))
    row = row_of(report, "belfort")
    assert row["oil_weight"] == pytest.approx(0.2 * 1.0 + 0.48 / 3 + 0.32 * 0.0)
    assert row["direct_oil_weight"] == pytest.approx({"FOD": 0.2, "TR": 0.16, "LAB": 0.0})


def test_declared_series_without_data_leaves_history_null_and_says_which():
    report = exposure([belfort_like()], store3(declared=("TR",)), shocks=[parse_shock("FOD=+50%")])
    row = row_of(report, "belfort")
    assert row["volatility_annual"] is None and row["elasticity"] is None
    assert any("no data for TR" in n for n in report.notes)
    # the shock needs only FOD's last value: still computed
    expected = 0.2 * 0.5 * FOD[-1] / FOD[0]
    assert row["shocks"][0]["delta_coefficient"] == pytest.approx(expected, abs=1e-6)


def test_shock_equals_weight_times_shock_times_ratio_and_price_and_dwelling():
    c = replace(belfort_like(declared=False), dwellings=358,
                yearly_consumption_mwh_useful=Decimal("3580"))  # fmt: skip
    report = exposure([c], store3(), shocks=[parse_shock("FOD=+50%"), parse_shock("LAB=-10%")])
    fod, lab = row_of(report, "belfort")["shocks"]
    dk = 0.2 * 0.5 * FOD[-1] / FOD[0]
    assert fod["delta_coefficient"] == pytest.approx(dk, abs=1e-6)
    assert fod["delta_price"] == pytest.approx(24.41 * dk, abs=1e-5)
    assert fod["delta_eur_per_dwelling_year"] == pytest.approx(24.41 * dk * 10, abs=1e-4)
    assert fod["delta_coefficient_at_base"] == pytest.approx(0.1)
    dk_lab = 0.8 * -0.1 * LAB[-1] / LAB[0]
    assert lab["delta_coefficient"] == pytest.approx(dk_lab, abs=1e-6)


def test_shock_at_base_values_is_exactly_weight_times_shock():
    flat = {
        "FOD": months([80.0] * 13),
        "BRENT-EUR": months([50.0] * 13),
        "LAB": months([100.0] * 13),
    }
    store = oil_store(flat, {"FOD": 1.0})
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    row = exposure([c], store, shocks=[parse_shock("FOD=+50%")]).rows[0]
    assert row["shocks"][0]["delta_coefficient"] == pytest.approx(0.15, abs=1e-12)
    assert row["shocks"][0]["delta_price"] == pytest.approx(1.5, abs=1e-9)


def test_oil_shortcut_applies_each_series_oil_share():
    store = oil_store({"FOD": months(FOD), "BRENT-EUR": months(BRENT), "LAB": months(LAB)},
                      {"FOD": 1.0, "BRENT-EUR": 1.0, "LAB": 0.25})  # fmt: skip
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    row = exposure([c], store, shocks=[parse_shock("oil=+40%")]).rows[0]
    expected = 0.3 * 0.4 * FOD[-1] / FOD[0] + 0.5 * 0.25 * 0.4 * LAB[-1] / LAB[0]
    assert row["shocks"][0]["delta_coefficient"] == pytest.approx(expected, abs=1e-6)
    assert row["oil_weight"] == pytest.approx(0.3 + 0.5 * 0.25)


def k_path(fixed, parts):
    """Plain-Python monthly K: fixed + Σ w × I_t / I_0."""
    return [fixed + sum(w * s[t] / s[0] for w, s in parts) for t in range(N)]


def test_statistics_match_a_plain_python_recomputation():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    row = exposure([c], store3()).rows[0]
    k = k_path(0.2, [(0.3, FOD), (0.5, LAB)])
    dk = [math.log(k[t] / k[t - 1]) for t in range(1, N)]
    assert row["volatility_annual"] == pytest.approx(statistics.stdev(dk) * math.sqrt(12), abs=1e-6)
    r12 = [k[t] / k[t - 12] - 1 for t in range(12, N)]
    assert row["max_rise_12m"] == pytest.approx(max(r12), abs=1e-6)
    assert row["max_fall_12m"] == pytest.approx(min(r12), abs=1e-6)
    do = [math.log(BRENT[t] / BRENT[t - 1]) for t in range(1, N)]
    slope, _ = statistics.linear_regression(do, dk)
    assert row["elasticity"] == pytest.approx(slope, abs=1e-6)
    assert row["elasticity_points"] == N - 1
    assert row["elasticity_r2"] == pytest.approx(statistics.correlation(do, dk) ** 2, abs=1e-6)
    assert row["window"] == ["2010-01", "2013-12"]
    years = [statistics.fmean(k[12 * y : 12 * y + 12]) for y in range(4)]
    rises = [years[y] / years[y - 1] - 1 for y in range(1, 4)]
    assert row["worst_year"] == 2011 + rises.index(max(rises))


def test_contributions_are_covariance_shares_and_sum_to_one():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    row = exposure([c], store3()).rows[0]
    k = k_path(0.2, [(0.3, FOD), (0.5, LAB)])
    x_fod = [0.3 * v / FOD[0] for v in FOD]
    expected = statistics.covariance(x_fod, k) / statistics.variance(k)
    assert row["contributions"]["FOD"] == pytest.approx(expected, abs=1e-6)
    assert sum(row["contributions"].values()) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(50, 150), min_size=15, max_size=15),
    st.lists(st.floats(50, 150), min_size=15, max_size=15),
    st.floats(0, 0.5),
)
def test_contributions_sum_to_one_for_any_history(a, b, fixed):
    store = oil_store({"A": months(a), "B": months(b), "BRENT-EUR": months(b)}, {})
    w = (1 - fixed) / 2
    c = plain_contract("c", 10, fixed, [("A", w), ("B", 1 - fixed - w)], base_period="2010-01")
    row = exposure([c], store).rows[0]
    if row["contributions"]:
        assert sum(row["contributions"].values()) == pytest.approx(1.0, abs=1e-5)


def test_revision_frequency_volatility_uses_the_contract_coefficients():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01",
                       start=date(2010, 1, 1), frequency="yearly")  # fmt: skip
    row = exposure([c], store3()).rows[0]
    k = k_path(0.2, [(0.3, FOD), (0.5, LAB)])
    yearly = [k[12 * y] for y in range(4)]  # January revisions, lag 0
    d = [math.log(yearly[y] / yearly[y - 1]) for y in range(1, 4)]
    assert row["volatility_annual_revision"] == pytest.approx(statistics.stdev(d), abs=1e-6)


def test_mix_total_weighs_components_by_share_of_base_price():
    wood = Component("wood", Decimal("0.9"), Decimal("17"), Decimal("1"), ())
    oil = Component("fuel-oil", Decimal("0.1"), Decimal("25"), Decimal("0"),
                    (IndexRef("FOD", Decimal("1")),))  # fmt: skip
    c = plain_contract("conches", 1, 1, [], base_period="2010-01")
    term = Term("R1", "", "EUR/MWh", "useful", "2010-01", (wood, oil))
    c = replace(c, terms=(term,))
    report = exposure([c], store3(), shocks=[parse_shock("FOD=+50%")])
    total = row_of(report, "conches")
    alpha = 0.1 * 25 / (0.9 * 17 + 0.1 * 25)
    assert total["oil_weight"] == pytest.approx(alpha)
    assert row_of(report, "conches", "fuel-oil")["oil_weight"] == pytest.approx(1.0)
    assert row_of(report, "conches", "wood")["oil_weight"] == 0.0
    dk = alpha * 0.5 * FOD[-1] / FOD[0]
    assert total["shocks"][0]["delta_coefficient"] == pytest.approx(dk, abs=1e-6)
    assert total["shocks"][0]["delta_price"] == pytest.approx(17.8 * dk, abs=1e-5)
    assert total["contributions"] == pytest.approx({"FOD": 1.0})


def test_contracts_are_ranked_by_oil_weight():
    vitry = plain_contract("vitry", 10, 0.2, [("LAB", 0.4), ("WOOD", 0.4)], base_period="2010-01")
    store = oil_store({"FOD": months(FOD), "BRENT-EUR": months(BRENT), "LAB": months(LAB),
                       "WOOD": months(LAB), "TR": months(BRENT)},
                      {"FOD": 1.0, "TR": 1 / 3, "LAB": 0.0, "WOOD": 0.0})  # fmt: skip
    report = exposure([vitry, belfort_like()], store)
    assert [r["contract"] for r in report.rows] == ["belfort", "vitry"]
    assert [r["oil_rank"] for r in report.rows] == [1, 2]
    assert report.rows[1]["oil_weight"] == 0.0


def test_window_option_restricts_the_history():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    row = exposure([c], store3(), M("2011-01"), M("2012-12")).rows[0]
    assert row["window"] == ["2011-01", "2012-12"]
    assert row["elasticity_points"] == 23


def test_window_the_indices_do_not_cover_is_an_error():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    with pytest.raises(
        MissingIndexError,
        match="do not cover the window 2009-01..2012-12: .*FOD has values 2010-01..2013-12",
    ):
        exposure([c], store3(), M("2009-01"), M("2012-12"))


def test_shock_on_a_series_no_contract_uses_is_an_error():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    with pytest.raises(OptionError, match="GAS=\\+50%: no analysed formula uses this series"):
        exposure([c], store3(), shocks=[parse_shock("GAS=+50%")])


@pytest.mark.parametrize(
    "text", ["FOD=fifty", "FOD+50%", "=+50%", "FOD=50", "FOD=-100%", "FOD=+5 0%"]
)
def test_malformed_shocks_are_refused(text):
    with pytest.raises(OptionError, match="--shock"):
        parse_shock(text)


@pytest.mark.parametrize(("text", "change", "shown"), [("FOD=+50%", 0.5, "FOD=+50%"),
                         ("oil=-20%", -0.2, "oil=-20%"), ("GAS=12,5%", 0.125, "GAS=+12.5%")])  # fmt: skip
def test_shocks_parse(text, change, shown):
    s = parse_shock(text)
    assert s.change == pytest.approx(change) and s.text == shown


def test_unknown_oil_reference_is_an_error():
    c = plain_contract("c", 10, 0.2, [("FOD", 0.3), ("LAB", 0.5)], base_period="2010-01")
    with pytest.raises(OptionError, match="--oil-reference NOPE: not in the index catalog"):
        exposure([c], store3(), reference="NOPE")


def test_elasticity_against_fod_reference_of_a_pure_fod_formula_is_one():
    c = plain_contract("c", 10, 0, [("FOD", 1.0)], base_period="2010-01")
    row = exposure([c], store3(), reference="FOD").rows[0]
    assert row["elasticity"] == pytest.approx(1.0, abs=1e-9)
    assert row["elasticity_r2"] == pytest.approx(1.0, abs=1e-9)
    assert row["elasticity_reference"] == "FOD"


def test_sparse_series_gets_a_note_not_a_narrower_default_window():
    sparse = [("2011-06", 100.0), ("2012-06", 104.0)]
    store = oil_store({"FOD": months(FOD), "BRENT-EUR": months(BRENT), "LAB": months(LAB),
                       "ICHT": sparse}, {"FOD": 1.0})  # fmt: skip
    dense = plain_contract("dense", 10, 0.2, [("FOD", 0.8)], base_period="2010-01")
    gappy = plain_contract("gappy", 10, 0.2, [("ICHT", 0.8)], base_period="2011-06")
    report = exposure([dense, gappy], store)
    assert row_of(report, "dense")["window"] == ["2010-01", "2013-12"]
    assert row_of(report, "dense")["volatility_annual"] is not None
    assert row_of(report, "gappy")["volatility_annual"] is None
    assert any("gappy: P1: history figures not computed: ICHT misses 46 of the 48 months" in n
               for n in report.notes)  # fmt: skip


def test_portfolio_weighs_terms_by_yearly_amount_at_base_prices():
    a = replace(plain_contract("a", 20, 0.2, [("FOD", 0.8)], base_period="2010-01"),
                dwellings=10, yearly_consumption_mwh_useful=Decimal(100))  # fmt: skip
    b = replace(plain_contract("b", 50, 0.5, [("LAB", 0.5)], base_period="2010-01"),
                dwellings=30, yearly_consumption_mwh_useful=Decimal(60))  # fmt: skip
    report = exposure([a, b], store3(), shocks=[parse_shock("FOD=+50%")])
    whole = row_of(report, "(portfolio)")
    share_a = 2000 / (2000 + 3000)
    assert whole["oil_weight"] == pytest.approx(share_a * 0.8)
    assert whole["oil_rank"] is None and report.rows[-1] is whole
    k = [share_a * x + (1 - share_a) * y
         for x, y in zip(k_path(0.2, [(0.8, FOD)]), k_path(0.5, [(0.5, LAB)]), strict=True)]  # fmt: skip
    dk = [math.log(k[t] / k[t - 1]) for t in range(1, N)]
    assert whole["volatility_annual"] == pytest.approx(
        statistics.stdev(dk) * math.sqrt(12), abs=1e-6
    )
    shock = whole["shocks"][0]
    row_a = row_of(report, "a")["shocks"][0]
    assert shock["delta_price"] == pytest.approx(100 * row_a["delta_price"], abs=1e-4)  # EUR/year
    assert shock["delta_eur_per_dwelling_year"] == pytest.approx(
        shock["delta_price"] / 40, abs=1e-6
    )


def test_portfolio_leaves_out_terms_without_a_yearly_amount_and_says_so():
    a = plain_contract("a", 20, 0.2, [("FOD", 0.8)], base_period="2010-01")
    b = plain_contract("b", 50, 0.5, [("LAB", 0.5)], base_period="2010-01")
    report = exposure([a, b], store3())
    assert all(r["contract"] != "(portfolio)" for r in report.rows)
    assert any(n.startswith("portfolio: left out") and "a P1, b P1" in n for n in report.notes)


def test_explicit_window_beyond_a_gappy_series_is_a_note_beyond_a_complete_one_an_error():
    store = oil_store({"FOD": months(FOD), "BRENT-EUR": months(BRENT), "LAB": months(LAB),
                       "ICHT": [("2011-06", 100.0), ("2012-06", 104.0)]}, {"FOD": 1.0})  # fmt: skip
    gappy = plain_contract("gappy", 10, 0.2, [("ICHT", 0.4), ("FOD", 0.4)], base_period="2011-06")
    report = exposure([gappy], store, M("2010-01"), M("2013-06"))
    assert report.rows[0]["oil_weight"] == pytest.approx(0.4)
    assert any("ICHT misses 40 of the 42 months" in n for n in report.notes)
    with pytest.raises(MissingIndexError, match="FOD has values 2010-01..2013-12 only"):
        exposure([gappy], store, M("2010-01"), M("2014-06"))


def test_component_euros_per_dwelling_count_only_its_share_of_the_energy():
    wood = Component("wood", Decimal("0.9"), Decimal("17"), Decimal("1"), ())
    oil = Component("fuel-oil", Decimal("0.1"), Decimal("25"), Decimal("0"),
                    (IndexRef("FOD", Decimal("1")),))  # fmt: skip
    c = plain_contract("conches", 1, 1, [], base_period="2010-01")
    c = replace(c, terms=(Term("R1", "", "EUR/MWh", "useful", "2010-01", (wood, oil)),),
                dwellings=100, yearly_consumption_mwh_useful=Decimal(1000))  # fmt: skip
    report = exposure([c], store3(), shocks=[parse_shock("FOD=+50%")])
    comp = row_of(report, "conches", "fuel-oil")["shocks"][0]
    total = row_of(report, "conches")["shocks"][0]
    # the fuel-oil part is 10 % of the 1,000 MWh: 0.1 x 1000 x dP / 100 dwellings
    assert comp["delta_eur_per_dwelling_year"] == pytest.approx(
        0.1 * 1000 * comp["delta_price"] / 100
    )
    assert comp["delta_eur_per_dwelling_year"] == pytest.approx(
        total["delta_eur_per_dwelling_year"], rel=1e-6
    )


def test_portfolio_counts_a_supply_priced_by_two_contracts_once():
    a = replace(belfort_like(declared=False), id="a", dwellings=100)
    b = replace(belfort_like(declared=False), id="b", dwellings=100, same_supply_as="a")
    c = replace(belfort_like(declared=False), id="c", dwellings=50)
    terms = [
        replace(x, terms=(replace(x.terms[0], unit="EUR/dwelling/year", energy_basis=None),))
        for x in (a, b, c)
    ]
    report = exposure(terms, store3(), shocks=[parse_shock("FOD=+50%")])
    total = row_of(report, "(portfolio)")
    single = row_of(report, "a")["shocks"][0]
    # a and c count, b (same supply as a) does not: 150 dwellings, bill change = 100 dP + 50 dP
    assert total["shocks"][0]["delta_eur_per_dwelling_year"] == pytest.approx(single["delta_price"])
    assert any("left out b" in n for n in report.notes), report.notes


def test_a_price_per_mwh_pci_is_not_multiplied_by_useful_mwh():
    c = replace(
        belfort_like(declared=False), dwellings=100, yearly_consumption_mwh_useful=Decimal(1000)
    )
    c = replace(c, terms=(replace(c.terms[0], energy_basis="PCI"),))
    report = exposure([c], store3(), shocks=[parse_shock("FOD=+50%")])
    shock = row_of(report, "belfort")["shocks"][0]
    assert shock["delta_price"] is not None and shock["delta_eur_per_dwelling_year"] is None
