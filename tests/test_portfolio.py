"""Portfolio tables (CSV / Parquet): same validation and same results as the TOML contracts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tariffs import revision
from tariffs.cli import main
from tariffs.contract import load_contracts
from tariffs.errors import ContractError
from tariffs.formulas import formulas_of
from tariffs.periods import parse_month
from tariffs.portfolio import SHOWN_PER_RULE, history, read_portfolio, revise, table_of, write_table
from tariffs.series import load_store
from tariffs.series.importer import import_files

INSEE = Path(__file__).parent / "fixtures" / "insee"
FOD, GAS, IPC, ROTTERDAM = "001763559", "001763556", "001763852", "010002089"

# Contracts written in the users' format; the series are genuine INSEE idBanks imported
# from tests/fixtures/insee (FOD, gas, CPI excl. tobacco with JO dates, Rotterdam fuel oil).
TOML = {
    "yearly-lag": f"""
id = "yearly-lag"
title = "Yearly, lag 3, K to 4 decimals, base value written"
start = 2005-07-01
end = 2020-06-30
[revision]
frequency = "yearly"
lag_months = 3
coefficient_decimals = 4
price_decimals = 2
[[terms]]
code = "P1"
base_price = 41.37
unit = "EUR/MWh"
energy_basis = "PCS"
base_period = "2005-04"
fixed = 0.15
  [[terms.indices]]
  series = "{FOD}"
  weight = 0.50
  base_value = 58.30
  [[terms.indices]]
  series = "{GAS}"
  weight = 0.35
[[terms]]
code = "P2"
base_price = 12.5
unit = "EUR/dwelling/year"
base_period = "2005-Q2"
fixed = 0.2
indices = [{{ series = "{IPC}", weight = 0.8 }}]
""",
    "quarterly-mean-mix": f"""
id = "quarterly-mean-mix"
title = "Quarterly, 12-month mean, a mix term, cap and floor"
start = 2008-01-01
[revision]
frequency = "quarterly"
index_rule = "mean"
lag_months = 1
coefficient_decimals = 3
price_decimals = 3
rounding = "up"
cap = 1.3
floor = 0.9
safeguard = 0.1
[[terms]]
code = "R1"
unit = "EUR/MWh"
energy_basis = "useful"
base_period = "2007-T4"
  [[terms.components]]
  name = "wood"
  share = 0.9
  base_price = 17.0
  fixed = 1.0
  [[terms.components]]
  name = "fuel-oil"
  share = 0.1
  base_price = 25.0
  fixed = 0.2
  indices = [{{ series = "{ROTTERDAM}", weight = 0.8 }}]
""",
    "monthly-latest": f"""
