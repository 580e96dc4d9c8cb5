"""The same workloads in DuckDB SQL, written the way an analyst fluent in SQL would.

Independent of tariffs' code: the portfolio and invoices are read by DuckDB
from Parquet, the index values from the store's CSV files (``indices/*.csv``,
current vintage = latest ``published``). Scope: the rules the generated
portfolio uses (monthly series, ``lag`` and ``mean`` rules, plain terms, K
and prices rounded half-up); no chained series, no caps.

Notes
-----
K = fixed + Σ weight × I(at) / I0, with I(at) the mean of the monthly values of
``[at - lag - window + 1, at - lag]`` (all present, else missing) and I0 the
written base value, else the same mean at the base period;
coefficient = round(K, kdec) half-up, a tie decided within 1e-9 (float K = 1.00254999...
for an exact 1.00255: tariffs decides ties exactly in Decimal); price = round(base_price × coefficient, pdec), the product
taken in DECIMAL (exact) so that a tie such as 59.16 × 2.125 = 125.715 rounds up.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from benchmarks.generate import W1_AT, W2_FROM, W2_TO

CONTRACTS = """
CREATE TEMP TABLE t AS SELECT * FROM read_parquet('{portfolio}');
CREATE TEMP TABLE c AS
SELECT contract, any_value(frequency) AS frequency,
       coalesce(any_value(month), month(any_value(start::DATE))) AS rev_month,
       year(any_value(start::DATE)) * 12 + month(any_value(start::DATE)) - 1 AS start_m,
       year(any_value("end"::DATE)) * 12 + month(any_value("end"::DATE)) - 1 AS end_m,
       coalesce(any_value(index_rule), 'lag') AS rule, coalesce(any_value(lag_months), 0) AS lag,
       CASE WHEN coalesce(any_value(index_rule), 'lag') = 'mean'
            THEN coalesce(any_value(window_months), 12) ELSE 1 END AS win,
       any_value(coefficient_decimals) AS kdec, any_value(price_decimals) AS pdec
FROM t GROUP BY contract;
CREATE TEMP TABLE v AS
SELECT series, CAST(substr(period, 1, 4) AS INT) * 12 + CAST(substr(period, 6, 2) AS INT) - 1 AS m,
       arg_max(value, coalesce(published, DATE '0001-01-01')) AS value
FROM read_csv({csvs}, union_by_name = true, filename = true,
              columns = {{'period': 'VARCHAR', 'value': 'DOUBLE', 'status': 'VARCHAR', 'published': 'DATE'}})
     JOIN (SELECT unnest({ids}) AS series, unnest({files}) AS filename) USING (filename)
GROUP BY ALL;
"""

PRICES = """
WITH idx AS (
  SELECT d.contract, d.rev_at, t.term, t.series, t.weight, t.fixed, t.base_price, t.base_value,
         c.lag, c.win, c.rule, c.kdec, c.pdec,
         CAST(substr(t.base_period, 1, 4) AS INT) * 12 + CAST(substr(t.base_period, 6, 2) AS INT) - 1 AS base_m
  FROM dates d JOIN c USING (contract) JOIN t USING (contract)
),
cur AS (
  SELECT contract, rev_at, term, series, avg(v.value) AS value, count(v.value) AS n, any_value(win) AS win
  FROM (SELECT contract, rev_at, term, series, win, unnest(range(rev_at - lag - win + 1, rev_at - lag + 1)) AS m FROM idx) w
  LEFT JOIN v USING (series, m) GROUP BY ALL
),
base AS (
  SELECT contract, term, series, avg(v.value) AS value, count(v.value) AS n, any_value(win) AS win
  FROM (SELECT DISTINCT contract, term, series, win,
               unnest(range(base_m - win + 1, base_m + 1)) AS m FROM idx) w
  LEFT JOIN v USING (series, m) GROUP BY ALL
),
k AS (
  SELECT i.contract, i.term, i.rev_at, any_value(i.fixed) AS fixed, any_value(i.base_price) AS base_price,
         any_value(i.kdec) AS kdec, any_value(i.pdec) AS pdec,
         any_value(i.fixed) + sum(i.weight * cur.value /
             coalesce(i.base_value, CASE WHEN base.n = base.win THEN base.value END)) AS k_raw,
         bool_and(cur.n = cur.win AND (i.base_value IS NOT NULL OR base.n = base.win)) AS complete
  FROM idx i JOIN cur USING (contract, rev_at, term, series) JOIN base USING (contract, term, series)
  GROUP BY i.contract, i.term, i.rev_at
)
SELECT contract, term, rev_at AS "at", coefficient,
       CASE WHEN pdec IS NULL THEN base_price * coefficient  -- exact decimal product, rounded half-up
            ELSE (floor(CAST(base_price AS DECIMAL(12, 4)) * CAST(coefficient AS DECIMAL(12, 8))
                        * CAST(10 ** pdec AS DECIMAL(6, 0)) + 0.5) / 10 ** pdec)::DOUBLE END AS price
