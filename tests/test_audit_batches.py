"""The audit in row batches: same findings and line numbers as in one batch; revision dates;
duplicates across batches; typed Parquet columns read as the same numbers as CSV text.

Index values here are chosen for the arithmetic (as in test_audit_checks.py), not published figures.
"""

import io
from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from conftest import memory_store, plain_contract

from tariffs.audit import batches, due
from tariffs.audit.checks import audit
from tariffs.audit.invoices import read_invoices
from tariffs.formulas import formulas_of, revision_months

HEADER = "invoice,line,contract,term,period,quantity,unit_price,amount_excl_vat,coefficient,vat_rate,index:I1\n"
STORE = {"I1": [("2020-01", 100.0), ("2021-01", 110.0, "provisional", date(2021, 2, 10)),
                ("2021-01", 111.0, "definitive", date(2021, 4, 10))]}  # fmt: skip
BODY = (
    "F1,1,c1,P1,2021-06,100,54.40,5440,,0.2,\n"  # correct
    "F1,2,c1,P1,2021-06,1000,54.41,54410,,0.2,\n"  # unit price
    "F1,3,c2,P1,2021-06,100,54.40,5440,,0.2,\n"  # unknown contract
    "F1,1,c1,P1,2021-06,100,54.40,5440,,0.2,\n"  # copy of line 2 of the file
    "F1,4,c1,P1,2021-06,100,54.40,5440.10,,0.2,\n"  # amount slip
    "F3,1,c1,P1,2021-05,100,54.00,5400,1.08,0.2,110\n"  # provisional value never regularised
    "F1,2,c1,P1,2021-06,1000,54.41,54410,,0.2,\n"  # copy of line 3
    "F2,1,c1,P1,2021-02,100,54.00,5400,1.08,0.2,110\n"  # provisional used correctly: a note
)


def run(path):
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], kdec=4, pdec=2)
    return audit(read_invoices(path), [c], memory_store(STORE))


@pytest.mark.parametrize("slots", [32_000_000, 0])  # dense month slots, or the look-up by key
@pytest.mark.parametrize("rows", [1, 2, 3, 1_000_000])
def test_batches_of_any_size_give_the_same_findings(tmp_path, monkeypatch, rows, slots):
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + BODY, encoding="utf-8")
    monkeypatch.setattr(batches, "BATCH_ROWS", rows)
    monkeypatch.setattr(due, "MAX_SLOTS", slots)
    result = run(path)
    assert result.lines == 8
    found = [
        (r["row"], r["code"], r["difference_eur"]) for r in result.findings.iter_rows(named=True)
    ]
    assert found == [
        (3, "unit-price-mismatch", 10.0), (4, "unknown-contract", None),
        (5, "duplicate-line", 5440.0), (6, "amount-mismatch", 0.1),
        (7, "index-value-mismatch", -40.0), (8, "duplicate-line", 54410.0),
    ]  # fmt: skip
    messages = result.findings.filter(pl.col("code") == "duplicate-line")["message"].to_list()
    assert messages == ["same line as line 2; billed twice", "same line as line 3; billed twice"]
    (note,) = result.notes
    assert note["lines"] == [9] and note["effect_eur"] == 40.0


def test_typed_parquet_columns_read_as_the_csv_text(tmp_path):
    csv = tmp_path / "inv.csv"
    csv.write_text(HEADER + BODY, encoding="utf-8")
    parquet = tmp_path / "inv.parquet"
    typed = pl.read_csv(csv, schema_overrides={"invoice": pl.String, "line": pl.Int64})
    assert typed.schema["quantity"] == pl.Int64 and typed.schema["unit_price"] == pl.Float64
    typed.write_parquet(parquet)
    from_csv, from_parquet = run(csv), run(parquet)
    assert from_parquet.findings.equals(from_csv.findings)
    assert from_parquet.notes == from_csv.notes


