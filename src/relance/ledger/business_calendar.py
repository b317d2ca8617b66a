"""The business days of an organisation (French public holidays, with its region's own).

One calendar for every app above the ledger: holds (a promise's grace, a plan's instalments),
dunning (reminder dates, escalation, call retries), the scheduler (which days run) and the demo."""

from __future__ import annotations

from relance.core.calendar import BusinessCalendar

from .models import Organisation


def calendar_for(organisation: Organisation) -> BusinessCalendar:
    """The organisation's calendar: metropolitan France's public holidays, plus those of its
    ``holiday_subdivision`` when it has one (the ``holidays`` package's codes:
    ``"57"`` Moselle, ``"6AE"`` Alsace, ``"972"`` Martinique…)."""
    return BusinessCalendar("FR", organisation.holiday_subdivision or None)
