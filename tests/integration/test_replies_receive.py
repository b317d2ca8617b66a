"""Replies received (issue 15): stored once, attached to their customer and reminder, their effect
applied or proposed, the sequence held while a person has to read, every step evented and reversible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from relance.dunning.models import CallTask, Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold, Promise
from relance.ledger.models import Customer, Invoice, Organisation
from relance.replies.models import Mailbox, Reply
from relance.replies.services import review
from relance.replies.services.follow_up import follow_paid_claims
from relance.replies.services.receive import receive
from tests.builders import org_with_three_invoices

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 19)  # Thursday: F-001 at J+40, F-002 at J+19, F-003 at J+5


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = org_with_three_invoices(tmp_path)
    Mailbox.objects.create(organisation=org, host="127.0.0.1", username="recouvrement", password="x")
    return org


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def run(org: Organisation, day: date) -> list[Reminder]:
    plan_day(org, day)
    report = dispatch_now(org, noon(day))
    return list(Reminder.objects.filter(pk__in=report.sent))


def sent_to(org: Organisation, code: str) -> Reminder:
    [reminder] = [r for r in run(org, DAY) if r.customer.code == code]
    return reminder


def eml(body: str, *, sender: str = "claire.martin@boulangerie-martin.test", to: str = "recouvrement@atelier-dubois.test",
        subject: str = "RE: Relance facture", in_reply_to: str = "", when: datetime | None = None,
        message_id: str = "", extra: str = "") -> bytes:
    when = when or noon(DAY) + timedelta(hours=2)
    headers = [f"From: Claire Martin <{sender}>", f"To: {to}", f"Subject: {subject}",
               f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
               f"Message-ID: {message_id or f'<{abs(hash((body, sender, to, str(when)))):x}@mail.test>'}",
               "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    if extra:
        headers.append(extra)
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def kinds_of(org: Organisation) -> list[str]:
    return list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", flat=True))


def test_a_promise_in_the_thread_becomes_a_promise_hold_once(org: Organisation) -> None:
    reminder = sent_to(org, "C001")
    raw = eml("Bonjour,\nJe vous règle le 15 décembre.\nCordialement", in_reply_to=reminder.message_id)
    first = receive(org, raw)
    assert first.created
    reply = first.reply
    assert (reply.customer.code, reply.reminder_id, reply.attached_by) == ("C001", reminder.pk, "thread")
    assert (reply.category, reply.state, reply.promised_date) == ("promesse", "traitee", date(2026, 12, 15))
    promise = Promise.objects.get(pk=reply.effect["promise"])
    assert promise.promised_on == date(2026, 12, 15) and promise.obtained_via == "email"
    assert promise.amount == sum(i.amount_due for i in Invoice.objects.filter(customer=reply.customer))
    assert reply.review_hold is None
    again = receive(org, raw)
    assert not again.created and again.reply.pk == reply.pk
    assert Reply.objects.count() == 1 and Promise.objects.count() == 1
    assert kinds_of(org).count("reply.received") == 1
    assert "promise.recorded" in kinds_of(org)
    assert verify_chain(org) == []


def test_a_proposed_dispute_holds_the_sequence_until_a_person_confirms(org: Organisation) -> None:
    reminder = sent_to(org, "C001")
    raw = eml("Le montant de la facture F-002 ne correspond pas au devis signé, merci de corriger.",
              in_reply_to=reminder.message_id)
    reply = receive(org, raw).reply
    assert (reply.category, reply.state) == ("litige", "a_traiter")
    hold = reply.review_hold
    assert hold is not None and hold.state == "active" and hold.until is None and hold.invoice_id is None
    # a reminder planned for later finds the customer held: none leaves
    later = [r for r in run(org, DAY + timedelta(days=12)) if r.customer.code == "C001"]
    assert later == []
    review.confirm(org, reply, actor="sophie", today=DAY + timedelta(days=12))
    reply.refresh_from_db()
    hold.refresh_from_db()
    assert reply.state == "traitee" and hold.state == "lifted"
    dispute = Hold.objects.get(kind="dispute", state="active")
    assert dispute.invoice.number == "F-002" and dispute.dispute_reason.code == "montant_conteste"
    assert Event.objects.filter(kind="reply.applied", actor="sophie").exists()


def test_unknown_sender_waits_to_be_attached_then_holds_that_customer(org: Organisation) -> None:
    reply = receive(org, eml("Bonjour, qui êtes-vous ?", sender="inconnu@ailleurs.test")).reply
    assert (reply.state, reply.customer_id, reply.review_hold_id) == ("a_rattacher", None, None)
    c002 = Customer.objects.get(code="C002")
    review.attach_to(org, reply, c002, actor="sophie", today=DAY)
    reply.refresh_from_db()
    assert (reply.state, reply.customer_id, reply.attached_by) == ("a_traiter", c002.pk, "person")
    assert reply.review_hold is not None and reply.review_hold.customer_id == c002.pk
    review.dismiss(org, reply, actor="sophie", today=DAY)
    reply.refresh_from_db()
    assert reply.state == "classee" and reply.review_hold.state == "lifted"


def test_sender_among_contacts_and_tagged_address_attach(org: Organisation) -> None:
    by_sender = receive(org, eml("Bien reçu, merci.", sender="compta@garageducentre.test")).reply
    assert (by_sender.customer.code, by_sender.attached_by, by_sender.reminder_id) == ("C002", "sender", None)
    org.reply_tag_separator = "+"
    org.save()
    reminder = sent_to(org, "C001")
    tag = reminder.idempotency_key[:16]
    [message] = [m for m in mail.outbox if m.to[0].endswith("boulangerie-martin.test>")]
    assert message.reply_to == [f"recouvrement+{tag}@atelier-dubois.test"]
    tagged = receive(org, eml("Bien reçu, merci.", sender="autre@boulangerie.test",
                              to=f"recouvrement+{tag}@atelier-dubois.test")).reply
    assert (tagged.customer.code, tagged.reminder_id, tagged.attached_by) == ("C001", reminder.pk, "tag")


def test_paid_claim_pauses_then_asks_for_the_proof_when_no_payment_came(org: Organisation) -> None:
    reminder = sent_to(org, "C001")
    reply = receive(org, eml("Bonjour, cette facture a été réglée par virement le 17/11.",
                             in_reply_to=reminder.message_id)).reply
    assert (reply.category, reply.state) == ("deja_paye", "traitee")
    [pause] = Hold.objects.filter(pk__in=reply.effect["holds"])
    assert pause.until == date(2026, 11, 26)  # 5 business days after Thursday 19
    assert follow_paid_claims(org, date(2026, 11, 26)) == []
    assert follow_paid_claims(org, date(2026, 11, 27)) == [reply.pk]
    task = CallTask.objects.get(customer=reply.customer)
    assert "preuve" in task.note and task.status == "open"
    assert follow_paid_claims(org, date(2026, 11, 30)) == []  # once
    assert Event.objects.filter(kind="reply.payment_not_seen").count() == 1


def test_paid_claim_with_the_invoices_paid_opens_no_task(org: Organisation) -> None:
    reply = receive(org, eml("Facture réglée par virement le 17/11.")).reply
    Invoice.objects.filter(customer=reply.customer).update(status=Invoice.Status.PAID, amount_due=0)
    assert follow_paid_claims(org, date(2026, 12, 1)) == []
    reply.refresh_from_db()
    assert reply.effect["followed_up"] == "2026-12-01" and reply.follow_up_task is None  # looked at once, no task


def test_an_applied_effect_is_reverted_and_the_reply_is_to_review_again(org: Organisation) -> None:
    reply = receive(org, eml("Je vous règle le 15 décembre.")).reply
    promise = Promise.objects.get(pk=reply.effect["promise"])
    left = review.undo(org, reply, actor="sophie", today=DAY)
    assert left == []
    promise.refresh_from_db()
    reply.refresh_from_db()
    assert promise.state == "cancelled" and reply.state == "a_traiter" and reply.review_hold.state == "active"
    review.confirm(org, reply, actor="sophie", category="echeancier", today=DAY)
    reply.refresh_from_db()
    assert (reply.predicted, reply.category, reply.state) == ("promesse", "echeancier", "traitee")
    assert CallTask.objects.filter(customer=reply.customer, purpose="plan", status="open").count() == 1
    accuracy = review.accuracy(org)
    assert (accuracy.reviewed, accuracy.agreed) == (1, 0)
    assert accuracy.corrections == [("promesse", "echeancier", 1)]


def test_absence_waits_until_the_return_date(org: Organisation) -> None:
    raw = eml("Je suis absente du bureau jusqu’au 30 novembre inclus. Je traiterai votre message à mon retour "
              "le 1er décembre.", subject="Réponse automatique : Relance facture", extra="Auto-Submitted: auto-replied")
    reply = receive(org, raw).reply
    assert (reply.category, reply.state) == ("absence", "traitee")
    [pause] = Hold.objects.filter(pk__in=reply.effect["holds"])
    assert pause.until == reply.return_date  # nothing arrives on a day the reader may still be away


def test_an_unreadable_message_is_kept_for_a_person(org: Organisation) -> None:
    raw = (b"From: compta@garageducentre.test\r\nTo: recouvrement@atelier-dubois.test\r\nSubject: RE\r\n"
           b"Message-ID: <broken@mail.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"AAA\"\r\n\r\n--BBB\r\nnothing\r\n")
    reply = receive(org, raw).reply
    assert reply.problems and reply.state == "a_traiter" and reply.customer.code == "C002"
    assert reply.raw.read() == raw


def test_no_message_leaves_after_an_unhandled_reply(org: Organisation) -> None:
    """A reminder already planned (and due) when the reply arrives is cancelled at send time."""
    with time_machine.travel(noon(DAY), tick=False):
        plan_day(org, DAY)
    planned = Reminder.objects.filter(customer__code="C001", status="planned")
    assert planned.exists()
    receive(org, eml("Pouvez-vous me rappeler ?", sender="claire.martin@boulangerie-martin.test"))
    dispatch_now(org, noon(DAY))
    assert not [m for m in mail.outbox if "boulangerie" in m.to[0]]
    assert not Reminder.objects.filter(customer__code="C001", status="sent").exists()


def test_a_promise_covers_the_overdue_invoices_only(org: Organisation, tmp_path: Any) -> None:
    from tests.builders import make_invoice

    c001 = Customer.objects.get(code="C001")
    make_invoice(c001, "F-009", "300", date(2026, 12, 31))  # not due yet
    reply = receive(org, eml("Je vous règle le 15 décembre.")).reply
    promise = Promise.objects.get(pk=reply.effect["promise"])
    assert promise.amount == promise.covered_due == sum(
        i.amount_due for i in Invoice.objects.filter(customer=c001, due_date__lt=DAY))


def test_an_effect_the_ledger_refuses_is_left_to_a_person(org: Organisation) -> None:
    from relance.holds.services import plans

    c001 = Customer.objects.get(code="C001")
    plan = plans.propose_plan(org, c001, ["F-001", "F-002"], count=2, first_due=date(2026, 12, 1), actor="t",
                              today=DAY)
    plans.accept_plan(org, plan, actor="t", on=DAY)
    reply = receive(org, eml("Je vous règle le 15 décembre.")).reply
    assert reply.state == "a_traiter" and not reply.effect
    assert any("suite non appliquée" in p and "échéancier" in p for p in reply.problems)
    assert reply.review_hold is not None and not Promise.objects.exists()


def test_the_scheduler_tick_reads_the_due_mailboxes_and_survives_one_that_fails(org: Organisation) -> None:
    from relance.operations.scheduler import tick
    from tests.smtp_server import free_port

    Mailbox.objects.filter(organisation=org).update(port=free_port(), security="none")  # nothing listens there
    early = datetime(2026, 11, 19, 5, 0, tzinfo=UTC)  # 06:00 in Paris: before the day's run, only the mailbox
    with time_machine.travel(early, tick=False):
        first = tick("test").as_dict()
        again = tick("test").as_dict()
    assert first["ran"] == [] and len(first["mailboxes"]) == 1
    assert "IMAP" in first["mailboxes"][0]["error"]
    assert again["mailboxes"] == []  # read again only after its interval
    mailbox = Mailbox.objects.get(organisation=org)
    assert mailbox.last_error and Event.objects.filter(kind="mailbox.failed").count() == 1


def test_an_answer_to_a_case_file_sent_to_a_lawyer_is_not_the_debtors_reply(org: Organisation) -> None:
    """The lawyer's answer to a litigation case's hand-over (issue 16) waits « à rattacher »: it is not
    the debtor speaking, so no promise, dispute or pause is read into it."""
    reminder = sent_to(org, "C001")
    handover = Reminder.objects.create(organisation=org, customer=reminder.customer, kind=Reminder.Kind.CASE_HANDOVER,
                                       channel="email", planned_for=DAY, status=Reminder.Status.SENT,
                                       idempotency_key="f" * 32, message_id="<relance.handover@atelier-dubois.test>",
                                       recipient="Maître Durand <durand@avocats.test>")
    reply = receive(org, eml("Bien reçu, nous lançons la procédure ; le débiteur promet de payer le 30/11.",
                             sender="durand@avocats.test", in_reply_to=handover.message_id)).reply
    assert reply.state == Reply.State.TO_ATTACH and reply.reminder_id is None and reply.customer_id is None
    assert not Promise.objects.filter(organisation=org).exists()
