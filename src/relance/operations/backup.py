"""``relance backup`` / ``relance restore``: the database and the stored documents in one archive.

An archive (``relance-sauvegarde-AAAAMMJJ-HHMMSS.tar.gz``) holds:

* ``base.sqlite3`` — SQLite's online backup API (``sqlite3.Connection.backup``) from the live
  connection: a consistent copy while workers keep writing; or ``base.pgdump`` — ``pg_dump``'s
  custom format for PostgreSQL (the client tools must be installed: ``postgresql-client``);
* ``fichiers/…`` — the stored documents (``MEDIA_ROOT``: letters, scans, invoice PDFs, logos),
  read *after* the database, so that every document the database names is there;
* ``manifest.json`` — date, database kind, the applied migrations, a count of the main tables, and the
  SHA-256 and size of every other member.

Each document is read once: its hash and the bytes archived are the same read (a PDF written during
the backup cannot make the manifest disagree with the archive); a document deleted meanwhile is skipped
and counted (``BackupResult.skipped``). The archive is created ``0600`` (it holds every customer's data),
in a folder created ``0700`` when the command creates it.

Restoring extracts next to ``DATA_DIR`` (not ``/tmp``: a big archive would fill it), checks every member
against the manifest before touching anything, refuses a database that holds data (organisations, users
or events) unless ``force``, and puts the new documents in place beside ``MEDIA_ROOT`` and moves the
current folder aside *before* touching the database (a rename that fails — mount point, busy — stops
everything with nothing changed). Then the database is replaced. SQLite: the backup API into the live
connection. PostgreSQL: the archive is first read by ``pg_restore --list``; the live schema ``public`` is
renamed ``public_avant_restauration_<date>`` (kept, never dropped by relance: a wrong archive restored
with ``--force`` can still be undone), a fresh ``public`` is created and ``pg_restore`` runs in one
transaction; if it fails, the fresh schema is dropped and the old one renamed back — the database is as it
was — and the documents are put back too. ``relance backup`` leaves those kept schemas out of its dumps.
Finally every organisation's event chain is verified.
"""

from __future__ import annotations

import errno
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
from pathlib import Path, PurePosixPath
from typing import Any
from zlib import error as zlib_error

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from relance import clock
from relance.errors import ChainBroken, Conflict, InvalidInput, NotFound

MANIFEST = "manifest.json"
FILES = "fichiers"
FORMAT = 1
#: the schema a PostgreSQL restore keeps the replaced data in (with the date); ``pg_dump`` leaves them out
KEPT_SCHEMA = "public_avant_restauration_"
#: a document up to this size is archived from memory, a bigger one from a temporary copy
SPOOL_MAX = 32 * 1024 * 1024
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
    #: documents deleted between the listing of MEDIA_ROOT and their reading (not in the archive)
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "database": self.database, "created_at": self.created_at.isoformat(),
                "members": self.members, "documents": self.documents, "size": self.size, "counts": self.counts,
                "skipped": self.skipped}


@dataclass
class RestoreResult:
    path: Path
    database: str
    created_at: str
    documents: int
    chains: dict[str, int]
    pending_migrations: int
    previous_files: Path | None = None
    #: PostgreSQL: the schema holding the data the restore replaced (``DROP SCHEMA … CASCADE`` once sure)
    previous_schema: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "database": self.database, "backup_created_at": self.created_at,
                "documents": self.documents, "events_verified": self.chains,
                "pending_migrations": self.pending_migrations,
                "previous_files": str(self.previous_files) if self.previous_files else None,
                "previous_schema": self.previous_schema}


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
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          f"--exclude-schema={KEPT_SCHEMA}*", "--file", str(target), *args], env, "pg_dump")


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


def _private_directory(directory: Path) -> Path:
    """The backup folder, created ``0700`` (and its missing parents) when it does not exist yet; an existing
    folder keeps its modes (the administrator chose them)."""
    directory = directory.resolve()
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
    return directory


def _add_document(archive: tarfile.TarFile, path: Path, name: str, mtime: float) -> dict[str, Any] | None:
    """Archive ``path`` as ``name`` from one read: the bytes hashed are the bytes archived. None when the
    file vanished (deleted since the listing)."""
    digest = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as copy:
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
                    copy.write(chunk)
        except FileNotFoundError:
            return None
        size = copy.tell()
        copy.seek(0)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(mtime), 0o644
        archive.addfile(info, copy)
    return {"sha256": digest.hexdigest(), "size": size}


