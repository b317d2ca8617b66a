"""A data folder never migrated: every command that needs the database says so in one French
line and exits 10 — no traceback, no empty database created, no web app served — while the
commands that create it (migrate, demo) or need none (law, doctor) still run. The installed
console script in a real process, as in test_cli.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.integration.test_cli import DB, ok, own

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
                                reason="the CLI tests use their own SQLite folder: they run in the SQLite pass")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return tmp_path / "mes-donnees"


@pytest.mark.parametrize("argv", [("orgs",), ("run", "--dry-run"), ("import", "clients.csv"), ("events",),
                                  ("serve", "--port", "8765"), ("worker", "--batch"),
                                  ("createsuperuser", "--noinput", "--username", "x", "--email", "x@example.test")])
def test_a_command_on_a_never_migrated_folder_says_so_in_one_line(fresh, argv):
    started = time.monotonic()
    result = ok(own(fresh, *argv), 10)
    assert time.monotonic() - started < 60  # « serve » did not start
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == (f"relance : la base {fresh.resolve() / DB} n’est pas initialisée : lancez "
                        f"« relance --dir {fresh} migrate » (ou « relance demo » pour essayer sur des données "
                        "de démonstration)")
    assert not (fresh / DB).exists()  # no empty database created on the way


def test_doctor_reports_it_among_its_checks_and_migrate_then_fixes_it(fresh):
    result = ok(own(fresh, "doctor", "--json"), 9)
    data = json.loads(result.stdout)
    [database] = [c for c in data["checks"] if c["key"] == "database"]
    assert not database["ok"] and "n’est pas initialisée" in database["message"]
    assert not (fresh / DB).exists()

    ok(own(fresh, "migrate", "--verbosity", "0"))
    assert ok(own(fresh, "orgs")).stdout.strip() == "aucune"
    data = json.loads(ok(own(fresh, "doctor", "--json"), 9).stdout)
    assert [c["ok"] for c in data["checks"] if c["key"] == "database"] == [True]
    assert any(p.startswith("aucune organisation : créez-la avec « relance orgs add") for p in data["problems"])


def test_the_law_calculator_needs_no_database(fresh):
    result = ok(own(fresh, "law", "penalties", "--amount", "1000", "--due", "2025-01-31", "--paid", "2025-03-02"))
    assert "40" in result.stdout
