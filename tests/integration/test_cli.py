"""The installed ``relance`` console script, run as a real process on its own data folder
(SQLite in that folder, whatever DATABASE_URL the test run uses): exit codes, --json output,
and messages on stderr."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELANCE = Path(sys.executable).parent / "relance"
CSV = ROOT / "tests" / "fixtures" / "csv"
DB = "relance.sqlite3"

# The CLI always runs on SQLite in its own data folder: once, in the SQLite pass.
pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
                                reason="the CLI tests use their own SQLite folder: they run in the SQLite pass")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("RELANCE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["RELANCE_EMAIL_BACKEND"] = "relance.channels.eml_backend.EmlBackend"
    env["DJANGO_SETTINGS_MODULE"] = "relance.settings"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def relance(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RELANCE), *map(str, args)], cwd=cwd, env=cli_env(), capture_output=True,
                          encoding="utf-8", timeout=120, check=False)


def own(data_dir: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``relance --dir D …``, run from the folder above D."""
    return relance("--dir", data_dir, *args, cwd=data_dir.parent)


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(data_dir / DB)) as conn:
        return conn.execute(sql).fetchall()


def count(data_dir: Path, table: str) -> int:
    return rows(data_dir, f"SELECT COUNT(*) FROM {table}")[0][0]


def tamper(data_dir: Path) -> None:
    with closing(sqlite3.connect(data_dir / DB)) as conn, conn:
        conn.execute("UPDATE events_event SET data='{}' WHERE seq=2")


def ok(result: subprocess.CompletedProcess[str], code: int = 0) -> subprocess.CompletedProcess[str]:
    assert result.returncode == code, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder migrated through Django's pass-through, with one organisation."""
    base = tmp_path_factory.mktemp("relance-cli")
    data_dir = base / "data"
    ok(relance("--dir", data_dir, "migrate", "--verbosity", "0", cwd=base))
    ok(relance("--dir", data_dir, "shell", "-c", "from tests.builders import make_org; make_org()", cwd=base))
    return data_dir


def copy_db(source: Path, target: Path) -> Path:
    target.mkdir()
    for f in source.iterdir():
        if f.name.startswith(DB):
            shutil.copy2(f, target / f.name)
    return target


@pytest.fixture(scope="module")
def loaded_template(template: Path) -> Path:
    """The template with the three documented fixture files imported through the CLI."""
    data_dir = copy_db(template, template.parent / "loaded")
    for name in ("clients.csv", "factures.csv", "paiements.csv"):
        ok(own(data_dir, "import", CSV / name))
    return data_dir


@pytest.fixture
def data_dir(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path / "data")


@pytest.fixture
def loaded(loaded_template: Path, tmp_path: Path) -> Path:
    return copy_db(loaded_template, tmp_path / "data")


def test_django_migrate_passes_through_and_uses_the_data_folder(template, tmp_path):
    assert (template / DB).is_file()
    assert rows(template, "SELECT slug, legal_name FROM ledger_organisation") == [("atelier", "Atelier Dubois SAS")]
    assert count(template, "dunning_step") == 7  # the default scenario
    again = ok(relance("--dir", template, "migrate", cwd=tmp_path))
    assert "No migrations to apply." in again.stdout
    assert not (tmp_path / "relance-data").exists()  # nothing written outside the folder given


def test_import_reports_counts_and_recognises_a_file_already_imported(data_dir):
    first = as_json(ok(own(data_dir, "import", CSV / "clients.csv", "--json")))
    assert first == {"file": "clients.csv", "already_imported": False, "kinds": ["customers"],
                     "counts": {"contacts_created": 4, "contacts_updated": 0, "customers_created": 4,
                                "customers_updated": 0}, "warnings": [], "default_kind": None, "defaulted": 0}
    events = rows(data_dir, "SELECT seq, hash FROM events_event ORDER BY seq")

    again = as_json(ok(own(data_dir, "import", CSV / "clients.csv", "--json")))

    assert again == {"file": "clients.csv", "already_imported": True, "kinds": [], "counts": {}, "warnings": [],
                     "default_kind": None, "defaulted": 0}
    assert count(data_dir, "ledger_customer") == 4
    assert rows(data_dir, "SELECT seq, hash FROM events_event ORDER BY seq") == events
    text = ok(own(data_dir, "import", CSV / "factures.csv"))
    assert text.stdout.strip() == "factures.csv importé : 6 facture(s) créée(s)."


