"""Amounts and dates as shown to debtors (Babel, CLDR)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.core.formatting import long_date, money, number, short_date
from relance.core.money import to_cents

NBSP = "\u00a0"
NNBSP = "\u202f"


def test_money_french_uses_narrow_nbsp_groups_and_nbsp_before_euro() -> None:
    assert money(Decimal("1234.56")) == f"1{NNBSP}234,56{NBSP}€"
    assert money(Decimal("1234.56")) == "1\u202f234,56\u00a0€"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", f"0,00{NBSP}€"),
        ("7.5", f"7,50{NBSP}€"),
        ("999.99", f"999,99{NBSP}€"),
        ("1000", f"1{NNBSP}000,00{NBSP}€"),
        ("1234567.89", f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        ("-1234.56", f"-1{NNBSP}234,56{NBSP}€"),
        ("-0.5", f"-0,50{NBSP}€"),
        ("2.675", f"2,68{NBSP}€"),  # rounded half-up to the cent before display
        ("0.005", f"0,01{NBSP}€"),
    ],
)
def test_money_french(amount: str, expected: str) -> None:
    assert money(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1234.56", "€1,234.56"),
        ("-1234.56", "-€1,234.56"),
        ("0.005", "€0.01"),
    ],
)
def test_money_english(amount: str, expected: str) -> None:
    assert money(Decimal(amount), language="en") == expected


def test_money_unknown_language_falls_back_to_french() -> None:
    assert money(Decimal("1234.56"), language="de") == f"1{NNBSP}234,56{NBSP}€"


def test_number() -> None:
    assert number(Decimal("1234.5")) == f"1{NNBSP}234,50"
    assert number(Decimal("-1234567.891"), digits=3) == f"-1{NNBSP}234{NNBSP}567,891"
    assert number(Decimal("1234.5"), "en") == "1,234.50"
    assert number(Decimal("1234"), digits=0) == f"1{NNBSP}234"


@pytest.mark.parametrize(
    ("day", "language", "expected"),
    [
        (date(2026, 11, 23), "fr", "23 novembre 2026"),
        (date(2026, 5, 1), "fr", "1er mai 2026"),
        (date(2026, 1, 1), "fr", "1er janvier 2026"),
        (date(2026, 2, 2), "fr", "2 février 2026"),
        (date(2026, 8, 15), "fr", "15 août 2026"),
        (date(2026, 12, 31), "fr", "31 décembre 2026"),
        (date(2026, 11, 23), "en", "23 November 2026"),
        (date(2026, 5, 1), "en", "1 May 2026"),  # no "1er" in English
    ],
)
def test_long_date(day: date, language: str, expected: str) -> None:
    assert long_date(day, language) == expected


def test_short_date() -> None:
    assert short_date(date(2026, 5, 1)) == "01/05/2026"
    assert short_date(date(2026, 11, 23), "en") == "23/11/2026"


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("-99999999.999"), max_value=Decimal("99999999.999"), places=3))
def test_euros_in_french_are_written_as_babel_writes_them(amount: Decimal) -> None:
    """Euros in French skip Babel (the reason of every bank line is written with them): same text."""
    assert money(amount) == format_currency(to_cents(amount), "EUR", locale="fr_FR")


def test_other_currencies_and_languages_go_through_babel() -> None:
    assert money(Decimal("1234.5"), "CHF") == format_currency(Decimal("1234.50"), "CHF", locale="fr_FR")
    assert money(Decimal("1234.5"), language="en") == "€1,234.50"
    assert money(Decimal("1234.5")) == f"1{NNBSP}234,50{NBSP}€"
    assert money(Decimal("-0.001")) == f"-0,00{NBSP}€"
