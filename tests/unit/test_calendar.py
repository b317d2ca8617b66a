"""French business days: weekends and public holidays (metropolitan France, Alsace-Moselle)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from relance.core.calendar import FRANCE, BusinessCalendar

HOLIDAYS_2026 = [
    date(2026, 1, 1),  # Jour de l'an (Thursday)
    date(2026, 4, 6),  # Lundi de Pâques
    date(2026, 5, 1),  # Fête du travail (Friday)
    date(2026, 5, 8),  # Victoire 1945 (Friday)
    date(2026, 5, 14),  # Ascension (Thursday)
    date(2026, 5, 25),  # Lundi de Pentecôte
    date(2026, 7, 14),  # Fête nationale (Tuesday)
    date(2026, 8, 15),  # Assomption (Saturday)
    date(2026, 11, 1),  # Toussaint (Sunday)
    date(2026, 11, 11),  # Armistice (Wednesday)
    date(2026, 12, 25),  # Noël (Friday)
]


@pytest.mark.parametrize("day", HOLIDAYS_2026, ids=lambda d: d.isoformat())
def test_french_public_holidays_2026_are_not_business_days(day: date) -> None:
    assert FRANCE.is_holiday(day)
    assert not FRANCE.is_business_day(day)


def test_exactly_eleven_holidays_in_2026() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    assert [d for d in days if FRANCE.is_holiday(d)] == HOLIDAYS_2026


@pytest.mark.parametrize(
    "day",
    [date(2026, 4, 3), date(2026, 12, 24), date(2026, 12, 31), date(2026, 5, 15), date(2026, 11, 10)],
    ids=lambda d: d.isoformat(),
)
def test_ordinary_weekdays_are_business_days(day: date) -> None:
    # Good Friday, Christmas Eve, New Year's Eve, the "pont" after Ascension, the day before 11 Nov
    assert not FRANCE.is_holiday(day)
    assert FRANCE.is_business_day(day)


def test_weekends() -> None:
    assert not FRANCE.is_business_day(date(2026, 11, 21))  # Saturday
    assert not FRANCE.is_business_day(date(2026, 11, 22))  # Sunday
    assert FRANCE.is_business_day(date(2026, 11, 23))  # Monday
    assert not FRANCE.is_holiday(date(2026, 11, 21))  # a weekend is not a holiday


def test_on_or_after_is_identity_on_a_business_day() -> None:
    assert FRANCE.on_or_after(date(2026, 11, 23)) == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 4, 4), date(2026, 4, 7)),  # Easter weekend: Sat, Sun, Monday 6 April -> Tuesday
        (date(2026, 4, 6), date(2026, 4, 7)),
        (date(2026, 5, 23), date(2026, 5, 26)),  # Whitsun weekend -> Tuesday 26 May
        (date(2026, 5, 8), date(2026, 5, 11)),  # Friday 8 May, weekend -> Monday 11
        (date(2026, 5, 1), date(2026, 5, 4)),  # Friday 1 May, weekend -> Monday 4
        (date(2026, 12, 25), date(2026, 12, 28)),
        (date(2026, 11, 21), date(2026, 11, 23)),  # plain weekend
        (date(2026, 12, 31), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 4)),  # across the year boundary: Fri 1 Jan 2027 -> Mon 4 Jan
    ],
)
def test_on_or_after(day: date, expected: date) -> None:
    assert FRANCE.on_or_after(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 4, 7), date(2026, 4, 3)),  # Tuesday after Easter -> Good Friday (a working day in Paris)
        (date(2026, 11, 23), date(2026, 11, 20)),  # Monday -> Friday
        (date(2026, 11, 24), date(2026, 11, 23)),  # strictly before, even on a business day
        (date(2026, 5, 26), date(2026, 5, 22)),  # Whit Monday skipped
        (date(2026, 5, 11), date(2026, 5, 7)),  # Fri 8 May skipped
        (date(2026, 1, 2), date(2025, 12, 31)),  # across the year boundary
    ],
)
def test_previous(day: date, expected: date) -> None:
    assert FRANCE.previous(day) == expected


def test_alsace_moselle_adds_good_friday_and_saint_stephen() -> None:
    moselle = BusinessCalendar(subdiv="57")
    # Good Friday 3 April 2026
    assert moselle.is_holiday(date(2026, 4, 3))
    assert not moselle.is_business_day(date(2026, 4, 3))
    assert not FRANCE.is_holiday(date(2026, 4, 3))
    # Saint-Étienne, 26 December (a Saturday in 2026, a Friday in 2025)
    assert moselle.is_holiday(date(2026, 12, 26))
    assert not FRANCE.is_holiday(date(2026, 12, 26))
    assert not moselle.is_business_day(date(2025, 12, 26))
    assert FRANCE.is_business_day(date(2025, 12, 26))
    # the national holidays still apply
    assert all(moselle.is_holiday(d) for d in HOLIDAYS_2026)
    # and the scheduling helpers follow the subdivision
    assert moselle.previous(date(2026, 4, 7)) == date(2026, 4, 2)
    assert moselle.on_or_after(date(2026, 4, 3)) == date(2026, 4, 7)
    assert moselle.on_or_after(date(2025, 12, 25)) == date(2025, 12, 29)
    assert FRANCE.on_or_after(date(2025, 12, 25)) == date(2025, 12, 26)


def test_calendar_is_hashable_and_defaults_to_france() -> None:
    assert BusinessCalendar() == FRANCE
    assert FRANCE.country == "FR" and FRANCE.subdiv is None
    assert FRANCE.weekend == frozenset({5, 6})
    assert BusinessCalendar(subdiv="57") != FRANCE
