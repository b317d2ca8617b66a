"""Shared fixtures. Integration tests run on the database named by DATABASE_URL
(SQLite by default, PostgreSQL in CI's second pass)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

FIXTURES = Path(__file__).parent / "fixtures"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"

# The instant of the tests whose pages or services read today's date (fixture pinned_clock):
# Monday 23 November 2026, noon in Paris.
PINNED_NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"../shared/realdata absent ({REALDATA}): real-file tests skipped")
    return REALDATA


@pytest.fixture
def pinned_clock() -> Iterator[time_machine.Traveller]:
    """The wall clock stopped at PINNED_NOW for the test (time-machine): ``datetime.now()``,
    ``date.today()``, ``timezone.now()``, ``timezone.localdate()``, ``relance.clock.now()`` and
    ``time.time()`` all read it, whatever the real date (CI also runs the suite 400 days ahead).
    A ``relance.clock.frozen`` block inside the test still wins over it."""
    with time_machine.travel(PINNED_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _lock_order_checked(settings: Any) -> None:
    """Every test runs with the lock order enforced (``relance/locks.py``): a service that locks
    out of order raises ``LockOrderViolation`` at once instead of deadlocking one day in
    production."""
    settings.RELANCE_LOCK_ORDER_CHECK = True
