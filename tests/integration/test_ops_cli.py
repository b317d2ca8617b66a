"""The operations commands as real processes on their own SQLite folders: ``orgs set --heure``,
``schedule``, ``worker --once`` (the cron alternative to the worker's loop), ``backup`` then
``restore`` into a fresh folder, and ``verify-events`` there."""

from __future__ import annotations

import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli import CSV, RELANCE, as_json, cli_env, count, ok, own, relance, rows

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
                                reason="the CLI tests use their own SQLite folder: they run in the SQLite pass")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ops-cli")
    data_dir = base / "data"
    ok(relance("--dir", data_dir, "migrate", "--verbosity", "0", cwd=base))
    ok(relance("--dir", data_dir, "shell", "-c", "from tests.builders import make_org; make_org()", cwd=base))
    for name in ("clients.csv", "factures.csv"):
        ok(own(data_dir, "import", CSV / name))
    media = data_dir / "fichiers" / "letters"
    media.mkdir(parents=True)
    (media / "courrier.pdf").write_bytes(b"%PDF-1.7 test document\n")
    return data_dir


def test_orgs_set_changes_the_hour_and_zone(loaded):
    out = as_json(ok(own(loaded, "orgs", "set", "atelier", "--heure", "06:30", "--fuseau", "Europe/Paris", "--json")))
    assert out == {"slug": "atelier", "run_at": "06:30", "timezone": "Europe/Paris"}
    assert rows(loaded, "SELECT run_at FROM ledger_organisation") == [("06:30:00",)]
    bad = ok(own(loaded, "orgs", "set", "atelier", "--heure", "25:00"), code=2)
    assert "heure invalide" in bad.stderr
    bad = ok(own(loaded, "orgs", "set", "atelier", "--fuseau", "Lune/Tranquillité"), code=2)
    assert "fuseau horaire inconnu" in bad.stderr
    schedule = as_json(ok(own(loaded, "schedule", "--json")))
    assert [(o["organisation"], o["run_at"], o["last"]) for o in schedule["organisations"]] == [("atelier", "06:30", None)]
    ok(own(loaded, "orgs", "set", "atelier", "--heure", "07:00"))


def test_worker_once_and_backup_restore_round_trip(loaded, tmp_path):
    # one pass of the worker, on a clock pinned on Monday 23 November 2026 (the day at 00:00): the day runs;
    # a second pass does not run it again
    ok(own(loaded, "orgs", "set", "atelier", "--heure", "00:00"))
    env = cli_env() | {"RELANCE_DEMO_DAY": "2026-11-23"}

    def once() -> Any:
        done = subprocess.run([str(RELANCE), "--dir", str(loaded), "worker", "--once", "--json"], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
        return as_json(ok(done))

    first, second = once(), once()
    assert [(r["organisation"], r["day"], r["outcome"]) for r in first["ran"]] == [("atelier", "2026-11-23", "done")]
    assert second["ran"] == []
    assert rows(loaded, "SELECT day, status FROM operations_dayrun") == [("2026-11-23", "done")]

    saved = as_json(ok(own(loaded, "backup", "--dir", tmp_path / "sauvegardes", "--json")))
    archive = Path(saved["path"])
    assert archive.parent == tmp_path / "sauvegardes" and saved["database"] == "sqlite" and saved["documents"] >= 1
    with tarfile.open(archive) as tar:
        assert {"manifest.json", "base.sqlite3", "fichiers/letters/courrier.pdf"} <= set(tar.getnames())

    fresh = tmp_path / "restauree"
    restored = as_json(ok(relance("--dir", fresh, "restore", archive, "--json", cwd=tmp_path)))
    assert restored["events_verified"] == {"atelier": saved["counts"]["events"]}
    assert (fresh / "fichiers" / "letters" / "courrier.pdf").read_bytes() == b"%PDF-1.7 test document\n"
    assert rows(fresh, "SELECT number FROM ledger_invoice ORDER BY number") == \
        rows(loaded, "SELECT number FROM ledger_invoice ORDER BY number")
    assert "Journal intègre" in ok(own(fresh, "verify-events")).stdout

    again = ok(relance("--dir", fresh, "restore", archive, cwd=tmp_path), code=6)
    assert "--force" in again.stderr
    ok(relance("--dir", fresh, "restore", archive, "--force", cwd=tmp_path))


def test_restore_of_a_missing_file_says_so(tmp_path):
    out = ok(relance("--dir", tmp_path / "d", "restore", tmp_path / "absente.tar.gz", cwd=tmp_path), code=3)
    assert "sauvegarde introuvable" in out.stderr


def wait_until(predicate, seconds: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError("condition not met in time")


def test_the_worker_runs_the_day_once_even_killed(tmp_path):
    """``relance worker`` on a folder pinned on Monday 23 November 2026 (RELANCE_DEMO_DAY), the day at 00:00:
    its scheduler runs the day at once and its heartbeat is written; killed -9 and replaced, the day is
    not run again; a second worker stopped by SIGTERM leaves cleanly."""
    data_dir = tmp_path / "data"
    ok(relance("--dir", data_dir, "migrate", "--verbosity", "0", cwd=tmp_path))
    ok(relance("--dir", data_dir, "shell", "-c", "from tests.builders import make_org; make_org()", cwd=tmp_path))
    for name in ("clients.csv", "factures.csv"):
        ok(own(data_dir, "import", CSV / name))
    ok(own(data_dir, "orgs", "set", "atelier", "--heure", "00:00"))
    env = cli_env() | {"RELANCE_DEMO_DAY": "2026-11-23"}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(RELANCE), "--dir", str(data_dir), "worker"], env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def runs() -> list[tuple[str, str]]:
        return rows(data_dir, "SELECT day, status FROM operations_dayrun")

    first = start()
    try:
        wait_until(lambda: runs() == [("2026-11-23", "done")])
        wait_until(lambda: any((data_dir / "workers").glob("*.json")))
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    sent = count(data_dir, "dunning_reminder")
    second = start()
    try:
        wait_until(lambda: len(list((data_dir / "workers").glob("*.json"))) == 2)  # the dead one's beat stays
        time.sleep(2)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        assert second.wait(60) == 0
    assert runs() == [("2026-11-23", "done")]
    assert rows(data_dir, "SELECT COUNT(*) FROM events_event WHERE kind='schedule.day_ran'") == [(1,)]
    assert count(data_dir, "dunning_reminder") == sent > 0
    assert len(list((data_dir / "workers").glob("*.json"))) == 1  # the second one removed its beat on leaving


def test_the_ticks_text_says_dates_in_french(capsys):
    import argparse

    from relance.cli.ops_commands import _print_tick
    from relance.operations.scheduler import TickReport

    report = TickReport(ran=[{"organisation": "atelier", "day": "2026-11-23", "outcome": "held", "attempt": 1,
                              "missed_days": ["2026-11-19", "2026-11-20"]}],
                        digests=[{"organisation": "atelier", "day": "2026-12-01", "sent": True}])
    _print_tick(argparse.Namespace(json=False), report)
    out = capsys.readouterr().out
    assert "atelier : journée du 23 novembre 2026 lancée, envois retenus par les vérifications" in out
    assert "(du 19 novembre 2026 au 20 novembre 2026)" in out
    assert "atelier : résumé du 1er décembre 2026 envoyé" in out
    assert "2026-" not in out