def test_missing_typed_number_is_an_invalid_line(tmp_path):
    path = tmp_path / "inv.parquet"
    pl.DataFrame({
        "contract": ["c1", "c1"], "term": ["P1", "P1"], "period": ["2021-06", "2021-06"],
        "quantity": [100.0, None], "unit_price": [54.40, 54.40], "amount_excl_vat": [5440.0, 5440.0],
    }).write_parquet(path)  # fmt: skip
    result = run(path)
    (row,) = result.findings.iter_rows(named=True)
    assert (row["row"], row["code"]) == (3, "invalid-line")
    assert row["message"] == "quantity: expected a number, got ''"


@pytest.mark.parametrize(
    ("frequency", "month", "start"), [("yearly", 7, "2010-03"), ("yearly", 1, "2010-01"),
                                      ("quarterly", 2, "2011-08"), ("monthly", 7, "2012-05")]
)  # fmt: skip
def test_revision_date_by_expression_is_the_schedule(frequency, month, start):
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], frequency=frequency,
                       start=date.fromisoformat(start + "-01"))  # fmt: skip
    c = replace(c, revision=replace(c.revision, month=month))
    params = formulas_of([c]).params
    first = params["start_month"][0]
    months = pl.DataFrame({"contract": "c1", "month": range(first - 5, first + 40)})
    listed = months.join_asof(
        revision_months(params, 0, first + 40),
        left_on="month",
        right_on="at",
        by="contract",
        check_sortedness=False,
    )["at"]
    computed = months.join(params, on="contract").select(batches.revision_at(pl.col("month")))["at"]
    assert computed.to_list() == listed.to_list()
    assert computed.null_count() > 0 and computed.n_unique() > 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_month_slots_agree_with_the_key_lookup_on_random_schedules(tmp_path, monkeypatch, seed):
    """Yearly, quarterly and monthly schedules with stubs and end months, vintages published at
    several dates (several cuts), invoice dates or none, lines outside the contracts: the dense
    month slots and the look-up by key give the same findings, in one slice or many."""
    import random

    rng = random.Random(seed)
    points = [
        (f"{y}-{m:02d}", 100.0 + 3 * (y - 2019) + m)
        for y in range(2019, 2024)
        for m in range(1, 13)
    ]
    revised = [(p, v + 0.5, "definitive", date(int(p[:4]) + (p[5:] == "12"), int(p[5:]) % 12 + 1, 20))
               for p, v in points[::5]]  # fmt: skip
    provisional = [(p, v, "provisional", date(int(p[:4]) + (p[5:] == "12"), int(p[5:]) % 12 + 1, 1))
                   for p, v in points[::5]]  # fmt: skip
    store = memory_store({"I1": [p for p in points if p[0] not in {q[0] for q in revised}]
                                + provisional + revised})  # fmt: skip
    contracts = []
    for n in range(6):
        c = plain_contract(f"c{n}", 40 + n, 0.2, [("I1", 0.8)], start=date(2019, rng.randint(1, 12), 1),
                           frequency=rng.choice(["yearly", "quarterly", "monthly"]), lag=rng.randint(0, 3),
                           kdec=4, pdec=2)  # fmt: skip
        rev = replace(c.revision, month=rng.randint(1, 12))
        end = date(2022, rng.randint(1, 12), 28) if n % 2 else None
        contracts.append(replace(c, revision=rev, end=end))
    rows = []
    for i in range(400):
        y, m = rng.randint(2018, 2023), rng.randint(1, 12)
        day = (
            f"{y + (m == 12)}-{m % 12 + 1:02d}-{rng.randint(1, 28):02d}"
            if rng.random() < 0.6
            else ""
        )
        rows.append(f"F{i},1,c{rng.randint(0, 6)},P1,{y}-{m:02d},10,{rng.choice([50.0, 55.5, 60.12])},"
                    f"{rng.choice([500.0, 555.0, 601.2])},,0.2,,{day}")  # fmt: skip
    path = tmp_path / "inv.csv"
    path.write_text(HEADER.strip() + ",invoice_date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    results = []
    for rows_per_slice, slots in ((1_000_000, 32_000_000), (1_000_000, 0), (37, 32_000_000)):
        monkeypatch.setattr(batches, "BATCH_ROWS", rows_per_slice)
        monkeypatch.setattr(due, "MAX_SLOTS", slots)
        results.append(audit(read_invoices(path), contracts, store))
    codes = set(results[0].findings["code"])
    assert {"unit-price-mismatch", "period-outside-contract", "unknown-contract"} <= codes
    for other in results[1:]:
        assert other.findings.equals(results[0].findings)
        assert other.notes == results[0].notes and other.problems == results[0].problems


def test_each_checked_slice_is_reported_for_a_progress_bar(tmp_path, monkeypatch):
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + BODY, encoding="utf-8")
    monkeypatch.setattr(batches, "BATCH_ROWS", 3)
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], kdec=4, pdec=2)
    calls = []
    audit(read_invoices(path), [c], memory_store(STORE), on_slice=lambda *a: calls.append(a))
    assert calls == [(3, 8, 3), (6, 8, 3), (8, 8, 3)]


