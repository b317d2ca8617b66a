"""Pre-flight checks (``relance doctor``; ``relance run`` makes the same ones first).

Each check says, in one French line, either what is fine or what to do (the command or page
that fixes it). A problem may *hold back a channel*: ``relance run`` then leaves the reminders
of that channel planned rather than sending them broken — no SMTP server: the emails are not
claimed; an organisation without address, signatory or SIREN: its letters are not made.

The checks:

* ``database`` — the database is migrated (no unapplied migration);
* ``email`` — the SMTP server answers and authenticates (connect, EHLO, STARTTLS when asked,
  AUTH when an identifier is set, QUIT; no message sent), or another mail backend was chosen
  on purpose (``RELANCE_EMAIL_BACKEND``: the ``.eml`` files of the demo…), which is said;
* ``organisation.*`` — each organisation has what its messages print: postal address, signatory
  and SIREN (``channels.post.letterhead_missing``), IBAN, sender address;
* ``rates`` — the rates of the organisation's current semester are in the tables (legal interest,
  ECB rate: ``rates.services.rate_tables``);
* ``workers`` — the task queue has live workers (:mod:`relance.operations.heartbeat`, or task
  activity in the last minutes) and no task waits unclaimed;
* ``disk`` — free space in the data and documents folders.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q

from relance import clock
from relance.clock import today_for, zone_of

from . import heartbeat

EMAIL_CHANNELS = ("email",)
LETTER_CHANNELS = ("letter", "registered_letter")

#: the SMTP check gives up after this many seconds (a firewall that drops packets)
SMTP_CHECK_TIMEOUT = 5
#: below this free space (in bytes) in the data or documents folder, documents may fail to be written
MIN_FREE_BYTES = 500 * 1024 * 1024
#: a task still waiting this long after it was due means no worker takes it
QUEUE_STALE_AFTER = timedelta(minutes=10)
#: a task finished this recently counts as a sign of life of a worker (another machine's)
RECENT_ACTIVITY = timedelta(minutes=10)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EML_BACKEND = "relance.channels.eml_backend.EmlBackend"
DB_TASK_BACKEND = "django_tasks_db.DatabaseBackend"


@dataclass(frozen=True)
class Check:
    key: str
    ok: bool
    message: str
    organisation: str | None = None
    holds: tuple[str, ...] = ()  # the channels ``relance run`` holds back while this is not fixed

    def line(self) -> str:
        where = f"[{self.organisation}] " if self.organisation else ""
        return f"{'ok' if self.ok else 'PROBLÈME'} · {where}{self.message}"


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.problems

    def held_channels(self, organisation_slug: str | None = None) -> dict[str, str]:
        """Channel → the reason it is held back (for the organisation, or for everyone)."""
        held: dict[str, str] = {}
        for check in self.problems:
            if check.organisation is None or check.organisation == organisation_slug:
                for channel in check.holds:
                    held.setdefault(channel, check.message)
        return held

    def problem_lines(self) -> list[str]:
        return [f"[{c.organisation}] {c.message}" if c.organisation else c.message for c in self.problems]

    def text(self) -> str:
        lines = [c.line() for c in self.checks]
        problems = len(self.problems)
        lines.append("Tout est prêt." if not problems else
                     f"{problems} problème{'s' if problems > 1 else ''} à corriger.")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks], "problems": self.problem_lines()}


# --- database ----------------------------------------------------------------------------------


def database_label(alias: str = DEFAULT_DB_ALIAS) -> str:
    """The database as a person names it: the SQLite file, or PostgreSQL host/name (no password)."""
    s = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return str(s["NAME"])
    return f"{connections[alias].vendor} {s.get('HOST') or 'localhost'}:{s.get('PORT') or ''}/{s.get('NAME')}"


def database_initialised(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database was ever migrated — cheaply (no migration files read), and without
    creating it: a missing SQLite file is not opened (opening it would create it empty)."""
    connection = connections[alias]
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite" and name != ":memory:" and not name.startswith("file:") and not Path(name).exists():
        return False
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    return {"django_migrations", "ledger_organisation"} <= tables


