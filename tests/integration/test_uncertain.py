"""« À vérifier » is no dead end (issue #12): an uncertain reminder is shown with what went and
resolved by a person — « parti » or « renvoyer » — by service, CLI and web, with events; the
planner waits while it is uncertain and goes on after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from relance.cli.main import main
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.dunning.services.retries import NotRetryable, retry
from relance.dunning.services.uncertain import NotUncertain, confirm_sent, request_resend, uncertain_reminders
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Invoice, Membership
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, member_client, write
from tests.smtp_faults import FaultySMTPServer

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)
NOON = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


@pytest.fixture
def server(settings) -> Iterator[FaultySMTPServer]:
    smtp = FaultySMTPServer("drop_after_data").start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield smtp
    smtp.stop()


@pytest.fixture
def uncertain(tmp_path, settings, server):
    """C001's first reminder: its content transmitted, then the connection dropped."""
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([("F-1", "C001", "2026-10-01", "2026-10-31", "900")])))
    plan_day(org, DAY)
    report = dispatch_now(org, NOON)
    reminder = Reminder.objects.get()
    assert report.uncertain == [reminder.pk]
    server.fault = None
    return org, reminder


def test_the_list_shows_what_went(uncertain, capsys):
    org, reminder = uncertain
    (row,) = uncertain_reminders(org)
    assert row.reminder.pk == reminder.pk and row.handed_over_at == NOON
    assert "jean" in row.reminder.recipient.lower() or "@" in row.reminder.recipient
    assert row.reminder.subject and row.reminder.body_text
    assert main(["uncertain", "list", "--org", org.slug, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == reminder.pk and listed["recipient"] == reminder.recipient
    assert listed["message_id"] == reminder.message_id and listed["subject"] == reminder.subject
    assert main(["uncertain", "show", str(reminder.pk)]) == 0
    shown = capsys.readouterr().out
    assert reminder.recipient in shown and reminder.body_text.strip().splitlines()[0] in shown
    assert main(["uncertain"]) == 0
    assert f"n° {reminder.pk}" in capsys.readouterr().out


def test_retry_says_what_to_do_with_an_uncertain_one(uncertain, capsys):
    org, reminder = uncertain
    with pytest.raises(NotRetryable) as caught:
        retry(org, reminder.pk, actor="web:alice")
    assert "à vérifier" in caught.value.message and f"relance uncertain resend {reminder.pk}" in caught.value.message
    assert main(["retry", str(reminder.pk), "--org", org.slug]) == 6
    assert "relance uncertain sent" in capsys.readouterr().err


def test_the_planner_waits_while_uncertain_and_goes_on_once_it_left(uncertain, server):
    org, reminder = uncertain
    invoice = Invoice.objects.get(number="F-1")
    assert invoice.reminders_received == 0
    later = DAY + timedelta(days=40)
    plan_day(org, later)
    assert Reminder.objects.count() == 1  # waits: the first one may have left

    confirmed = confirm_sent(org, reminder.pk, actor="web:alice")
    assert confirmed.status == Reminder.Status.SENT and confirmed.sent_at == NOON
    invoice.refresh_from_db()
    assert invoice.reminders_received == 1 and invoice.last_step_on == DAY  # received the day it left
    event = Event.objects.get(kind="reminder.confirmed_sent")
    assert event.actor == "web:alice" and event.data["message_id"] == reminder.message_id
    assert Event.objects.get(kind="reminder.sent").data["confirmed_by"] == "web:alice"
    assert verify_chain(org) == []
    with pytest.raises(NotUncertain):
        confirm_sent(org, reminder.pk, actor="web:alice")  # once

    plan_day(org, later)
    assert Reminder.objects.count() == 2  # the sequence goes on
    assert len(server.handler.contents) == 1  # nothing was sent again


def test_resend_sends_the_same_reminder_again_with_its_message_id(uncertain, server, capsys):
    org, reminder = uncertain
    assert main(["uncertain", "resend", str(reminder.pk), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["outcome"], out["status"]) == ("queued", "planned")
    event = Event.objects.get(kind="reminder.resend_requested")
    assert event.actor == "cli" and event.data["message_id"] == reminder.message_id
    assert main(["uncertain", "resend", str(reminder.pk)]) == 6  # no longer uncertain
    assert "n’est pas « à vérifier »" in capsys.readouterr().err

    report = dispatch_now(org, NOON + timedelta(hours=2))
    assert report.sent == [reminder.pk]
    assert Reminder.objects.count() == 1  # the same reminder, not a second one
    first, second = server.handler.contents
    assert first["Message-ID"] == second["Message-ID"] == Reminder.objects.get().message_id
    dispatch_now(org, NOON + timedelta(days=1))
    assert len(server.handler.contents) == 2


def test_resend_rechecks_the_invoices(uncertain, server):
    """A payment recorded while it was uncertain: the resend finds nothing to chase."""
    from decimal import Decimal

    from relance.ledger.services.payments import record_payment

    org, reminder = uncertain
    customer = reminder.customer
    record_payment(org, customer, "VIR-1", DAY + timedelta(days=1), Decimal("900"), designated=["F-1"])
    request_resend(org, reminder.pk, actor="web:alice", enqueue=False)
    dispatch_now(org, NOON + timedelta(days=2))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert len(server.handler.contents) == 1


def test_web_detail_and_actions(uncertain, server):
    org, reminder = uncertain
    client = member_client(org, "alice", Membership.Role.ADMIN)
    page = client.get(reverse("web:reminder", args=[reminder.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reminder.subject in html and reminder.message_id.strip("<>") in html
    assert "Parti" in html and "Renvoyer" in html
    today = client.get(reverse("web:today")).content.decode()
    assert reverse("web:reminder", args=[reminder.pk]) in today

    response = client.post(reverse("web:reminder_confirm_sent", args=[reminder.pk]))
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert Event.objects.get(kind="reminder.confirmed_sent").actor == "web:alice"
    # a second decision is refused with its reason, nothing changes
    again = client.post(reverse("web:reminder_resend", args=[reminder.pk]), follow=True)
    assert "n’est pas « à vérifier »" in again.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert not Event.objects.filter(kind="reminder.resend_requested").exists()
