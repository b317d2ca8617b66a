"""« Renvoyer » a failed reminder and « Envoyer l’accord » of a payment plan, through a real
SMTP server on loopback and the task queue's worker: each message arrives exactly once, and
a reminder whose invoices were paid meanwhile does not leave."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.dunning.services.retries import NotRetryable, retry
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.services.plans import propose_plan
from relance.ledger.models import Customer, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, write
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

DAY = date(2026, 11, 19)
NOON = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-1", "C001", "2026-10-01", "2026-10-31", "900"), ("F-2", "C001", "2026-10-05", "2026-11-04", "300")])))
    return org


def work() -> None:
    """A worker (``relance worker --batch``) runs what is on the task queue."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def failed_once(org: Organisation, smtp: SMTPServer) -> Reminder:
    plan_day(org, DAY)
    smtp.handler.refuse_with = "550 5.1.1 User unknown"
    reminder = Reminder.objects.get()
    assert dispatch_now(org, NOON).failed == [reminder.pk]
    smtp.handler.refuse_with = None
    dispatch_now(org, NOON + timedelta(days=1))  # a failure is never retried by itself
    assert smtp.received == []
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    return reminder


def test_a_failed_email_retried_is_sent_exactly_once(org: Organisation, smtp: SMTPServer) -> None:
    reminder = failed_once(org, smtp)
    retry(org, reminder.pk, actor="web:alice")
    with pytest.raises(NotRetryable):
        retry(org, reminder.pk, actor="web:alice")  # a second click: already back on the queue
    work()
    dispatch_now(org)  # the day's run afterwards finds nothing to send
    work()
    assert len(smtp.received) == 1
    (received,) = smtp.received
    assert received.rcpt_tos == ["claire.martin@boulangerie-martin.test"]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 2
    assert received.message["Message-ID"] == reminder.message_id
    assert Event.objects.filter(kind="reminder.sent", reminder_id_ref=reminder.pk).count() == 1
    assert Event.objects.get(kind="reminder.retried").actor == "web:alice"
    with pytest.raises(NotRetryable):
        retry(org, reminder.pk, actor="web:alice")
    assert not verify_chain(org)


def test_a_failed_reminder_whose_invoices_were_paid_meanwhile_is_not_sent(org: Organisation,
                                                                          smtp: SMTPServer) -> None:
    reminder = failed_once(org, smtp)
    customer = reminder.customer
    record_payment(org, customer, "VIR-1", DAY + timedelta(days=1), Decimal("1200.00"), designated=["F-1", "F-2"])
    retry(org, reminder.pk, actor="web:alice")
    work()
    assert smtp.received == []
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert Event.objects.get(kind="reminder.cancelled", reminder_id_ref=reminder.pk).data["reason"] == \
        "paid_or_held_before_sending"


def test_the_plan_agreement_arrives_once_as_a_pdf_attachment(org: Organisation, smtp: SMTPServer) -> None:
    customer = Customer.objects.get(code="C001")
    plan = propose_plan(org, customer, ["F-1", "F-2"], count=3, first_due=timezone.localdate() + timedelta(days=10))
    client = Client()
    client.force_login(make_user("alice", org))
    url = reverse("web:plan_action", kwargs={"pk": plan.pk, "action": "envoyer"})
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # a double click
    work()
    dispatch_now(org)
    work()
    (received,) = smtp.received
    assert received.rcpt_tos == ["claire.martin@boulangerie-martin.test"]
    (attachment,) = list(received.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"Accord-echeancier-{plan.pk}.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF")
    plan.refresh_from_db()
    assert hashlib.sha256(pdf).hexdigest() == plan.agreement_sha256  # the letter kept is the one sent
    event = Event.objects.get(kind="plan.agreement_sent")
    assert event.actor == "system" and event.data["plan"] == plan.pk
    assert Event.objects.get(kind="plan.agreement_planned").actor == "web:alice"
    assert "Accord d’échéancier envoyé" in client.get(reverse("web:customer", kwargs={"pk": customer.pk})).content.decode()
    assert not verify_chain(org)
