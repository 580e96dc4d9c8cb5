"""The columnar exposure report against the old per-term implementation (tests/exposure_oracle.py).

Every figure of every row, the notes and the monthly K paths, on the bundled
contracts and indices (several windows, with and without shocks) and on a
generated portfolio of 300 contracts (benchmarks.generate, genuine index values)
given together with the bundled TOML contracts (so that the portfolio row, mix
terms, euros per dwelling and missing series are all there).

"Equal" means: the same keys, the same nulls, the same texts and integers, and
floats within 1e-12 relative. Unrounded figures are compared so (an absolute
floor of 1e-15 for figures that are close to zero on a scale of one, such as a
variance share); the report's rounded figures (10 decimals, 12 for the shares)
may differ by one unit of their last decimal (1.5 units allowed, for the binary noise) when the unrounded values straddle
a rounding boundary. The old code itself is not bit-reproducible (its sums run
in hash-group order): two of its runs on the same input differ by up to ~3e-13.
"""

from __future__ import annotations

import math
from pathlib import Path

import exposure_oracle as old
import polars as pl
import pytest
from click.testing import CliRunner

from benchmarks.generate import portfolio
from tariffs.cli import main
from tariffs.contract import load_contracts
from tariffs.exposure import analysis, exposure, parse_shock
from tariffs.periods import parse_month
from tariffs.portfolio import load_portfolio
from tariffs.series import load_store

ROOT = Path(__file__).resolve().parent.parent
M = parse_month


@pytest.fixture(scope="module")
def store():
    return load_store(ROOT / "indices")


@pytest.fixture(scope="module")
def bundled(store):
    return load_contracts([ROOT / "contracts"], store.catalog)


@pytest.fixture(scope="module")
def generated(store, tmp_path_factory):
    table = tmp_path_factory.mktemp("portfolio") / "portfolio_300.parquet"
    portfolio(300, store, seed=7).write_parquet(table)
    return load_portfolio([table, ROOT / "contracts"], store.catalog)


def unrounded(monkeypatch):
    monkeypatch.setattr(old, "ROUND", False)
    monkeypatch.setattr(
        analysis, "_r", lambda v, digits=10: None if v is None or v != v else float(v)
    )


def differences(new, ref, rel=1e-12, floor=1e-15, last_digit=False, where=()) -> list:
    """Where ``new`` and ``ref`` differ (paths), floats within ``rel`` (see the module notes)."""
    if isinstance(ref, dict):
        if not isinstance(new, dict) or set(new) != set(ref):
            return [(where, new, ref)]
        return [d for k in ref for d in differences(new[k], ref[k], rel, floor, last_digit, (*where, k))]  # fmt: skip
    if isinstance(ref, list):
        if not isinstance(new, list) or len(new) != len(ref):
            return [(where, new, ref)]
        return [d for i, (a, b) in enumerate(zip(new, ref, strict=True))
                for d in differences(a, b, rel, floor, last_digit, (*where, i))]  # fmt: skip
    if isinstance(ref, float) and isinstance(new, float):
        digits = 12 if "contributions" in where else 10
        tol = max(floor, 10.0**-digits * 1.5 if last_digit else 0.0)
        return [] if math.isclose(new, ref, rel_tol=rel, abs_tol=tol) else [(where, new, ref)]
    return [] if (new == ref and type(new) is type(ref)) else [(where, new, ref)]


def check_same(contracts, store, first, last, shocks, monkeypatch) -> list[dict]:
    """Compare the new and the old report, rounded then unrounded; the new rounded rows."""
    new = exposure(contracts, store, first, last, shocks)
    ref = old.exposure(contracts, store, first, last, shocks)
    assert differences(new.rows, ref.rows, last_digit=True) == []
    assert new.notes == ref.notes
    assert new.window == ref.window
    assert new.reference.equals(ref.reference)
    paths = ref.paths.sort("contract", "term", "comp", "month")
    assert new.paths.select(paths.columns).drop("k").equals(paths.drop("k"))
    k_new, k_ref = new.paths["k"].to_list(), paths["k"].to_list()
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(k_new, k_ref, strict=True))
    with monkeypatch.context() as m:
        unrounded(m)
        raw_new = exposure(contracts, store, first, last, shocks).rows
        raw_ref = old.exposure(contracts, store, first, last, shocks).rows
    assert differences(raw_new, raw_ref) == []
    return new.rows


WINDOWS = [(None, None), ("2005-01", "2019-12"), ("2000-01", "2008-06"), ("2015-01", "2021-12")]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
@pytest.mark.parametrize("shocks", [(), ("FOD=+50%", "oil=+50%"), ("oil=-20%",)])
def test_bundled_contracts_as_before(bundled, store, start, end, shocks, monkeypatch):
    first, last = (None if s is None else M(s) for s in (start, end))
    rows = check_same(bundled, store, first, last, [parse_shock(s) for s in shocks], monkeypatch)
    assert rows[-1]["contract"] == "(portfolio)" and rows[0]["oil_rank"] == 1
    assert any(r["volatility_annual"] is None for r in rows)  # series without data: nulls kept
    assert any(r["component"] for r in rows)  # a mix term's components


