"""The columnar reports of revise/history (tariffs.output) against the per-row rendering.

The oracle is the rendering the CLI used before: ``Result.rows()`` (``to_rows``, one dict
per row) flattened per row by ``_table_rows`` below (the CLI's former helper, kept here
as it was) and written by ``tariffs.report`` (csv.writer, json.dumps, rich, xlsxwriter).
Cases: the bundled contracts on the bundled indices (revise at several dates, history
over 30 years) and a generated portfolio of 300 contracts on the same indices.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner
from conftest import memory_store, plain_contract

from tariffs import output
from tariffs.cli import main
from tariffs.contract import load_contracts
from tariffs.periods import parse_month
from tariffs.portfolio import history, load_portfolio, revise
from tariffs.report import to_csv, to_table, write_xlsx
from tariffs.series import load_store
from tariffs.series.catalog import Chain

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package: run from the checkout

from benchmarks.generate import portfolio  # noqa: E402

M = parse_month


# --- the oracle: the per-row rendering of the CLI before tariffs.output -----------------------


def _table_rows(rows: list[dict], join_unit: bool = False) -> list[dict]:
    mixes = {(r["contract"], r["term"], r["at"]) for r in rows if r["component"] is not None}
    out = []
    for r in rows:
        shown = dict(r)
        if r["component"] is None and (r["contract"], r["term"], r["at"]) in mixes:
            shown["component"] = "(total)"
        if join_unit and r["energy_basis"]:
            shown["unit"] = f"{r['unit']} {r['energy_basis']}"
        shown["indices"] = [
            f"{i['series']} {i['period']}: {_num(i['value'])}/{_num(i['base_value'])}"
            for i in r["indices"]
        ]
        out.append(shown)
    return out


def _num(value) -> str:
    return "MISSING" if value is None else f"{value:g}"


def _text(result, fmt: str, **kw) -> str:
    chunks = output.report(result, fmt, None, kw.get("title"))
    return "".join(chunks)


# --- cases ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store():
    return load_store(ROOT / "indices")


@pytest.fixture(scope="module")
def bundled(store):
    contracts = load_contracts([ROOT / "contracts"], store.catalog)
    return {
        "revise-latest": revise(contracts, store, today=M("2025-06")),
        "revise-2008-09": revise(contracts, store, at=M("2008-09")),
        "revise-2003-07": revise(contracts, store, at=M("2003-07")),
        "history-1990-2025": history(contracts, store, M("1990-01"), M("2025-12")),
    }


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("out") / "portfolio_300.parquet"
    portfolio(300, store, seed=11).write_parquet(path)
    table = load_portfolio([path], store.catalog)
    return {
        "revise-2022-01": revise(table, store, at=M("2022-01")),
        "history-2015-2021": history(table, store, M("2015-01"), M("2021-12")),
    }


@pytest.fixture(scope="module")
def chained():
    """A base value written in the old base of a chained series (as in test_revision), with a
    value published on a date the store only assumes, and a capped coefficient."""
    store = memory_store({"OLD": [("2005-01", 838.02)],
                          "NEW": [("2012-01", 112.5, "provisional", date(2012, 3, 1))]})  # fmt: skip
    chain = Chain(series="OLD", until="2009-12", coefficient=Decimal("8.3802"))
    store.catalog["NEW"] = replace(store.catalog["NEW"], chain=chain)
    c = plain_contract("c", 100, 0.15, [("NEW", 0.85, "838.02")], base_period="2005-01",
                       kdec=4, pdec=2, start=date(2005, 1, 1), cap=1.05)  # fmt: skip
    return {"revise-chained": revise([c], store, at=M("2012-01"))}


@pytest.fixture(scope="module", params=["bundled", "generated", "chained"])
def results(request, bundled, generated, chained):
    return {"bundled": bundled, "generated": generated, "chained": chained}[request.param]


# --- csv and json --------------------------------------------------------------------------------


def test_csv_text_is_that_of_the_per_row_rendering(results):
    for name, result in results.items():
        rows = result.rows()
        assert rows, name
        assert _text(result, "csv") == to_csv(_table_rows(rows), output.COLUMNS), name


def test_json_parses_to_the_rows_with_their_key_order_one_row_a_line(results):
    for name, result in results.items():
        rows = result.rows()
        text = _text(result, "json")
        assert json.loads(text) == json.loads(json.dumps(rows, default=str)), name
        # the same keys in the same order, the same number texts: row by row, compact
        lines = [json.dumps(r, ensure_ascii=False, default=str) for r in rows]
        assert text == "[\n" + ",\n".join(lines) + "\n]\n", name


def test_the_cases_cover_every_optional_key_and_cell_kind(bundled, generated, chained):
    cases = (*bundled.values(), *generated.values(), *chained.values())
    rows = [r for res in cases for r in res.rows()]
    entries = [i for r in rows for i in r["indices"]]
    for key in ("published", "published_assumed", "link_coefficient", "series_base_value"):
        assert any(key in i for i in entries), key
    assert any(i["status"] == "missing" and i["value"] is None for i in entries)
    assert any(r["status"] == "missing-index" and r["price"] is None for r in rows)
    assert any(r["component"] is not None for r in rows)  # mix terms, with their total rows
    flags = {"base-value-differs", "chained-series", "capped", "provisional-index"}
    assert {f for r in rows for f in r["flags"]} >= flags
    assert sum(len(r["flags"]) > 1 for r in rows) > 0


def test_an_empty_result_gives_an_empty_array_and_a_header(store):
    contracts = load_contracts([ROOT / "contracts" / "conches-en-ouche.toml"], store.catalog)
    empty = history(contracts, store, M("1950-01"), M("1950-12"))
    assert empty.frame.height == 0
    assert json.loads(_text(empty, "json")) == [] and _text(empty, "json") == "[]\n"
    assert _text(empty, "csv") == ",".join(output.COLUMNS) + "\n"


def test_rows_sharing_a_key_each_get_the_indices_of_the_key(bundled):
    from types import SimpleNamespace

    from tariffs.revision import to_rows

    result = bundled["history-1990-2025"]
    twice = SimpleNamespace(
        frame=pl.concat([result.frame, result.frame.head(50)]), trace=result.trace
    )
    rows = to_rows(twice.frame, twice.trace)
    assert json.loads(_text(twice, "json")) == json.loads(json.dumps(rows, default=str))
    assert _text(twice, "csv") == to_csv(_table_rows(rows), output.COLUMNS)


def test_csv_quotes_as_csv_writer_does():
    frame = pl.DataFrame({"a": ["x,y", 'q"t', "", "n\nl", "sp ace", "cr\rx"]})
    quoted = frame.select(output.csv_quoted("a"))["a"].to_list()
    assert quoted == ['"x,y"', '"q""t"', "", '"n\nl"', "sp ace", "cr\rx"]


def test_mapped_keeps_negative_zero_nan_and_nulls_apart():
    s = pl.Series([0.0, -0.0, None, float("nan"), 1e-05, 0.0])
    assert output.mapped(s, repr).to_list() == ["0.0", "-0.0", "None", "nan", "1e-05", "0.0"]


# --- table and xlsx ------------------------------------------------------------------------------


def test_small_table_is_the_rich_table_of_before(bundled):
    for name, result in bundled.items():
        rows = _table_rows(result.rows(), join_unit=True)
        expected = to_table(rows, output.TABLE_COLUMNS, "Revised prices")
        assert _text(result, "table", title="Revised prices") == expected, name


def test_big_table_is_a_plain_layout_of_the_same_cells(generated):
    result = generated["history-2015-2021"]
    rows = _table_rows(result.rows(), join_unit=True)
    assert len(rows) > output.TABLE_ROWS  # the generated history takes the plain layout
    lines = _text(result, "table", title="History").splitlines()
    assert lines[0].startswith(f"History ({len(rows):,} rows: plain layout")
    header, rule, body = lines[1], lines[2], lines[3:]
    spans, start = [], 0
    for dashes in rule.split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    assert [header[a:b].strip() for a, b in spans] == output.PLAIN_COLUMNS
    assert len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        cells = [line[a:b].strip() for a, b in spans]
        assert cells == [_flat(row[c]) for c in output.PLAIN_COLUMNS]


def _flat(value) -> str:
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else str(value)


def test_xlsx_cells_are_those_of_the_per_row_writer(bundled, generated, tmp_path):
    for name, result in [("bundled", bundled["history-1990-2025"]),
                         ("generated", generated["revise-2022-01"])]:  # fmt: skip
        old, new = tmp_path / f"{name}-old.xlsx", tmp_path / f"{name}-new.xlsx"
        write_xlsx(old, {"prices": (output.COLUMNS, _table_rows(result.rows()))})
        assert output.report(result, "xlsx", new) is None
        a, b = openpyxl.load_workbook(old).active, openpyxl.load_workbook(new).active
        assert b.title == "prices" and b.freeze_panes == "A2" and b["A1"].font.b
        got = [[(c.value, c.data_type) for c in row] for row in b.iter_rows()]
        assert got == [[(c.value, c.data_type) for c in row] for row in a.iter_rows()], name
        assert len(got) == result.frame.height + 1


# --- the commands --------------------------------------------------------------------------------


def _run(*args):
    return CliRunner().invoke(main, [*args, "--indices", str(ROOT / "indices")])


def test_revise_and_history_commands_write_the_columnar_reports(bundled, tmp_path):
    contracts = str(ROOT / "contracts")
    out = tmp_path / "h.csv"
    run = _run("history", contracts, "--from", "1990-01", "--to", "2025-12", "--format", "csv",
               "-o", str(out))  # fmt: skip
    assert run.exit_code == 0, run.output
    rows = bundled["history-1990-2025"].rows()
    assert out.read_text(encoding="utf-8") == to_csv(_table_rows(rows), output.COLUMNS)
    assert [p.name for p in tmp_path.iterdir()] == ["h.csv"]  # no temporary file left
    assert "warning: series TR-LD" in run.stderr  # the problems still go to standard error
    run = _run("revise", contracts, "--at", "2008-09", "--format", "json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) == json.loads(
        json.dumps(bundled["revise-2008-09"].rows(), default=str)
    )
    strict = _run("revise", contracts, "--at", "2008-09", "--format", "json", "--strict")
    assert strict.exit_code == 1 and strict.stdout == run.stdout


def test_xlsx_without_output_is_a_usage_error():
    run = _run("revise", str(ROOT / "contracts"), "--format", "xlsx")
    assert run.exit_code == 1 and "--format xlsx needs --output" in run.output
