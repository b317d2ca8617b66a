"""One lock order (``relance/locks.py``): imports of every kind while four workers send
never deadlock, never refuse a file, never roll back a reminder already delivered (issue 12).

Measured before the fix with this test on PostgreSQL: payment files of 20 rows were one
transaction (invoices of one customer, the organisation row, invoices of the next…) while a
worker held a reminder's invoices across SMTP and then wanted the organisation row —
« deadlock detected » on both sides (see docs/architecture.md, « Ordre des verrous »).
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from relance.banking.services.statements import import_statement
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import due_reminders, send_reminder
from relance.dunning.services.planner import plan_day
from relance.events.services import verify_chain
from relance.ledger.models import Organisation
from relance.ledger.services.fec_import import import_fec
from relance.ledger.services.imports import import_file
from tests.builders import make_org, write
from tests.conftest import PINNED_NOW
from tests.integration.test_bank_import import OWN_IBAN, Entry, write_statement
from tests.integration.test_fec_import import fec, receipt, sale
from tests.smtp_server import RecordingHandler, SMTPServer

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = 40
TODAY = date(2026, 11, 23)


class SlowHandler(RecordingHandler):
    """A real SMTP sink that takes its time to accept a message (a busy server): the worker
    holds its invoices meanwhile, the window in which an import meets it."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)


def _ledger(tmp_path: Path) -> Organisation:
    org = make_org(iban=OWN_IBAN)
    rows = ["Code client;Raison sociale;Type;Email"] + [
        f"K{i:03d};Client {i};entreprise;compta{i}@client{i}.test" for i in range(CUSTOMERS)]
    import_file(org, write(tmp_path, "clients.csv", "\n".join(rows) + "\n"))
    rows = ["Numéro facture;Code client;Date;Échéance;Montant TTC"] + [
        f"F{i:03d}-{j};K{i:03d};01/09/2026;{10 + j}/10/2026;{500 + j},00" for i in range(CUSTOMERS) for j in range(3)]
    import_file(org, write(tmp_path, "factures.csv", "\n".join(rows) + "\n"))
    plan_day(org, TODAY)
    return org


def _payments_file(tmp_path: Path, n: int, rng: random.Random) -> Path:
    rows = ["Référence;Code client;Date;Montant;Facture"]
    for k in range(20):
        i, j = rng.randrange(CUSTOMERS), rng.randrange(3)
        rows.append(f"P{n}-{k};K{i:03d};20/11/2026;1,00;F{i:03d}-{j}")
    return write(tmp_path, f"paiements-{n}.csv", "\n".join(rows) + "\n")


def _statement(tmp_path: Path, n: int, rng: random.Random) -> Path:
    entries = [Entry("2.00", on=date(2026, 11, 20), name=f"Client {i}", text=f"Facture F{i:03d}-{rng.randrange(3)} {n}")
               for i in rng.sample(range(CUSTOMERS), 10)]
    return write_statement(tmp_path, entries, name=f"releve-{n}.xml", statement_id=f"REL-{n}")


def _fec(tmp_path: Path, n: int) -> Path:
    entries = []
    for k in range(5):
        aux, name = f"4110{n}{k}", f"FEC Client {n}-{k}"
        entries += [sale(f"V{n}{k}", "20260901", aux, name, f"FV{n}-{k}", "300,00"),
                    receipt(f"B{n}{k}", "20260915", aux, name, f"RG{n}-{k}", "100,00")]
    return fec(tmp_path, f"fec-{n}.txt", *entries)