def test_pricing_the_billed_span_ahead_gives_the_same_findings(tmp_path, monkeypatch):
    """The dates of the billed months priced before any line is read (Due.price_span) or from
    the first slice's keys (Due.prime): same findings, notes and warnings."""
    from tariffs.audit import checks

    path = tmp_path / "inv.parquet"
    lines = pl.read_csv(
        io.StringIO(HEADER + BODY), schema_overrides={"invoice": pl.String, "line": pl.String}
    )
    pl.concat([lines] * 40).write_parquet(path)
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], kdec=4, pdec=2)
    store = memory_store(
        {"I1": [(f"{y}-{m:02d}", 100.0 + m) for y in (2019, 2020, 2021) for m in range(1, 13)]}
    )
    monkeypatch.setattr(batches, "BATCH_ROWS", 50)
    spans = []
    real = due.Due.price_span
    monkeypatch.setattr(due.Due, "price_span", lambda self, *a: spans.append(a) or real(self, *a))
    ahead = audit(read_invoices(path), [c], store)
    assert spans and spans[0][:2] == (2021 * 12 + 1, 2021 * 12 + 5)
    monkeypatch.setattr(checks, "_billed_span", lambda invoices: None)
    first = audit(read_invoices(path), [c], store)
    assert ahead.findings.height > 40 and ahead.findings.equals(first.findings)
    assert ahead.notes == first.notes and ahead.problems == first.problems


@pytest.mark.parametrize("rows", [1, 2, 3, 1_000_000])
def test_blank_lines_of_a_csv_do_not_hide_the_last_lines_of_a_sliced_file(
    tmp_path, monkeypatch, rows
):
    lines = BODY.splitlines(keepends=True)
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + "".join(lines[:2]) + "\n,,,,,,,,,,\n" + "".join(lines[2:]) + "\n")
    monkeypatch.setattr(batches, "BATCH_ROWS", rows)
    result = run(path)
    assert result.lines == 8
    found = [(r["row"], r["code"]) for r in result.findings.iter_rows(named=True)]
    assert found == [
        (3, "unit-price-mismatch"), (6, "unknown-contract"), (7, "duplicate-line"),
        (8, "amount-mismatch"), (9, "index-value-mismatch"), (10, "duplicate-line"),
    ]  # fmt: skip


@pytest.mark.parametrize("rows", [2, 1_000_000])
def test_several_blank_lines_are_never_copies_of_each_other(tmp_path, monkeypatch, rows):
    """The duplicates' hash pass reads the file as scanned, blank lines included: blank lines
    share a key, yet none is a line, so none is a copy; the lines are counted as checked."""
    lines = BODY.splitlines(keepends=True)
    blank = "\n,,,,,,,,,,\n" + " , ,,,,,,,,,\n"
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + "".join(lines[:2]) + blank + "".join(lines[2:]) + blank)
    monkeypatch.setattr(batches, "BATCH_ROWS", rows)
    result = run(path)
    assert result.lines == 8
    copies = result.findings.filter(pl.col("code") == "duplicate-line")
    assert copies.height == 2  # the two copies of BODY, no blank line
    # the same findings as when the hash pass reads the typed lines (blank ones dropped)
    monkeypatch.setattr(
        batches, "_keys_hashed",
        lambda invoices, key: invoices.frame.select("row", pl.struct(key).hash().alias("_h")),
    )  # fmt: skip
    assert run(path).findings.equals(result.findings)
