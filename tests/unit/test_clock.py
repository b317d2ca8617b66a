"""« Today » for an organisation: one function, read from the service clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from relance import clock


@dataclass
class Org:
    timezone: str


def test_today_is_the_local_date_of_the_organisation() -> None:
    late_evening = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # already the 24th in Paris, still the 23rd in Montreal
    assert clock.today_for(Org("Europe/Paris"), late_evening) == date(2026, 11, 24)
    assert clock.today_for(Org("America/Montreal"), late_evening) == date(2026, 11, 23)
    assert clock.today_for("Pacific/Noumea", late_evening) == date(2026, 11, 24)
    assert clock.today_for(ZoneInfo("America/Montreal"), late_evening) == date(2026, 11, 23)


def test_today_follows_the_frozen_clock() -> None:
    with clock.frozen(datetime(2024, 2, 29, 22, 59, tzinfo=UTC)):
        assert clock.today_for(Org("Europe/Paris")) == date(2024, 2, 29)
        assert clock.today_for(None) == date(2024, 2, 29)  # outside any organisation: Paris
    with clock.frozen(datetime(2024, 2, 29, 23, 0, tzinfo=UTC)):
        assert clock.today_for(Org("Europe/Paris")) == date(2024, 3, 1)


def test_an_empty_zone_is_paris_an_unknown_one_is_refused() -> None:
    """A business date is never computed in a zone the organisation did not give: an unknown
    name raises (the scheduler records the day as failed); only display reads it leniently."""
    from zoneinfo import ZoneInfoNotFoundError

    import pytest

    moment = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    assert clock.today_for(Org(""), moment) == date(2026, 7, 1)
    assert clock.zone_of(None) == ZoneInfo(clock.DEFAULT_ZONE)
    with pytest.raises(ZoneInfoNotFoundError, match="Pas/Une_Zone"):
        clock.today_for(Org("Pas/Une_Zone"), moment)
    assert clock.zone_of(Org("Pas/Une_Zone"), lenient=True) == ZoneInfo(clock.DEFAULT_ZONE)