def test_imports_of_every_kind_while_four_workers_send(tmp_path, settings, pinned_clock) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them: no deadlock can happen)")
    settings.MEDIA_ROOT = tmp_path / "media"
    server = SMTPServer()
    server.handler = SlowHandler()
    server.controller.handler = server.handler
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 10
    try:
        org = _ledger(tmp_path)
        ids = due_reminders(org, PINNED_NOW)
        assert len(ids) == CUSTOMERS
        todo: queue.Queue[int] = queue.Queue()
        for rid in ids:
            todo.put(rid)
        failures: list[str] = []
        outcomes: list[str] = []
        files: list[str] = []
        lock = threading.Lock()
        sending = threading.Event()
        sending.set()

        def worker() -> None:
            try:
                while True:
                    try:
                        rid = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        outcome = send_reminder(rid, PINNED_NOW)
                    except Exception as exc:  # counted: a deadlock, a rollback
                        with lock:
                            failures.append(f"relance {rid} : {type(exc).__name__}: {exc}")
                        continue
                    with lock:
                        outcomes.append(outcome)
            finally:
                connections.close_all()

        def importer() -> None:
            rng = random.Random(12)
            n = 0
            try:
                while sending.is_set() or n < 6:
                    n += 1
                    jobs: list[tuple[str, Any]] = [("paiements", lambda n=n: import_file(
                        org, _payments_file(tmp_path, n, rng)))]
                    if n % 2 == 0:
                        jobs.append(("relevé", lambda n=n: import_statement(org, _statement(tmp_path, n, rng))))
                    if n % 5 == 1:
                        jobs.append(("FEC", lambda n=n: import_fec(org, _fec(tmp_path, n), default_kind="entreprise")))
                    for kind, job in jobs:
                        try:
                            job()
                            with lock:
                                files.append(kind)
                        except Exception as exc:  # counted: a refused file
                            with lock:
                                failures.append(f"{kind} {n} refusé : {type(exc).__name__}: {exc}")
            finally:
                connections.close_all()

        workers = [threading.Thread(target=worker) for _ in range(4)]
        importers = [threading.Thread(target=importer)]
        for t in importers + workers:
            t.start()
        for t in workers:
            t.join(timeout=120)
        sending.clear()
        for t in importers:
            t.join(timeout=120)

        deadlocks = [f for f in failures if "deadlock" in f.lower()]
        assert deadlocks == [], f"{len(deadlocks)} deadlock(s): {deadlocks[:3]}"
        assert failures == [], failures[:5]
        assert files.count("paiements") >= 6 and "relevé" in files and "FEC" in files
        sent = dict(Reminder.objects.filter(organisation=org, status=Reminder.Status.SENT)
                    .values_list("message_id", "pk"))
        delivered = [r.message["Message-ID"] for r in server.received]
        rolled_back = [m for m in delivered if m not in sent]
        assert rolled_back == [], f"{len(rolled_back)} reminder(s) delivered then rolled back"
        assert len(delivered) == len(set(delivered)) == outcomes.count("sent") == len(sent)
        assert verify_chain(org) == []
    finally:
        server.stop()


def test_every_writer_takes_its_locks_in_the_order(tmp_path, settings, pinned_clock) -> None:
    """The order itself, without a race (SQLite too): in strict mode a lock taken out of order
    raises ``LockOrderViolation`` at once (``locks.py``)."""
    from relance.dunning.services.approvals import skip
    from relance.locks import LockOrderViolation, lock_invoices, lock_organisation

    settings.RELANCE_LOCK_ORDER_CHECK = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = _ledger(tmp_path)
    rng = random.Random(3)
    import_file(org, _payments_file(tmp_path, 1, rng))
    import_statement(org, _statement(tmp_path, 2, rng))
    import_fec(org, _fec(tmp_path, 3), default_kind="entreprise")
    ids = due_reminders(org, PINNED_NOW)
    assert [send_reminder(rid, PINNED_NOW) for rid in ids[:-1]].count("sent") == len(ids) - 1
    last = Reminder.objects.get(pk=ids[-1])
    Reminder.objects.filter(pk=last.pk).update(status=Reminder.Status.AWAITING_APPROVAL)
    assert skip(org, last.pk, "client au téléphone", actor="t").status == Reminder.Status.CANCELLED
    from django.db import transaction

    with pytest.raises(LockOrderViolation), transaction.atomic():  # the old order of a payment file
        lock_organisation(org)
        lock_invoices(list(last.lines.values_list("invoice_id", flat=True)))
