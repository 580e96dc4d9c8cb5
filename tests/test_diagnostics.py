"""Missing-value messages: the per-(series, period) cause look-up says what a per-row loop says."""

from __future__ import annotations

import dataclasses
from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffs import diagnostics
from tariffs.diagnostics import bounds_of, missing_message, problems_of
from tests.conftest import memory_store

SERIES = ("A", "B", "STOP", "EMPTY", "GONE")
PERIODS = (None, "2019-06", "2020-01", "2020-03", "2020-05", "2020-12", "2021-02",
           "2020-01..2020-12", "2019-12..2020-02", "2020-11..2021-01")  # fmt: skip


def _store():
    values = {
        "A": [
            ("2020-01", 100, "definitive", date(2020, 2, 10)),
            ("2020-02", 101),
            ("2020-04", 103),
            ("2020-12", 110),
        ],  # fmt: skip  (2020-03 is a gap)
        "B": [(f"2020-{m:02d}", 100 + m) for m in range(1, 13)],
        "STOP": [(f"2020-{m:02d}", 100 + m) for m in range(1, 7)],
    }
    store = memory_store(values, declared=("EMPTY",))
    store.catalog["STOP"] = dataclasses.replace(store.catalog["STOP"], stopped="2020-06")
    return store


def _per_row(missing: pl.DataFrame, store, as_of) -> list[str]:
    """The messages as the first implementation built them: one cause look-up per row."""
    bounds, groups = bounds_of(store), {}
    for r in missing.sort("at", maintain_order=True).iter_rows(named=True):
        cause, message = missing_message(r, store, bounds.get(r["series"]), as_of)
        g = groups.setdefault(
            (r["series"], cause), {"message": message, "users": {}, "dates": set()}
        )
        g["users"].setdefault(f"{r['contract']} {r['term']}", None)
        g["dates"].add(r["at"])
    out = []
    for (_, cause), g in groups.items():
        msg = g["message"]
        if len(g["dates"]) > 1 and cause not in ("no-series", "base"):
            msg += f" ({len(g['dates']) - 1} later revision date(s) affected too)"
        out.append(f"{msg}; needed by: {', '.join(g['users'])}")
    return out


row = st.tuples(
    st.sampled_from(SERIES), st.sampled_from(PERIODS), st.booleans(),
    st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(["P1", "P2"]),
    st.integers(24230, 24260), st.sampled_from(["2019-01", "2020-01"]),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=1, max_size=40), st.sampled_from([None, date(2020, 1, 15)]))
def test_problems_equal_the_per_row_messages(rows, as_of):
    missing = pl.DataFrame(
        [{"series": s, "period": p, "value": 1.0 if has else None, "contract": c, "term": t,
          "at": at, "base_period": bp} for s, p, has, c, t, at, bp in rows],
        schema={"series": pl.String, "period": pl.String, "value": pl.Float64,
                "contract": pl.String, "term": pl.String, "at": pl.Int64, "base_period": pl.String},
    )  # fmt: skip
    store = _store()
    assert problems_of(missing, store, as_of) == _per_row(missing, store, as_of)


def test_every_cause_is_met():
    """The fixture store yields each cause the messages know (the property test covers them)."""
    store, bounds = _store(), bounds_of(_store())
    causes = {
        missing_message({"series": s, "period": p, "value": v, "at": 24240, "base_period": "x"},
                        store, bounds.get(s), as_of)[0]
        for s in SERIES for p in PERIODS for v in (None, 1.0) for as_of in (None, date(2020, 1, 15))
    }  # fmt: skip
    assert causes == {"no-series", "stopped", "not-yet", "before", "hole", "base", "not-known"}


def test_a_long_list_of_terms_is_cut_and_counted():
    n = diagnostics.NAMED_TERMS + 7
    missing = pl.DataFrame(
        {"series": ["B"] * n, "period": ["2021-03"] * n, "value": [None] * n,
         "contract": [f"c{i:03d}" for i in range(n)], "term": ["P1"] * n, "at": [24254] * n,
         "base_period": ["2020-01"] * n},
        schema_overrides={"value": pl.Float64},
    )  # fmt: skip
    (message,) = problems_of(missing, _store())
    assert message.endswith("c019 P1 and 7 more term(s)"), message
    assert "c000 P1, c001 P1" in message and "c020" not in message


def test_contracts_out_of_force_are_named_up_to_a_limit_and_counted(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from benchmarks.generate import portfolio
    from tariffs.periods import parse_month
    from tariffs.portfolio import read_portfolio, revise
    from tariffs.series import load_store

    store = load_store(Path(__file__).parents[1] / "indices")
    table = tmp_path / "p.parquet"
    portfolio(400, store, seed=2).write_parquet(table)
    contracts = read_portfolio(table, store.catalog)
    params = contracts.formulas.params
    ended = params.filter(pl.col("end_month") < parse_month("2022-01")).height
    assert ended > diagnostics.NAMED_TERMS  # the generated portfolio has enough to cut
    problems = revise(contracts, store, at=parse_month("2022-01")).problems
    named = [p for p in problems if ": ended in " in p]
    assert len(named) == diagnostics.NAMED_TERMS
    more = ended - diagnostics.NAMED_TERMS
    assert (
        f"... and {more:,} more contract(s) that ended before 2022-01: no price in force"
        in problems
    )
