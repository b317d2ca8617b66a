"""``relance backup`` / ``restore`` round trip on the test database (SQLite's online backup API, or
pg_dump/pg_restore on PostgreSQL): the data, a stored document and the event chain come back; a
database with data is refused without --force; an altered archive is refused before anything."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import stat
import subprocess
import tarfile
import threading
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


@pytest.fixture(autouse=True)
def _no_kept_schemas():
    """PostgreSQL: the schemas a restore keeps aside are dropped after each test (a flush does not)."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public_avant%'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP SCHEMA "{name}" CASCADE')


def kept_schemas() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public_avant%'")
        return [name for (name,) in cursor.fetchall()]


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


@pytest.mark.parametrize(("name", "kind"), [("../evade.txt", tarfile.REGTYPE), ("/etc/relance.txt", tarfile.REGTYPE),
                                          ("fichiers/../../evade.txt", tarfile.REGTYPE),
                                          ("fichiers/lien", tarfile.SYMTYPE)])
def test_an_archive_reaching_outside_is_refused_before_anything(org, tmp_path, name, kind):
    result = ops_backup.backup(tmp_path / "sauvegardes")
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(result.path) as source, tarfile.open(forged, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
        extra = tarfile.TarInfo(name)
        extra.type = kind
        extra.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
        target.addfile(extra, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
    make_org("autre", legal_name="Autre SARL")
    with pytest.raises(InvalidInput, match="chemin interdit"):
        ops_backup.restore(forged, force=True)
    assert Organisation.objects.count() == 2
    assert not (tmp_path / "evade.txt").exists()


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


def _rebuilt(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    """A copy of an archive with some members replaced and the manifest made to agree (a « valid » archive)."""
    with tarfile.open(source) as archive:
        contents = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]
    contents.update(change)
    manifest = json.loads(contents.pop("manifest.json"))
    for name in change:
        manifest["members"][name] = {"sha256": hashlib.sha256(change[name]).hexdigest(), "size": len(change[name])}
    contents["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w:gz") as archive:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target


def test_the_archive_is_private(org, tmp_path):
    result = ops_backup.backup(tmp_path / "nouveau" / "sauvegardes")
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(result.path.parent.stat().st_mode) == 0o700
    existing = tmp_path / "existant"
    existing.mkdir(mode=0o750)
    existing.chmod(0o750)
    again = ops_backup.backup(existing)
    assert stat.S_IMODE(again.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(existing.stat().st_mode) == 0o750  # the administrator's folder keeps its modes


def test_documents_written_or_deleted_during_the_backup(org, tmp_path, monkeypatch, settings):
    root = Path(settings.MEDIA_ROOT)
    busy = root / "courriers" / "en-cours.pdf"
    busy.parent.mkdir(parents=True, exist_ok=True)
    busy.write_bytes(b"A" * 3_000_000)
    gone = root / "courriers" / "efface.pdf"
    gone.write_bytes(b"%PDF efface")
    is_file = Path.is_file

    def listed_then_deleted(self: Path) -> bool:  # another process deletes a document just after the listing
        found = is_file(self)
        if self == gone and found:
            gone.unlink()
        return found

    monkeypatch.setattr(Path, "is_file", listed_then_deleted)
    stop = threading.Event()

    def writer() -> None:  # a letter being rewritten all along the backup
        n = 0
        while not stop.is_set():
            n += 1
            with busy.open("r+b") as handle:
                handle.write(bytes([65 + n % 26]) * 3_000_000)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = ops_backup.backup(tmp_path / "sauvegardes")
    finally:
        stop.set()
        thread.join()
    monkeypatch.setattr(Path, "is_file", is_file)
    assert result.skipped == 1 and result.documents == 2  # the logo and the letter; the deleted one counted
    # the manifest agrees with every member: the archive restores
    check = tmp_path / "verifie"
    check.mkdir()
    manifest = ops_backup._extract_verified(result.path, check)
    assert "fichiers/courriers/en-cours.pdf" in manifest["members"]
    assert "fichiers/courriers/efface.pdf" not in manifest["members"]


def test_restore_extracts_beside_the_data_and_says_a_full_disk_in_french(org, tmp_path):
    result = ops_backup.backup(tmp_path / "sauvegardes")
    truncated = tmp_path / "tronquee.tar.gz"
    truncated.write_bytes(result.path.read_bytes()[:400])
    with pytest.raises(InvalidInput) as refused:
        ops_backup.restore(truncated, force=True)
    assert "illisible ou tronquée" in str(refused.value)
    assert "Compressed" not in str(refused.value) and "Error" not in str(refused.value)
    assert not list(tmp_path.glob(".relance-restauration-*"))  # extracted beside DATA_DIR, then removed


def test_documents_that_cannot_be_moved_aside_stop_the_restore_before_the_database(org, tmp_path, monkeypatch,
                                                                                      settings):
    result = ops_backup.backup(tmp_path / "sauvegardes")
    make_org("autre", legal_name="Autre SARL")
    root = Path(settings.MEDIA_ROOT)
    renaming = Path.rename

    def busy(self: Path, target):  # what a mount point or a folder in use answers (root ignores chmod here)
        if self == root:
            raise OSError(errno.EBUSY, "Device or resource busy")
        return renaming(self, target)

    monkeypatch.setattr(Path, "rename", busy)
    with pytest.raises(Conflict, match=r"ne peut pas être mis de côté \(EBUSY\).*rien n’est restauré"):
        ops_backup.restore(result.path, force=True)
    assert Organisation.objects.count() == 2  # the database was not touched
    assert sorted(p.name for p in root.parent.iterdir() if p.name.startswith((".fichiers", "fichiers."))) == []


def test_a_failed_postgresql_restore_keeps_the_data(org, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("pg_restore: PostgreSQL only")
    # a dump pg_restore reads (--list) but cannot restore: a check calling a function that reads a table
    # by its bare name (pg_restore runs with an empty search_path)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE zz_b (i int)")
        cursor.execute("INSERT INTO zz_b VALUES (1)")
        cursor.execute("CREATE FUNCTION zz_ok(v int) RETURNS boolean LANGUAGE plpgsql AS "
                       "$$ BEGIN RETURN EXISTS (SELECT 1 FROM zz_b WHERE i = v); END $$")
        cursor.execute("CREATE TABLE zz_a (i int CHECK (zz_ok(i)))")
        cursor.execute("INSERT INTO zz_a VALUES (1)")
    try:
        broken = ops_backup.backup(tmp_path / "sauvegardes")
        before = state()
        make_org("autre", legal_name="Autre SARL")
        with pytest.raises(Conflict, match=r"pg_restore a échoué.*remise telle qu’elle était avant la restauration"):
            ops_backup.restore(broken.path, force=True)
        assert Organisation.objects.count() == 2 and state()["invoices"] == before["invoices"]
        assert kept_schemas() == []
        assert Path(Organisation.objects.get(slug="atelier").logo.path).read_bytes() == LOGO  # documents back
        assert not list(Path(ops_backup.media_root()).parent.glob("fichiers.avant-restauration-*"))

        # an archive pg_restore cannot even read is refused before anything
        unreadable = _rebuilt(broken.path, tmp_path / "illisible.tar.gz", {"base.pgdump": b"PGDMP pas un dump"})
        with pytest.raises(InvalidInput, match=r"illisible par pg_restore.*rien n’est restauré"):
            ops_backup.restore(unreadable, force=True)
        assert Organisation.objects.count() == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS zz_a, zz_b")
            cursor.execute("DROP FUNCTION IF EXISTS zz_ok(int)")


def test_a_postgresql_restore_keeps_the_replaced_data_aside(org, tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    result = ops_backup.backup(tmp_path / "sauvegardes")
    make_org("autre", legal_name="Autre SARL")
    restored = ops_backup.restore(result.path, force=True)
    assert Organisation.objects.count() == 1
    assert restored.previous_schema and restored.previous_schema.startswith("public_avant_restauration_")
    assert kept_schemas() == [restored.previous_schema]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{restored.previous_schema}".ledger_organisation')
        assert cursor.fetchone() == (2,)
    again = ops_backup.backup(tmp_path / "sauvegardes")  # the kept schema is not in the next backups
    dump = tmp_path / "base.pgdump"
    dump.write_bytes(_member(again.path, "base.pgdump"))
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, check=True).stdout.decode()
    assert "public_avant_restauration" not in listing
    twice = ops_backup.restore(again.path, force=True)  # twice the same second: another name
    assert twice.previous_schema != restored.previous_schema and len(kept_schemas()) == 2
    assert twice.previous_files != restored.previous_files and twice.previous_files.is_dir()  # type: ignore[union-attr]


def _member(path: Path, name: str) -> bytes:
    with tarfile.open(path) as archive:
        return archive.extractfile(name).read()  # type: ignore[union-attr]


def test_two_restores_in_the_same_second_keep_both_previous_folders(org, tmp_path):
    import time_machine

    result = ops_backup.backup(tmp_path / "sauvegardes")
    with time_machine.travel(datetime(2026, 11, 23, 18, 0, tzinfo=UTC), tick=False):
        first = ops_backup.restore(result.path, force=True)
        second = ops_backup.restore(result.path, force=True)
    assert first.previous_files and second.previous_files
    assert first.previous_files.name == "fichiers.avant-restauration-20261123-180000"
    assert second.previous_files.name == "fichiers.avant-restauration-20261123-180000-2"
    assert first.previous_schema == second.previous_schema is None or first.previous_schema != second.previous_schema
    assert Path(Organisation.objects.get(slug="atelier").logo.path).read_bytes() == LOGO


def test_restore_does_not_need_tmp(org, tmp_path, monkeypatch):
    """The archive is extracted beside DATA_DIR: an unusable /tmp (full, too small) does not matter."""
    import tempfile

    result = ops_backup.backup(tmp_path / "sauvegardes")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "pas-de-tmp"))  # any use of /tmp would fail
    restored = ops_backup.restore(result.path, force=True)
    assert restored.documents == 1
    assert Path(Organisation.objects.get(slug="atelier").logo.path).read_bytes() == LOGO