FROM (SELECT *, CASE WHEN NOT complete THEN NULL WHEN kdec IS NULL THEN k_raw
                     ELSE floor(k_raw * 10 ** kdec + 0.5 + 1e-9) / 10 ** kdec END
                AS coefficient FROM k)
"""

# latest schedule date <= a month: yearly / quarterly / monthly phase from the revision month
PHASE = "CASE c.frequency WHEN 'yearly' THEN 12 WHEN 'quarterly' THEN 3 ELSE 1 END"


def _connect(portfolio: Path, indices: Path) -> duckdb.DuckDBPyConnection:
    from tariffs.series.catalog import load_catalog  # only to list the CSV files of the store

    catalog = {i.id: i.file for i in load_catalog(indices / "catalog.toml").values() if i.file}
    files = [str(indices / f) for f in catalog.values()]
    con = duckdb.connect()
    con.execute(CONTRACTS.format(portfolio=portfolio, csvs=files, ids=list(catalog), files=files))
    return con


def w1(portfolio: Path, indices: Path, **_) -> pl.DataFrame:
    con = _connect(portfolio, indices)
    con.execute(f"""
        CREATE TEMP TABLE dates AS
        SELECT contract, {W1_AT} - (({W1_AT} - (rev_month - 1)) % {PHASE}) AS rev_at FROM c
        WHERE coalesce(end_m, {W1_AT}) >= {W1_AT}
          AND {W1_AT} - (({W1_AT} - (rev_month - 1)) % {PHASE}) >= start_m""")
    return con.sql(PRICES).pl()


def w2(portfolio: Path, indices: Path, **_) -> pl.DataFrame:
    con = _connect(portfolio, indices)
    con.execute(f"""
        CREATE TEMP TABLE dates AS
        SELECT contract, rev_at FROM (
          SELECT contract, rev_month, frequency,
                 unnest(range(greatest(start_m, {W2_FROM}), least(coalesce(end_m, {W2_TO}), {W2_TO}) + 1)) AS rev_at
          FROM c) c
        WHERE (rev_at - (rev_month - 1)) % {PHASE} = 0""")
    return con.sql(PRICES).pl()


def w3(portfolio: Path, indices: Path, invoices: Path, **_) -> pl.DataFrame:
    """Blocking findings, then unit price, amount, VAT rate and VAT amount checks per line."""
    con = _connect(portfolio, indices)
    vat = Path(__file__).parents[1] / "tariffs" / "audit" / "vat_rates.csv"
    con.execute(f"""
        CREATE TEMP TABLE l AS
        SELECT *, file_row_number + 2 AS row,
               CAST(substr(period, 1, 4) AS INT) * 12 + CAST(substr(period, 6, 2) AS INT) - 1 AS month
        FROM read_parquet('{invoices}', file_row_number = true);
        CREATE TEMP TABLE terms AS SELECT DISTINCT contract, term, unit FROM t;
        CREATE TEMP TABLE dates AS
        SELECT DISTINCT l.contract, l.month - ((l.month - (c.rev_month - 1)) % {PHASE}) AS rev_at
        FROM l JOIN c USING (contract);
        CREATE TEMP TABLE vat AS SELECT * FROM read_csv('{vat}', header = true);""")
    con.execute(f"CREATE TEMP TABLE p AS {PRICES}")
    # euros on the numbers as written (a double's shortest text, as DECIMAL), rounded to the cent
    # half away from zero (DuckDB's round of a DECIMAL), as tariffs computes them
    con.execute("CREATE MACRO d(x) AS CAST(CAST(x AS VARCHAR) AS DECIMAL(18, 6))")
    con.execute("CREATE MACRO cents(x) AS CAST(round(x, 2) AS DOUBLE)")
    return con.sql(f"""
        WITH lines AS (
          SELECT l.*, tm.unit, c.start_m, c.end_m, p.price AS exp_price, c.pdec,
                 row_number() OVER (PARTITION BY l.invoice, l.line ORDER BY l.row) AS copy,
                 c.contract IS NOT NULL AS known,
                 make_date(l.month // 12, l.month % 12 + 1, 1) AS day
          FROM l LEFT JOIN c USING (contract) LEFT JOIN terms tm USING (contract, term)
          LEFT JOIN p ON p.contract = l.contract AND p.term = l.term
                     AND p."at" = l.month - ((l.month - (c.rev_month - 1)) % {PHASE})
        ),
        combos AS (SELECT DISTINCT vat_rate, day FROM lines WHERE vat_rate IS NOT NULL),
        in_force AS (
          SELECT combos.vat_rate, combos.day, any_value(vat.rate) AS rate FROM combos
          JOIN vat ON abs(vat.rate - combos.vat_rate) < 1e-9 AND vat.since <= combos.day
                  AND (vat.until IS NULL OR vat.until >= combos.day) GROUP BY ALL
        ),
        by_category AS (  -- a rate not in force that day: the rate of its category then
          SELECT combos.vat_rate, combos.day, any_value(now.rate) AS rate FROM combos
          JOIN vat cat ON abs(cat.rate - combos.vat_rate) < 1e-9
          JOIN vat now ON now.category = cat.category AND now.since <= combos.day
                      AND (now.until IS NULL OR now.until >= combos.day) GROUP BY ALL
        ),
        due AS (
          SELECT vat_rate, day, coalesce(in_force.rate, by_category.rate) AS vat_due
          FROM combos LEFT JOIN in_force USING (vat_rate, day) LEFT JOIN by_category USING (vat_rate, day)
        ),
        checked AS (
          SELECT lines.*, due.vat_due,
                 CASE WHEN copy > 1 THEN 'duplicate-line' WHEN NOT known THEN 'unknown-contract'
                      WHEN unit IS NULL THEN 'unknown-term'
                      WHEN month < start_m OR month > end_m THEN 'period-outside-contract'
                      WHEN exp_price IS NULL THEN 'missing-index' END AS block,
                 CASE WHEN unit LIKE '%/MWh' THEN quantity ELSE quantity END AS q
          FROM lines LEFT JOIN due USING (vat_rate, day)
        )
        SELECT row, block AS code, CASE WHEN block = 'duplicate-line' THEN amount_excl_vat END AS difference_eur
          FROM checked WHERE block IS NOT NULL
        UNION ALL
        SELECT row, 'unit-price-mismatch', cents(d(q) * (d(unit_price) - d(exp_price))) FROM checked
          WHERE block IS NULL AND abs(unit_price - exp_price) > CASE WHEN pdec IS NULL THEN 0.005001 ELSE 1e-7 END
        UNION ALL
        SELECT row, 'amount-mismatch', cents(d(amount_excl_vat) - round(d(q) * d(unit_price), 2)) FROM checked
          WHERE block IS NULL AND abs(amount_excl_vat - q * unit_price) > 0.005001
        UNION ALL
        SELECT row, 'vat-rate-mismatch',
               coalesce(cents(d(amount_incl_vat) - round(d(amount_excl_vat) * (1 + d(vat_due)), 2)),
                        cents(d(amount_excl_vat) * (d(vat_rate) - d(vat_due)))) FROM checked
          WHERE block IS NULL AND abs(vat_rate - vat_due) > 1e-6
        UNION ALL
        SELECT row, 'vat-amount-mismatch',
               cents(d(amount_incl_vat) - round(d(amount_excl_vat) * (1 + d(coalesce(vat_rate, vat_due))), 2))
          FROM checked
          WHERE block IS NULL AND amount_incl_vat IS NOT NULL
            AND abs(amount_incl_vat - amount_excl_vat * (1 + coalesce(vat_rate, vat_due))) > 0.005001
            AND NOT coalesce(abs(vat_rate - vat_due) > 1e-6, false)  -- a wrong rate: its own finding
    """).pl()


def scan(portfolio: Path, invoices: Path | None = None, **_) -> pl.DataFrame:
    path = invoices or portfolio
    return duckdb.sql(f"SELECT count(*) AS n FROM read_parquet('{path}')").pl()
