"""The revision engine: published worked examples, rules, flags and invariants."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import pytest
from conftest import memory_store, plain_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffs.model import Component, IndexRef
from tariffs.periods import parse_month
from tariffs.revision import history, revise

M = parse_month


def one(result):
    rows = result.rows()
    assert len(rows) == 1, rows
    return rows[0]


def test_published_example_k_rounded_4_and_up_3():
    store = memory_store({"I": [("2020-01", 121.2), ("2021-01", 130.5)]})
    exact = 0.15 + 0.85 * 130.5 / 121.2
    assert exact == pytest.approx(1.0652228, abs=1e-7)
    r4 = one(
        revise([plain_contract("c", 100, 0.15, [("I", 0.85)], kdec=4)], store, at=M("2021-01"))
    )
    assert r4["coefficient"] == 1.0652
    r3 = one(
        revise(
            [plain_contract("c", 100, 0.15, [("I", 0.85)], kdec=3, rounding="up")],
            store,
            at=M("2021-01"),
        )
    )
    assert r3["coefficient"] == 1.066


@pytest.mark.parametrize(
    ("base_price", "fixed", "weight", "base", "current", "expected"),
    [(1250, 0.15, 0.85, 321.5, 333.2, 1288.67), (2800, 0.7, 0.3, 142.3, 148.7, 2837.78)],
)
def test_published_price_examples(base_price, fixed, weight, base, current, expected):
    store = memory_store({"I": [("2020-01", base), ("2021-01", current)]})
    c = plain_contract("c", base_price, fixed, [("I", weight)], pdec=2)
    assert one(revise([c], store, at=M("2021-01")))["price"] == expected


def test_lag_picks_the_month_before_and_trace_names_it():
    store = memory_store({"I": [("2020-01", 100), ("2020-10", 110), ("2021-01", 999)]})
    row = one(revise([plain_contract("c", 10, 0.5, [("I", 0.5)], lag=3)], store, at=M("2021-06")))
    assert row["at"] == "2021-01"
    assert row["indices"][0]["period"] == "2020-10"
    assert row["coefficient"] == pytest.approx(0.5 + 0.5 * 1.1)


def test_mean_rule_averages_the_window_and_the_base():
    points = [(f"2020-{m:02d}", 100 + m) for m in range(1, 13)] + [
        (f"2021-{m:02d}", 200 + m) for m in range(1, 13)
    ]
    store = memory_store({"I": points})
    c = plain_contract("c", 10, 0, [("I", 1)], rule="mean", window=3, lag=1, base_period="2020-04",
                       start=date(2021, 5, 1))  # fmt: skip
    row = one(revise([c], store, at=M("2021-05")))
    # current: mean of 2021-02..04 = 203; base: mean of 2020-02..04 = 103
    assert row["coefficient"] == pytest.approx(203 / 103)
    assert row["indices"][0]["period"] == "2021-02..2021-04"


def test_quarterly_series_value_of_the_quarter_containing_the_month():
    store = memory_store({"Q": [("2020-Q1", 100), ("2021-Q2", 120)]}, frequency={"Q": "quarterly"})
    row = one(revise([plain_contract("c", 10, 0, [("Q", 1)], lag=1)], store, at=M("2021-07")))
    # revision 2021-01 (yearly, start month 1) -> lag month 2020-12 -> not in store
    assert row["status"] == "missing-index"
    c = plain_contract("c", 10, 0, [("Q", 1)], start=date(2020, 6, 1), base_period="2020-02")
    row = one(revise([c], store, at=M("2021-06")))
    assert row["indices"][0]["period"] == "2021-Q2"
    assert row["coefficient"] == pytest.approx(1.2)


def test_missing_series_is_reported_never_guessed():
    store = memory_store({"I": [("2020-01", 100), ("2021-01", 110)]}, declared=("X",))
    c = plain_contract("c", 10, 0.2, [("I", 0.4), ("X", 0.4)])
    result = revise([c], store, at=M("2021-01"))
    row = one(result)
    assert row["price"] is None and row["coefficient"] is None
    assert row["status"] == "missing-index"
    assert any("X" in p and "tariffs indices import" in p for p in result.problems)


def test_cap_floor_and_base_value_flags():
    store = memory_store({"I": [("2020-01", 100), ("2021-01", 150), ("2022-01", 50)]})
    c = plain_contract("c", 10, 0, [("I", 1, 101.0)], cap=1.2, floor=0.9, pdec=2)
    h = history([c], store, M("2021-01"), M("2022-01")).rows()
    assert [r["coefficient"] for r in h] == [1.2, 0.9]
    assert "capped" in h[0]["flags"] and "floored" in h[1]["flags"]
    assert all("base-value-differs" in r["flags"] for r in h)
    assert h[0]["indices"][0]["base_value"] == 101.0  # the contract's I0 binds


def test_safeguard_flags_a_large_move_since_the_previous_revision():
    store = memory_store({"I": [("2020-01", 100), ("2021-01", 105), ("2022-01", 140)]})
    c = plain_contract("c", 10, 0, [("I", 1)], safeguard=0.25)
    flags = [r["flags"] for r in history([c], store, M("2020-01"), M("2022-01")).rows()]
    assert flags == [[], [], ["safeguard"]]
    assert "safeguard" in one(revise([c], store, at=M("2022-01")))["flags"]


def test_provisional_value_flagged_and_vintage_as_of():
    store = memory_store({"I": [("2020-01", 100, "definitive", date(2020, 2, 15)),
                                ("2021-01", 110, "provisional", date(2021, 2, 15)),
                                ("2021-01", 112, "definitive", date(2021, 5, 15))]})  # fmt: skip
    c = plain_contract("c", 10, 0, [("I", 1)])
    now = one(revise([c], store, at=M("2021-01")))
    assert now["coefficient"] == pytest.approx(1.12) and now["flags"] == []
    then = one(revise([c], store, at=M("2021-01"), as_of=date(2021, 3, 1)))
    assert then["coefficient"] == pytest.approx(1.10) and "provisional-index" in then["flags"]


def test_latest_published_uses_publication_dates():
    store = memory_store({"I": [("2020-01", 100, "definitive", date(2020, 2, 15)),
                                ("2020-11", 104, "definitive", date(2020, 12, 15)),
                                ("2020-12", 108, "definitive", date(2021, 1, 15))]})  # fmt: skip
    c = plain_contract("c", 10, 0, [("I", 1)], rule="latest-published")
    row = one(revise([c], store, at=M("2021-01")))  # on 2021-01-01 only November was out
    assert row["indices"][0]["period"] == "2020-11"
    assert row["coefficient"] == pytest.approx(1.04)


def test_mix_term_total_is_the_share_weighted_sum():
    store = memory_store({"F": [("1993-01", 50), ("1994-01", 60)]})
    c = plain_contract("c", 1, 1, [], base_period="1993-01", start=date(1993, 1, 1), pdec=2)
    wood = Component("wood", Decimal("0.9"), Decimal("17.0"), Decimal(1), ())
    oil = Component(
        "fuel-oil", Decimal("0.1"), Decimal("25.0"), Decimal(0), (IndexRef("F", Decimal(1)),)
    )
    c = replace(c, terms=(replace(c.terms[0], components=(wood, oil)),))
    rows = revise([c], store, at=M("1994-01")).rows()
    by = {r["component"]: r for r in rows}
    assert by["fuel-oil"]["price"] == 30.0 and by["wood"]["price"] == 17.0
    assert by[None]["price"] == pytest.approx(0.9 * 17.0 + 0.1 * 30.0)
    assert by[None]["indices"] == []


# --- properties ------------------------------------------------------------------------------

values = st.floats(min_value=1.0, max_value=1000.0).map(lambda x: round(x, 2))
weights = st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(weights, st.lists(values, min_size=4, max_size=4))
def test_k_is_one_at_the_base_period(raw_weights, base_values):
    total = sum(raw_weights) + 10
    fixed = Decimal(10) / Decimal(total)
    ws = [Decimal(w) / Decimal(total) for w in raw_weights]
    ws[-1] = Decimal(1) - fixed - sum(ws[:-1])
    series = {f"S{i}": [("2020-01", base_values[i])] for i in range(len(ws))}
    c = plain_contract("c", 100, fixed, [(f"S{i}", w) for i, w in enumerate(ws)])
    row = one(revise([c], memory_store(series), at=M("2020-01")))
    assert row["coefficient"] == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(values, values, values)
def test_k_is_linear_in_the_index_ratio(base, x1, x2):
    def k(x):
        store = memory_store(
            {"I": [("2020-01", base), ("2021-01", x)], "J": [("2020-01", 7), ("2021-01", 9)]}
        )
        c = plain_contract("c", 100, 0.2, [("I", 0.5), ("J", 0.3)])
        return revise([c], store, at=M("2021-01")).frame["coefficient"][0]  # unrounded K

    const = 0.2 + 0.3 * 9 / 7
    assert (k(x1) - const) * x2 == pytest.approx((k(x2) - const) * x1, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(values, values, st.sampled_from(["half-up", "up"]), st.integers(min_value=2, max_value=4))
def test_rounding_equals_exact_decimal_arithmetic(base, current, rule, kdec):
    store = memory_store({"I": [("2020-01", base), ("2021-01", current)]})
    c = plain_contract("c", "1250", "0.15", [("I", "0.85")], kdec=kdec, pdec=2, rounding=rule)
    row = one(revise([c], store, at=M("2021-01")))
    mode = ROUND_HALF_UP if rule == "half-up" else ROUND_CEILING
    k = Decimal("0.15") + Decimal("0.85") * Decimal(repr(current)) / Decimal(repr(base))
    k = k.quantize(Decimal(1).scaleb(-kdec), rounding=mode)
    price = (Decimal(1250) * k).quantize(Decimal("0.01"), rounding=mode)
    assert Decimal(repr(row["coefficient"])) == k
    assert Decimal(repr(row["price"])) == price


def test_exact_tie_is_rounded_half_up_not_by_float_error():
    # 0.5 + 0.5 * 1.0001/1 = 1.00005 exactly: float gives 1.0000499999999999 -> must still round up
    store = memory_store({"I": [("2020-01", 1.0), ("2021-01", 1.0001)]})
    c = plain_contract("c", 100, 0.5, [("I", 0.5)], kdec=4, rounding="half-up")
    assert one(revise([c], store, at=M("2021-01")))["coefficient"] == 1.0001
    c = plain_contract("c", 100, 0.5, [("I", 0.5)], kdec=4, rounding="half-even")
    assert one(revise([c], store, at=M("2021-01")))["coefficient"] == 1.0


def test_latest_published_undated_values_assume_a_one_month_publication_delay():
    points = [
        ("2020-01", 100),
        ("2020-11", 105),
        ("2020-12", 110),
        ("2021-01", 120),
        ("2021-06", 130),
    ]
    store = memory_store({"I": points})
    c = plain_contract("c", 10, 0, [("I", 1)], rule="latest-published")
    row = one(revise([c], store, at=M("2021-01")))
    # on 2021-01-01 December 2020 is not out yet (published in January): November is the latest
    assert row["indices"][0]["period"] == "2020-11"


def test_a_first_seen_date_long_after_the_period_is_not_taken_as_its_publication():
    # a download of 2024 dates decades of history: 2020-11 was not "published in 2024"
    seen = date(2024, 9, 13)
    store = memory_store({"I": [("2020-01", 100, "definitive", seen), ("2020-11", 105, "definitive", seen),
                                ("2020-12", 110, "definitive", seen)]})  # fmt: skip
    c = plain_contract("c", 10, 0, [("I", 1)], rule="latest-published")
    row = one(revise([c], store, at=M("2021-01")))
    assert row["indices"][0]["period"] == "2020-11" and row["coefficient"] == pytest.approx(1.05)
    assert row["indices"][0]["published"] == "2021-01-01" and row["indices"][0]["published_assumed"]
    lag = plain_contract("c", 10, 0, [("I", 1)], lag=1)
    # December 2020 assumed published at the end of January 2021
    assert one(revise([lag], store, at=M("2021-01"), as_of=date(2021, 2, 1)))["status"] == "ok"
    assert (
        one(revise([lag], store, at=M("2021-01"), as_of=date(2021, 1, 15)))["status"]
        == "missing-index"
    )


def test_history_flags_safeguard_at_the_first_date_of_the_window():
    store = memory_store({"I": [("2020-01", 100), ("2021-01", 100), ("2022-01", 150)]})
    c = plain_contract("c", 10, 0, [("I", 1)], safeguard=0.25)
    rows = history([c], store, M("2022-01"), M("2022-12")).rows()
    assert [r["at"] for r in rows] == ["2022-01"] and rows[0]["flags"] == ["safeguard"]


def test_base_value_written_in_the_old_base_of_a_chained_series_is_linked():
    from dataclasses import replace as dc_replace

    from tariffs.series.catalog import Chain

    store = memory_store({"OLD": [("2005-01", 838.02)], "NEW": [("2012-01", 112.5)]})
    chain = Chain(series="OLD", until="2009-12", coefficient=Decimal("8.3802"))
    store.catalog["NEW"] = dc_replace(store.catalog["NEW"], chain=chain)
    c = plain_contract("c", 100, 0.15, [("NEW", 0.85, "838.02")], base_period="2005-01", kdec=4, pdec=2,
                       start=date(2005, 1, 1))  # fmt: skip
    row = one(revise([c], store, at=M("2012-01")))
    # I0 = 838.02 / 8.3802 = 100 in the new base: K = 0.15 + 0.85 x 112.5 / 100 = 1.10625 -> 1.1063
    assert row["coefficient"] == 1.1063 and row["price"] == 110.63
    assert "chained-series" in row["flags"] and "base-value-differs" not in row["flags"]
    assert row["indices"][0]["link_coefficient"] == 8.3802


def test_latest_published_does_not_carry_a_stopped_series_forward():
    from dataclasses import replace as dc_replace

    store = memory_store({"I": [("2020-01", 100), ("2023-09", 110)]})
    store.catalog["I"] = dc_replace(store.catalog["I"], stopped="2023-09")
    c = plain_contract("c", 10, 0, [("I", 1)], rule="latest-published")
    served = one(revise([c], store, at=M("2024-01")))
    assert served["coefficient"] == pytest.approx(1.1)
    result = revise([c], store, at=M("2025-01"))
    assert one(result)["status"] == "missing-index"
    assert any("stopped after 2023-09" in p and "successor" in p for p in result.problems)


def test_missing_messages_name_the_cause():
    store = memory_store({"I": [(f"2021-{m:02d}", 100 + m) for m in range(1, 13) if m != 5]})
    c = plain_contract("c", 10, 0, [("I", 1)], rule="mean", window=12, lag=1, base_period="2021-12",
                       start=date(2022, 1, 1))  # fmt: skip
    problems = revise([c], store, at=M("2022-01")).problems
    assert any("gap" in p for p in problems), problems
    early = plain_contract("c", 10, 0, [("I", 1)], base_period="2021-01", start=date(2019, 1, 1))
    problems = revise([early], store, at=M("2019-01")).problems
    assert any("the store starts at 2021-01" in p for p in problems), problems


def test_as_of_before_publication_says_not_yet_published():
    store = memory_store({"I": [("2020-01", 100, "definitive", date(2020, 2, 15)),
                                ("2021-01", 110, "definitive", date(2021, 2, 15))]})  # fmt: skip
    c = plain_contract("c", 10, 0, [("I", 1)])
    result = revise([c], store, at=M("2021-01"), as_of=date(2021, 2, 1))
    assert one(result)["status"] == "missing-index"
    assert any("not yet published on 2021-02-01" in p for p in result.problems), result.problems


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=99),
    st.lists(values, min_size=2, max_size=2),
    st.lists(
        st.floats(min_value=1.0, max_value=500.0).map(lambda x: round(x, 2)), min_size=2, max_size=2
    ),
)
def test_mix_price_is_the_share_weighted_sum_of_component_prices(
    share_pct, oil_values, base_prices
):
    store = memory_store({"F": [("2020-01", oil_values[0]), ("2021-01", oil_values[1])]})
    share = Decimal(share_pct) / 100
    fixed = Component("a", share, Decimal(str(base_prices[0])), Decimal(1), ())
    revised = Component(
        "b", 1 - share, Decimal(str(base_prices[1])), Decimal(0), (IndexRef("F", Decimal(1)),)
    )
    c = plain_contract("c", 1, 1, [], pdec=2)
    c = replace(c, terms=(replace(c.terms[0], components=(fixed, revised)),))
    rows = {r["component"]: r for r in revise([c], store, at=M("2021-01")).rows()}
    expected = Decimal(str(rows["a"]["price"])) * share + Decimal(str(rows["b"]["price"])) * (
        1 - share
    )
    assert Decimal(str(rows[None]["price"])) == expected.quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def test_before_the_first_revision_the_base_prices_apply():
    store = memory_store({"I": [("2020-01", 100), ("2020-04", 120)]})
    # starts in March, revised each July: March..June 2020 is a stub period at the base prices
    c = plain_contract("c", 40, 0.2, [("I", 0.8)], start=date(2020, 3, 1), lag=3, kdec=4, pdec=2)
    c = replace(c, revision=replace(c.revision, month=7))
    row = one(revise([c], store, at=M("2020-05")))
    assert (row["at"], row["coefficient"], row["price"]) == ("2020-03", 1.0, 40.0)
    assert row["flags"] == ["not-yet-revised"] and row["indices"] == [] and row["status"] == "ok"
    july = one(revise([c], store, at=M("2020-07")))
    assert july["coefficient"] == pytest.approx(0.2 + 0.8 * 1.2) and july["flags"] == []
