"""Dates in a reply, in French and English, relative to the day the message was received:
« vendredi 11 décembre », « le 15/12 », « 15/12/2026 », « avant la fin du mois », « fin de
semaine », « la semaine prochaine », « demain », « lundi », « d'ici le 20 », « le 5 janvier »
(next year once passed), « by Friday », « on December 15th », « next week ».

Conventions: a bare weekday is the next such day (1 to 7 days after the message); « fin de
semaine » is the Friday of the week (the next Friday on a week-end); « la semaine prochaine »
the Friday of next week (the latest day the customer committed to), « début de semaine
prochaine » its Monday; « fin du mois » its last
day; a day and month without a year that has passed is next year's when that is within six
months, else it is a past date (« votre facture du 15 novembre »). Only :func:`find_dates`
returns past dates; a promise is never in the past (:func:`future_dates`)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from .text import fold

MONTHS = {"janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4, "mai": 5,
          "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9, "octobre": 10, "oct": 10,
          "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
          "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
          "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9,
          "october": 10, "november": 11, "december": 12}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
            "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_DAY = r"(?P<day>[0-3]?\d)(?:er|st|nd|rd|th)?"
_YEAR = r"(?:\s+(?P<year>20\d\d))?"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("numeric", re.compile(r"(?<![\d/.-])(?P<day>[0-3]?\d)[/.-](?P<month>[01]?\d)(?:[/.-](?P<year>(?:20)?\d\d))?"
                           r"(?![\d/]|\.\d|\s*(?:€|eur|%))")),
    ("day_month", re.compile(rf"\b(?:(?P<weekday>{_WEEKDAY})\s+)?{_DAY}\s+(?:of\s+)?(?P<month>{_MONTH})\b\.?{_YEAR}")),
    ("month_day", re.compile(rf"\b(?P<month>{_MONTH})\.?\s+{_DAY}\b(?:,?\s*(?P<year>20\d\d))?")),
    ("end_next_month", re.compile(r"\bfin du mois prochain\b|\bend of next month\b")),
    ("end_month", re.compile(r"\b(?:fin (?:du |de )?mois|end of (?:the |this )?month)\b")),
    ("end_week", re.compile(r"\b(?:(?:en |d'ici la |d'ici |avant la )?fin de (?:la |cette )?semaine|"
                            r"cette semaine|end of (?:the |this )?week|this week)\b")),
    ("start_next_week", re.compile(r"\bdebut (?:de )?(?:la )?semaine prochaine\b|\bearly next week\b")),
    ("next_week", re.compile(r"\b(?:la )?semaine prochaine\b|\bnext week\b")),
    ("after_tomorrow", re.compile(r"\bapres[- ]demain\b|\bday after tomorrow\b")),
    ("tomorrow", re.compile(r"\bdemain\b|\btomorrow\b")),
    ("today", re.compile(r"\baujourd'hui\b|\btoday\b|\bce jour\b|\bdans la journee\b")),
    ("in_days", re.compile(r"\b(?:dans|sous|d'ici|within|in)\s+(?P<n>\d{1,2}|huit|quinze|deux|trois|two|three)"
                           r"\s+(?P<unit>jours?|days?|semaines?|weeks?)\b")),
    ("fortnight", re.compile(r"\b(?:sous|dans la|d'ici) (?P<w>huitaine|quinzaine)\b")),
    ("weekday_day", re.compile(rf"\b(?P<weekday>{_WEEKDAY})\s+(?P<day>[0-3]?\d)(?:er)?\b(?!\s*(?:[/.,:h-]\d|%|€|"
                               r"eur|h\b|heures?|jours?|mois|ans?|factures?|euros?))")),
    ("weekday", re.compile(rf"\b(?P<weekday>{_WEEKDAY})\b(?:\s+(?:prochain|next))?")),
    ("day_only", re.compile(r"\b(?:d'ici le|avant le|au plus tard le|jusqu'au|le|by the|on the)\s+"
                            r"(?P<day>[0-3]?\d)(?:er|th|st|nd|rd)?\b(?!\s*(?:[/.,-]\d|%|€|eur|h\b|heures?|"
                            r"jours?|mois|ans?|factures?|euros?|days?|\d))")),
]
_NUMBERS = {"huit": 8, "quinze": 15, "deux": 2, "trois": 3, "two": 2, "three": 3}


@dataclass(frozen=True)
class FoundDate:
    """A date read in the folded text, with where it was read (``start``, ``end``)."""

    value: date
    start: int
    end: int


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _unyeared(received_on: date, month: int, day: int) -> date | None:
    found = _safe(received_on.year, month, day)
    if found is None or found >= received_on:
        return found
    following = _safe(received_on.year + 1, month, day)
    if following is not None and (following - received_on).days <= 183:
        return following
    return found


def next_weekday(received_on: date, weekday: int) -> date:
    """The next such weekday strictly after ``received_on`` (1 to 7 days later)."""
    return received_on + timedelta(days=(weekday - received_on.weekday() - 1) % 7 + 1)


def _end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _resolve(kind: str, m: re.Match[str], received_on: date) -> date | None:
    groups = m.groupdict()
    if kind == "numeric":
        day, month = int(groups["day"]), int(groups["month"])
        if groups.get("year"):
            year = int(groups["year"])
            return _safe(year + 2000 if year < 100 else year, month, day)
        return _unyeared(received_on, month, day)
    if kind in ("day_month", "month_day"):
        month = MONTHS[groups["month"]]
        day = int(groups["day"])
        if groups.get("year"):
            return _safe(int(groups["year"]), month, day)
        return _unyeared(received_on, month, day)
    if kind == "end_month":
        return _end_of_month(received_on)
    if kind == "end_next_month":
        return _end_of_month(_end_of_month(received_on) + timedelta(days=1))
    if kind == "end_week":
        return received_on + timedelta(days=(4 - received_on.weekday()) % 7)
    if kind == "start_next_week":
        return received_on + timedelta(days=7 - received_on.weekday())
    if kind == "next_week":
        return received_on + timedelta(days=7 - received_on.weekday() + 4)
    if kind == "after_tomorrow":
        return received_on + timedelta(days=2)
    if kind == "tomorrow":
        return received_on + timedelta(days=1)
    if kind == "today":
        return received_on
    if kind == "in_days":
        raw = groups["n"]
        n = int(raw) if raw.isdigit() else _NUMBERS[raw]
        return received_on + timedelta(days=n * (7 if groups["unit"].startswith(("semaine", "week")) else 1))
    if kind == "fortnight":  # « sous huitaine » : eight days, « sous quinzaine » : fifteen (usage of the courts)
        return received_on + timedelta(days=8 if groups["w"] == "huitaine" else 15)
    if kind == "weekday_day":  # « vendredi 18 »: the next 18th that is a Friday (within three months)
        wanted_day, wanted_weekday = int(groups["day"]), WEEKDAYS[groups["weekday"]]
        year, month = received_on.year, received_on.month
        for _ in range(3):
            found = _safe(year, month, wanted_day)
            if found is not None and found >= received_on and found.weekday() == wanted_weekday:
                return found
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None
    if kind == "weekday":
        return next_weekday(received_on, WEEKDAYS[groups["weekday"]])
    if kind == "day_only":
        day = int(groups["day"])
        found = _safe(received_on.year, received_on.month, day)
        if found is not None and found >= received_on:
            return found
        nxt = _end_of_month(received_on) + timedelta(days=1)
        return _safe(nxt.year, nxt.month, day)
    return None  # pragma: no cover


def find_dates(folded: str, received_on: date) -> list[FoundDate]:
    """Every date read in ``folded`` (text already folded by :func:`relance.core.replies.text.fold`),
    in reading order; a span read by an earlier, more precise pattern is not read again."""
    taken: list[tuple[int, int]] = []
    found: list[FoundDate] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(folded):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            value = _resolve(kind, m, received_on)
            taken.append((m.start(), m.end()))  # an impossible date (« 30 février ») is not read again as a day
            if value is None:
                continue
            found.append(FoundDate(value, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def future_dates(folded: str, received_on: date) -> list[FoundDate]:
    return [f for f in find_dates(folded, received_on) if f.value >= received_on]


def extract_date(text: str, received_on: date) -> date | None:
    """The first date on or after ``received_on`` in ``text`` as written (None if none)."""
    dates = future_dates(fold(text).text, received_on)
    return dates[0].value if dates else None