id = "monthly-latest"
title = "Monthly, latest published CPI"
start = 2019-01-01
[revision]
frequency = "monthly"
index_rule = "latest-published"
price_decimals = 2
rounding = "half-even"
[[terms]]
code = "P3"
base_price = 1200
unit = "EUR/year"
base_period = "2018-12"
fixed = 0.3
indices = [{{ series = "{IPC}", weight = 0.7 }}]
""",
}


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("indices")
    files = ["ipc_coicop_excerpt.xlsx", "ipc_hors_tabac_v2025-12_rows_jo.csv",
             "matieres_premieres_transposed_excerpt.csv"]  # fmt: skip
    import_files(root, [INSEE / f for f in files])
    return root


@pytest.fixture(scope="session")
def store(store_dir):
    return load_store(store_dir)


@pytest.fixture(scope="session")
def toml_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("contracts")
    for name, text in TOML.items():
        (root / f"{name}.toml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def contracts(toml_dir, store):
    return load_contracts([toml_dir], store.catalog)


@pytest.fixture(scope="session", params=["csv", "parquet"])
def table_path(request, contracts, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("portfolio") / f"portfolio.{request.param}"
    write_table(table_of(formulas_of(contracts)), path)
    return path


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(pl.all())


def test_table_gives_the_frames_of_the_toml_contracts(table_path, contracts, store):
    portfolio = read_portfolio(table_path, store.catalog)
    expected = formulas_of(contracts)
    for name in ("params", "components", "indices"):
        assert _sorted(getattr(portfolio.formulas, name)).equals(
            _sorted(getattr(expected, name))
        ), name
    assert (portfolio.contracts, portfolio.terms) == (3, 4)
    # the same warnings as the TOML loader: fixed 0.2 of the fuel-oil component is fine, none
    assert portfolio.warnings == []


@pytest.mark.parametrize("at", ["2012-01", "2016-10", "2021-03"])
def test_revise_of_a_table_equals_revise_of_the_toml_files(table_path, contracts, store, at):
    portfolio = read_portfolio(table_path, store.catalog)
    expected = revision.revise(contracts, store, at=parse_month(at))
    got = revise(portfolio, store, at=parse_month(at))
    assert got.rows() == expected.rows()
    assert len(got.rows()) >= 4 and all(
        r["price"] is not None for r in got.rows() if r["status"] == "ok"
    )


def test_revise_latest_and_history_of_a_table_equal_the_toml_ones(table_path, contracts, store):
    portfolio = read_portfolio(table_path, store.catalog)
    today = parse_month("2024-06")
    assert (
        revise(portfolio, store, today=today).rows()
        == revision.revise(contracts, store, today=today).rows()
    )
    first, last = parse_month("2006-01"), parse_month("2019-12")
    rows = history(portfolio, store, first, last).rows()
    assert rows == revision.history(contracts, store, first, last).rows()
    assert len(rows) > 100


CSV = f"""contract,title,start,frequency,lag_months,coefficient_decimals,term,unit,energy_basis,base_period,base_price,fixed,series,weight,base_value
c-1,One,2010-01-01,yearly,3,4,P1,EUR/MWh,PCI,2009-10,50.0,0.15,{FOD},0.5,58.30
c-1,One,2010-01-01,yearly,3,4,P1,EUR/MWh,PCI,2009-10,50.0,0.15,{GAS},0.35,
c-1,One,2010-01-01,yearly,3,4,P2,EUR/year,,2009-T4,1000,1,,,
c-2,Two,2012-07-01,monthly,0,,P1,EUR/MWh,useful,2012-06,40,0.25,{FOD},0.75,
"""


def test_handwritten_csv_reads_periods_defaults_and_decimals(tmp_path, store):
    path = tmp_path / "p.csv"
    path.write_text(CSV, encoding="utf-8")
    f = read_portfolio(path, store.catalog).formulas
    p = f.params.sort("contract")
    assert p["rev_month"].to_list() == [1, 7]  # month of start
    assert p["rule"].to_list() == ["lag", "lag"] and p["window"].to_list() == [1, 1]
    assert p["kdec"].to_list() == [4, None] and p["rounding"].to_list() == ["half-up"] * 2
    comps = f.components.sort("contract", "term")
    assert comps["base_period"].to_list() == ["2009-10", "2009-Q4", "2012-06"]
    assert comps["base_month"].to_list() == [
        parse_month("2009-10"),
        parse_month("2009-10"),
        parse_month("2012-06"),
    ]
    assert comps["base_span"].to_list() == [1, 3, 1]
    idx = f.indices.sort("contract", "index_order")
    assert idx["base_value_decimals"].to_list() == [2, None, None]  # "58.30" keeps its 2 decimals
    assert idx["index_order"].to_list() == [0, 1, 0]
    assert f.indices.filter(pl.col("term") == "P2").height == 0  # fixed price: no index row


def _broken(tmp_path, old: str, new: str, line: int = 2) -> list[str]:
    lines = CSV.splitlines()
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_portfolio(path, {FOD: None, GAS: None, IPC: None})
    return [line.replace(str(path), "FILE") for line in caught.value.lines()]


BROKEN = [
    # a cell that does not parse is reported alone (no cascade into the sums of its contract)
    ("0.5,58.30", "1.4,58.30", 2, ['FILE:2: weight: expected a number in [0, 1], got "1.4"']),
    ("0.5,58.30", "0.4,58.30", 2, ["FILE:2: weight: fixed + sum of weights must be 1, got 0.15 + 0.75"]),
    (f"{GAS},0.35", "GAZ,0.35", 3, ["FILE:3: series: unknown series 'GAZ': not in the index catalog"]),
    (f"{GAS},0.35", f"{FOD},0.35", 3, [f"FILE:3: series: series {FOD} used twice in one formula"]),
    ("2010-01-01", "2010-13-01", 2, ['FILE:2: start: expected a date YYYY-MM-DD, got "2010-13-01"']),
    ("c-1,One", "C_1,One", 4, ["FILE:4: contract: expected lower-case letters, digits and '-' only ([a-z0-9-]+), got \"C_1\""]),
    ("2009-10,50.0", "2009-13,50.0", 2, ['FILE:2: base_period: expected a month YYYY-MM or a quarter YYYY-Qn, got "2009-13"']),
    ("50.0", "-50", 3, ['FILE:3: base_price: expected a number > 0, got "-50"']),
    ("yearly,3", "yearly,2", 3, ["FILE:3: lag_months: differs from line 2 of the same contract (3 there, 2 here): give it once per contract"]),
    ("PCI,2009-10,50.0", "PCI,2009-10,51.0", 3, ["FILE:3: base_price: differs from line 2 of the same component (50.0 there, 51.0 here): give it once per component"]),
    ("EUR/MWh,PCI", "EUR/MWh,", 2, ["FILE:2: energy_basis: missing for unit EUR/MWh: one of useful, PCI, PCS",
                                    "FILE:3: energy_basis: differs from line 2 of the same term (empty there, PCI here): give it once per term"]),
    ("EUR/year,", "EUR/year,PCS", 4, ["FILE:4: energy_basis: only for unit EUR/MWh (here EUR/year)"]),
    ("monthly", "weekly", 5, ['FILE:5: frequency: expected one of yearly, quarterly, monthly, got "weekly"']),
    ("75,", "75,-3", 5, ['FILE:5: base_value: expected a number > 0, got "-3"']),
    (f"{FOD},0.75", ",0.75", 5, ["FILE:5: weight: series and weight go together (both given, or both empty for a fixed price)"]),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "line", "expected"), BROKEN, ids=[b[1] for b in BROKEN])
def test_each_broken_cell_gives_its_located_message(tmp_path, old, new, line, expected):
    assert _broken(tmp_path, old, new, line) == expected


def test_unknown_and_missing_columns_are_refused_with_the_allowed_ones(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        CSV.replace("weight,", "wieght,", 1).replace(",frequency", ",freq", 1), encoding="utf-8"
    )
    with pytest.raises(ContractError) as caught:
        read_portfolio(path)
    lines = caught.value.lines()
    assert lines[0].startswith(
        f"{path}:1: freq: unknown column (did you mean 'frequency'?); allowed: contract, title,"
    )
    assert lines[1].startswith(
        f"{path}:1: wieght: unknown column (did you mean 'weight'?); allowed:"
    )
    assert lines[2:] == [f"{path}:1: frequency: missing required column"]


def test_many_bad_rows_are_counted_not_all_listed(tmp_path, store):
    rows = [f"c-{i},T,2010-01-01,yearly,3,4,P1,EUR/MWh,PCI,2009-10,50.0,0.15,{FOD},0.9,"
            for i in range(SHOWN_PER_RULE + 7)]  # fmt: skip
    path = tmp_path / "p.csv"
    path.write_text(CSV.splitlines()[0] + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_portfolio(path, store.catalog)
    lines = caught.value.lines()
    assert len(lines) == SHOWN_PER_RULE + 1
    assert lines[0] == f"{path}:2: weight: fixed + sum of weights must be 1, got 0.15 + 0.9"
    assert lines[-1] == f"{path}: weight: ... and 7 more rows with the same problem"


def test_cli_revise_history_check_accept_a_table(table_path, toml_dir, store_dir):
    runner = CliRunner()
    at = ["--at", "2016-10", "--indices", str(store_dir), "--format", "json"]
    from_table = runner.invoke(main, ["revise", str(table_path), *at])
    from_toml = runner.invoke(main, ["revise", str(toml_dir), *at])
    assert from_table.exit_code == 0, from_table.output
    assert json.loads(from_table.stdout) == json.loads(from_toml.stdout)
    window = [
        "--from",
        "2010-01",
        "--to",
        "2012-12",
        "--indices",
        str(store_dir),
        "--format",
        "json",
    ]
    hist = runner.invoke(main, ["history", str(table_path), *window])
    assert json.loads(hist.stdout) == json.loads(
        runner.invoke(main, ["history", str(toml_dir), *window]).stdout
    )
    check = runner.invoke(main, ["check", str(table_path), "--indices", str(store_dir)])
    assert check.exit_code == 0 and check.stdout.startswith("3 contract(s), 4 term(s): valid")


def test_cli_reports_a_broken_table_with_line_and_column(tmp_path, store_dir):
    path = tmp_path / "p.csv"
    path.write_text(CSV.replace("0.5,58.30", "0.5x,58.30"), encoding="utf-8")
    result = CliRunner().invoke(main, ["revise", str(path), "--indices", str(store_dir)])
    assert result.exit_code == 1
    assert f'{path}:2: weight: expected a number in [0, 1], got "0.5x"' in result.stderr
    assert "Traceback" not in result.output


def test_a_table_and_toml_files_together_refuse_duplicate_ids(table_path, toml_dir, store_dir):
    result = CliRunner().invoke(
        main, ["check", str(table_path), str(toml_dir), "--indices", str(store_dir)]
    )
    assert result.exit_code == 1
    assert (
        f"{table_path}: contract: duplicate id 'yearly-lag': also in TOML contracts"
        in result.stderr
    )


def test_iterating_a_portfolio_gives_the_contracts_of_the_toml_files(table_path, contracts, store):
    """Code that takes contracts (the audit) gets the same model objects from a table."""
    from_table = {c.id: c for c in read_portfolio(table_path, store.catalog)}
    assert sorted(from_table) == sorted(c.id for c in contracts)
    for c in contracts:
        got = from_table[c.id]
        assert (got.revision, got.terms, got.start.year, got.start.month) == (
            c.revision, c.terms, c.start.year, c.start.month,
        )  # fmt: skip


def test_rows_in_any_order_give_the_same_prices(contracts, store, tmp_path):
    """Rows of a contract need not be contiguous (the checks then group by key)."""
    path = tmp_path / "shuffled.parquet"
    write_table(table_of(formulas_of(contracts)).sort("series", nulls_last=True), path)
    keys = ["contract", "term", "comp", "at", "coefficient", "price"]
    at = parse_month("2016-10")
    got = revise(read_portfolio(path, store.catalog), store, at=at).frame.select(keys)
    assert _sorted(got).equals(_sorted(revision.revise(contracts, store, at=at).frame.select(keys)))


def test_a_contract_split_over_the_file_is_still_checked_for_consistency(tmp_path):
    lines = CSV.splitlines()
    lines = [lines[0], lines[1], lines[4], lines[2].replace("yearly,3", "yearly,2"), lines[3]]
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        read_portfolio(path, {FOD: None, GAS: None, IPC: None})
    assert caught.value.lines() == [
        f"{path}:4: lag_months: differs from line 2 of the same contract (3 there, 2 here): "
        "give it once per contract"
    ]


def test_iterating_a_table_given_with_toml_files_gives_every_contract_once(
    contracts, store, tmp_path
):
    """A table and TOML files together: the TOML contracts keep their own objects (no KeyError)."""
    from tariffs.portfolio import load_portfolio

    one, rest = contracts[0], contracts[1:]
    path = tmp_path / "rest.csv"
    write_table(table_of(formulas_of(rest)), path)
    toml = tmp_path / "one"
    toml.mkdir()
    (toml / "one.toml").write_text(
        TOML[next(k for k in TOML if one.id in TOML[k])], encoding="utf-8"
    )
    both = list(load_portfolio([path, toml], store.catalog))
    assert sorted(c.id for c in both) == sorted(c.id for c in contracts)
