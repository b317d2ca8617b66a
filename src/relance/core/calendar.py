"""Business calendar: French public holidays and working days.

Holidays come from the ``holidays`` package (metropolitan France by default; a
subdivision such as ``"57"`` adds the Alsace-Moselle days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays as holidays_lib


@lru_cache(maxsize=32)
def _holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdiv, years=year).keys())


@dataclass(frozen=True)
class BusinessCalendar:
    country: str = "FR"
    subdiv: str | None = None
    weekend: frozenset[int] = field(default_factory=lambda: frozenset({5, 6}))

    def is_holiday(self, day: date) -> bool:
        return day in _holidays(self.country, self.subdiv, day.year)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and not self.is_holiday(day)

    def on_or_after(self, day: date) -> date:
        """The first business day on or after ``day``."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def previous(self, day: date) -> date:
        """The last business day strictly before ``day``."""
        day -= timedelta(days=1)
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day


FRANCE = BusinessCalendar()
