"""Shared fixtures. Integration tests run on the database named by DATABASE_URL
(SQLite by default, PostgreSQL in CI's second pass)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"../shared/realdata absent ({REALDATA}): real-file tests skipped")
    return REALDATA
