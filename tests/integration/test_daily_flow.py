"""The daily flow on the database: import -> plan -> dispatch -> events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold
from relance.ledger.models import Invoice
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _locmem(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def run(org, day: date):
    plan = plan_day(org, day)
    return plan, dispatch_now(org, noon(day))


@pytest.fixture
def org(tmp_path):
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
        ("F-003", "C002", "2026-10-15", "2026-11-14", "2 400,00"),
    ])))
    return org


def test_first_reminder_groups_the_customers_overdue_invoices(org):
    _plan, report = run(org, date(2026, 11, 19))  # F-001 at J+40, F-002 at J+19, F-003 at J+5
    assert len(report.sent) == 1
    reminder = Reminder.objects.get(pk=report.sent[0])
    assert reminder.customer.code == "C001"
    assert sorted(reminder.lines.values_list("invoice__number", flat=True)) == ["F-001", "F-002"]
    msg = mail.outbox[0]
    assert msg.to == ["Claire Martin <claire.martin@boulangerie-martin.test>"]
    assert msg.body.startswith("Bonjour Madame Martin,\n")
    assert "F-001" in msg.subject and "F-002" in msg.subject
    assert "1\u202f680,50\xa0€" in msg.body  # total due
    assert msg.extra_headers["Message-ID"] == reminder.message_id
    assert not verify_chain(org)


def test_running_the_same_day_twice_sends_nothing_new(org):
    run(org, date(2026, 11, 19))
    sent = len(mail.outbox)
    events = Event.objects.count()
    plan, report = run(org, date(2026, 11, 19))
    assert plan.reminders == [] and report.sent == []
    assert len(mail.outbox) == sent
    assert Event.objects.count() == events


def test_payment_between_planning_and_sending_cancels_the_reminder(org):
    day = date(2026, 11, 19)
    plan_day(org, day)
    reminder = Reminder.objects.get(customer__code="C001")
    c001 = reminder.customer
    record_payment(org, c001, "VIR-1", day, Decimal("1680.50"))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    report = dispatch_now(org, noon(day))
    assert report.sent == [] or all(Reminder.objects.get(pk=r).kind != "reminder" for r in report.sent)
    assert not any("impayée" in m.subject for m in mail.outbox)


def test_partial_payment_drops_the_paid_invoice_from_the_message(org):
    day = date(2026, 11, 19)
    plan_day(org, day)
    c001 = Reminder.objects.get(customer__code="C001").customer
    record_payment(org, c001, "VIR-2", day, Decimal("1200.00"), designated=["F-001"])
    report = dispatch_now(org, noon(day))
    sent = Reminder.objects.get(pk=report.sent[0])
    assert list(sent.lines.values_list("invoice__number", flat=True)) == ["F-002"]
    assert "F-001" not in mail.outbox[0].body


def test_hold_placed_after_planning_blocks_sending(org):
    day = date(2026, 11, 19)
    plan_day(org, day)
    reminder = Reminder.objects.get(customer__code="C001")
    Hold.objects.create(organisation=org, customer=reminder.customer, kind=Hold.Kind.DISPUTE, reason="livraison")
    dispatch_now(org, noon(day))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert mail.outbox == []


def test_skipped_days_are_caught_up_once(org):
    # nothing runs from 2026-11-19 to 2026-11-24; on the 25th the due reminders go, once
    _plan, report = run(org, date(2026, 11, 25))
    assert {Reminder.objects.get(pk=r).customer.code for r in report.sent} == {"C001", "C002"}
    _plan, report = run(org, date(2026, 11, 26))
    assert report.sent == []


def test_settled_invoice_gets_one_thank_you(org):
    run(org, date(2026, 11, 19))
    c001 = Reminder.objects.get(customer__code="C001").customer
    record_payment(org, c001, "VIR-3", date(2026, 11, 20), Decimal("1680.50"))
    _plan, _report = run(org, date(2026, 11, 20))
    thanks = [m for m in mail.outbox if m.subject == "Merci pour votre règlement"]
    assert len(thanks) == 1
    assert "F-001" in thanks[0].body and "F-002" in thanks[0].body
    assert Invoice.objects.get(number="F-001").status == Invoice.Status.PAID
    run(org, date(2026, 11, 21))
    assert len([m for m in mail.outbox if m.subject == "Merci pour votre règlement"]) == 1


def test_consumer_without_email_gets_a_letter_without_penalty_mention(org, tmp_path):
    import_file(org, write(tmp_path, "f2.csv", invoices_csv([("F-010", "C003", "2026-09-01", "2026-10-01", "150,00")])))
    _plan, _report = run(org, date(2026, 11, 19))
    letter = Reminder.objects.get(customer__code="C003")
    assert letter.channel == "letter" and letter.status == Reminder.Status.SENT
    assert letter.document.name.endswith(".pdf") and len(letter.document_sha256) == 64
    assert "L441-10" not in letter.body_text


def test_event_chain_detects_tampering(org):
    run(org, date(2026, 11, 19))
    assert verify_chain(org) == []
    Event.objects.filter(organisation=org, seq=3).update(data={"number": "F-999"})
    problems = verify_chain(org)
    assert problems and problems[0].seq == 3


def test_day_advances_one_step_at_a_time(org):
    for offset in range(0, 40):
        run(org, date(2026, 11, 19) + timedelta(days=offset))
    steps = list(Reminder.objects.filter(customer__code="C001", kind="reminder").order_by("planned_for")
                 .values_list("step__position", flat=True))
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


def test_dispute_excludes_only_the_disputed_invoice_and_resumes_when_ended(org):
    day = date(2026, 11, 19)
    c001 = Invoice.objects.get(number="F-001").customer
    dispute = Hold.objects.create(organisation=org, customer=c001, invoice=Invoice.objects.get(number="F-001"),
                                  kind=Hold.Kind.DISPUTE, reason="livraison incomplète")
    run(org, day)
    reminder = Reminder.objects.get(customer=c001)
    assert list(reminder.lines.values_list("invoice__number", flat=True)) == ["F-002"]
    assert "F-001" not in mail.outbox[0].body
    dispute.state = Hold.State.ENDED
    dispute.save()
    _plan, report = run(org, date(2026, 11, 25))  # after the minimum gap: F-001 is chased again
    numbers = {n for r in report.sent for n in Reminder.objects.get(pk=r).lines.values_list("invoice__number",
                                                                                             flat=True)}
    assert "F-001" in numbers


def test_pause_on_the_customer_until_a_date_blocks_everything_until_then(org):
    c001 = Invoice.objects.get(number="F-001").customer
    Hold.objects.create(organisation=org, customer=c001, kind=Hold.Kind.PAUSE, until=date(2026, 11, 24),
                        reason="congés")
    run(org, date(2026, 11, 19))
    assert not Reminder.objects.filter(customer=c001).exists()
    run(org, date(2026, 11, 24))
    assert not Reminder.objects.filter(customer=c001).exists()
    run(org, date(2026, 11, 25))
    assert Reminder.objects.filter(customer=c001, status=Reminder.Status.SENT).count() == 1
