"""Dates read in a customer's reply, relative to the day it was received (Monday 7 December 2026
unless said)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.replies.dates import WEEKDAYS, extract_date, find_dates, next_weekday
from relance.core.replies.text import fold

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(("text", "expected"), [
    ("vendredi 11 décembre", date(2026, 12, 11)),
    ("je règle le 15/12", date(2026, 12, 15)),
    ("paiement le 15/12/2026", date(2026, 12, 15)),
    ("le 15.12.26", date(2026, 12, 15)),
    ("avant la fin du mois", date(2026, 12, 31)),
    ("en fin de semaine", date(2026, 12, 11)),
    ("la semaine prochaine", date(2026, 12, 18)),
    ("début de semaine prochaine", date(2026, 12, 14)),
    ("à son retour le 18 décembre", date(2026, 12, 18)),
    ("demain", date(2026, 12, 8)),
    ("après-demain", date(2026, 12, 9)),
    ("lundi", date(2026, 12, 14)),
    ("mercredi prochain", date(2026, 12, 9)),
    ("d'ici le 20", date(2026, 12, 20)),
    ("le 5 janvier", date(2027, 1, 5)),
    ("le 1er janvier 2027", date(2027, 1, 1)),
    ("dans 15 jours", date(2026, 12, 22)),
    ("by Friday", date(2026, 12, 11)),
    ("on December 15th", date(2026, 12, 15)),
    ("on 16 December", date(2026, 12, 16)),
    ("next week", date(2026, 12, 18)),
    ("fin du mois prochain", date(2027, 1, 31)),
])
def test_french_and_english_dates(text, expected):
    assert extract_date(text, MONDAY) == expected


@pytest.mark.parametrize("text", [
    "réglée le 3/12",  # past: never a promise
    "votre facture du 15 novembre",  # a past day and month more than six months before next year's
    "virement du 30/11/2026",
    "1 200,00 €",
    "le 20 %",
    "appelez le 06 12 34 56 78",
    "nous sommes 3 personnes",
])
def test_no_future_date(text):
    assert extract_date(text, MONDAY) is None


def test_a_past_date_is_read_but_not_returned_as_a_promise():
    found = find_dates(fold("payé le 3/12, je paierai le reste le 15/12").text, MONDAY)
    assert [f.value for f in found] == [date(2026, 12, 3), date(2026, 12, 15)]
    assert extract_date("payé le 3/12, je paierai le reste le 15/12", MONDAY) == date(2026, 12, 15)


def test_a_date_at_the_end_of_the_year_rolls_over():
    assert extract_date("le 5 janvier", date(2026, 12, 28)) == date(2027, 1, 5)
    assert extract_date("le 4/01", date(2026, 12, 28)) == date(2027, 1, 4)
    assert extract_date("d'ici le 3", date(2026, 12, 28)) == date(2027, 1, 3)


def test_impossible_dates_are_ignored():
    assert extract_date("le 31/02", MONDAY) is None
    assert extract_date("le 30 février", MONDAY) is None


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31))


@given(received=days, weekday=st.sampled_from(sorted(WEEKDAYS)))
def test_a_weekday_is_within_the_seven_days_after(received, weekday):
    found = extract_date(weekday, received)
    assert found is not None
    assert received < found <= received + timedelta(days=7)
    assert found.weekday() == WEEKDAYS[weekday]


@given(received=days)
def test_relative_words_never_go_back(received):
    for text in ("demain", "fin de semaine", "la semaine prochaine", "avant la fin du mois", "next week",
                 "fin du mois prochain", "dans 8 jours"):
        found = extract_date(text, received)
        assert found is not None and found >= received, text
    assert extract_date("fin de semaine", received).weekday() == 4  # type: ignore[union-attr]
    assert extract_date("la semaine prochaine", received) - received <= timedelta(days=11)  # type: ignore[operator]


@given(received=days, offset=st.integers(min_value=-400, max_value=400))
def test_a_numeric_date_is_never_before_the_message(received, offset):
    target = received + timedelta(days=offset)
    found = extract_date(f"le {target:%d/%m/%Y}", received)
    assert found == (target if offset >= 0 else None)
    unyeared = extract_date(f"le {target.day}/{target.month}", received)
    assert unyeared is None or unyeared >= received


@given(received=days)
def test_next_weekday_is_strictly_after(received):
    for weekday in range(7):
        assert 1 <= (next_weekday(received, weekday) - received).days <= 7