def test_a_bad_file_exits_4_names_file_line_and_field_and_imports_nothing(loaded):
    bad = CSV / "bad" / "factures_date_illisible.csv"
    invoices = count(loaded, "ledger_invoice")
    events = count(loaded, "events_event")

    text = ok(own(loaded, "import", bad, "--type", "factures"), 4)

    assert "Import refusé, rien n’a été importé (1 problème(s))" in text.stderr
    assert "factures_date_illisible.csv, ligne 3, champ « date » : date illisible « 31/02/2026 »" in text.stderr
    assert text.stdout == ""

    js = ok(own(loaded, "import", bad, "--type", "factures", "--json"), 4)
    data = as_json(js)
    assert data["error"] == "ImportRejected"
    assert data["problems"] == [{"file": "factures_date_illisible.csv", "line": 3, "field": "date",
                                 "message": "date illisible « 31/02/2026 » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)"}]
    assert "ligne 3" in js.stderr
    assert (count(loaded, "ledger_invoice"), count(loaded, "events_event")) == (invoices, events)
    assert rows(loaded, "SELECT COUNT(*) FROM ledger_invoice WHERE number LIKE 'F2026-02%'") == [(0,)]


def test_run_dry_run_then_for_real(loaded):
    events = count(loaded, "events_event")
    expected = [
        {"customer": "C002", "customer_name": "Garage des Deux Rives SAS", "step": "Première relance",
         "channel": "letter", "invoices": ["F2026-0103"], "total_due": "4176.60", "kind": "reminder"},
        {"customer": "C001", "customer_name": "Boulangerie Lemoine SARL", "step": "Première relance",
         "channel": "email", "invoices": ["F2026-0102"], "total_due": "1500.00", "kind": "reminder"},
    ]

    dry = as_json(ok(own(loaded, "run", "--date", "2026-11-23", "--dry-run", "--json")))

    assert dry["dispatch"] is None
    assert (dry["plan"]["date"], dry["plan"]["dry_run"]) == ("2026-11-23", True)
    assert sorted(dry["plan"]["reminders"], key=lambda r: r["customer"]) == sorted(expected,
                                                                                   key=lambda r: r["customer"])
    assert (count(loaded, "dunning_reminder"), count(loaded, "events_event")) == (0, events)
    assert rows(loaded, "SELECT COUNT(*) FROM ledger_invoice WHERE next_action_date IS NOT NULL") == [(0,)]
    assert as_json(ok(own(loaded, "run", "--date", "2026-11-23", "--dry-run", "--json"))) == dry

    bad = ok(own(loaded, "run", "--date", "2026-13-01"), 2)
    assert "date invalide « 2026-13-01 »" in bad.stderr

    real = as_json(ok(own(loaded, "run", "--date", "2026-11-23", "--no-queue", "--json")))

    assert real["plan"]["dry_run"] is False
    assert sorted(real["plan"]["reminders"], key=lambda r: r["customer"]) == sorted(expected,
                                                                                    key=lambda r: r["customer"])
    assert real["dispatch"] == {"sent": 2, "cancelled": 0, "retrying": 0, "failed": 0, "uncertain": 0}
    assert sorted(rows(loaded, "SELECT c.code, r.channel, r.status FROM dunning_reminder r "
                               "JOIN ledger_customer c ON c.id = r.customer_id")) == [
        ("C001", "email", "sent"), ("C002", "letter", "sent")]
    emails = list((loaded / "emails").glob("*.eml"))
    assert len(emails) == 1
    assert "compta@boulangerie-lemoine.example" in emails[0].read_text(encoding="utf-8", errors="replace")


