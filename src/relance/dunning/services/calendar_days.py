"""Business days of an organisation between two dates."""

from __future__ import annotations

from datetime import date, timedelta

from relance.ledger.models import Organisation

from .context import calendar_for


def business_days(organisation: Organisation, start: date, end: date) -> list[date]:
    calendar = calendar_for(organisation)
    days = []
    current = start
    while current <= end:
        if calendar.is_business_day(current):
            days.append(current)
        current += timedelta(days=1)
    return days