def backup(directory: Path | None = None) -> BackupResult:
    """Write an archive of the database and the stored documents into ``directory``
    (default ``DATA_DIR/sauvegardes``) and return what it holds."""
    kind = vendor()
    created = clock.now().astimezone(UTC)
    directory = _private_directory(directory or Path(settings.DATA_DIR) / "sauvegardes")
    stamp = created.strftime("%Y%m%d-%H%M%S")
    final = directory / f"relance-sauvegarde-{stamp}.tar.gz"
    n = 1
    while final.exists():
        n += 1
        final = directory / f"relance-sauvegarde-{stamp}-{n}.tar.gz"
    partial = final.with_name(final.name + ".partiel")
    skipped = 0
    with tempfile.TemporaryDirectory(prefix="relance-sauvegarde-") as tmp:
        db_file = Path(tmp) / DB_MEMBER[kind]
        _dump_database(kind, db_file)
        migrations = applied_migrations()
        counts = _counts()
        members: dict[str, dict[str, Any]] = {DB_MEMBER[kind]: {"sha256": _sha256(db_file), "size": db_file.stat().st_size}}
        root = media_root()
        documents = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        try:
            # created 0600 from the start (not chmod-ed after): every customer's data is in there
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                archive.add(db_file, arcname=DB_MEMBER[kind])
                for path in documents:
                    name = f"{FILES}/{path.relative_to(root).as_posix()}"
                    added = _add_document(archive, path, name, created.timestamp())
                    if added is None:
                        skipped += 1
                        continue
                    members[name] = added
                manifest = {
                    "format": FORMAT, "application": "relance", "created_at": created.isoformat(),
                    "database": kind, "migrations": migrations, "counts": counts, "members": members,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(created.timestamp())
                archive.addfile(info, io.BytesIO(data))
            os.chmod(partial, 0o600)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(final, kind, created, len(members) + 1, len(members) - 1, final.stat().st_size, counts,
                        skipped)


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


def _plain_member(member: tarfile.TarInfo) -> bool:
    """A member a backup of relance holds: a file or a folder, under the archive's root (no absolute
    path, no « .. », no link, no device)."""
    parts = PurePosixPath(member.name).parts
    return ((member.isfile() or member.isdir()) and not member.name.startswith(("/", "\\"))
            and ".." not in parts and not any(":" in part for part in parts[:1]))


def _extract_verified(path: Path, into: Path) -> dict[str, Any]:
    """Extract the archive into ``into`` and check every member against the manifest."""
    if not path.is_file():
        raise NotFound(f"sauvegarde introuvable : {path}")
    try:
        with tarfile.open(path, "r:gz") as archive:
            entries = archive.getmembers()
            unsafe = next((m for m in entries if not _plain_member(m)), None)
            if unsafe is not None:
                raise InvalidInput(f"« {path.name} » contient un chemin interdit ({unsafe.name}) : "
                                   "ce n’est pas une sauvegarde de relance, rien n’est restauré")
            if hasattr(tarfile, "data_filter"):  # Python ≥ 3.11.4: the standard library checks it too
                archive.extractall(into, entries, filter="data")
            else:  # pragma: no cover - Debian 12's Python 3.11.2 without the backport
                archive.extractall(into, entries)
    except (tarfile.TarError, EOFError, zlib_error) as exc:
        raise InvalidInput(f"« {path.name} » n’est pas une sauvegarde lisible de relance (archive tar.gz "
                           "illisible ou tronquée)") from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise Conflict(f"plus de place sur le disque pour extraire « {path.name} » dans {into.parent} : "
                           "libérez de la place (il en faut environ deux fois la taille de l’archive), "
                           "rien n’est restauré") from exc
        code = errno.errorcode.get(exc.errno or 0, "erreur système")
        raise Conflict(f"extraction de « {path.name} » impossible dans {into.parent} ({code}) : "
                       "rien n’est restauré") from exc
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


def _pg_check_archive(source: Path) -> None:
    """``pg_restore --list``: the dump is readable by these client tools (not from a newer pg_dump, not
    truncated) before anything is touched."""
    _args, env = _pg_params()
    done = subprocess.run([_pg_tool("pg_restore"), "--list", str(source)], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise InvalidInput(f"la base de la sauvegarde est illisible par pg_restore (code {done.returncode}), rien "
                           f"n’est restauré : {done.stderr.strip()[:800]} — une sauvegarde faite par une version "
                           "plus récente de PostgreSQL se restaure avec les outils clients de cette version")


def _restore_database(kind: str, source: Path, stamp: str) -> str | None:
    """Replace the database with ``source``; PostgreSQL: return the schema that keeps the replaced data.
    A failed ``pg_restore`` puts the old schema back and raises :class:`Conflict`."""
    if kind == "sqlite":
        connection.ensure_connection()
        target = connection.connection
        origin = sqlite3.connect(source)
        try:
            origin.backup(target)  # replaces every page of the live database, WAL included
        finally:
            origin.close()
        return None
    pg_restore = _pg_tool("pg_restore")  # the archive was read by _pg_check_archive before the documents moved
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [f"{KEPT_SCHEMA}%"])
        taken = {name for (name,) in cursor.fetchall()}
    kept = base = f"{KEPT_SCHEMA}{stamp}".replace("-", "_")
    n = 1
    while kept in taken:  # two restores in the same second
        n += 1
        kept = f"{base}_{n}"
    quoted = connection.ops.quote_name(kept)
    with transaction.atomic(), connection.cursor() as cursor:  # both or neither
        cursor.execute(f"ALTER SCHEMA public RENAME TO {quoted}")
        cursor.execute("CREATE SCHEMA public")
    connections.close_all()
    args, env = _pg_params()
    try:
        done = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                               *args, str(source)], env=env, capture_output=True, text=True, check=False)
    except BaseException:  # interrupted (Ctrl+C): the old data takes its place back too
        _put_back(kept)
        raise
    if done.returncode != 0:
        _put_back(kept)
        raise Conflict(f"pg_restore a échoué (code {done.returncode}) : la base est remise telle qu’elle était avant "
                       f"la restauration, rien n’est perdu. Erreur de pg_restore : {done.stderr.strip()[:800]}")
    return kept


