"""Degree-day settlement of MCI/MTI contracts."""

from decimal import Decimal as D

import pytest

from tariffs.audit.settlement import check_billed, settle
from tariffs.model import Settlement

RULE = Settlement(target_mwh=D("1000"), reference_dju=D("2000"), savings_share=D("0.5"),
                  overrun_share=D("1"), franchise=D("0.02"))  # fmt: skip


def test_savings_give_a_shared_bonus_beyond_the_band():
    # adjusted target 1000 × 2200/2000 = 1100; gap 100; band 22; bonus 0.5 × 78 × 30
    result = settle(RULE, D("2200"), D("1000"), D("30"))
    assert result.adjusted_target_mwh == D("1100")
    assert result.amount_eur == D("1170.00")
    assert result.kind == "bonus"


def test_overrun_gives_a_penalty():
    # adjusted 900; gap -100; band 18; penalty 1 × 82 × 30
    result = settle(RULE, D("1800"), D("1000"), D("30"))
    assert result.amount_eur == D("-2460.00")
    assert result.kind == "penalty"


def test_inside_the_band_nothing_is_due():
    assert settle(RULE, D("2000"), D("1015"), D("30")).amount_eur == 0


def test_billed_settlement_checked():
    result = settle(RULE, D("2200"), D("1000"), D("30"))
    assert check_billed(result, D("1170.00"), D("0")) is None
    finding = check_billed(result, D("1500"), D("0"))
    assert finding["code"] == "settlement-mismatch"
    assert finding["difference_eur"] == pytest.approx(330.0)


def test_negative_dju_refused():
    with pytest.raises(ValueError):
        settle(RULE, D("-1"), D("1"), D("30"))
