import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariffs.periods import (
    format_month,
    format_quarter,
    months_of_period,
    normalise_period,
    parse_month,
    parse_period,
    parse_quarter,
)


@given(st.integers(min_value=1900 * 12, max_value=2200 * 12))
def test_month_round_trip(index):
    assert parse_month(format_month(index)) == index


@given(st.integers(min_value=1900 * 4, max_value=2200 * 4))
def test_quarter_round_trip(index):
    assert parse_quarter(format_quarter(index)) == index


def test_insee_quarter_spelling_is_normalised():
    assert normalise_period("2023-T3") == "2023-Q3"
    assert months_of_period("2023-Q3") == [
        parse_month("2023-07"),
        parse_month("2023-08"),
        parse_month("2023-09"),
    ]


@pytest.mark.parametrize("bad", ["2023-13", "2023-00", "23-01", "2023-Q5", "2023/01", ""])
def test_bad_periods_are_refused(bad):
    with pytest.raises(ValueError, match="expected"):
        parse_period(bad)
