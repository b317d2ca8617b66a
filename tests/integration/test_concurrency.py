"""Several workers on PostgreSQL share the sending: each reminder goes exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection, connections

from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import due_reminders, send_reminder
from relance.dunning.services.planner import plan_day
from relance.ledger.services.imports import import_file
from tests.builders import make_org, write

pytestmark = pytest.mark.django_db(transaction=True)


def test_competing_workers_send_each_reminder_once(tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED concurrency runs on PostgreSQL (SQLite serialises writers)")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core import mail

    org = make_org()
    customers = ["Code client;Raison sociale;Type;Email"] + [f"K{i:03d};Client {i};entreprise;compta{i}@client{i}.test"
                                                          for i in range(40)]
    import_file(org, write(tmp_path, "c.csv", "\n".join(customers) + "\n"))
    invoices = ["Numéro facture;Code client;Date;Échéance;Montant TTC"] + [
        f"F{i:03d};K{i:03d};01/10/2026;31/10/2026;{100 + i},00" for i in range(40)]
    import_file(org, write(tmp_path, "f.csv", "\n".join(invoices) + "\n"))
    plan_day(org, date(2026, 11, 19))
    now = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)
    ids = due_reminders(org, now)
    assert len(ids) == 40
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for rid in ids:  # every worker tries every reminder
                outcome = send_reminder(rid, now)
                with lock:
                    outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("sent") == 40
    assert outcomes.count("skipped") == 120
    assert len(mail.outbox) == 40
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 40
    assert Reminder.objects.filter(status="sent").count() == 40