def migrate_command(data_dir: str | None = None) -> str:
    """``relance --dir DOSSIER migrate`` for the data folder in use (``relance migrate`` for the default one)."""
    import os

    data_dir = data_dir or os.environ.get("RELANCE_DATA_DIR")
    return f"relance --dir {data_dir} migrate" if data_dir else "relance migrate"


def not_initialised_message(data_dir: str | None = None) -> str:
    return (f"la base {database_label()} n’est pas initialisée : lancez « {migrate_command(data_dir)} » "
            "(ou « relance demo » pour essayer sur des données de démonstration)")


def unreachable_message(exc: Exception) -> str:
    reason = " ".join(str(exc).split())[:300]
    return (f"la base {database_label()} ne répond pas ({reason}) : vérifiez DATABASE_URL, que le serveur tourne et "
            "que la base existe (createdb), puis lancez « relance migrate » si elle est neuve")


def check_database(data_dir: str | None = None) -> Check:
    from django.db import OperationalError

    try:
        initialised = database_initialised()
    except OperationalError as exc:
        return Check("database", False, unreachable_message(exc))
    if not initialised:
        return Check("database", False, not_initialised_message(data_dir))
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5]) + (" …" if len(plan) > 5 else "")
        return Check("database", False, f"{len(plan)} migration(s) non appliquée(s) ({names}) : lancez "
                                        f"« {migrate_command(data_dir)} »")
    return Check("database", True, f"base {database_label()} à jour")


# --- email -------------------------------------------------------------------------------------


def _smtp_fix() -> str:
    return ("vérifiez RELANCE_EMAIL_HOST, RELANCE_EMAIL_PORT, RELANCE_EMAIL_TLS/RELANCE_EMAIL_SSL, ou choisissez "
            f"exprès les fichiers .eml (RELANCE_EMAIL_BACKEND={EML_BACKEND})")


