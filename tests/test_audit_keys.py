"""The one-pass audit: integer keys, prices computed slice by slice, terms from a portfolio's frames.

The generated portfolio and invoices (benchmarks/generate.py) price with the genuine
bundled series; the in-memory store of the last tests is chosen for the arithmetic.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import memory_store, plain_contract
from hypothesis import given
from hypothesis import strategies as st

from tariffs.audit import batches
from tariffs.audit.checks import audit
from tariffs.audit.expected import cut_number
from tariffs.audit.invoices import read_invoices
from tariffs.contract import load_contracts
from tariffs.periods import first_day
from tariffs.portfolio import load_portfolio, read_portfolio
from tariffs.series import load_store

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package: run from the checkout

from benchmarks.generate import write  # noqa: E402

INDICES = ROOT / "indices"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    files = write(40, 6_000, 11, INDICES, tmp_path_factory.mktemp("keys"))
    store = load_store(INDICES)
    return files, store, read_portfolio(files["portfolio"], store.catalog)


def test_portfolio_frames_and_contract_objects_in_small_slices_agree(generated, monkeypatch):
    files, store, portfolio = generated
    whole = audit(read_invoices(files["invoices"]), portfolio, store)
    monkeypatch.setattr(batches, "BATCH_ROWS", 700)  # 9 slices, the engine asked 9 times
    sliced = audit(read_invoices(files["invoices"]), list(portfolio), store)
    assert whole.lines == sliced.lines >= 6_000  # the generator adds the duplicated lines
    assert whole.findings.equals(sliced.findings)
    assert whole.problems == sliced.problems
    codes = set(whole.findings["code"])
    assert {"unit-price-mismatch", "amount-mismatch", "duplicate-line", "unknown-contract"} <= codes
    # a copy found in a later slice than its first line names that line
    copies = whole.findings.filter(pl.col("code") == "duplicate-line")
    first = copies["message"].str.extract(r"line (\d+);").cast(pl.Int64)
    assert (first < copies["row"]).all()
    assert ((copies["row"] - 2) // 700 > (first - 2) // 700).any()


def test_toml_contracts_beside_a_table_audit_as_alone(generated):
    # the TOML contract's terms and stated VAT rates come from its objects, the table's from frames
    _, store, _ = generated
    fixtures = ROOT / "tests" / "fixtures" / "invoices"
    invoices = fixtures / "conches-en-ouche-2008-2009.csv"
    mixed = load_portfolio([fixtures / "contracts", generated[0]["portfolio"]], store.catalog)
    alone = load_contracts([fixtures / "contracts"], store.catalog)
    assert len(mixed.loaded) == 1 and mixed.contracts == 41
    both, one = (
        audit(read_invoices(invoices), mixed, store),
        audit(read_invoices(invoices), alone, store),
    )
    assert both.findings.equals(one.findings)
    assert {"vat-rate-mismatch", "unknown-term", "duplicate-line"} <= set(one.findings["code"])


def test_engine_messages_read_as_for_one_call_when_asked_slice_by_slice(tmp_path, monkeypatch):
    # I1 lacks 2021-03 and 2021-04: two monthly revision dates cannot be priced
    store = memory_store({"I1": [(f"2021-{m:02d}", 100.0 + m) for m in (1, 2, 5, 6)]
                          + [("2020-01", 100.0)]})  # fmt: skip
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], frequency="monthly", kdec=4, pdec=2)
    body = "".join(f"F{m},1,c1,P1,2021-0{m},100,50,5000\n" for m in (2, 3, 4, 5))
    path = tmp_path / "inv.csv"
    path.write_text(
        "invoice,line,contract,term,period,quantity,unit_price,amount_excl_vat\n" + body
    )
    one = audit(read_invoices(path), [c], store)
    monkeypatch.setattr(batches, "BATCH_ROWS", 1)
    four = audit(read_invoices(path), [c], store)
    blocked = [(r["row"], r["code"]) for r in four.findings.iter_rows(named=True) if r["blocked"]]
    assert blocked == [(3, "missing-index"), (4, "missing-index")]
    assert four.findings.equals(one.findings)
    assert len(one.problems) == 1 and "later revision date" in one.problems[0]
    assert four.problems == one.problems


def test_dates_priced_ahead_for_later_slices_never_add_messages(tmp_path, monkeypatch):
    # the first slice (2021-02, 2021-06) makes the engine price every monthly date between them,
    # 2021-03 and 2021-04 included, which lack I1 values; no line bills those months
    store = memory_store({"I1": [(f"2021-{m:02d}", 100.0 + m) for m in (1, 2, 5, 6)]
                          + [("2020-01", 100.0)]})  # fmt: skip
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], frequency="monthly", kdec=4, pdec=2)
    body = "".join(f"F{m},1,c1,P1,2021-0{m},100,50,5000\n" for m in (2, 6, 5))
    path = tmp_path / "inv.csv"
    path.write_text(
        "invoice,line,contract,term,period,quantity,unit_price,amount_excl_vat\n" + body
    )
    one = audit(read_invoices(path), [c], store)
    monkeypatch.setattr(batches, "BATCH_ROWS", 2)
    two = audit(read_invoices(path), [c], store)
    assert one.problems == two.problems == []
    assert two.findings.equals(one.findings)
    assert set(one.findings["code"]) == {"unit-price-mismatch"}


@given(
    month=st.integers(1990 * 12, 2030 * 12),
    cuts=st.lists(st.dates(date(1990, 1, 1), date(2030, 12, 31)), max_size=6, unique=True),
)
def test_cut_by_month_number_is_the_cut_of_the_months_last_day(month, cuts):
    series = pl.Series([date(1, 1, 1), *sorted(cuts)], dtype=pl.Date)
    last_day = date.fromordinal(first_day(month + 1).toordinal() - 1)
    frame = pl.DataFrame({"month": [month], "invoice_date": [None]}, schema_overrides={
        "invoice_date": pl.Date})  # fmt: skip
    by_month = frame.select(cut_number(pl.col("month"), None, series))["cut_no"][0]
    dated = frame.with_columns(pl.lit(last_day).alias("invoice_date"))
    by_date = dated.select(cut_number(pl.col("month"), pl.col("invoice_date"), series))["cut_no"][0]
    expected = sum(1 for c in series[1:] if c <= last_day)
    assert by_month == by_date == expected
    assert (
        frame.select(cut_number(pl.col("month"), pl.col("invoice_date"), series)).item() == expected
    )
