"""The straightforward per-row Python a spreadsheet user would write (on a sample).

One dict lookup per index value, one loop iteration per contract × term ×
date (or per invoice line), ``Decimal`` rounding as ``ROUND()`` does in a
spreadsheet. It runs on the first ``sample`` rows of the input (a prefix, so
duplicated invoice lines keep their first copy), and the caller extrapolates
linearly to the whole input; the index store (and for W3 the contracts) is read once:
that time is returned apart (``setup``) and added once, not extrapolated.
"""

from __future__ import annotations

import csv
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from benchmarks.generate import W1_AT, W2_FROM, W2_TO

STEP = {"yearly": 12, "quarterly": 3, "monthly": 1}


def read_values(indices: Path) -> dict[tuple[str, int], float]:
    """(series, month index) -> current value (latest ``published``), from the store's CSVs."""
    from tariffs.series.catalog import load_catalog

    values, when = {}, {}
    for info in load_catalog(indices / "catalog.toml").values():
        if not info.file:
            continue
        with open(indices / info.file, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                year, month = row["period"][:4], row["period"][5:7]
                if not month.isdigit():
                    continue
                key = (info.id, int(year) * 12 + int(month) - 1)
                published = row.get("published") or ""
                if key not in when or published >= when[key]:
                    values[key], when[key] = float(row["value"]), published
    return values


def read_rows(path: Path, limit: int) -> list[dict]:
    """The first ``limit`` rows of a Parquet file, as dicts."""
    rows: list[dict] = []
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        rows.extend(batch.to_pylist())
        if len(rows) >= limit:
            break
    return rows[:limit]


def whole_contracts(rows: list[dict]) -> list[dict]:
    """A prefix of the portfolio without its last contract, which the cut may have truncated."""
    last = rows[-1]["contract"] if rows else None
    return [r for r in rows if r["contract"] != last]


def contracts_of(rows: list[dict]) -> dict[str, dict]:
    """Group the portfolio rows: contract -> {fields, terms: {code: {fields, indices: [...]}}}."""
    out: dict[str, dict] = {}
    for r in rows:
        c = out.setdefault(r["contract"], {**r, "terms": {}})
        t = c["terms"].setdefault(r["term"], {**r, "indices": []})
        if r["series"]:
            t["indices"].append(r)
    return out


def month_of(text: str) -> int:
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def mean(values: dict, series: str, last: int, window: int) -> float | None:
    total = 0.0
    for m in range(last - window + 1, last + 1):
        v = values.get((series, m))
        if v is None:
            return None
        total += v
    return total / window


def price_at(c: dict, term: dict, at: int, values: dict) -> tuple[float | None, float | None]:
    """K and price of one term at one revision date."""
    rule = c["index_rule"] or "lag"
    lag = c["lag_months"] or 0
    window = (c["window_months"] or 12) if rule == "mean" else 1
    k = term["fixed"] or 0.0
    for i in term["indices"]:
        now = mean(values, i["series"], at - lag, window)
        base = i["base_value"] or mean(values, i["series"], month_of(term["base_period"]), window)
        if now is None or base is None:
            return None, None
        k += i["weight"] * now / base
    if c["coefficient_decimals"] is None:
        return k, term["base_price"] * k
    k = _round(k + 1e-9 * 10.0 ** -c["coefficient_decimals"], c["coefficient_decimals"])  # ties
    price = Decimal(repr(term["base_price"])) * k  # exact, as the contract's arithmetic
    if c["price_decimals"] is not None:
        price = price.quantize(Decimal(1).scaleb(-c["price_decimals"]), rounding=ROUND_HALF_UP)
    return float(k), float(price)


def _round(x: float, decimals: int) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def schedule(c: dict, first: int, last: int) -> list[int]:
    start = month_of(c["start"])
    end = month_of(c["end"]) if c["end"] else last
    rev = (c["month"] or int(c["start"][5:7])) - 1
    step = STEP[c["frequency"]]
    return [m for m in range(max(start, first), min(end, last) + 1) if (m - rev) % step == 0]


def last_date(c: dict, month: int) -> int | None:
    """The latest revision date on or before ``month`` (None before the start)."""
    rev = (c["month"] or int(c["start"][5:7])) - 1
    at = month - (month - rev) % STEP[c["frequency"]]
    return at if at >= month_of(c["start"]) else None


def w1(portfolio: Path, indices: Path, sample: int, **_) -> tuple[pl.DataFrame, float, int, float]:
    start = time.perf_counter()
    values = read_values(indices)
    t0 = time.perf_counter()
    out, rows = [], whole_contracts(read_rows(portfolio, sample))
    for cid, c in contracts_of(rows).items():
        if c["end"] and month_of(c["end"]) < W1_AT:
            continue
        at = last_date(c, W1_AT)
        if at is None:
            continue
        for code, term in c["terms"].items():
            out.append((cid, code, at, *price_at(c, term, at, values)))
    return _frame(out), time.perf_counter() - t0, len(rows), t0 - start


def w2(portfolio: Path, indices: Path, sample: int, **_) -> tuple[pl.DataFrame, float, int, float]:
    start = time.perf_counter()
    values = read_values(indices)
    t0 = time.perf_counter()
    out, rows = [], whole_contracts(read_rows(portfolio, sample))
    for cid, c in contracts_of(rows).items():
        for at in schedule(c, W2_FROM, W2_TO):
            for code, term in c["terms"].items():
                out.append((cid, code, at, *price_at(c, term, at, values)))
    return _frame(out), time.perf_counter() - t0, len(rows), t0 - start


def _frame(rows: list[tuple]) -> pl.DataFrame:
    schema = {"contract": pl.String, "term": pl.String, "at": pl.Int64, "coefficient": pl.Float64,
              "price": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def w3(portfolio: Path, indices: Path, invoices: Path, sample: int, **_):
    """Per line: look the contract up, find its revision date, recompute K and price, compare."""
    start = time.perf_counter()
    values = read_values(indices)
    contracts = contracts_of(pq.read_table(portfolio).to_pylist())
    vat = list(csv.DictReader(open(Path(__file__).parents[1] / "tariffs/audit/vat_rates.csv")))
    t0 = time.perf_counter()
    seen, out = set(), []
    for n, line in enumerate(read_rows(invoices, sample)):
        row = n + 2
        key = (line["invoice"], line["line"])
        c = contracts.get(line["contract"])
        if key in seen:
            out.append((row, "duplicate-line"))
            continue
        seen.add(key)
        if c is None:
            out.append((row, "unknown-contract"))
            continue
        term = c["terms"].get(line["term"])
        month = month_of(line["period"])
        if term is None:
            out.append((row, "unknown-term"))
            continue
        if month < month_of(c["start"]) or (c["end"] and month > month_of(c["end"])):
            out.append((row, "period-outside-contract"))
            continue
        at = last_date(c, month)
        k, price = price_at(c, term, at, values) if at is not None else (None, None)
        if price is None:
            out.append((row, "missing-index"))
            continue
        q, p = line["quantity"], line["unit_price"]
        if abs(p - price) > 1e-7:
            out.append((row, "unit-price-mismatch"))
        if abs(line["amount_excl_vat"] - q * p) > 0.005001:
            out.append((row, "amount-mismatch"))
        due = _vat_due(vat, line["vat_rate"], f"{line['period']}-01")
        wrong_rate = due is not None and abs(line["vat_rate"] - due) > 1e-6
        if wrong_rate:
            out.append((row, "vat-rate-mismatch"))
        rate = line["vat_rate"] if line["vat_rate"] is not None else due
        incl = line["amount_incl_vat"]
        if (
            incl is not None
            and not wrong_rate
            and rate is not None
            and abs(incl - line["amount_excl_vat"] * (1 + rate)) > 0.005001
        ):
            out.append((row, "vat-amount-mismatch"))
    frame = pl.DataFrame(out, schema={"row": pl.Int64, "code": pl.String}, orient="row")
    return frame, time.perf_counter() - t0, sample, t0 - start


def _vat_due(table: list[dict], billed: float | None, day: str) -> float | None:
    if billed is None:
        return None
    now = [r for r in table if r["since"] <= day and (not r["until"] or r["until"] >= day)]
    for r in now:
        if abs(float(r["rate"]) - billed) < 1e-9:
            return billed
    cats = {r["category"] for r in table if abs(float(r["rate"]) - billed) < 1e-9}
    return next((float(r["rate"]) for r in now if r["category"] in cats), None)


def scan(**_) -> pl.DataFrame:  # pragma: no cover - the floor is measured with polars
    raise NotImplementedError
