"""The one clock of the service layer.

Services ask :func:`now` instead of reading the system clock, so that a replay (the
demo's history, a test) can run them at a chosen instant with :func:`frozen`.
Timestamps are aware and UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("relance_clock", default=None)


def now() -> datetime:
    value = _frozen.get()
    return value if value is not None else datetime.now(UTC)


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        raise ValueError("the clock takes an aware datetime")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
