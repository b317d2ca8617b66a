"""``relance backup`` / ``relance restore``: the database and the stored documents in one archive.

An archive (``relance-sauvegarde-AAAAMMJJ-HHMMSS.tar.gz``) holds:

* ``base.sqlite3`` — SQLite's online backup API (``sqlite3.Connection.backup``) from the live
  connection: a consistent copy while workers keep writing; or ``base.pgdump`` — ``pg_dump``'s
  custom format for PostgreSQL (the client tools must be installed: ``postgresql-client``);
* ``fichiers/…`` — the stored documents (``MEDIA_ROOT``: letters, scans, invoice PDFs, logos),
  read *after* the database, so that every document the database names is there;
* ``manifest.json`` — date, database kind, the applied migrations, a count of the main tables, and the
  SHA-256 and size of every other member.

Restoring checks every member against the manifest before touching anything, refuses a database
that holds data (organisations, users or events) unless ``force``, replaces the database (SQLite: the
backup API into the live connection; PostgreSQL: schema emptied, then ``pg_restore`` in one
transaction), puts the documents back (the previous folder is kept aside, renamed), then verifies
every organisation's event chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections

from relance import clock
from relance.errors import ChainBroken, Conflict, InvalidInput, NotFound

MANIFEST = "manifest.json"
FILES = "fichiers"
FORMAT = 1
DB_MEMBER = {"sqlite": "base.sqlite3", "postgresql": "base.pgdump"}


@dataclass
class BackupResult:
    path: Path
    database: str
    created_at: datetime
    members: int
    documents: int
    size: int
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "database": self.database, "created_at": self.created_at.isoformat(),
                "members": self.members, "documents": self.documents, "size": self.size, "counts": self.counts}


@dataclass
class RestoreResult:
    path: Path
    database: str
    created_at: str
    documents: int
    chains: dict[str, int]
    pending_migrations: int
    previous_files: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "database": self.database, "backup_created_at": self.created_at,
                "documents": self.documents, "events_verified": self.chains,
                "pending_migrations": self.pending_migrations,
                "previous_files": str(self.previous_files) if self.previous_files else None}


def vendor() -> str:
    kind = connection.vendor
    if kind not in DB_MEMBER:
        raise InvalidInput(f"base « {kind} » : seules SQLite et PostgreSQL sont sauvegardées")
    return kind


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_params() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args += ["--dbname", str(db["NAME"])]
    return args, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise NotFound(f"{name} introuvable : installez les outils clients de PostgreSQL (paquet « postgresql-client », "
                       "de la même version majeure que le serveur) pour sauvegarder ou restaurer une base PostgreSQL")
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Conflict(f"{what} a échoué (code {done.returncode}) : {done.stderr.strip()[:800]}")


def _dump_database(kind: str, target: Path) -> None:
    if kind == "sqlite":
        connection.ensure_connection()
        source = connection.connection
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)  # the online backup API: consistent while others write
        finally:
            destination.close()
        return
    args, env = _pg_params()
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), *args],
         env, "pg_dump")


def applied_migrations() -> dict[str, list[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    applied: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    from relance.events.models import Event
    from relance.ledger.models import Invoice, Organisation

    return {"organisations": Organisation.objects.count(), "users": get_user_model().objects.count(),
            "invoices": Invoice.objects.count(), "events": Event.objects.count()}


def backup(directory: Path | None = None) -> BackupResult:
    """Write an archive of the database and the stored documents into ``directory``
    (default ``DATA_DIR/sauvegardes``) and return what it holds."""
    kind = vendor()
    created = clock.now().astimezone(UTC)
    directory = (directory or Path(settings.DATA_DIR) / "sauvegardes").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = created.strftime("%Y%m%d-%H%M%S")
    final = directory / f"relance-sauvegarde-{stamp}.tar.gz"
    n = 1
    while final.exists():
        n += 1
        final = directory / f"relance-sauvegarde-{stamp}-{n}.tar.gz"
    partial = final.with_name(final.name + ".partiel")
    with tempfile.TemporaryDirectory(prefix="relance-sauvegarde-") as tmp:
        db_file = Path(tmp) / DB_MEMBER[kind]
        _dump_database(kind, db_file)
        migrations = applied_migrations()
        counts = _counts()
        members: dict[str, dict[str, Any]] = {DB_MEMBER[kind]: {"sha256": _sha256(db_file), "size": db_file.stat().st_size}}
        root = media_root()
        documents = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(db_file, arcname=DB_MEMBER[kind])
                for path in documents:
                    name = f"{FILES}/{path.relative_to(root).as_posix()}"
                    members[name] = {"sha256": _sha256(path), "size": path.stat().st_size}
                    archive.add(path, arcname=name, recursive=False)
                manifest = {
                    "format": FORMAT, "application": "relance", "created_at": created.isoformat(),
                    "database": kind, "migrations": migrations, "counts": counts, "members": members,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(created.timestamp())
                archive.addfile(info, io.BytesIO(data))
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(final, kind, created, len(members) + 1, len(documents), final.stat().st_size, counts)


def database_has_data() -> bool:
    """Organisations, users or events: a database someone works in (a freshly migrated one is empty)."""
    tables = set(connection.introspection.table_names())
    for table in ("ledger_organisation", "auth_user", "events_event"):
        if table in tables:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
                if cursor.fetchone():
                    return True
    return False


def _extract_verified(path: Path, into: Path) -> dict[str, Any]:
    """Extract the archive into ``into`` and check every member against the manifest."""
    if not path.is_file():
        raise NotFound(f"sauvegarde introuvable : {path}")
    try:
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(into, filter="data")  # no absolute paths, no « .. », no links outside
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidInput(f"« {path.name} » n’est pas une sauvegarde lisible de relance : {exc}") from exc
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
        members: dict[str, dict[str, Any]] = manifest["members"]
        kind = manifest["database"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"« {path.name} » : manifeste absent ou illisible, "
                           "ce n’est pas une sauvegarde de relance") from exc
    if manifest.get("format") != FORMAT or kind not in DB_MEMBER or DB_MEMBER[kind] not in members:
        raise InvalidInput(f"« {path.name} » : format de sauvegarde inconnu")
    found = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST}
    problems = [f"{name} : absent de l’archive" for name in sorted(set(members) - found)]
    problems += [f"{name} : absent du manifeste" for name in sorted(found - set(members))]
    for name in sorted(set(members) & found):
        if _sha256(into / name) != members[name].get("sha256"):
            problems.append(f"{name} : empreinte SHA-256 différente")
    if problems:
        raise InvalidInput(f"sauvegarde « {path.name} » altérée, rien n’est restauré : " + " ; ".join(problems[:10])
                           + (f" (et {len(problems) - 10} autres)" if len(problems) > 10 else ""))
    return manifest


def _restore_database(kind: str, source: Path) -> None:
    if kind == "sqlite":
        connection.ensure_connection()
        target = connection.connection
        origin = sqlite3.connect(source)
        try:
            origin.backup(target)  # replaces every page of the live database, WAL included
        finally:
            origin.close()
        return
    pg_restore = _pg_tool("pg_restore")
    with connection.cursor() as cursor:  # everything the dump does not hold goes too: the state of the backup
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    connections.close_all()
    args, env = _pg_params()
    _run([pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", *args, str(source)],
         env, "pg_restore")


def _restore_files(extracted: Path) -> tuple[int, Path | None]:
    root = media_root()
    previous = None
    if root.is_dir() and any(root.iterdir()):
        previous = root.with_name(f"{root.name}.avant-restauration-{clock.now():%Y%m%d-%H%M%S}")
        root.rename(previous)
    source = extracted / FILES
    count = 0
    if source.is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, root, dirs_exist_ok=True)
        count = sum(1 for p in root.rglob("*") if p.is_file())
    else:
        root.mkdir(parents=True, exist_ok=True)
    return count, previous


def pending_migrations() -> int:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def restore(path: Path, *, force: bool = False) -> RestoreResult:
    """Put an archive back: database, then documents, then the event chains verified."""
    from relance.events.models import Event
    from relance.events.services import verify_chain
    from relance.ledger.models import Organisation

    kind = vendor()
    with tempfile.TemporaryDirectory(prefix="relance-restauration-") as tmp:
        extracted = Path(tmp)
        manifest = _extract_verified(path.resolve(), extracted)
        if manifest["database"] != kind:
            raise InvalidInput(f"la sauvegarde est celle d’une base {manifest['database']}, la base configurée est "
                               f"{kind} : restaurez-la sur une base du même type")
        if database_has_data() and not force:
            raise Conflict("la base contient déjà des données (organisations, utilisateurs ou événements) : "
                           "relancez avec --force pour les remplacer par la sauvegarde")
        _restore_database(kind, extracted / DB_MEMBER[kind])
        documents, previous = _restore_files(extracted)
    chains: dict[str, int] = {}
    broken: list[str] = []
    for org in Organisation.objects.order_by("slug"):
        problems = verify_chain(org)
        chains[org.slug] = Event.objects.filter(organisation=org).count()
        if problems:
            broken.append(f"{org.slug} : {problems[0].message} (événement n° {problems[0].seq})")
    if broken:
        raise ChainBroken("base restaurée, mais le journal des événements ne se vérifie pas : " + " ; ".join(broken))
    return RestoreResult(path.resolve(), kind, str(manifest.get("created_at", "")), documents, chains,
                         pending_migrations(), previous)
