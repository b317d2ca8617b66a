"""French (and English) presentation of amounts and dates, through Babel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from .money import to_cents

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
NNBSP = "\u202f"  # Babel's thousands separator in French


def _locale(language: str) -> str:
    return LOCALES.get(language, "fr_FR")


def money(amount: Decimal, currency: str = "EUR", language: str = "fr") -> str:
    """``1 234,56 €`` in French (narrow no-break spaces), ``€1,234.56`` in English.

    Euros in French, the common case (the reasons of every line of a bank statement are written
    with it), are written without Babel's cost, exactly as Babel writes them."""
    if currency == "EUR" and _locale(language) == "fr_FR" and isinstance(amount, Decimal) and amount.is_finite():
        return _french_euros(amount)
    return format_currency(to_cents(amount), currency, locale=_locale(language))


def _french_euros(amount: Decimal) -> str:
    """``1 234,56 €``: narrow no-break space between thousands, no-break space before €."""
    cents = to_cents(amount)
    sign = "-" if cents.is_signed() else ""  # as Babel: « -0,00 € » for -0.001
    whole, _, frac = f"{abs(cents):.2f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{NNBSP.join(groups)},{frac}\xa0€"


def number(value: Decimal, language: str = "fr", digits: int = 2) -> str:
    fmt = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=fmt, locale=_locale(language))


def long_date(day: date, language: str = "fr") -> str:
    """``23 novembre 2026`` / ``23 November 2026``; the first of the month is ``1er``."""
    text = format_date(day, format="long", locale=_locale(language))
    if language == "fr" and day.day == 1:
        text = "1er" + text[1:]
    return text


def short_date(day: date, language: str = "fr") -> str:
    """``23/11/2026`` in French, ``23/11/2026`` in British English too."""
    return day.strftime("%d/%m/%Y")


_VOWELS = set("aeiouyàâäéèêëîïôöùûüœæAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ")


def de(name: str) -> str:
    """French « de » before a name, elided before a vowel: « d’Atelier Lumière », « de Garage Martin »."""
    return f"d’{name}" if name[:1] in _VOWELS else f"de {name}"
