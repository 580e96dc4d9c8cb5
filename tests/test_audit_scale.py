"""A 200,000-line invoice file audits through the polars pipeline (no timing assertion)."""

from pathlib import Path

import polars as pl

from tariffs.audit.checks import audit
from tariffs.audit.invoices import read_invoices
from tariffs.contract import load_contracts
from tariffs.series import load_store

FIX = Path(__file__).parent / "fixtures" / "invoices"
N = 200_000


def test_200k_lines_with_seeded_slips(tmp_path):
    i = pl.int_range(0, N, eager=True)
    quantity = (100 + i % 50).cast(pl.Float64)
    amount = (quantity * 20.51).round(2) + pl.Series(
        [0.1 if k % 1000 == 0 else 0.0 for k in range(N)]
    )
    frame = pl.DataFrame({
        "invoice": "F" + i.cast(pl.String), "contract": "conches-en-ouche", "term": "R1",
        "period": "2008-10", "quantity": quantity, "unit_price": 20.51,
        "amount_excl_vat": amount.round(2), "index:FOD": 117.61,
    })  # fmt: skip
    path = tmp_path / "big.parquet"
    frame.write_parquet(path)
    store = load_store(FIX / "indices")
    contracts = load_contracts([FIX / "contracts"], store.catalog)
    result = audit(read_invoices(path), contracts, store)
    assert result.lines == N
    assert result.findings["code"].unique().to_list() == ["amount-mismatch"]
    assert result.findings.height == N // 1000
    assert result.findings["row"].head(2).to_list() == [2, 1002]
    assert result.findings["difference_eur"].unique().to_list() == [0.1]
