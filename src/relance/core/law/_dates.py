"""Calendar arithmetic used by the legal rules (months and years, end of month)."""

from __future__ import annotations

import calendar
from datetime import date


def end_of_month(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The day bearing the same number ``months`` later, or the month’s last day if there is none.

    This is how a delay in months or years expires under C. pr. civ. art. 641 al. 2
    (« le jour du dernier mois qui porte le même quantième que le jour de l’acte […] ou, à
    défaut d’un quantième identique, le dernier jour du mois »).
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """``add_months(day, 12 * years)``: 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def fr_date(day: date) -> str:
    """``15/01/2024``: the short French form used in messages."""
    return day.strftime("%d/%m/%Y")
