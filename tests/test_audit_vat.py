"""Dated VAT rates: the rate due on a line depends on the billed month and the contract."""

from datetime import date
from decimal import Decimal as D

from tariffs.audit.vat import rate_due, rates_in_force
from tariffs.model import VatRate


def test_rates_in_force_by_period():
    assert rates_in_force(date(2013, 12, 1))["standard"] == D("0.196")
    assert rates_in_force(date(2014, 1, 1))["standard"] == D("0.200")
    assert rates_in_force(date(2012, 6, 1))["intermediate"] == D("0.070")
    assert rates_in_force(date(2014, 6, 1))["intermediate"] == D("0.100")
    assert "intermediate" not in rates_in_force(date(2011, 6, 1))
    assert rates_in_force(date(2005, 1, 1))["reduced"] == D("0.055")


def test_billed_rate_in_force_is_accepted():
    due, _ = rate_due(D("0.196"), (), date(2010, 1, 1))
    assert due == D("0.196")


def test_billed_rate_no_longer_in_force():
    due, why = rate_due(D("0.196"), (), date(2014, 3, 1))
    assert due == D("0.200")
    assert "not in force" in why


def test_contract_rate_follows_its_category_over_time():
    rates = (VatRate(D("0.196"), date(2001, 7, 1)), VatRate(D("0.055"), date(2009, 1, 1)))
    assert rate_due(D("0.196"), rates, date(2008, 12, 1))[0] == D("0.196")
    assert rate_due(D("0.196"), rates, date(2009, 1, 1))[0] == D("0.055")
    undated = (VatRate(D("0.196")),)
    assert rate_due(None, undated, date(2015, 1, 1))[0] == D("0.200")