def _authenticate(server: smtplib.SMTP, user: str, password: str) -> None:
    """One AUTH attempt with the first mechanism the server offers, in smtplib's order (``login``
    would try the next ones after a refusal, and a server may hang up on the second)."""
    if not server.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH")
    offered = server.esmtp_features["auth"].upper().split()
    mechanism = next((m for m in ("CRAM-MD5", "PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError("AUTH")
    server.user, server.password = user, password
    methods: dict[str, Any] = {"CRAM-MD5": server.auth_cram_md5, "PLAIN": server.auth_plain, "LOGIN": server.auth_login}
    method = methods[mechanism]
    server.auth(mechanism, method, initial_response_ok=mechanism != "LOGIN")


def check_email(timeout: float = SMTP_CHECK_TIMEOUT) -> Check:
    """A real SMTP session without a message: connect (SSL or STARTTLS as configured), EHLO,
    AUTH when an identifier and a password are set, QUIT."""
    backend = settings.EMAIL_BACKEND
    if backend == EML_BACKEND:
        why = ("choisi par RELANCE_EMAIL_BACKEND" if os.environ.get("RELANCE_EMAIL_BACKEND")
               else "dossier de démonstration")
        return Check("email", True, f"e-mails écrits en fichiers .eml dans {settings.RELANCE_EML_DIR}, aucun ne part "
                                    f"({why})")
    if backend != SMTP_BACKEND:
        return Check("email", True, f"e-mails confiés à {backend} : aucun ne part par SMTP (choisi par "
                                    "RELANCE_EMAIL_BACKEND)")
    host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
    user, password = settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD
    where = f"{host}:{port}"
    server: smtplib.SMTP | None = None
    stage = "connect"  # which step a « not supported » answer comes from: STARTTLS or AUTH
    try:
        if settings.EMAIL_USE_SSL:
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        code, _ = server.ehlo()
        if code != 250:
            raise smtplib.SMTPHeloError(code, b"EHLO refused")
        if settings.EMAIL_USE_TLS and not settings.EMAIL_USE_SSL:
            stage = "starttls"
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if user and password:
            stage = "auth"
            _authenticate(server, user, password)
        server.quit()
    except smtplib.SMTPAuthenticationError as exc:
        return Check("email", False, f"le serveur SMTP {where} refuse l’identifiant « {user} » ({exc.smtp_code}) : "
                                     "corrigez RELANCE_EMAIL_USER et RELANCE_EMAIL_PASSWORD", holds=EMAIL_CHANNELS)
    except smtplib.SMTPNotSupportedError:
        if stage == "starttls":
            return Check("email", False, f"le serveur SMTP {where} ne propose pas STARTTLS : vérifiez "
                                         "RELANCE_EMAIL_TLS et le port (587 avec STARTTLS, 465 avec RELANCE_EMAIL_SSL=1)",
                         holds=EMAIL_CHANNELS)
        return Check("email", False, f"le serveur SMTP {where} ne propose pas d’authentification (AUTH) "
                                     f"{'après STARTTLS ' if settings.EMAIL_USE_TLS else ''}alors qu’un identifiant est "
                                     "donné : vérifiez le serveur et le port (587 avec STARTTLS), ou videz "
                                     "RELANCE_EMAIL_USER et RELANCE_EMAIL_PASSWORD si le serveur n’en demande pas",
                     holds=EMAIL_CHANNELS)
    except ssl.SSLError as exc:
        return Check("email", False, f"la connexion chiffrée au serveur SMTP {where} a échoué ({exc.reason}) : "
                                     "vérifiez RELANCE_EMAIL_TLS / RELANCE_EMAIL_SSL et le port", holds=EMAIL_CHANNELS)
    except (OSError, smtplib.SMTPException) as exc:
        reason = str(exc) or type(exc).__name__
        return Check("email", False, f"le serveur SMTP {where} ne répond pas ({reason}) : {_smtp_fix()}",
                     holds=EMAIL_CHANNELS)
    finally:
        if server is not None:
            try:
                server.close()
            except OSError:  # pragma: no cover
                pass
    how = f", authentifié comme « {user} »" if user and password else ", sans authentification"
    return Check("email", True, f"serveur SMTP {where} joignable{how}")


# --- organisations -----------------------------------------------------------------------------


def _admin_page(org: Any) -> str:
    return f"/admin/ledger/organisation/{org.pk}/change/"


def check_organisation(org: Any) -> list[Check]:
    from relance.channels.post import letterhead_missing

    slug = org.slug
    page = f"complétez-la dans l’administration, page « Organisations › {org.legal_name} » ({_admin_page(org)})"
    checks = []
    missing = letterhead_missing(org)
    if missing:
        checks.append(Check("organisation.letterhead", False,
                            f"l’organisation n’a pas {', '.join(missing)} : ses courriers ne sont pas faits ; {page}",
                            slug, holds=LETTER_CHANNELS))
    else:
        checks.append(Check("organisation.letterhead", True, "adresse, signataire et SIREN des courriers", slug))
    if not org.iban.strip():
        checks.append(Check("organisation.iban", False, f"pas d’IBAN : les relances ne disent pas où virer ; {page}", slug))
    else:
        checks.append(Check("organisation.iban", True, "IBAN des coordonnées de paiement", slug))
    if not (org.sender_email.strip() or org.reply_to_email.strip()):
        checks.append(Check("organisation.sender", False, "pas d’adresse e-mail d’expédition (les e-mails ne partent "
                                                          f"pas) : {page}", slug, holds=EMAIL_CHANNELS))
    else:
        checks.append(Check("organisation.sender", True, f"e-mails expédiés par {org.sender_email or org.reply_to_email}",
                            slug))
    return checks


def check_mailbox(org: Any) -> Check:
    """The mailbox where the customers' replies arrive (``relance.replies``): its last reading failed, or
    it is not configured (the replies are then not read: not a fault, said plainly)."""
    from relance.replies.models import Mailbox

    mailbox = Mailbox.objects.filter(organisation=org).first()
    if mailbox is None:
        return Check("mailbox", True, "aucune boîte de réception : les réponses des clients ne sont pas relevées "
                                      "(relance replies mailbox --host … --user … --password-env …)", org.slug)
    if not mailbox.enabled:
        return Check("mailbox", True, f"relève de {mailbox} arrêtée", org.slug)
    if mailbox.last_error:
        return Check("mailbox", False, f"{mailbox.last_error} : vérifiez les réglages (relance replies mailbox "
                                       "--test)", org.slug)
    when = (f"dernière relève le {mailbox.last_fetch_at.astimezone(zone_of(org)):%d/%m/%Y à %H:%M}"
            if mailbox.last_fetch_at else "jamais relevée encore")
    return Check("mailbox", True, f"boîte de réception {mailbox} ({when})", org.slug)


def check_rates(org: Any, today: date | None = None) -> Check:
    """The rates the day's documents may need: the legal interest rate of the organisation's
    current semester (both creditor categories) and the ECB rate of its first day (L441-10 II)."""
    from relance.core.law import MissingRate
    from relance.core.law.rates import semester_of
    from relance.rates.services import rate_tables

    today = today or today_for(org)
    semester = semester_of(today)
    tables = rate_tables()
    missing = []
    try:
        tables.legal_rate(semester, "other")
        tables.legal_rate(semester, "individual")
    except MissingRate as exc:
        missing.append(exc.message)
    try:
        tables.ecb_rate_on(semester.start)  # L441-10 II: the rate in force on 1 January / 1 July
    except MissingRate as exc:
        missing.append(exc.message)
    if missing:
        from relance.dunning.models import Reminder
        from relance.rates.services import RATE_MISSING_PREFIX

        blocked = Reminder.objects.filter(organisation=org, status=Reminder.Status.FAILED,
                                          last_error__startswith=RATE_MISSING_PREFIX).count()
        waiting = (f"{blocked} relance(s) en échec l’attendent et repartiront dès qu’il sera ajouté" if blocked
                   else "les mises en demeure et les intérêts en ont besoin")
        return Check("rates", False, f"{' '.join(missing)} ({waiting})", org.slug)
    return Check("rates", True, f"taux légal et taux BCE du semestre {semester}", org.slug)


# --- workers -----------------------------------------------------------------------------------


def check_workers(now: datetime | None = None) -> Check:
    backend = str(settings.TASKS.get("default", {}).get("BACKEND", ""))
    if backend != DB_TASK_BACKEND:
        return Check("workers", True, f"envois exécutés sans file durable ({backend.rsplit('.', 1)[-1]})")
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = now or clock.now()
    cutoff = now - QUEUE_STALE_AFTER
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).filter(
        Q(run_after=get_date_max(), enqueued_at__lte=cutoff) | Q(run_after__lte=cutoff)).count()
    live = heartbeat.live_workers(now)
    recent = DBTaskResult.objects.filter(finished_at__gte=now - RECENT_ACTIVITY).exists()
    fix = "lancez « relance worker » (un service systemd ou un terminal qui reste ouvert ; voir docs/operations.md)"
    if waiting:
        return Check("workers", False, f"{waiting} envoi(s) attendent dans la file depuis plus de "
                                       f"{int(QUEUE_STALE_AFTER.total_seconds() // 60)} minutes sans worker : {fix}")
    if not live and not recent:
        return Check("workers", False, f"aucun worker en vie (aucun signe depuis "
                                       f"{int(heartbeat.LIVE_WITHIN.total_seconds() // 60)} minutes) : les nouvelles "
                                       f"tentatives ne partent pas avant le prochain « relance run » ; {fix}")
    if live:
        return Check("workers", True, f"{len(live)} worker(s) en vie ({', '.join(b.worker for b in live[:3])})")
    return Check("workers", True, "file de tâches active (envois traités ces dernières minutes)")


# --- disk --------------------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def storage_folders() -> list[Path]:
    folders = [Path(settings.DATA_DIR), Path(settings.MEDIA_ROOT)]
    if settings.EMAIL_BACKEND == EML_BACKEND:
        folders.append(Path(settings.RELANCE_EML_DIR))
    unique: list[Path] = []
    for f in folders:
        if f not in unique:
            unique.append(f)
    return unique


def check_disk(folders: Iterable[Path] | None = None, minimum: int = MIN_FREE_BYTES) -> list[Check]:
    checks = []
    seen: set[int] = set()
    for folder in folders if folders is not None else storage_folders():
        target = _existing(Path(folder))
        usage = shutil.disk_usage(target)
        device = target.stat().st_dev
        if device in seen and usage.free >= minimum:
            continue
        seen.add(device)
        free = _size(usage.free)
        if usage.free < minimum:
            checks.append(Check("disk", False, f"plus que {free} libres pour {folder} (au moins {_size(minimum)}) : "
                                               "libérez de la place ou déplacez le dossier de données (--dir, "
                                               "RELANCE_MEDIA_ROOT)", holds=LETTER_CHANNELS))
        elif target == Path(folder) and not _writable(target):
            checks.append(Check("disk", False, f"{folder} n’est pas accessible en écriture : corrigez ses droits",
                                holds=LETTER_CHANNELS))
        else:
            checks.append(Check("disk", True, f"{free} libres pour {folder}"))
    return checks


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)


def _size(n: int) -> str:
    from decimal import Decimal

    from relance.core.formatting import number

    if n >= 1024**3:
        return f"{number(Decimal(n) / 1024**3, digits=1)} Go"
    return f"{n // 1024**2} Mo"


def check_schedule(org: Any, now: datetime | None = None) -> Check:
    """The scheduler's last day for the organisation (``operations.scheduler``): a day that failed
    or whose worker died is a problem; days missed while no worker ran are said."""
    from relance.core.formatting import long_date
    from relance.operations.models import DayRun

    now = now or clock.now()
    last = DayRun.objects.filter(organisation=org).order_by("-day").first()
    if last is None:
        return Check("schedule", True, f"aucune journée lancée par le planificateur pour l’instant "
                                       f"(chaque jour ouvré à {org.run_at:%H:%M} quand « relance worker » tourne)",
                     org.slug)
    day = long_date(last.day)
    if last.status == DayRun.Status.FAILED and (last.report or {}).get("held"):
        return Check("schedule", False, f"la journée du {day} a des envois retenus ({last.error[:200]}) : le worker "
                                        "la relance toutes les 15 minutes jusqu’à ce que les vérifications passent ; "
                                        "« relance run » la lance tout de suite", org.slug)
    if last.status == DayRun.Status.FAILED:
        return Check("schedule", False, f"la journée du {day} a échoué ({last.error[:200] or 'sans message'}) : "
                                        "le worker la relance toutes les 15 minutes ; « relance run » la lance tout de "
                                        "suite", org.slug)
    if last.status == DayRun.Status.RUNNING and last.lease_until < now:
        return Check("schedule", False, f"la journée du {day} a été interrompue (worker {last.worker or '?'} arrêté) : "
                                        "un worker en vie la reprend ; lancez « relance worker »", org.slug)
    missed = ""
    if last.missed_days:
        missed = (f" ; {len(last.missed_days)} journée(s) manquée(s) avant elle, faute de worker "
                  f"({', '.join(long_date(date.fromisoformat(d)) for d in last.missed_days[:3])}"
                  f"{'…' if len(last.missed_days) > 3 else ''})")
    state = "en cours" if last.status == DayRun.Status.RUNNING else "terminée"
    return Check("schedule", True, f"dernière journée planifiée : {day}, {state}{missed}", org.slug)


# --- all together ------------------------------------------------------------------------------


def run_checks(organisations: Sequence[Any] | None = None, *, data_dir: str | None = None, workers: bool = True,
               smtp_timeout: float = SMTP_CHECK_TIMEOUT, now: datetime | None = None) -> DoctorReport:
    """Every check, in the order a person fixes them. ``organisations``: those to check (all
    when ``None``). Without a migrated database only the database, email and disk are checked."""
    report = DoctorReport()
    database = check_database(data_dir)
    report.checks.append(database)
    report.checks.append(check_email(smtp_timeout))
    if database.ok:
        from relance.ledger.models import Organisation

        orgs = list(organisations) if organisations is not None else list(Organisation.objects.order_by("slug"))
        if not orgs:
            report.checks.append(Check("organisation", False, "aucune organisation : créez-la avec « relance orgs add "
                                                              "SLUG --name … --siren … --iban … --email … --address … "
                                                              "--postal-code … --city … »"))
        for org in orgs:
            report.checks.extend(check_organisation(org))
            report.checks.append(check_rates(org))
            report.checks.append(check_mailbox(org))
        if workers:
            report.checks.extend(check_schedule(org, now) for org in orgs)
            report.checks.append(check_workers(now))
    report.checks.extend(check_disk())
    return report


def preflight(organisation: Any, smtp_timeout: float = SMTP_CHECK_TIMEOUT) -> DoctorReport:
    """The checks ``relance run`` makes before sending (not the workers: the run brings its own)."""
    return run_checks([organisation], workers=False, smtp_timeout=smtp_timeout)
