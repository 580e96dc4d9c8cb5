"""Euro figures of the audit: exact decimals of the numbers as written, rounded to the cent half
away from zero (a float product such as 151.41 × 0.5 = 75.70499… would round to 75.70)."""

from __future__ import annotations

import polars as pl

from tests.test_audit_inputs_more import audit_text, by_line


def test_ties_are_rounded_on_the_exact_figures(tmp_path):
    found = audit_text(
        tmp_path,
        "contract,term,period,quantity,unit_price,amount_excl_vat,vat_rate,amount_incl_vat\n"
        # R1 due 20.51 in 2008-10: 151.41 × (21.01 − 20.51) = 75.705
        "conches-en-ouche,R1,2008-10,151.41,21.01,3181.12,,\n"
        # 0.5 × 20.51 = 10.255 -> 10.26 due; billed 12.00
        "conches-en-ouche,R1,2008-10,0.5,20.51,12.00,,\n"
        # 12.50 × (1 + 0.055) = 13.1875 -> 13.19 due; billed 13.50: 0.31
        "conches-en-ouche,R1,2009-01,0.6094832,20.51,12.50,0.055,13.50\n",
    )
    by = by_line(found)
    floats = pl.select(pl.lit(151.41) * (pl.lit(21.01) - pl.lit(20.51))).item()
    assert round(floats, 2) == 75.7  # the float product is 75.70499…: floats alone miss the tie
    assert by[(2, "unit-price-mismatch")]["difference_eur"] == 75.71
    assert by[(3, "amount-mismatch")]["expected"] == 10.26
    assert by[(3, "amount-mismatch")]["difference_eur"] == 1.74
    assert by[(4, "vat-amount-mismatch")]["expected"] == 13.19
    assert by[(4, "vat-amount-mismatch")]["difference_eur"] == 0.31
    assert found.filter(pl.col("blocked")).height == 0