def test_generated_portfolio_as_before(generated, store, monkeypatch):
    shocks = [parse_shock("oil=+50%"), parse_shock("FOD=+20%")]
    rows = check_same(generated, store, M("2005-01"), M("2019-12"), shocks, monkeypatch)
    assert len(rows) == 300 * 3 + 11
    portfolio_row = rows[-1]
    assert portfolio_row["contract"] == "(portfolio)"
    assert portfolio_row["volatility_annual"] is None  # the portfolio uses TR-LD (no data)
    assert sum(r["volatility_annual"] is not None for r in rows) > 900
    assert sum(r["shocks"][0]["delta_eur_per_dwelling_year"] is not None for r in rows) > 2


def test_generated_portfolio_default_window(generated, store, monkeypatch):
    check_same(generated, store, None, None, [], monkeypatch)


def test_batches_do_not_change_the_figures(generated, store, monkeypatch):
    """Units computed 4,096 at a time, or 7 at a time: the same report."""
    whole = exposure(generated, store, M("2010-01"), M("2019-12"), [parse_shock("oil=+10%")])
    monkeypatch.setattr(analysis, "BATCH", 7)
    small = exposure(generated, store, M("2010-01"), M("2019-12"), [parse_shock("oil=+10%")])
    assert differences(small.rows, whole.rows, last_digit=True) == []
    assert small.paths.drop("k").equals(whole.paths.drop("k"))


def test_portfolio_table_alone_has_no_portfolio_row(store, tmp_path):
    """A table gives no dwellings nor consumption: no yearly amount, so no portfolio row."""
    table = tmp_path / "p.parquet"
    portfolio(20, store, seed=3).write_parquet(table)
    result = exposure(load_portfolio([table], store.catalog), store, M("2005-01"), M("2019-12"))
    assert len(result.rows) == 60
    assert not any(r["contract"] == "(portfolio)" for r in result.rows)
    assert [r["oil_rank"] for r in result.rows] == sorted(r["oil_rank"] for r in result.rows)


def test_json_is_one_row_per_line_with_the_same_content(generated, store, tmp_path):
    out = tmp_path / "e.json"
    table = tmp_path / "p.parquet"
    portfolio(30, store, seed=5).write_parquet(table)
    args = ["exposure", str(table), "--indices", str(ROOT / "indices"), "--from", "2005-01",
            "--to", "2019-12", "--shock", "oil=+50%", "--format", "json", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    import json

    text = out.read_text()
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 90 + 2
    rows = json.loads(text)
    ref = exposure(load_portfolio([table], store.catalog), store, M("2005-01"), M("2019-12"),
                   [parse_shock("oil=+50%")]).rows  # fmt: skip
    assert rows == ref


def test_paths_frame_and_slices(generated, store):
    report = exposure(generated, store, M("2005-01"), M("2006-12"))
    paths = report.paths
    assert paths.columns == ["contract", "term", "comp", "label", "month", "k"]
    assert paths.height == paths.select("contract", "term", "comp").n_unique() * 24
    only = pl.concat(report.path_slices(pl.col("term") == "P2"))
    assert only.height > 0 and only["label"].str.ends_with(" P2").all()
    assert only.equals(paths.filter(pl.col("term") == "P2"))


def test_xlsx_monthly_k_of_a_big_portfolio_holds_the_portfolio_only(tmp_path, monkeypatch):
    import openpyxl

    from tariffs.cli import exposure as command

    args = ["exposure", str(ROOT / "contracts"), "--indices", str(ROOT / "indices"),
            "--from", "2005-01", "--to", "2019-12", "--format", "xlsx"]  # fmt: skip
    full, capped = tmp_path / "full.xlsx", tmp_path / "capped.xlsx"
    assert CliRunner().invoke(main, [*args, "-o", str(full)]).exit_code == 0
    monkeypatch.setattr(command, "MONTHLY_K_ROWS", 500)
    result = CliRunner().invoke(main, [*args, "-o", str(capped)])
    assert result.exit_code == 0 and "monthly_k holds the portfolio's K only" in result.stderr
    whole = list(openpyxl.load_workbook(full)["monthly_k"].iter_rows(min_row=2, values_only=True))
    only = list(openpyxl.load_workbook(capped)["monthly_k"].iter_rows(min_row=2, values_only=True))
    assert len(whole) == 6 * 180  # every row with a path (the bundled portfolio row has none)
    assert only == [r for r in whole if r[0] == "(portfolio)"] == []
    sheet = [
        list(r) for r in openpyxl.load_workbook(capped)["exposure"].iter_rows(values_only=True)
    ]
    assert sheet == [
        list(r) for r in openpyxl.load_workbook(full)["exposure"].iter_rows(values_only=True)
    ]


def test_plot_of_many_terms_draws_the_portfolio_only(bundled, store, tmp_path, monkeypatch):
    from tariffs.exposure import plot

    report = exposure(bundled, store, M("2005-01"), M("2019-12"))
    drawn = []
    dates = plot._dates
    monkeypatch.setattr(plot, "_dates", lambda months: drawn.append(months.len()) or dates(months))
    plot.plot_exposure(report, store, tmp_path / "all.png")
    lines = report.drawn.filter(pl.col("comp") == "").height
    assert len(drawn) == lines + 1  # every term with a path, and the oil reference
    drawn.clear()
    monkeypatch.setattr(plot, "MAX_LINES", 1)
    plot.plot_exposure(report, store, tmp_path / "few.png")
    portfolio_drawn = report.drawn.filter(pl.col("contract") == "(portfolio)").height
    assert len(drawn) == portfolio_drawn + 1
    assert "only the portfolio's K is drawn" in plot._source_note(
        report, store, store.catalog["BRENT-EUR"]
    )
