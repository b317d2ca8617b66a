"""``relance backup`` / ``restore`` round trip on the test database (SQLite's online backup API, or
pg_dump/pg_restore on PostgreSQL): the data, a stored document and the event chain come back; a
database with data is refused without --force; an altered archive is refused before anything."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Invoice, Organisation
from relance.ledger.services.imports import import_file
from relance.operations import backup as ops_backup
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "fichiers"
    settings.DATA_DIR = tmp_path


@pytest.fixture
def org(tmp_path) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C002", "2026-10-01", "2026-10-31", "480,50"),
    ])))
    plan_day(org, date(2026, 11, 23))
    assert dispatch_now(org, datetime(2026, 11, 23, 11, tzinfo=UTC)).sent
    org.logo.save("logo.png", ContentFile(LOGO))
    return org


def state(org_slug: str = "atelier") -> dict[str, object]:
    org = Organisation.objects.get(slug=org_slug)
    return {"orgs": sorted(Organisation.objects.values_list("slug", flat=True)),
            "invoices": sorted(Invoice.objects.values_list("number", "amount_due")),
            "events": list(Event.objects.filter(organisation=org).order_by("seq").values_list("seq", "hash")),
            "logo": org.logo.name}


def test_round_trip(org, tmp_path):
    before = state()
    result = ops_backup.backup(tmp_path / "sauvegardes")
    assert result.path.name.startswith("relance-sauvegarde-") and result.path.suffixes[-2:] == [".tar", ".gz"]
    assert result.counts["events"] == len(before["events"]) > 0 and result.documents == 1

    with tarfile.open(result.path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["database"] in ("sqlite", "postgresql")
    assert "0009_organisation_run_at" in manifest["migrations"]["ledger"]
    assert set(manifest["members"]) == {ops_backup.DB_MEMBER[manifest["database"]], f"fichiers/{org.logo.name}"}

    # life goes on: another organisation, an invoice changed, the document lost
    make_org("autre", legal_name="Autre SARL")
    Invoice.objects.filter(number="F-001").update(amount_due="1.00")
    logo_path = Path(org.logo.path)
    logo_path.unlink()

    with pytest.raises(Conflict, match="--force"):
        ops_backup.restore(result.path)
    assert Organisation.objects.count() == 2  # refused: nothing touched

    restored = ops_backup.restore(result.path, force=True)
    assert state() == before
    assert logo_path.read_bytes() == LOGO
    assert restored.chains == {"atelier": len(before["events"])}
    assert restored.previous_files is not None and restored.previous_files.is_dir()
    assert not verify_chain(Organisation.objects.get(slug="atelier"))


def test_an_altered_archive_is_refused_before_anything(org, tmp_path):
    result = ops_backup.backup(tmp_path / "sauvegardes")
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(result.path) as source, tarfile.open(forged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("fichiers/"):
                data = data[:-1] + b"\x00"
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    make_org("autre", legal_name="Autre SARL")
    with pytest.raises(InvalidInput, match="empreinte SHA-256 différente"):
        ops_backup.restore(forged, force=True)
    assert Organisation.objects.count() == 2


def test_not_an_archive(tmp_path):
    bogus = write(tmp_path, "x.tar.gz", "pas une archive")
    with pytest.raises(InvalidInput, match="pas une sauvegarde"):
        ops_backup.restore(bogus)


def test_without_the_postgresql_tools_a_clear_error(org, tmp_path, monkeypatch):
    from django.db import connection

    from relance.errors import NotFound

    if connection.vendor != "postgresql":
        pytest.skip("pg_dump: PostgreSQL only (SQLite uses its online backup API)")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(NotFound, match="pg_dump introuvable : installez les outils clients de PostgreSQL"):
        ops_backup.backup(tmp_path / "sauvegardes")
    assert not list((tmp_path / "sauvegardes").glob("*"))  # no partial archive left
