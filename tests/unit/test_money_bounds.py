"""Amounts with absurd digit counts are a clean ValueError, not decimal.InvalidOperation (found by
bench/fuzz.py on a CSV: « 99999999999999999999999999999,99 » crashed the import, issue #11)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relance.core.money import parse_amount


@pytest.mark.parametrize("text", ["99999999999999999999999999999,99", "1234567890123456789012,5",
                                  "9" * 60, "-" + "9" * 30 + ",1"])
def test_too_many_digits_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="trop grand"):
        parse_amount(text)


def test_ordinary_amounts_unchanged() -> None:
    assert parse_amount("1 553,84") == Decimal("1553.84")
    assert parse_amount("999999999999999999999") == Decimal("999999999999999999999.00")