def _put_back(kept: str) -> None:
    """The restore failed: drop the new ``public`` and give the kept schema its name back."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
            cursor.execute(f"ALTER SCHEMA {connection.ops.quote_name(kept)} RENAME TO public")
    except DatabaseError as exc:
        raise Conflict(f"la restauration a échoué et l’ancienne base n’a pas pu reprendre sa place ({exc}) : ses "
                       f"données sont intactes dans le schéma « {kept} » ; remettez-la avec psql : "
                       f"DROP SCHEMA public CASCADE; ALTER SCHEMA {kept} RENAME TO public;") from exc


@dataclass
class _Documents:
    """The documents of the archive put in place beside ``MEDIA_ROOT`` before the database is touched."""

    root: Path
    staged: Path
    previous: Path | None
    count: int

    def commit(self) -> None:
        self.staged.rename(self.root)

    def undo(self) -> None:
        shutil.rmtree(self.staged, ignore_errors=True)
        if not self.root.exists():
            if self.previous is not None:
                self.previous.rename(self.root)
            else:
                self.root.mkdir()


def _unused(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``… when taken (two restores in the same second)."""
    found, n = path, 1
    while found.exists():
        n += 1
        found = path.with_name(f"{path.name}-{n}")
    return found


def _prepare_files(extracted: Path, stamp: str) -> _Documents:
    """Move the archive's documents beside ``MEDIA_ROOT`` (same file system: the final rename is atomic), then
    move the current folder aside. Any failure here (a mount point, a busy folder, no room) leaves everything
    as it was — and the database is not touched yet."""
    root = media_root()
    if os.path.ismount(root):
        raise Conflict(f"les documents ({root}) sont un point de montage : la restauration ne peut pas le remplacer. "
                       "Pointez RELANCE_MEDIA_ROOT vers un sous-dossier du montage, puis relancez ; rien n’est restauré")
    root.parent.mkdir(parents=True, exist_ok=True)
    staged = _unused(root.with_name(f".{root.name}.restauration-{stamp}"))
    source = extracted / FILES
    try:
        if source.is_dir():  # a rename when DATA_DIR and MEDIA_ROOT share a file system, else a copy
            shutil.move(source, staged)
        else:
            staged.mkdir()
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise Conflict(f"les documents ne peuvent pas être préparés dans {root.parent} ({exc.strerror or exc}) : "
                       "rien n’est restauré") from exc
    count = sum(1 for p in staged.rglob("*") if p.is_file())
    previous = None
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()  # an empty folder is not worth keeping aside
    if root.exists():
        previous = _unused(root.with_name(f"{root.name}.avant-restauration-{stamp}"))
        try:
            root.rename(previous)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            code = errno.errorcode.get(exc.errno or 0, "erreur système")
            raise Conflict(f"le dossier des documents {root} ne peut pas être mis de côté ({code}) : il est peut-être "
                           "un point de montage ou utilisé par un autre programme ; rien n’est restauré") from exc
    return _Documents(root, staged, previous, count)


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
    stamp = f"{clock.now().astimezone(UTC):%Y%m%d-%H%M%S}"
    work = Path(settings.DATA_DIR)  # beside the data, not /tmp: the archive's size is needed twice
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".relance-restauration-", dir=work) as tmp:
        extracted = Path(tmp)
        manifest = _extract_verified(path.resolve(), extracted)
        if manifest["database"] != kind:
            raise InvalidInput(f"la sauvegarde est celle d’une base {manifest['database']}, la base configurée est "
                               f"{kind} : restaurez-la sur une base du même type")
        if database_has_data() and not force:
            raise Conflict("la base contient déjà des données (organisations, utilisateurs ou événements) : "
                           "relancez avec --force pour les remplacer par la sauvegarde")
        if kind == "postgresql":
            _pg_check_archive(extracted / DB_MEMBER[kind])
        files = _prepare_files(extracted, stamp)
        try:
            previous_schema = _restore_database(kind, extracted / DB_MEMBER[kind], stamp)
        except BaseException:
            files.undo()
            raise
        files.commit()
        documents, previous = files.count, files.previous
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
                         pending_migrations(), previous, previous_schema)
