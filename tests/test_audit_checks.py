"""The audit pipeline on in-memory contracts and stores.

Index values here are chosen for the arithmetic (as in tests/cases), not
published figures; the genuine-data audit is in test_audit_cli.py.
"""

from datetime import date
from decimal import Decimal

from conftest import memory_store, plain_contract

from tariffs.audit.checks import audit
from tariffs.audit.invoices import read_invoices
from tariffs.model import VatRate

HEADER = "invoice,line,contract,term,period,quantity,unit_price,amount_excl_vat,coefficient,vat_rate,index:I1\n"
# K = 0.2 + 0.8 × I/100, 4 decimals; price = 50 × K, 2 decimals. I1 2021-01: provisional 110
# (published 2021-02-10), definitive 111 (published 2021-04-10).
STORE = {"I1": [("2020-01", 100.0), ("2021-01", 110.0, "provisional", date(2021, 2, 10)),
                ("2021-01", 111.0, "definitive", date(2021, 4, 10))]}  # fmt: skip


def run(tmp_path, body: str, **contract):
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], kdec=4, pdec=2, **contract)
    return audit(read_invoices(path), [c], memory_store(STORE))


def codes(result):
    return [
        (r["row"], r["code"], r["difference_eur"]) for r in result.findings.iter_rows(named=True)
    ]


def test_provisional_value_used_at_billing_time_is_not_an_error(tmp_path):
    result = run(tmp_path, "F1,1,c1,P1,2021-02,100,54.00,5400,1.08,0.2,110\n")
    assert codes(result) == []
    (note,) = result.notes
    assert note["provisional_value"] == 110.0 and note["current_value"] == 111.0
    assert note["effect_eur"] == 40.0  # 100 MWh × (54.40 − 54.00)


def test_provisional_value_never_regularised(tmp_path):
    result = run(tmp_path, "F3,1,c1,P1,2021-05,100,54.00,5400,1.08,0.2,110\n")
    assert codes(result) == [(2, "index-value-mismatch", -40.0)]


def test_k_rounded_beyond_the_clause_is_the_root_cause(tmp_path):
    result = run(tmp_path, "F1,1,c1,P1,2021-06,100,54.45,5445,1.089,0.2,\n")
    assert codes(result) == [(2, "coefficient-mismatch", 5.0)]


def test_unit_price_alone(tmp_path):
    result = run(tmp_path, "F1,1,c1,P1,2021-06,1000,54.41,54410,,0.2,\n")
    assert codes(result) == [(2, "unit-price-mismatch", 10.0)]


def test_vat_rate_of_another_period(tmp_path):
    result = run(tmp_path, "F1,1,c1,P1,2021-06,100,54.40,5440,,0.196,\n")
    assert codes(result) == [(2, "vat-rate-mismatch", -21.76)]


def test_blocked_lines_are_reported_never_counted_correct(tmp_path):
    body = (
        "F1,1,c2,P1,2021-06,100,54.40,5440,,0.2,\n"
        "F1,2,c1,P9,2021-06,100,54.40,5440,,0.2,\n"
        "F1,3,c1,P1,2019-06,100,54.40,5440,,0.2,\n"
        "F1,4,c1,P1,2021-06,100,n/a,5440,,0.2,\n"
        "F1,5,c1,P1,2031-06,100,54.40,5440,,0.2,\n"
    )
    result = run(tmp_path, body)
    assert [(r, c) for r, c, _ in codes(result)] == [
        (2, "unknown-contract"), (3, "unknown-term"), (4, "period-outside-contract"),
        (5, "invalid-line"), (6, "missing-index"),
    ]  # fmt: skip
    assert result.findings["blocked"].all()


def test_contract_vat_rate_dated(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(HEADER + "F1,1,c1,P1,2021-06,100,54.40,5440,,0.2,\n", encoding="utf-8")
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], kdec=4, pdec=2)
    term = c.terms[0].__class__(
        **{**c.terms[0].__dict__, "vat_rates": (VatRate(Decimal("0.055")),)}
    )
    c = c.__class__(**{**c.__dict__, "terms": (term,)})
    result = audit(read_invoices(path), [c], memory_store(STORE))
    assert codes(result) == [(2, "vat-rate-mismatch", 788.8)]  # 5440 × (0.2 − 0.055)


def test_rate_that_is_no_french_vat_rate(tmp_path):
    result = run(tmp_path, "F1,1,c1,P1,2021-06,100,54.40,5440,,0.21,\n")
    (finding,) = result.findings.iter_rows(named=True)
    assert finding["code"] == "vat-rate-mismatch" and finding["difference_eur"] is None
    assert "no French VAT rate" in finding["message"]


def test_unregularised_value_is_named_as_such(tmp_path):
    result = run(tmp_path, "F3,1,c1,P1,2021-05,100,54.00,5400,1.08,0.2,110\n")
    assert (
        "earlier (provisional) value published 2021-02-10, not regularised"
        in result.findings["message"][0]
    )


def test_energy_basis_mismatch_has_no_invented_euros(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(
        "contract,term,period,quantity,quantity_unit,unit_price,amount_excl_vat\n"
        "c1,P1,2021-06,100,MWh_PCI,54.40,5440\n",
        encoding="utf-8",
    )
    c = plain_contract("c1", 50, 0.2, [("I1", 0.8)], kdec=4, pdec=2)
    result = audit(read_invoices(path), [c], memory_store(STORE))
    assert codes(result) == [(2, "energy-basis-mismatch", None)]
    assert "MWh PCI" in result.findings["message"][0]
