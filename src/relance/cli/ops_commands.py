"""Running relance in production: ``serve`` (gunicorn, or Django's server with ``--dev``), ``worker``
(task queue + scheduler), ``schedule`` (the scheduler's state), ``backup`` and ``restore``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from relance.core.formatting import long_date

from .output import emit

COMMANDS = ("backup", "restore", "schedule")


def add_parsers(sub: Any) -> None:
    backup = sub.add_parser("backup", help="sauvegarde la base et les documents dans une archive (tar.gz)")
    backup.add_argument("--dir", dest="backup_dir", type=Path,
                        help="dossier des sauvegardes (défaut : sauvegardes/ dans le dossier de données)")
    backup.add_argument("--json", action="store_true")

    restore = sub.add_parser("restore", help="restaure une sauvegarde (base et documents), puis vérifie le journal")
    restore.add_argument("archive", type=Path, help="fichier relance-sauvegarde-….tar.gz")
    restore.add_argument("--force", action="store_true", help="remplace une base qui contient déjà des données")
    restore.add_argument("--json", action="store_true")

    schedule = sub.add_parser("schedule", help="heure de la journée de chaque organisation, dernières journées lancées")
    schedule.add_argument("--tick", action="store_true",
                          help="lance maintenant les journées dues et pas encore lancées (cron, minuteur systemd)")
    schedule.add_argument("--json", action="store_true")


def default_web_workers() -> int:
    return max(2, min(2 * (os.cpu_count() or 1) + 1, 8))


def serve(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from relance.security import check_secret_key

    check_secret_key()
    call_command("migrate", verbosity=0)
    if args.dev:
        print(f"relance : application web (serveur de développement) sur http://{args.host}:{args.port}/ "
              "(Ctrl+C pour arrêter)")
        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
        return 0
    workers = args.workers or int(os.environ.get("RELANCE_WEB_WORKERS", "0") or 0) or default_web_workers()
    timeout = args.timeout or int(os.environ.get("RELANCE_WEB_TIMEOUT", "300"))
    command = [
        sys.executable, "-m", "gunicorn", "relance.wsgi:application",
        "--bind", f"{args.host}:{args.port}", "--workers", str(workers),
        # imports and PDF renderings can take minutes; a worker is recycled now and then (memory)
        "--timeout", str(timeout), "--graceful-timeout", "30", "--max-requests", "1000", "--max-requests-jitter", "100",
        "--access-logfile", "-", "--error-logfile", "-", "--preload", "--no-control-socket",
        # X-Forwarded-Proto is believed only from these addresses (the HTTPS proxy, docs/security.md)
        "--forwarded-allow-ips", os.environ.get("RELANCE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    ]
    print(f"relance : application web sur http://{args.host}:{args.port}/ (gunicorn, {workers} processus ; "
          "Ctrl+C pour arrêter)", flush=True)
    os.execv(sys.executable, command)  # gunicorn takes this process's place: signals reach it directly
    return 0  # pragma: no cover


def worker(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from relance.operations import scheduler
    from relance.operations.heartbeat import default_worker_id, stop

    worker_id = default_worker_id()
    if args.batch:  # the queue only: what waits, then stop
        call_command("db_worker", batch=True, reload=False, startup_delay=False, worker_id=worker_id[:64])
        return 0
    if args.once:  # one pass of everything (cron / systemd timer): minute jobs, scheduler, then the queue
        import socket

        worker_id = f"{socket.gethostname()}-once"  # one beat file per machine, its time the last pass
        scheduler._minute_jobs(worker_id)
        # while the pass lasts, the minute thread renews the leases of its days (a long day is not taken over)
        background = scheduler.start_background(worker_id, scheduler=False, first_wait=scheduler.TICK_SECONDS)
        try:
            report = scheduler.tick(worker_id)
            call_command("db_worker", batch=True, reload=False, startup_delay=False, worker_id=worker_id[:64],
                         verbosity=0)
        finally:
            background.set()
        _print_tick(args, report)
        return 0
    background = scheduler.start_background(worker_id, scheduler=not args.no_scheduler)
    print(f"relance : worker {worker_id} — file d’envoi"
          f"{'' if args.no_scheduler else ' et planificateur (journée de chaque organisation à son heure)'}"
          " ; Ctrl+C pour arrêter", flush=True)
    try:
        call_command("db_worker", reload=False, worker_id=worker_id[:64])
    finally:
        background.set()
        scheduler.release(worker_id)  # a day cut short is resumed by the next worker at once
        stop(worker_id)
    return 0


def _long(iso_day: str) -> str:
    """« 23 novembre 2026 » for ``2026-11-23`` (the JSON keeps the ISO date)."""
    return long_date(date.fromisoformat(iso_day))


def _print_tick(args: argparse.Namespace, report: Any) -> None:
    lines = []
    for item in report.ran:
        text = {"done": "lancée", "failed": "en échec (nouvel essai dans 15 minutes)",
                "held": "lancée, envois retenus par les vérifications (nouvel essai dans 15 minutes)",
                }.get(item["outcome"], item["outcome"])
        lines.append(f"{item['organisation']} : journée du {_long(item['day'])} {text}")
        if item["missed_days"]:
            lines.append(f"  {len(item['missed_days'])} journée(s) ouvrée(s) manquée(s) (du "
                         f"{_long(item['missed_days'][0])} au {_long(item['missed_days'][-1])}), non rattrapées : "
                         "les relances sont datées d’aujourd’hui")
    for item in report.digests:
        lines.append(f"{item['organisation']} : résumé du {_long(item['day'])} "
                     f"{'envoyé' if item['sent'] else 'non envoyé'}")
    emit(args, report.as_dict(), "\n".join(lines) or "Aucune journée à lancer maintenant.")


def cmd_schedule(args: argparse.Namespace) -> int:
    from relance import clock
    from relance.ledger.models import Organisation
    from relance.ledger.queries import organisation_zone
    from relance.operations import scheduler
    from relance.operations.models import DayRun

    if args.tick:
        _print_tick(args, scheduler.tick())
        return 0
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for org in Organisation.objects.order_by("slug"):
        zone = organisation_zone(org)
        last = DayRun.objects.filter(organisation=org).order_by("-day").first()
        rows.append({
            "organisation": org.slug, "run_at": org.run_at.strftime("%H:%M"), "timezone": str(zone),
            "next_run": scheduler.next_run(org, now).astimezone(zone).isoformat(timespec="minutes"),
            "last": None if last is None else {
                "day": last.day.isoformat(), "status": last.status, "attempts": last.attempts,
                "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                "missed_days": last.missed_days, "error": last.error or None,
                "digest_sent": last.digest_sent_at is not None},
        })
    labels = {"done": "terminée", "running": "en cours", "failed": "en échec",
              "held": "envois retenus, nouvel essai toutes les 15 minutes"}
    lines = []
    for r in rows:
        upcoming = datetime.fromisoformat(r["next_run"])
        when = ("dès maintenant (l’heure est passée : le prochain passage d’un worker la lance)"
                if upcoming <= now else f"{long_date(upcoming.date())} à {upcoming:%H:%M}")
        line = f"{r['organisation']:<20} chaque jour ouvré à {r['run_at']} ({r['timezone']}) ; prochaine : {when}"
        if r["last"]:
            last_day = long_date(date.fromisoformat(r["last"]["day"]))
            status = r["last"]["status"]
            if status == "failed" and (r["last"]["error"] or "").startswith("envois retenus"):
                status = "held"
            line += f" ; dernière : {last_day}, {labels.get(status, status)}"
            if r["last"]["missed_days"]:
                line += f", {len(r['last']['missed_days'])} journée(s) manquée(s) avant elle"
        lines.append(line)
    emit(args, {"organisations": rows}, "\n".join(lines) or "aucune organisation")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from decimal import Decimal

    from relance.core.formatting import number
    from relance.operations.backup import backup

    result = backup(args.backup_dir)
    emit(args, result.as_dict(),
           f"Sauvegarde écrite : {result.path}\n  base {result.database}, {result.documents} document(s), "
           f"{result.counts.get('events', 0)} événement(s), {number(Decimal(result.size) / 1_048_576, digits=1)} Mo"
           + (f"\n  {result.skipped} document(s) supprimé(s) pendant la sauvegarde, absent(s) de l’archive"
              if result.skipped else ""))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from relance.operations.backup import restore

    result = restore(args.archive, force=args.force)
    lines = [f"Sauvegarde du {result.created_at[:19].replace('T', ' ')} restaurée ({result.database}, "
             f"{result.documents} document(s)).",
             "Journal intègre : "
             + (", ".join(f"{slug} {n} événements" for slug, n in result.chains.items()) or "vide") + "."]
    if result.previous_files:
        lines.append(f"Les documents présents avant sont gardés dans {result.previous_files}.")
    if result.previous_schema:
        lines.append(f"Les données présentes avant sont gardées dans le schéma PostgreSQL « {result.previous_schema} » "
                     f"(hors des sauvegardes) ; une fois sûr, supprimez-le : DROP SCHEMA {result.previous_schema} CASCADE;")
    if result.pending_migrations:
        lines.append(f"{result.pending_migrations} migration(s) plus récente(s) que la sauvegarde : "
                     "lancez « relance migrate ».")
    emit(args, result.as_dict(), "\n".join(lines))
    return 0
