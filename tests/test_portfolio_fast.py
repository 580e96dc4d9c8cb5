"""The fast path of the portfolio reader gives the general path's answer, messages included.

A big table is made of the bundled example contracts (contracts/*.toml, genuine
formulas) repeated under new ids; the general path is forced by making
``read_grouped`` decline, and both answers are compared whole.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tariffs.portfolio_fast as fast
from tariffs.contract import load_contracts
from tariffs.errors import ContractError
from tariffs.formulas import formulas_of
from tariffs.portfolio import read_portfolio, table_of, write_table
from tariffs.series import load_catalog

ROOT = Path(__file__).parents[1]
CATALOG = load_catalog(ROOT / "indices" / "catalog.toml")
COPIES = 40


@pytest.fixture(scope="module")
def big() -> pl.DataFrame:
    """The example contracts, 40 times under new ids (rows of a contract kept together)."""
    one = table_of(formulas_of(load_contracts([ROOT / "contracts"], CATALOG)))
    copies = [one.with_columns(pl.col("contract") + f"-{i}") for i in range(COPIES)]
    return pl.concat(copies)


def _answer(path: Path, general: bool, monkeypatch) -> tuple:
    """What read_portfolio gives: the frames, warnings and details, or the problems."""
    with monkeypatch.context() as m:
        if general:
            m.setattr(fast, "read_grouped", lambda *args: None)
        try:
            p = read_portfolio(path, CATALOG)
        except ContractError as exc:
            return ("error", [(x.key, x.message, x.line, x.severity) for x in exc.problems])
    frames = [f.to_dicts() for f in (p.formulas.params, p.formulas.components, p.formulas.indices)]
    warnings = [(x.key, x.message, x.line) for x in p.warnings]
    return ("ok", frames, warnings, p.details.to_dicts())


def _write(table: pl.DataFrame, tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"portfolio.{suffix}"
    if suffix == "csv":
        table = table.select(pl.col(c).cast(pl.String) for c in table.columns)
    write_table(table, path)
    return path


def _set(table: pl.DataFrame, row: int, column: str, value) -> pl.DataFrame:
    cell = pl.lit(value, pl.String if isinstance(value, str) else None)
    if isinstance(value, str) and table.schema[column] != pl.String:
        table = table.with_columns(pl.col(column).cast(pl.String))
    at = pl.int_range(pl.len()) == row
    return table.with_columns(pl.when(at).then(cell).otherwise(pl.col(column)).alias(column))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_valid_grouped_table_takes_the_fast_path_with_the_same_result(big, tmp_path, suffix,
                                                                        monkeypatch):  # fmt: skip
    path = _write(big, tmp_path, suffix)
    taken = []
    original = fast.read_grouped
    monkeypatch.setattr(fast, "read_grouped", lambda *a: taken.append(original(*a)) or taken[-1])
    answer = _answer(path, general=False, monkeypatch=monkeypatch)
    assert taken and taken[0] is not None  # the fast path answered
    assert answer[0] == "ok" and len(answer[1][0]) == 6 * COPIES  # 6 example contracts
    assert answer == _answer(path, general=True, monkeypatch=monkeypatch)


@pytest.mark.parametrize(
    "column, value, key, message",
    [
        ("frequency", "weekly", "frequency", 'expected one of yearly, quarterly, monthly, got "weekly"'),
        ("lag_months", 7, "lag_months", "differs from line"),
        ("weight", 0.9, "weight", "fixed + sum of weights must be 1"),
        ("series", "BRENT-EURO", "series", "unknown series 'BRENT-EURO': not in the index catalog"),
        ("start", "2010-02-30", "start", 'expected a date YYYY-MM-DD, got "2010-02-30"'),
    ],
)  # fmt: skip
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_one_bad_cell_in_the_middle_of_a_big_table_is_located(big, tmp_path, suffix, column,
                                                              value, key, message, monkeypatch):  # fmt: skip
    indexed = big.with_row_index().filter(pl.col("series").is_not_null())["index"]
    row = indexed[indexed.len() // 2]  # a row with an index, in the middle of the table
    path = _write(_set(big, row, column, value), tmp_path, suffix)
    answer = _answer(path, general=False, monkeypatch=monkeypatch)
    assert answer == _answer(path, general=True, monkeypatch=monkeypatch)
    line = row + (2 if suffix == "csv" else 1)
    assert answer[0] == "error"
    located = [m for k, m, at, _ in answer[1] if k == key and (at == line or f"line {line} " in m)]
    assert any(message in m for m in located), answer[1]


def test_padded_cells_and_a_shuffled_table_read_as_on_the_general_path(big, tmp_path, monkeypatch):
    padded = big.with_columns(pl.col("frequency") + " ", (" " + pl.col("term")).alias("term"))
    for table in (padded, big.reverse(), big.sample(fraction=1.0, shuffle=True, seed=1)):
        path = _write(table, tmp_path, "csv")
        answer = _answer(path, general=False, monkeypatch=monkeypatch)
        assert answer[0] == "ok"
        assert answer == _answer(path, general=True, monkeypatch=monkeypatch)


CELLS = ["frequency", "lag_months", "term", "unit", "energy_basis", "base_period", "base_price",
         "fixed", "series", "weight", "base_value", "contract", "component", "share"]  # fmt: skip
VALUES = [None, "", " ", "x", "0", "1", "0.5", "-1", "2010-01", "2010-Q1", "EUR/MWh", "PCI",
          "IPC", "c-1", "P1", " P1", "wood", "12", "1e3", "nan"]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(CELLS), st.sampled_from(VALUES)),
                      min_size=1, max_size=3))  # fmt: skip
def test_any_edited_cell_gives_the_general_paths_answer(big, tmp_path, monkeypatch, cells):
    table = big.select(pl.col(c).cast(pl.String) for c in big.columns)
    for row, column, value in cells:
        table = _set(table, row % table.height, column, value)
    path = _write(table, tmp_path, "csv")
    assert _answer(path, general=False, monkeypatch=monkeypatch) == _answer(
        path, general=True, monkeypatch=monkeypatch
    )
