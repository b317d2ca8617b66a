"""The business days of an organisation (French public holidays, with its region's own)."""

from __future__ import annotations

from relance.core.calendar import BusinessCalendar
from relance.ledger.models import Organisation


def calendar_for(organisation: Organisation) -> BusinessCalendar:
    return BusinessCalendar("FR", organisation.holiday_subdivision or None)
