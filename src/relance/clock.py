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
from zoneinfo import ZoneInfo

_frozen: ContextVar[datetime | None] = ContextVar("relance_clock", default=None)
#: a process pinned on one day (the demo folder's): the wall clock's time of day, on that date
_pinned: tuple[date, ZoneInfo] | None = None


def now() -> datetime:
    value = _frozen.get()
    if value is not None:
        return value
    real = datetime.now(UTC)
    if _pinned is None:
        return real
    day, zone = _pinned
    return datetime.combine(day, real.astimezone(zone).time(), tzinfo=zone).astimezone(UTC)


def wall() -> datetime:
    """The real instant (UTC), never frozen nor pinned: only for leases — ``Reminder.claimed_at``
    and :func:`relance.dunning.services.recovery.recover_orphans` — never for a business time or
    a time shown as when something happened (those read :func:`now`). A test moves it with
    time-machine, as any read of the system clock."""
    return datetime.now(UTC)


def pin_day(day: date | None, zone: str = "Europe/Paris") -> None:
    """Pin this process on ``day`` (None unpins): :func:`now` keeps the time of day but shows that date
    in ``zone``. The demo's folder is served this way, on its demo day (``RELANCE_DEMO_DAY``)."""
    global _pinned
    _pinned = (day, ZoneInfo(zone)) if day is not None else None


def pinned_day() -> date | None:
    return _pinned[0] if _pinned is not None else None


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        raise ValueError("the clock takes an aware datetime")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