def test_events_of_a_customer(loaded):
    data = as_json(ok(own(loaded, "events", "--customer", "C001", "--json")))
    events = data["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs, reverse=True)
    assert [e["kind"] for e in events] == ["invoice.settled", "payment.recorded", "invoice.imported",
                                           "invoice.imported"]
    assert sorted(e["data"]["number"] for e in events if e["kind"] == "invoice.imported") == [
        "F2026-0101", "F2026-0102"]
    assert events[1]["data"]["reference"] == "VIR-20260930-0417"
    assert all(len(e["hash"]) == 64 for e in events)

    missing = ok(own(loaded, "events", "--customer", "NOPE"), 3)
    assert "client « NOPE » introuvable" in missing.stderr


def test_verify_events_then_detect_tampering(loaded):
    good = as_json(ok(own(loaded, "verify-events", "--json")))
    total = count(loaded, "events_event")
    assert total == 11
    assert (good["organisation"], good["events"], good["valid"], good["problems"]) == ("atelier", total, True, [])
    assert "Journal intègre : 11 événements vérifiés." in ok(own(loaded, "verify-events")).stdout

    tamper(loaded)

    broken = ok(own(loaded, "verify-events", "--json"), 5)
    assert '"valid": false' in broken.stdout
    assert '"seq": 2' in broken.stdout
    assert "relance : journal altéré : 1 problème(s) sur 11 événements" in broken.stderr
    text = ok(own(loaded, "verify-events"), 5)
    assert text.stdout.startswith("événement #2 : ")
    assert "événement #1" not in text.stdout


def test_verify_events_json_on_a_broken_chain_is_one_json_document(loaded):
    tamper(loaded)
    broken = ok(own(loaded, "verify-events", "--json"), 5)
    data = json.loads(broken.stdout)
    assert data["valid"] is False
    assert [p["seq"] for p in data["problems"]] == [2]


def test_dir_written_with_an_equals_sign(data_dir, tmp_path):
    migrate = relance(f"--dir={data_dir}", "migrate", "--check", cwd=tmp_path)
    assert migrate.returncode == 0, migrate.stderr
    orgs = as_json(ok(relance(f"--dir={data_dir}", "orgs", "--json", cwd=tmp_path)))
    assert [o["slug"] for o in orgs["organisations"]] == ["atelier"]
    assert not (tmp_path / "relance-data").exists()


def test_profiles_install_list_and_assign_for_an_existing_organisation(loaded):
    """An organisation created before payer profiles existed gets the defaults on request."""
    assert as_json(ok(own(loaded, "profiles", "--json")))["profiles"] == []
    assert "relance profiles install" in ok(own(loaded, "profiles")).stdout
    installed = as_json(ok(own(loaded, "profiles", "install", "--json")))
    assert installed["installed"] is True
    assert [p["position"] for p in installed["profiles"]] == sorted(p["position"] for p in installed["profiles"])
    assert len(installed["profiles"]) == 3
    assert count(loaded, "profiles_payerprofile") == 3
    report = as_json(ok(own(loaded, "profiles", "assign", "--date", "2026-11-23", "--json")))
    customers = count(loaded, "ledger_customer")
    assert report["customers"] == customers and sum(report["by_profile"].values()) <= customers
    listed = as_json(ok(own(loaded, "profiles", "--json")))["profiles"]
    assert sum(p["customers"] for p in listed) == count(loaded, "profiles_customerprofile WHERE profile_id IS NOT NULL")
    again = as_json(ok(own(loaded, "profiles", "install", "--json")))
    assert again["installed"] is False and count(loaded, "profiles_payerprofile") == 3
    assert rows(loaded, "SELECT COUNT(*) FROM events_event WHERE kind = 'profiles.installed'")[0][0] == 1
