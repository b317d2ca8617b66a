"""Chaos: reminders sent by 4 worker processes killed at random (kill -9) and restarted, payment
files imported meanwhile, through a loopback SMTP sink that fails on purpose (issue 12).

    .venv/bin/python bench/chaos.py [--reminders 1200] [--workers 4] [--kills 200]
                                    [--pg postgres://postgres@127.0.0.1:5432] [--db chaos] [--seed 1] [--json]

PostgreSQL only (a database ``--db`` dropped and created again). The sink (aiosmtpd, in this
process) changes its fault about every second: none, down (421 and the connection closed),
4xx, 5xx, drop after DATA (the message is taken, the connection closed before the reply: the
sender cannot know), slow (3 s before the reply). Workers run the dispatcher's own functions
(``due_reminders`` then ``send_reminder``); an importer process imports a 20-row payment file
(1,00 € each, customers at random) every 0.5 s. After the last kill: the sink is healed, the
workers stopped, ``recover_orphans`` takes back what the dead left (lease 0: nobody is alive),
retries are made due and sent until nothing is due. Then it counts:

* planned — reminders to send; delivered — reminders that reached the sink (by their
  ``X-Relance-Key``); duplicates — reminders that reached it more than once (two Message-IDs or
  one Message-ID twice); lost — reminders neither delivered nor in a state a person sees
  (``FAILED``, ``UNCERTAIN``, ``CANCELLED``), or marked sent without having reached the sink;
  deadlocks — « deadlock detected » in the workers' or the importer's errors; rejected — payment
  files refused; stuck — still ``SENDING`` after recovery; uncertain — « À vérifier », each
  listed with its recipient (what the user sees).

Exit status 1 when duplicates, lost, deadlocks, rejected files or stuck reminders are not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import fresh_database, log  # noqa: E402

FAULTS = ("none", "none", "none", "down", "4xx", "5xx", "drop", "slow")


# --------------------------------------------------------------------------- the SMTP sink


class FaultySink:
    """An aiosmtpd handler recording what it accepts, with the fault of the moment."""

    def __init__(self) -> None:
        self.fault = "none"
        self.received: list[tuple[str, str]] = []  # (X-Relance-Key, Message-ID)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.fault == "down":
            server.transport.close()
            return "421 4.3.2 Service not available"
        if self.fault == "4xx":
            return "451 4.3.0 Try again later"
        if self.fault == "5xx":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        import email.policy

        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        fault = self.fault
        if fault == "slow":
            await asyncio.sleep(3)
        with self.lock:
            self.received.append((str(message.get("X-Relance-Key", "")), str(message.get("Message-ID", ""))))
        if fault == "drop":
            server.transport.close()  # taken, but the sender never hears so
        return "250 Message accepted for delivery"


# --------------------------------------------------------------------------- the processes


def _django() -> None:
    import django

    django.setup()


def worker_main(log_path: str) -> None:
    """A worker: send what is due, forever (the parent kills it)."""
    _django()
    from relance import clock
    from relance.dunning.services.dispatcher import due_reminders, send_reminder

    rng = random.Random(os.getpid())
    with open(log_path, "a", encoding="utf-8") as out:
        out.write("ready\n")  # the parent kills ready workers only (a kill during Django's start proves nothing)
        out.flush()
        while True:
            ids = due_reminders(None, clock.now())
            if not ids:
                time.sleep(0.2)
                continue
            rng.shuffle(ids)
            for rid in ids[:50]:
                try:
                    send_reminder(rid)
                except Exception as exc:  # counted by the parent
                    out.write(f"worker {rid}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}\n")
                    out.flush()
                    from django.db import connection

                    connection.close()


def importer_main(log_path: str, workdir: str) -> None:
    """Import a 20-row payment file every 0.5 s."""
    _django()
    from relance.ledger.models import Customer, Organisation
    from relance.ledger.services.imports import import_file

    org = Organisation.objects.get(slug="chaos")
    codes = list(Customer.objects.filter(organisation=org).values_list("code", flat=True))
    rng = random.Random(os.getpid())
    n = 0
    with open(log_path, "a", encoding="utf-8") as out:
        while True:
            n += 1
            rows = ["Référence;Code client;Date;Montant"] + [
                f"CH-{os.getpid()}-{n}-{k};{rng.choice(codes)};01/01/2026;1,00" for k in range(20)]
            path = Path(workdir) / f"paiements-{os.getpid()}-{n}.csv"
            path.write_text("\n".join(rows) + "\n", encoding="utf-8")
            try:
                import_file(org, path)
                out.write("file ok\n")
            except Exception as exc:
                out.write(f"file refused: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}\n")
            out.flush()
            time.sleep(0.5)


# --------------------------------------------------------------------------- the run


def _setup(reminders: int) -> int:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from relance import clock
    from relance.dunning.models import Reminder
    from relance.dunning.services.planner import plan_day
    from relance.dunning.services.scenarios import install_default_scenario
    from relance.ledger.models import Organisation
    from relance.ledger.services.imports import import_file

    org = Organisation.objects.create(
        slug="chaos", legal_name="Atelier Chaos SAS", legal_form="SAS", siren="552100554",
        address1="5 place Bellecour", postal_code="69002", city="Lyon", iban="FR7630006000011234567890189",
        bic="AGRIFRPP", sender_name="Atelier Chaos", sender_email="compta@chaos.test", phone="04 78 00 00 00",
        signature_name="Sophie Laurent", signature_title="Responsable comptable")
    install_default_scenario(org)
    today = clock.now().date()
    due = (today - timedelta(days=20)).strftime("%d/%m/%Y")
    issued = (today - timedelta(days=50)).strftime("%d/%m/%Y")
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    customers = ["Code client;Raison sociale;Type;Email"] + [
        f"C{i:05d};Client {i};entreprise;compta{i}@client{i}.test" for i in range(reminders)]
    (workdir / "clients.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    import_file(org, workdir / "clients.csv")
    invoices = ["Numéro facture;Code client;Date;Échéance;Montant TTC"] + [
        f"F{i:05d};C{i:05d};{issued};{due};{900 + i % 50},00" for i in range(reminders)]
    (workdir / "factures.csv").write_text("\n".join(invoices) + "\n", encoding="utf-8")
    import_file(org, workdir / "factures.csv")
    plan_day(org, today)
    return Reminder.objects.filter(organisation=org, status=Reminder.Status.PLANNED).count()


def _ready(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith("ready")
    except OSError:
        return False


def _drain(sink: FaultySink) -> None:
    """After the chaos: take back what the dead left, make the retries due, send until done."""
    from relance import clock
    from relance.dunning.models import Reminder
    from relance.dunning.services.dispatcher import due_reminders, send_reminder
    from relance.dunning.services.recovery import recover_orphans

    recover_orphans(clock.now(), enqueue=False, lease=timedelta(0))
    for _ in range(10):
        Reminder.objects.filter(status=Reminder.Status.PLANNED).update(next_attempt_at=None)
        ids = due_reminders(None, clock.now())
        if not ids:
            return
        for rid in ids:
            send_reminder(rid)


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="chaos-run-"))
    url = fresh_database("postgres", workdir, args.pg, args.db)
    from aiosmtpd.controller import Controller

    sink = FaultySink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ.update({"RELANCE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                       "RELANCE_EMAIL_HOST": "127.0.0.1", "RELANCE_EMAIL_PORT": str(port),
                       "RELANCE_EMAIL_TIMEOUT": "10", "DATABASE_URL": url})
    _django()
    started = time.monotonic()
    planned = _setup(args.reminders)
    log(f"{planned} relances prévues ; SMTP 127.0.0.1:{port}")
    rng = random.Random(args.seed)
    logs = workdir / "logs"
    logs.mkdir()
    me = [sys.executable, str(Path(__file__).resolve())]

    def spawn(role: str, n: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*me, f"--{role}", str(logs / f"{role}-{n}.log"), "--workdir", str(workdir)],
                                env=dict(os.environ), stderr=subprocess.DEVNULL)

    importer = spawn("importer", 0)
    workers = [spawn("worker", n) for n in range(args.workers)]
    names = list(range(args.workers))
    time.sleep(2)  # the processes start (Django) before the first kill
    from relance.dunning.models import Reminder

    kills, busy_kills, spawned, faults = 0, 0, args.workers, Counter[str]()
    next_fault = time.monotonic()
    while kills < args.kills:
        time.sleep(rng.uniform(0.2, args.pace))
        if time.monotonic() >= next_fault:
            sink.fault = rng.choice(FAULTS)
            faults[sink.fault] += 1
            next_fault = time.monotonic() + rng.uniform(0.5, 1.5)
        ready = [n for n, _ in enumerate(workers) if _ready(logs / f"worker-{names[n]}.log")]
        if not ready:
            continue
        n = rng.choice(ready)
        os.kill(workers[n].pid, signal.SIGKILL)
        workers[n].wait()
        kills += 1
        if Reminder.objects.filter(status__in=(Reminder.Status.PLANNED, Reminder.Status.SENDING)).exists():
            busy_kills += 1  # a kill while there was still something to send
        workers[n], names[n] = spawn("worker", spawned), spawned
        spawned += 1
    sink.fault = "none"
    importer.send_signal(signal.SIGTERM)
    importer.wait()
    for w in workers:
        w.send_signal(signal.SIGKILL)
        w.wait()
    chaos_seconds = time.monotonic() - started
    _drain(sink)
    controller.stop()
    result = _count(sink, planned, kills, faults, logs, chaos_seconds, args)
    result["kills_while_sending"] = busy_kills
    return result


def _count(sink: FaultySink, planned: int, kills: int, faults: Counter[str], logs: Path, seconds: float,
           args: argparse.Namespace) -> dict[str, Any]:
    from relance.dunning.models import Reminder

    rows = list(Reminder.objects.values_list("pk", "idempotency_key", "status", "message_id", "recipient",
                                             "last_error"))
    by_key: dict[str, list[str]] = {}
    for key, message_id in sink.received:
        by_key.setdefault(key, []).append(message_id)
    delivered = {key for key in by_key if key}
    duplicates = sorted(key for key, ids in by_key.items() if len(ids) > 1)
    visible = {Reminder.Status.FAILED, Reminder.Status.UNCERTAIN, Reminder.Status.CANCELLED}
    lost = [pk for pk, key, status, *_ in rows
            if (key not in delivered and status not in visible) or (status == Reminder.Status.SENT
                                                                    and key not in delivered)]
    errors = "".join(p.read_text(encoding="utf-8") for p in logs.glob("*.log"))
    ready_workers = errors.count("ready\n")
    uncertain = [{"relance": pk, "destinataire": recipient, "motif": last_error}
                 for pk, _, status, _, recipient, last_error in rows if status == Reminder.Status.UNCERTAIN]
    statuses = Counter(status for _, _, status, *_ in rows)
    return {
        "command": "bench/chaos.py " + " ".join(f"--{k} {v}" for k, v in (
            ("reminders", args.reminders), ("workers", args.workers), ("kills", args.kills), ("seed", args.seed))),
        "planned": planned, "delivered": len(delivered), "duplicates": len(duplicates), "lost": len(lost),
        "deadlocks": errors.lower().count("deadlock detected"),
        "payment_files": errors.count("file ok"), "rejected_files": errors.count("file refused"),
        "stuck": statuses.get(Reminder.Status.SENDING, 0), "uncertain": len(uncertain),
        "failed": statuses.get(Reminder.Status.FAILED, 0), "kills": kills, "faults": dict(faults),
        "statuses": dict(statuses), "seconds": round(seconds, 1), "uncertain_list": uncertain,
        "duplicate_keys": duplicates[:20], "lost_ids": lost[:20], "workers_started": ready_workers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=1200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pace", type=float, default=1.2, help="at most this many seconds between two kills")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="chaos")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--importer", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return 0
    if args.importer:
        importer_main(args.importer, args.workdir)
        return 0
    result = run(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        for key in ("planned", "delivered", "duplicates", "lost", "deadlocks", "rejected_files", "stuck",
                    "uncertain", "failed", "kills", "kills_while_sending", "payment_files", "seconds"):
            print(f"{key:15} {result[key]}")
        for item in result["uncertain_list"]:
            print(f"  à vérifier : relance {item['relance']} → {item['destinataire']} ({item['motif']})")
    bad = any(result[k] for k in ("duplicates", "lost", "deadlocks", "rejected_files", "stuck"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
