"""The engine's fast paths give the results of the straightforward ones.

`tariffs.revision` sums K per (component, date) by a vectorised Kahan sum over
consecutive rows, numbers components by runs of equal keys, looks index values
up in a grid of (series, lag, window) shapes × months, and `revision_months`
steps along the schedule. Each test compares one of these with the plain
computation it replaces (a polars hash group-by, a join, a month-by-month
filter), on genuine bundled index values (`indices/`) and the example contracts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tariffs import picking, revision
from tariffs.contract import load_contracts
from tariffs.formulas import Formulas, formulas_of, on_schedule, revision_months
from tariffs.series import load_store

ROOT = Path(__file__).resolve().parent.parent
FIRST, LAST = 2002 * 12, 2022 * 12 + 4  # 2002-01 .. 2022-05 (the bundled series' range)


@pytest.fixture(scope="module")
def genuine():
    store = load_store(ROOT / "indices")
    contracts = load_contracts([ROOT / "contracts"], store.catalog)
    return store, contracts


def _trace(result) -> pl.DataFrame:
    """The trace without the internal window number, in a fixed order."""
    return result.trace.drop("wid", "iid").sort("contract", "term", "comp", "at", "index_order")


values = st.one_of(
    st.none(),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=2, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(values, min_size=1, max_size=7), min_size=1, max_size=40))
def test_kahan_sum_of_runs_is_bitwise_the_polars_group_sum(runs):
    frame = pl.DataFrame(
        {
            "g": [i for i, run in enumerate(runs) for _ in run],
            "v": [v for run in runs for v in run],
        },
        schema={"g": pl.Int64, "v": pl.Float64},
    )
    expected = frame.group_by("g").agg(pl.col("v").sum()).sort("g")["v"]
    sizes = pl.Series([len(r) for r in runs], dtype=pl.Int64)
    starts = sizes.cum_sum() - sizes
    got = revision._kahan(frame["v"], starts, sizes)
    assert got.to_list() == expected.to_list()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1e4), min_size=2, max_size=6), min_size=1, max_size=40))
def test_kahan_sum_of_runs_without_nulls_is_bitwise_the_polars_group_sum(runs):
    """No null: the positions every run has are summed without masks."""
    frame = pl.DataFrame(
        {
            "g": [i for i, run in enumerate(runs) for _ in run],
            "v": [v for run in runs for v in run],
        },
        schema={"g": pl.Int64, "v": pl.Float64},
    )
    expected = frame.group_by("g").agg(pl.col("v").sum()).sort("g")["v"]
    sizes = pl.Series([len(r) for r in runs], dtype=pl.Int64)
    got = revision._kahan(frame["v"], sizes.cum_sum() - sizes, sizes)
    assert got.to_list() == expected.to_list()


def test_kahan_sum_of_an_overflowing_run_is_polars_own():
    frame = pl.DataFrame({"g": [0, 0, 0, 1, 1], "v": [1e308, 1e308, 1.0, 0.5, 0.25]})
    expected = frame.group_by("g").agg(pl.col("v").sum()).sort("g")["v"].to_list()
    got = revision._kahan(frame["v"], pl.Series([0, 3]), pl.Series([3, 2])).to_list()
    assert got == expected == [float("inf"), 0.75]


@pytest.mark.parametrize("first,last", [(FIRST, LAST), (24100, 24103), (23000, 24000)])
@pytest.mark.parametrize("stubs", [True, False])
def test_revision_months_are_the_scheduled_months_of_the_window(first, last, stubs):
    params = pl.DataFrame(
        {
            "contract": [f"c{i}" for i in range(36)],
            "frequency": ["monthly", "quarterly", "yearly"] * 12,
            "rev_month": [1 + i % 12 for i in range(36)],
            "start_month": [24000 + 7 * i for i in range(36)],
            "end_month": [None if i % 4 else 24000 + 7 * i + 40 for i in range(36)],
        },
        schema_overrides={"end_month": pl.Int64},
    )
    lo = pl.max_horizontal("start_month", pl.lit(first))
    hi = pl.min_horizontal(pl.col("end_month").fill_null(last), pl.lit(last))
    every = params.with_columns(pl.int_ranges(lo, hi + 1).alias("at")).explode("at")
    keep = on_schedule(pl.col("at")) | ((pl.col("at") == pl.col("start_month")) & stubs)
    expected = every.filter(keep & pl.col("at").is_not_null()).select("contract", "at")
    assert_frame_equal(revision_months(params, first, last, stubs), expected)


def test_indices_in_any_row_order_give_the_same_prices_and_trace(genuine):
    """Shuffled index rows take the join path of the component numbering and the sort by tid."""
    store, contracts = genuine
    ordered = formulas_of(contracts)
    shuffled = Formulas(
        ordered.params,
        ordered.components,
        ordered.indices.sample(fraction=1.0, shuffle=True, seed=3),
    )
    dates = revision_months(ordered.params, FIRST, LAST)
    a, b = revision.compute(ordered, store, dates), revision.compute(shuffled, store, dates)
    assert a.frame.height > 100
    assert_frame_equal(a.frame, b.frame)
    assert_frame_equal(_trace(a), _trace(b))
    assert sorted(a.problems) == sorted(b.problems)


def test_grid_and_hashed_window_lookups_agree(genuine, monkeypatch):
    store, contracts = genuine
    dates = revision_months(formulas_of(contracts).params, FIRST, LAST)
    grid = revision.compute(formulas_of(contracts), store, dates)
    monkeypatch.setattr(picking, "GRID_LIMIT", 0)
    hashed = revision.compute(formulas_of(contracts), store, dates)
    assert_frame_equal(grid.frame, hashed.frame)
    assert_frame_equal(_trace(grid), _trace(hashed))
    assert grid.problems == hashed.problems


def test_latest_published_and_lag_contracts_together_as_alone(genuine):
    """A latest-published contract between lag ones: the lag indices' numbers are not
    consecutive, the grid is read by formula index number."""
    store, contracts = genuine
    every = formulas_of(contracts)
    dates = revision_months(every.params, 2015 * 12, 2020 * 12)
    dated = [c for c in every.params["contract"] if c in set(dates["contract"])]
    middle = dated[len(dated) // 2]
    rule = pl.when(pl.col("contract") == middle).then(pl.lit("latest-published"))
    mixed = Formulas(
        every.params.with_columns(rule.otherwise(pl.col("rule")).alias("rule")),
        every.components, every.indices,
    )  # fmt: skip

    def only(keep: bool) -> Formulas:
        mine = (pl.col("contract") == middle) == keep
        return Formulas(*(f.filter(mine) for f in (mixed.params, mixed.components, mixed.indices)))

    together = revision.compute(mixed, store, dates)
    expected = pl.concat([revision.compute(only(k), store, dates).frame for k in (True, False)])
    key = ["contract", "term", "at", "comp"]
    assert len(dated) >= 3 and middle in together.frame["contract"].to_list()
    assert_frame_equal(
        together.frame.sort(key, nulls_last=True), expected.sort(key, nulls_last=True)
    )


def test_restricted_result_keeps_the_rows_and_trace_of_its_dates(genuine):
    store, contracts = genuine
    full = revision.history(contracts, store, 2010 * 12, 2012 * 12)
    one = revision.history(contracts, store, 2011 * 12, 2011 * 12 + 11)
    months = full.frame.filter(pl.col("at").is_between(2011 * 12, 2011 * 12 + 11))
    assert one.frame.height == months.height > 0
    assert_frame_equal(one.frame, months.select(one.frame.columns))
    assert set(one.trace["at"].unique()) <= set(range(2011 * 12, 2012 * 12))
    assert sum(len(r["indices"]) for r in one.rows()) == one.trace.height > 0


def test_unknown_series_is_missing_and_named(genuine):
    store, contracts = genuine
    formulas = formulas_of(contracts[:1])
    first = formulas.indices["series"][0]
    indices = formulas.indices.with_columns(pl.col("series").replace(first, "NOT-IN-CATALOG"))
    dates = pl.DataFrame({"contract": [formulas.params["contract"][0]], "at": [2015 * 12 + 6]})
    before = revision.compute(formulas, store, dates)
    result = revision.compute(Formulas(formulas.params, formulas.components, indices), store, dates)
    term = indices.filter(pl.col("series") == "NOT-IN-CATALOG")["term"][0]
    missing = [
        r.frame.filter((pl.col("term") == term) & pl.col("comp").is_null())["missing"].item()
        for r in (before, result)
    ]
    assert missing[1] == missing[0] + 1
    assert any("NOT-IN-CATALOG is not in the catalog" in p for p in result.problems)
    unknown = result.trace.filter(pl.col("series") == "NOT-IN-CATALOG")
    assert unknown["value"].to_list() == [None] and unknown["period"].to_list() == [None]


def test_as_of_cut_and_today_agree_on_definitive_values(genuine):
    store, contracts = genuine
    dates = revision_months(formulas_of(contracts).params, 2012 * 12, 2014 * 12)
    today = revision.compute(formulas_of(contracts), store, dates)
    later = revision.compute(formulas_of(contracts), store, dates, as_of=date(2030, 1, 1))
    assert_frame_equal(today.frame, later.frame)


def test_without_safeguard_the_date_before_is_not_needed(genuine):
    """revise and history skip the previous revision date when no contract has a safeguard:
    the same rows as when one contract (an extra copy, never hit) needs it."""
    store, contracts = genuine
    plain = formulas_of(contracts)
    assert plain.params["safeguard"].is_null().all()
    first = plain.params.head(1)
    extra = Formulas(
        pl.concat([plain.params, first.with_columns(contract=pl.lit("x-copy"), safeguard=pl.lit(99.0))]),
        pl.concat([plain.components, plain.components.filter(pl.col("contract") == first["contract"][0])
                   .with_columns(contract=pl.lit("x-copy"))]),
        pl.concat([plain.indices, plain.indices.filter(pl.col("contract") == first["contract"][0])
                   .with_columns(contract=pl.lit("x-copy"))]),
    )  # fmt: skip
    mine = pl.col("contract") != "x-copy"
    for run in (
        lambda f: revision.revise(f, store, at=2016 * 12 + 6),
        lambda f: revision.history(f, store, 2010 * 12, 2014 * 12),
    ):
        fast, full = run(plain), run(extra)
        assert fast.frame.height > 0
        assert_frame_equal(fast.frame, full.frame.filter(mine))
        assert_frame_equal(_trace(fast), _trace(full).filter(mine))
