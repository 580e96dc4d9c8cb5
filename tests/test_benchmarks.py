"""The benchmark harness on a small portfolio: the implementations give the same results.

No timing is asserted (the machine is shared): only that tariffs, its command's
CSV report, DuckDB SQL, lean polars and the per-row Python agree, that the generator is reproducible, and that
``python -m benchmarks.run`` prints the JSON fields the issue lists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("duckdb")
ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package: run from the checkout

from benchmarks import impl_cli, impl_duckdb, impl_lean, impl_python, impl_tariffs  # noqa: E402
from benchmarks.generate import portfolio, write  # noqa: E402
from benchmarks.run import _mismatches  # noqa: E402
from tariffs.portfolio import read_portfolio  # noqa: E402
from tariffs.series import load_store  # noqa: E402

INDICES = ROOT / "indices"
FIELDS = {"workload", "rows", "tariffs_s", "duckdb_s", "python_s", "python_note", "scan_s",
          "ratio_vs_duckdb", "speedup_vs_python", "ratio_vs_scan", "peak_rss_mb", "cores", "date"}  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return write(300, 20_000, 7, INDICES, tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="module")
def store():
    return load_store(INDICES)


def test_generator_is_seeded_valid_and_uses_only_bundled_series(files, store):
    a, b = portfolio(200, store, seed=3), portfolio(200, store, seed=3)
    assert a.equals(b) and not a.equals(portfolio(200, store, seed=4))
    table = pl.read_parquet(files["portfolio"])
    per_term = table.group_by("contract", "term").len()["len"]
    assert per_term.min() >= 3 and per_term.max() <= 5
    assert table["weight"].min() >= 0.01
    assert table.select("contract", "term").n_unique() == 3 * 300
    assert set(table["series"]) <= set(store.catalog)
    # written base values are the published values (never invented)
    given = table.filter(pl.col("base_value").is_not_null()).join(
        store.values.select("series", pl.col("period").alias("base_period"), "value"),
        on=["series", "base_period"],
    )
    assert given.height > 0 and (given["base_value"] == given["value"]).all()
    assert read_portfolio(files["portfolio"], store.catalog).contracts == 300


@pytest.mark.parametrize("workload", ["w1", "w2"])
def test_duckdb_and_python_prices_equal_tariffs(files, workload):
    kwargs = dict(portfolio=files["portfolio"], indices=INDICES, invoices=None)
    ours = getattr(impl_tariffs, workload)(**kwargs)
    sql = getattr(impl_duckdb, workload)(**kwargs)
    lean = getattr(impl_lean, workload)(**kwargs)
    rows, _, n, setup = getattr(impl_python, workload)(sample=2_000, **kwargs)
    report, _, _ = getattr(impl_cli, workload)(**kwargs)
    assert ours.height > 300 and ours["price"].null_count() == 0
    assert sql.height == ours.height and report.height == ours.height
    assert _mismatches(workload.upper(), ours, sql) == 0
    assert _mismatches(workload.upper(), ours, report) == 0
    assert lean.height == ours.height and _mismatches(workload.upper(), ours, lean) == 0
    assert rows.height > 50 and n < 2_000 and setup > 0
    assert _mismatches(workload.upper(), ours, rows, subset=True) == 0


def test_duckdb_and_python_audit_findings_equal_tariffs(files):
    kwargs = dict(portfolio=files["portfolio"], indices=INDICES, invoices=files["invoices"])
    ours = impl_tariffs.w3(**kwargs)
    sql = impl_duckdb.w3(**kwargs)
    lean = impl_lean.w3(**kwargs)
    rows, _, _, _ = impl_python.w3(sample=5_000, **kwargs)
    report, _, _ = impl_cli.w3(**kwargs)
    codes = set(ours["code"])
    assert {"unit-price-mismatch", "amount-mismatch", "vat-amount-mismatch", "duplicate-line",
            "unknown-contract"} <= codes  # fmt: skip
    assert _mismatches("W3", ours, sql) == 0 and _mismatches("W3", ours, report) == 0
    assert report.height == ours.height
    assert lean.height == ours.height and _mismatches("W3", ours, lean) == 0
    assert rows.height > 0 and _mismatches("W3", ours, rows, subset=True) == 0


def test_lean_polars_tells_a_copy_from_a_reused_line_number_as_tariffs_does(files, tmp_path):
    lines = pl.read_parquet(files["invoices"])
    first, second = lines.row(0, named=True), lines.row(1, named=True)
    reused = {**second, "invoice": first["invoice"], "line": first["line"]}  # another charge
    path = tmp_path / "invoices.parquet"
    pl.concat([lines, pl.DataFrame([reused, first], schema=lines.schema)]).write_parquet(path)
    kwargs = dict(portfolio=files["portfolio"], indices=INDICES, invoices=path)
    ours, lean = impl_tariffs.w3(**kwargs), impl_lean.w3(**kwargs)
    last = lines.height + 3  # the copy of the first line, the reused number just before it
    codes = {(r, c) for r, c in ours.select("row", "code").iter_rows() if r >= last - 1}
    assert {(last - 1, "line-number-reused"), (last, "duplicate-line")} <= codes
    assert _mismatches("W3", ours, lean) == 0
    assert _mismatches("W3", ours, lean.filter(pl.col("code") != "line-number-reused")) > 0


def test_floor_w3_prints_its_times_and_ratios(files, capsys):
    from benchmarks import floor_w3

    floor_w3.main(["--invoices", str(files["invoices"]), "--portfolio", str(files["portfolio"]),
                   "--repeat", "1"])  # fmt: skip
    line = json.loads(capsys.readouterr().out)
    assert set(line) == {"scan_s", "lines_in_memory_s", "lines_streaming_s", "duplicates_pass_s",
                         "floor_in_memory_vs_scan", "floor_streaming_vs_scan"}  # fmt: skip
    assert all(v > 0 for v in line.values())
    assert floor_w3.duplicates_pass(files["invoices"]) > 0  # the generated copies are found


def test_run_prints_one_json_line_per_workload_with_the_issue_fields(tmp_path):
    results = tmp_path / "results.json"
    args = [
        "--quick",
        "--only",
        "W1",
        "--w1",
        "300",
        "--data",
        str(tmp_path),
        "--results",
        str(results),
    ]
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.strip())
    assert FIELDS <= set(line) and line["workload"] == "W1"
    assert line["mismatches_duckdb"] == 0 and line["mismatches_python"] == 0
    assert line["mismatches_cli"] == 0 and line["cli_note"].startswith("the command")
    assert line["mismatches_lean"] == 0 and line["lean_s"] > 0
    assert "extrapolated" in line["python_note"]
    assert results.read_text().strip() == done.stdout.strip()
    assert done.stderr == ""  # piped: no progress bar


@pytest.mark.parametrize("batch", [1_000_000, 3_000])
def test_price_slots_and_key_lookup_agree(files, store, monkeypatch, batch):
    """The dense month slots (tariffs.audit.due.Slots) find the same price rows as the lookup by
    key, on every schedule of the generated portfolio, in one slice or in many."""
    from tariffs.audit import batches, due
    from tariffs.audit.checks import audit
    from tariffs.audit.invoices import read_invoices

    monkeypatch.setattr(batches, "BATCH_ROWS", batch)
    contracts = read_portfolio(files["portfolio"], store.catalog)
    dense = audit(read_invoices(files["invoices"]), contracts, store)
    monkeypatch.setattr(due, "MAX_SLOTS", 0)
    keyed = audit(read_invoices(files["invoices"]), contracts, store)
    assert dense.findings.height > 100
    assert dense.findings.equals(keyed.findings)
    assert dense.notes == keyed.notes and dense.problems == keyed.problems


def test_audit_reports_differing_only_in_euros_or_copies_are_told_apart():
    cols = {"row": pl.Int64, "code": pl.String, "difference_eur": pl.Float64}
    ours = pl.DataFrame([(2, "a", 1.0), (3, "b", 2.0), (3, "c", 3.0)], schema=cols, orient="row")
    assert _mismatches("W3", ours, ours.reverse()) == 0
    euros = pl.DataFrame([(2, "a", 999.0), (3, "b", 2.0), (3, "c", 3.0)], schema=cols, orient="row")
    copies = pl.concat([ours, ours.tail(1)])
    assert _mismatches("W3", ours, euros) == 1
    assert _mismatches("W3", ours, copies) == 1
    assert _mismatches("W3", ours, ours.drop("difference_eur")) == 0  # the Python sample: codes
