"""Invoice numbers: the fast reading (one cast for plain and decimal-comma texts) equals the rule."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffs.audit.invoices import number, number_rule

ALPHABET = "0123456789" * 3 + ".,-+ e%€\u00a0\u202fx"
texts = st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=12)), min_size=1, max_size=60)


def _both(values: list[str | None]) -> tuple[list, list]:
    frame = pl.DataFrame({"t": values}, schema={"t": pl.String})
    rule = pl.col("t").pipe(number_rule)
    got = frame.select(
        number("t").alias("fast"), pl.when(rule.is_finite()).then(rule).alias("rule")
    )
    return got["fast"].to_list(), got["rule"].to_list()


@settings(max_examples=300, deadline=None)
@given(texts)
def test_fast_reading_equals_the_rule(values):
    fast, rule = _both(values)
    assert fast == rule


def test_the_usual_spellings():
    values = ["1234.5", "1 234,5", "1.234,5", "1,234.5", "20 %", "20,5", "-3,25", "", None,
              "abc", "1e3", "nan", "inf", "1\u00a0234,50 €", ",5", "5,"]  # fmt: skip
    fast, rule = _both(values)
    assert fast == rule
    assert fast[:7] == [1234.5, 1234.5, 1234.5, 1234.5, 20.0, 20.5, -3.25]
    assert fast[7:11] == [None, None, None, 1000.0] and fast[11:13] == [None, None]
    assert fast[13:] == [1234.5, 0.5, 5.0]
