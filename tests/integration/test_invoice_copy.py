"""« Je n’ai jamais reçu la facture » (issue 15): the reply sends a copy of the invoice, its PDF
attached, through the dispatcher — once, evented, re-checked at send time, free of any late-payment
law — while the customer keeps the new delay before the next reminder; a task only when no copy
can go, and « Annuler la suite » cancels a copy not yet sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django_tasks_db.models import DBTaskResult

from relance.dunning.models import CallTask, Reminder
from relance.dunning.services.audit import audit_organisation
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.queries import blocked
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.replies.models import Mailbox, Reply
from relance.replies.services import review
from relance.replies.services.receive import receive
from tests.builders import org_with_three_invoices

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 19)  # Thursday: F-001 at J+40, F-002 at J+19 (customer C001)
PDF = b"%PDF-1.4 facture F-002\n%%EOF\n"
LAW = ("L441", "L. 441", "D441", "D. 441", "40 €", "40,00 €", "pénalité", "indemnité", "intérêts", "Late interest",
       "recovery", "penalt")


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _setup(settings: Any, tmp_path: Any) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(noon(DAY), tick=False):
        yield


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = org_with_three_invoices(tmp_path)
    Mailbox.objects.create(organisation=org, host="127.0.0.1", username="recouvrement", password="x")
    for number in ("F-001", "F-002"):
        invoice = Invoice.objects.get(organisation=org, number=number)
        invoice.pdf.save(f"{number}.pdf", ContentFile(PDF.replace(b"F-002", number.encode())))
    return org


def first_reminder(org: Organisation) -> Reminder:
    plan_day(org, DAY)
    dispatch_now(org, noon(DAY))
    mail.outbox.clear()
    return Reminder.objects.get(customer__code="C001", kind=Reminder.Kind.REMINDER, status=Reminder.Status.SENT)


def eml(body: str, reminder: Reminder, *, sender: str = "claire.martin@boulangerie-martin.test",
        message_id: str = "<non-recu-1@mail.test>") -> bytes:
    when = noon(DAY) + timedelta(hours=2)
    headers = [f"From: Claire Martin <{sender}>", "To: recouvrement@atelier-dubois.test",
               "Subject: RE: Relance facture", f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
               f"Message-ID: {message_id}", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
               "Content-Transfer-Encoding: 8bit", f"In-Reply-To: {reminder.message_id}",
               f"References: {reminder.message_id}"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


NOT_RECEIVED = "Bonjour,\nJe n’ai jamais reçu la facture F-002, pouvez-vous me la renvoyer ?\nCordialement"


def not_received(org: Organisation, body: str = NOT_RECEIVED) -> Reply:
    reminder = first_reminder(org)
    reply = receive(org, eml(body, reminder), now=noon(DAY) + timedelta(hours=2)).reply
    assert reply.category == "non_recu", reply.category
    return reply


def confirmed(org: Organisation, reply: Reply) -> Reply:
    return review.confirm(org, reply, actor="web:alice", today=DAY)


def copies(org: Organisation) -> list[Reminder]:
    return list(Reminder.objects.filter(organisation=org, kind=Reminder.Kind.INVOICE_COPY).order_by("pk"))


def test_the_copy_leaves_with_its_pdf_and_the_customer_keeps_the_new_delay(org: Organisation) -> None:
    reply = not_received(org)
    tasks = DBTaskResult.objects.count()
    reply = confirmed(org, reply)
    [copy] = copies(org)
    assert reply.effect["copy"] == copy.pk and "tasks" not in reply.effect
    assert copy.status == Reminder.Status.PLANNED and copy.channel == "email" and copy.planned_for == DAY
    assert [line.invoice.number for line in copy.lines.all()] == ["F-002"]
    assert DBTaskResult.objects.count() == tasks + 1  # queued at once, for a worker
    assert not CallTask.objects.filter(customer=copy.customer, status="open").exists()
    planned = Event.objects.get(organisation=org, kind=kinds.REMINDER_PLANNED, reminder_id_ref=copy.pk)
    assert planned.actor == "web:alice" and planned.data["kind"] == "invoice_copy"

    report = dispatch_now(org, noon(DAY) + timedelta(hours=3))
    assert report.sent == [copy.pk]
    [email] = mail.outbox
    assert email.subject == "Copie de la facture n° F-002"
    assert email.to == ["Claire Martin <claire.martin@boulangerie-martin.test>"]
    assert email.attachments == [("Facture-F-002.pdf", PDF, "application/pdf")]
    text = str(email.body)
    assert "Comme vous nous l’avez signalé, vous trouverez ci-joint la facture n°\xa0F-002 du" in text
    assert "IBAN" in text  # the payment block
    assert not [w for w in LAW if w.lower() in text.lower()]
    copy.refresh_from_db()
    assert copy.status == Reminder.Status.SENT
    sent = Event.objects.get(organisation=org, reminder_id_ref=copy.pk, kind=kinds.INVOICE_COPY_SENT)
    assert str(kinds.INVOICE_COPY_SENT.label) == "Copie de facture envoyée"
    assert sent.data["attachments"][0]["name"] == "Facture-F-002.pdf" and "escalation" not in sent.data
    assert not Event.objects.filter(organisation=org, reminder_id_ref=copy.pk, kind=kinds.REMINDER_SENT).exists()
    # not a reminder received: the invoice's count and the escalation audit ignore it
    assert Invoice.objects.get(organisation=org, number="F-002").reminders_received == 1
    assert audit_organisation(org).violations == [] and audit_organisation(org).messages == 1
    assert verify_chain(org) == []

    # the new delay: the customer stays paused, the next reminder waits
    customer = Customer.objects.get(organisation=org, code="C001")
    assert customer.pk in blocked(org, [customer.pk], DAY + timedelta(days=5)).customers
    mail.outbox.clear()
    plan_day(org, DAY + timedelta(days=7))
    dispatch_now(org, noon(DAY + timedelta(days=7)))
    assert [m for m in mail.outbox if "claire.martin@" in m.to[0]] == []
    # undone after it left: the copy stays sent, and that is said
    left = review.undo(org, reply, actor="web:alice", today=DAY + timedelta(days=7))
    assert left == ["copie de facture déjà envoyée"]


def test_one_copy_however_often_the_reply_is_received_or_confirmed(org: Organisation) -> None:
    reply = not_received(org)
    raw = eml(NOT_RECEIVED, Reminder.objects.get(customer__code="C001", kind=Reminder.Kind.REMINDER))
    assert receive(org, raw, now=noon(DAY) + timedelta(hours=2)).created is False
    reply = confirmed(org, reply)
    with pytest.raises(Exception, match="rien à confirmer"):
        confirmed(org, reply)
    dispatch_now(org, noon(DAY) + timedelta(hours=3))
    dispatch_now(org, noon(DAY) + timedelta(hours=4))
    assert len(copies(org)) == 1 and len(mail.outbox) == 1
    # undone after it left, then confirmed again: found again, never sent twice
    review.undo(org, reply, actor="web:alice", today=DAY)
    reply = confirmed(org, Reply.objects.get(pk=reply.pk))
    dispatch_now(org, noon(DAY) + timedelta(hours=5))
    assert len(copies(org)) == 1 and len(mail.outbox) == 1 and reply.effect["copy"] == copies(org)[0].pk


def test_undo_before_sending_cancels_the_copy_and_a_new_confirmation_sends_one(org: Organisation) -> None:
    reply = confirmed(org, not_received(org))
    [copy] = copies(org)
    assert review.undo(org, reply, actor="web:alice", today=DAY) == []
    copy.refresh_from_db()
    assert copy.status == Reminder.Status.CANCELLED
    cancelled = Event.objects.get(organisation=org, reminder_id_ref=copy.pk, kind=kinds.REMINDER_CANCELLED)
    assert cancelled.actor == "web:alice"
    assert dispatch_now(org, noon(DAY) + timedelta(hours=3)).sent == [] and mail.outbox == []
    reply = confirmed(org, Reply.objects.get(pk=reply.pk))
    first, second = copies(org)
    assert first.pk == copy.pk and reply.effect["copy"] == second.pk
    assert dispatch_now(org, noon(DAY) + timedelta(hours=4)).sent == [second.pk] and len(mail.outbox) == 1


def test_a_copy_of_an_invoice_paid_before_it_leaves_is_cancelled(org: Organisation) -> None:
    confirmed(org, not_received(org))
    Invoice.objects.filter(organisation=org, number="F-002").update(status=Invoice.Status.PAID, amount_due=0)
    report = dispatch_now(org, noon(DAY) + timedelta(hours=3))
    assert report.cancelled == [copies(org)[0].pk] and mail.outbox == []


def test_a_disputed_invoice_is_still_copied(org: Organisation) -> None:
    """The re-check keeps open invoices whatever holds the customer (the reply's pause, a dispute)."""
    from relance.holds.services.holds import dispute_reasons, open_dispute

    confirmed(org, not_received(org))
    invoice = Invoice.objects.get(organisation=org, number="F-002")
    open_dispute(org, invoice, dispute_reasons(org)[0].code, note="", actor="web:alice", today=DAY)
    assert dispatch_now(org, noon(DAY) + timedelta(hours=3)).sent == [copies(org)[0].pk]


def test_no_usable_email_keeps_the_task(org: Organisation) -> None:
    reply = not_received(org)
    Contact.objects.filter(customer=reply.customer).update(email_bounced_at=noon(DAY))
    reply = confirmed(org, reply)
    assert copies(org) == [] and "copy" not in reply.effect
    [task] = CallTask.objects.filter(pk__in=reply.effect["tasks"])
    assert task.status == "open" and "Renvoyer F-002" in task.note and "pas de copie possible" in task.note
    assert reply.effect["holds"]  # the new delay all the same


def test_an_invoice_without_pdf_gets_a_task_the_others_a_copy(org: Organisation) -> None:
    Invoice.objects.filter(organisation=org, number="F-001").update(pdf="")
    reply = not_received(org, "Bonjour, je n’ai jamais reçu les factures F-001 et F-002. Cordialement")
    reply = confirmed(org, reply)
    [copy] = copies(org)
    assert [line.invoice.number for line in copy.lines.all()] == ["F-002"]
    [task] = CallTask.objects.filter(pk__in=reply.effect["tasks"])
    assert "Renvoyer F-001" in task.note and "pas de PDF" in task.note


def test_a_pdf_gone_at_send_time_fails_visibly(org: Organisation) -> None:
    confirmed(org, not_received(org))
    invoice = Invoice.objects.get(organisation=org, number="F-002")
    invoice.pdf.storage.delete(invoice.pdf.name)
    report = dispatch_now(org, noon(DAY) + timedelta(hours=3))
    [copy] = copies(org)
    assert report.failed == [copy.pk] and mail.outbox == []
    copy.refresh_from_db()
    assert "PDF de la facture n° F-002 introuvable" in copy.last_error


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("business", [True, False])
def test_no_late_payment_law_in_a_copy(org: Organisation, business: bool, language: str) -> None:
    Customer.objects.filter(organisation=org, code="C001").update(is_business=business, language=language)
    reply = not_received(org)
    confirmed(org, reply)
    dispatch_now(org, noon(DAY) + timedelta(hours=3))
    [email] = mail.outbox
    text = f"{email.subject}\n{email.body}\n{email.alternatives[0][0] if email.alternatives else ''}"
    assert not [w for w in LAW if w.lower() in text.lower()], text
    assert email.subject == ("Copy of invoice F-002" if language == "en" else "Copie de la facture n° F-002")
    assert email.attachments[0][0] == "Facture-F-002.pdf"


def test_two_invoices_in_one_copy(org: Organisation) -> None:
    reply = not_received(org, "Bonjour, je n’ai jamais reçu les factures F-001 et F-002. Cordialement")
    confirmed(org, reply)
    dispatch_now(org, noon(DAY) + timedelta(hours=3))
    [email] = mail.outbox
    assert email.subject == "Copie des factures n° F-001 et F-002"
    assert [a[0] for a in email.attachments] == ["Facture-F-001.pdf", "Facture-F-002.pdf"]
    text = str(email.body)
    assert "vous trouverez ci-joint les factures suivantes\xa0:\n– n°\xa0F-001 du 10/09/2026" in text
    assert "Si vous les avez réglées entre-temps" in text
