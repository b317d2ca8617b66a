"""Bounces on the dunning side (issue #15): a permanent bounce makes the reminder « Non
distribuée » and flags the address, the next step goes as a letter, a delay is only an event,
and a new address clears the flag."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from relance.dunning.models import Reminder
from relance.dunning.services.bounces import BounceOutcome, record_bounce
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Contact, Customer, Organisation
from relance.ledger.services.contacts import save_contact
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, write

# the wall clock pinned on 23 November 2026 (tests/conftest.py): the simulated days are before it
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pinned_clock")]

FIRST = date(2026, 11, 9)  # a Monday, J+9 of invoices due on 31 October: the first reminder, by email
NEXT = date(2026, 11, 23)  # a Monday, J+23: the second reminder (an email step of the default scenario)
CLAIRE = "claire.martin@boulangerie-martin.test"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org(tmp_path: Path) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-1", "C001", "2026-10-01", "2026-10-31", "900,00"),
        ("F-2", "C001", "2026-10-01", "2026-10-31", "300,00"),
    ])))
    return org


@pytest.fixture
def sent(org: Organisation) -> Reminder:
    """The first reminder of C001, sent by email to Claire Martin."""
    plan_day(org, FIRST)
    report = dispatch_now(org, noon(FIRST))
    reminder = Reminder.objects.get(pk=report.sent[0])
    assert reminder.status == Reminder.Status.SENT and reminder.message_id
    return reminder


def bounce(org: Organisation, message_id: str, *, permanent: bool = True, final: bool = True,
           recipients: tuple[str, ...] = (CLAIRE.title(),), status: str = "5.1.1",
           received_at: datetime | None = None) -> BounceOutcome:
    return record_bounce(org, our_message_ids=[message_id], recipients=list(recipients), permanent=permanent,
                         final=final, reason="adresse inconnue" if permanent else "boîte pleine", status=status,
                         diagnostic="550 5.1.1 <claire.martin@boulangerie-martin.test>: user unknown",
                         received_at=received_at or noon(date(2026, 11, 10)))


def kinds_of(org: Organisation) -> list[str]:
    return list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", flat=True))


def test_a_permanent_bounce_makes_the_reminder_undelivered_and_flags_the_address(org: Organisation,
                                                                                 sent: Reminder) -> None:
    claire = Contact.objects.get(email=CLAIRE)
    # the Message-ID is found whatever its case (inside the angle brackets)
    outcome = bounce(org, sent.message_id.upper())
    assert outcome == BounceOutcome(sent.pk, sent.customer_id, (claire.pk,), "undelivered")
    sent.refresh_from_db()
    claire.refresh_from_db()
    assert sent.status == Reminder.Status.UNDELIVERED
    assert sent.get_status_display() == "Non distribuée"
    assert sent.bounced_at == noon(date(2026, 11, 10))
    assert sent.bounce_reason == "adresse inconnue (5.1.1)"
    assert claire.email_bounced_at == noon(date(2026, 11, 10))
    assert claire.email_bounce_reason == "adresse inconnue (5.1.1)"
    assert claire.usable_email == ""
    undelivered = Event.objects.get(organisation=org, kind=kinds.REMINDER_UNDELIVERED)
    assert undelivered.reminder_id_ref == sent.pk and undelivered.customer_id_ref == sent.customer_id
    assert undelivered.data["status"] == "5.1.1" and undelivered.data["previous_status"] == "sent"
    assert undelivered.data["message_id"] == sent.message_id
    flagged = Event.objects.get(organisation=org, kind=kinds.CONTACT_EMAIL_BOUNCED)
    assert flagged.data == {"contact": claire.pk, "email": CLAIRE, "reason": "adresse inconnue (5.1.1)"}
    assert not verify_chain(org)


def test_the_same_bounce_twice_changes_nothing_more(org: Organisation, sent: Reminder) -> None:
    bounce(org, sent.message_id)
    events = Event.objects.count()
    again = bounce(org, sent.message_id, received_at=noon(date(2026, 11, 11)))
    assert again == BounceOutcome(sent.pk, sent.customer_id, (), "already_recorded")
    assert Event.objects.count() == events
    sent.refresh_from_db()
    assert sent.bounced_at == noon(date(2026, 11, 10))


def test_an_uncertain_reminder_that_bounces_is_undelivered(org: Organisation, sent: Reminder) -> None:
    Reminder.objects.filter(pk=sent.pk).update(status=Reminder.Status.UNCERTAIN)
    assert bounce(org, sent.message_id).outcome == "undelivered"
    sent.refresh_from_db()
    assert sent.status == Reminder.Status.UNDELIVERED
    assert Event.objects.get(kind=kinds.REMINDER_UNDELIVERED).data["previous_status"] == "uncertain"


def test_a_delay_is_only_an_event(org: Organisation, sent: Reminder) -> None:
    before = kinds_of(org)
    outcome = bounce(org, sent.message_id, permanent=False, final=False, status="4.2.2")
    assert outcome == BounceOutcome(sent.pk, sent.customer_id, (), "delayed")
    assert kinds_of(org) == [*before, kinds.REMINDER_DELIVERY_DELAYED]
    sent.refresh_from_db()
    assert sent.status == Reminder.Status.SENT and sent.bounced_at is None and sent.bounce_reason == ""
    assert Contact.objects.get(email=CLAIRE).email_bounced_at is None
    # a transient failure, even final, is not a flag either
    assert bounce(org, sent.message_id, permanent=False, final=True, status="4.4.7",
                  received_at=noon(date(2026, 11, 12))).outcome == "delayed"
    # the same notice read twice is recorded once
    assert bounce(org, sent.message_id, permanent=False, final=False, status="4.2.2").outcome == "already_recorded"
    assert Event.objects.filter(kind=kinds.REMINDER_DELIVERY_DELAYED).count() == 2
    assert Contact.objects.get(email=CLAIRE).email_bounced_at is None
    assert not verify_chain(org)


def test_an_unknown_message_id_changes_nothing(org: Organisation, sent: Reminder) -> None:
    before = kinds_of(org)
    assert bounce(org, "<relance.0123456789abcdef.0123456789abcdef@atelier-dubois.test>") == BounceOutcome(
        None, None, (), "unknown_reminder")
    other = make_org("autre", legal_name="Autre SAS")
    assert bounce(other, sent.message_id).outcome == "unknown_reminder"  # another organisation's reminder
    assert record_bounce(org, our_message_ids=[], recipients=[], permanent=True, final=True, reason="", status="",
                         diagnostic="", received_at=noon(date(2026, 11, 12))).outcome == "unknown_reminder"
    assert kinds_of(org) == before
    sent.refresh_from_db()
    assert sent.status == Reminder.Status.SENT
    assert Contact.objects.get(email=CLAIRE).email_bounced_at is None


def test_the_next_step_is_a_letter_and_a_paid_invoice_stays_unchased(org: Organisation, sent: Reminder) -> None:
    bounce(org, sent.message_id)
    c001 = Customer.objects.get(code="C001")
    record_payment(org, c001, "VIR-1", date(2026, 11, 13), Decimal("300.00"), designated=["F-2"])
    plan_day(org, NEXT)
    step = Reminder.objects.get(customer=c001, planned_for=NEXT, kind=Reminder.Kind.REMINDER)
    assert step.channel == "letter"  # an email step, the only address returned for good
    assert list(step.lines.values_list("invoice__number", flat=True)) == ["F-1"]
    assert not Reminder.objects.filter(lines__invoice__number="F-2", planned_for=NEXT,
                                       kind=Reminder.Kind.REMINDER).exists()
    # the undelivered reminder is never sent again
    assert Reminder.objects.get(pk=sent.pk).status == Reminder.Status.UNDELIVERED


def test_the_email_goes_to_another_contact_whose_address_works(org: Organisation, sent: Reminder) -> None:
    c001 = Customer.objects.get(code="C001")
    Contact.objects.create(organisation=org, customer=c001, last_name="Martin", first_name="Louis",
                           email="louis.martin@boulangerie-martin.test")
    bounce(org, sent.message_id)
    plan_day(org, NEXT)
    step = Reminder.objects.get(customer=c001, planned_for=NEXT, kind=Reminder.Kind.REMINDER)
    assert step.channel == "email"
    mail.outbox.clear()
    report = dispatch_now(org, noon(NEXT))
    assert step.pk in report.sent
    assert mail.outbox[0].to == ["Louis Martin <louis.martin@boulangerie-martin.test>"]


def test_a_new_address_clears_the_flag(org: Organisation, sent: Reminder, tmp_path: Path) -> None:
    bounce(org, sent.message_id)
    claire = Contact.objects.get(email=CLAIRE)
    # the same address typed again keeps the flag
    save_contact(claire, actor="admin:alice")
    claire.refresh_from_db()
    assert claire.email_bounced_at is not None
    assert not Event.objects.filter(kind=kinds.CONTACT_EMAIL_RESTORED).exists()
    # a customers file with the new address: the flag goes, the log says so
    import_file(org, write(tmp_path, "clients2.csv", CUSTOMERS_CSV.replace(CLAIRE, "claire@boulangerie-martin.test")))
    claire.refresh_from_db()
    assert claire.email == "claire@boulangerie-martin.test"
    assert claire.email_bounced_at is None and claire.email_bounce_reason == ""
    restored = Event.objects.get(kind=kinds.CONTACT_EMAIL_RESTORED)
    assert restored.customer_id_ref == claire.customer_id
    assert restored.data["contact"] == claire.pk and restored.data["previous_email"] == CLAIRE
    assert restored.data["email"] == "claire@boulangerie-martin.test"
    assert restored.data["reason"] == "adresse inconnue (5.1.1)"
    # the next step goes by email again, to the new address
    plan_day(org, NEXT)
    assert Reminder.objects.get(customer=claire.customer, planned_for=NEXT).channel == "email"
    assert not verify_chain(org)


def test_an_address_changed_by_hand_clears_the_flag(org: Organisation, sent: Reminder) -> None:
    bounce(org, sent.message_id)
    claire = Contact.objects.get(email=CLAIRE)
    claire.email = "claire.m@boulangerie-martin.test"
    save_contact(claire, actor="admin:alice")
    claire.refresh_from_db()
    assert claire.email_bounced_at is None
    restored = Event.objects.get(kind=kinds.CONTACT_EMAIL_RESTORED)
    assert restored.actor == "admin:alice"


def test_the_pages_show_the_bounce(org: Organisation, sent: Reminder) -> None:
    bounce(org, sent.message_id)
    client = Client()
    client.force_login(make_user("claire", org))
    html = client.get(reverse("web:dashboard")).content.decode()
    assert 'data-testid="dash-undelivered">1<' in html
    assert "Non distribuées" in html
    page = client.get(reverse("web:customer", args=[sent.customer_id])).content.decode()
    assert "adresse en échec depuis le 10 novembre 2026 : adresse inconnue (5.1.1)" in page
    assert "Non distribuée" in page
    detail = client.get(reverse("web:reminder", args=[sent.pk])).content.decode()
    assert "Non distribuée" in detail and "adresse inconnue (5.1.1)" in detail


def test_the_dashboard_counts_the_last_thirty_days_only(org: Organisation, sent: Reminder) -> None:
    bounce(org, sent.message_id, received_at=datetime(2026, 10, 20, 11, 0, tzinfo=UTC))  # 34 days before
    client = Client()
    client.force_login(make_user("claire", org))
    html = client.get(reverse("web:dashboard")).content.decode()
    assert 'data-testid="dash-undelivered">0<' in html


def test_the_admin_clears_the_flag_of_a_changed_address(admin_client: Client, org: Organisation,
                                                        sent: Reminder) -> None:
    bounce(org, sent.message_id)
    claire = Contact.objects.get(email=CLAIRE)
    url = reverse("admin:ledger_contact_change", args=[claire.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="email_bounced_at"' not in page  # shown, never typed: a bounce sets it
    response = admin_client.post(url, {
        "organisation": org.pk, "customer": claire.customer_id, "civility": claire.civility,
        "first_name": claire.first_name, "last_name": claire.last_name, "role": claire.role,
        "email": "compta@boulangerie-martin.test", "phone": claire.phone, "is_billing": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    claire.refresh_from_db()
    assert claire.email == "compta@boulangerie-martin.test" and claire.email_bounced_at is None
    restored = Event.objects.get(kind=kinds.CONTACT_EMAIL_RESTORED)
    assert restored.actor.startswith("admin:") and restored.data["previous_email"] == CLAIRE
    assert not verify_chain(org)
