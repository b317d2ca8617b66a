"""The one clock of the service layer.

Services ask :func:`now` instead of reading the system clock, so that a replay (the
demo's history, a test) can run them at a chosen instant with :func:`frozen`.
Timestamps are aware and UTC.

One exception: :func:`wall` is the real instant, for leases only (a reminder's claim and the
recovery of dead workers' sends compare instants taken by different processes, some of which
replay a simulated day: those must agree whatever each one shows as « now »).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_frozen: ContextVar[datetime | None] = ContextVar("relance_clock", default=None)
#: a process pinned on one day (the demo folder's): (the demo's day, its zone, the real date in that zone
#: when the process was pinned)
_pinned: tuple[date, ZoneInfo, date] | None = None


def _shown(real: datetime) -> datetime:
    assert _pinned is not None
    day, zone, since = _pinned
    local = real.astimezone(zone)
    return datetime.combine(day + (local.date() - since), local.time(), tzinfo=zone)


def now() -> datetime:
    value = _frozen.get()
    if value is not None:
        return value
    real = datetime.now(UTC)
    if _pinned is None:
        return real
    return _shown(real).astimezone(UTC)


#: the zone of an organisation whose own is empty or unknown, and of pages shown outside any organisation
DEFAULT_ZONE = "Europe/Paris"


class Located(Protocol):
    """Anything with a time zone name, as an organisation (``Organisation.timezone``)."""

    @property
    def timezone(self) -> str: ...


def zone_of(where: Located | ZoneInfo | str | None, *, lenient: bool = False) -> ZoneInfo:
    """The time zone of an organisation, of a zone name or a zone itself; :data:`DEFAULT_ZONE` when
    none is given or the name is empty. An unknown name raises ``ZoneInfoNotFoundError`` naming
    it: a business date is never silently computed in another zone (the scheduler records the
    day as failed and says why). ``lenient`` reads an unknown name as the default zone: only to
    show a time or to decide when to try (pages, the scheduler's clock), never for a business date."""
    if isinstance(where, ZoneInfo):
        return where
    name = where if isinstance(where, str) or where is None else where.timezone
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        if lenient:
            return ZoneInfo(DEFAULT_ZONE)
        raise


def today_for(where: Located | ZoneInfo | str | None, at: datetime | None = None) -> date:
    """The date in the zone of ``where`` (an organisation: its business dates are local) at ``at``,
    by default :func:`now` — so a replay's frozen instant and the demo folder's pinned day are
    honoured. ``at`` may be any aware instant: ``today_for(organisation, reminder.sent_at)`` is the
    local date a reminder was sent on."""
    return (at or now()).astimezone(zone_of(where)).date()


def wall() -> datetime:
    """The real instant (UTC), never frozen nor pinned: only for leases — ``Reminder.claimed_at``
    and :func:`relance.dunning.services.recovery.recover_orphans` — never for a business time or
    a time shown as when something happened (those read :func:`now`). A test moves it with
    time-machine, as any read of the system clock."""
    return datetime.now(UTC)


def pin_day(day: date | None, zone: str = "Europe/Paris") -> None:
    """Pin this process on ``day`` (None unpins): :func:`now` keeps the wall clock's time of day in
    ``zone`` and shows ``day`` as the date — the whole day (in ``zone``, not in UTC) the process is pinned
    on. The demo's folder is served this way, on its demo day (``RELANCE_DEMO_DAY``).

    A process still running after midnight (in ``zone``) moves on to the day after the demo's day, as a
    real one would: the pinned clock never goes back, so the scheduler's leases and retry times, the
    digest's claims and the workers' heartbeats keep their meaning across midnight (a clock wrapping back
    to 00:00 of the same day would make a lease taken at 23:58 look valid for 24 hours)."""
    global _pinned
    if day is None:
        _pinned = None
        return
    place = ZoneInfo(zone)
    _pinned = (day, place, datetime.now(UTC).astimezone(place).date())


def pinned_day() -> date | None:
    """The date the pinned clock shows now (the demo's day; the day after, once past midnight), or None."""
    return _shown(datetime.now(UTC)).date() if _pinned is not None else None


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        raise ValueError("the clock takes an aware datetime")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
