"""Amounts typed the French or the English way, and rounding to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.formatting import number
from relance.core.money import CENT, ZERO, parse_amount, to_cents

NBSP = "\u00a0"  # no-break space
NNBSP = "\u202f"  # narrow no-break space (Babel's French group separator)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234.567,89", "1234567.89"),
        ("1,234,567.89", "1234567.89"),
        ("12 €", "12.00"),
        ("12€", "12.00"),
        ("12,50 EUR", "12.50"),
        ("12,50 eur", "12.50"),
        (f"1{NBSP}234,56", "1234.56"),
        (f"1{NNBSP}234,56", "1234.56"),
        (f"1{NNBSP}234,56{NBSP}€", "1234.56"),
        ("  42  ", "42.00"),
        ("-12,5", "-12.50"),
        ("+7", "7.00"),
        ("0,05", "0.05"),
        ("1234,5600", "1234.56"),  # trailing zeros beyond the cent are harmless when unambiguous
        ("1'234.56", "1234.56"),  # Swiss grouping
    ],
)
def test_parse_amount_accepts_french_and_english_forms(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2  # always quantised to the cent


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "12a",
        "12,34,56",  # two commas, no dot
        "1.2.3",
        "1,2,3.45",  # groups of thousands must have three digits
        "1.2,50",
        "12.34.56,78",
        "€12",
        "12-",
        "--12",
        "1e3",
        ".5",
        "5.",
        "NaN",
        "Infinity",
    ],
)
def test_parse_amount_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="montant illisible"):
        parse_amount(text)


@pytest.mark.parametrize("text", ["1,234", "12.345", "0,005", "1,000", "1.500", "2,675", "1,2345"])
def test_parse_amount_rejects_three_or_more_significant_decimals(text: str) -> None:
    # "1,000" must never silently become 1.00 (it is one thousand written the English way)
    with pytest.raises(ValueError, match="plus de deux décimales"):
        parse_amount(text)


@pytest.mark.parametrize("text", ["", "   ", "€", " EUR ", NBSP, NNBSP])
def test_parse_amount_rejects_empty(text: str) -> None:
    with pytest.raises(ValueError, match="montant vide"):
        parse_amount(text)


@given(st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_french_formatting_round_trips(value: Decimal) -> None:
    text = number(value, "fr")
    parsed = parse_amount(text)
    assert parsed == value
    assert parsed.as_tuple().exponent == -2


@given(st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_english_formatting_round_trips(value: Decimal) -> None:
    assert parse_amount(number(value, "en")) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("2.675", "2.68"),  # the float 2.675 rounds down to 2.67: Decimal must not
        ("2.665", "2.67"),  # half-up, not half-even
        ("0.004", "0.00"),
        ("-0.005", "-0.01"),  # half away from zero
        ("-2.675", "-2.68"),
        ("10", "10.00"),
        ("1234.5649", "1234.56"),
    ],
)
def test_to_cents_rounds_half_up(value: str, expected: str) -> None:
    result = to_cents(Decimal(value))
    assert result == Decimal(expected)
    assert str(result) == expected


def test_constants() -> None:
    assert CENT == Decimal("0.01")
    assert str(ZERO) == "0.00"
