"""A registered letter's proof changed in the administration leaves an event, like
``relance letter`` (issue #11): the admin goes through ``record_delivery``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.dunning.models import Reminder
from relance.events.models import Event
from tests.builders import bare_org, make_customer, make_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def letter() -> Reminder:
    org = bare_org("alpha", "Alpha Conseil")
    customer = make_customer(org, "C001", "Durand SARL")
    make_invoice(customer, "F-001", "1200.00", date(2026, 10, 1), issued=date(2026, 9, 1))
    return Reminder.objects.create(
        organisation=org, customer=customer, channel="registered_letter", planned_for=date(2026, 11, 16),
        idempotency_key="k-1", status=Reminder.Status.SENT, subject="Mise en demeure", body_text="…",
        sent_at=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
    )


def _post(client: Client, reminder: Reminder, **changes: str) -> Any:
    url = reverse("admin:dunning_reminder_change", args=[reminder.pk])
    data = {"status": reminder.status, "planned_for": reminder.planned_for.isoformat(), "next_attempt_at_0": "",
            "next_attempt_at_1": "", "tracking_number": reminder.tracking_number,
            "received_on": reminder.received_on.isoformat() if reminder.received_on else "",
            "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000", **changes}
    return client.post(url, data, follow=True)


def test_tracking_number_and_receipt_changed_in_the_admin_leave_events(admin_client: Client, letter: Reminder):
    page = admin_client.get(reverse("admin:dunning_reminder_change", args=[letter.pk])).content.decode()
    assert 'name="tracking_number"' in page and 'name="received_on"' in page
    response = _post(admin_client, letter, tracking_number="1a 234 567 8901 2", received_on="2026-11-19")
    assert response.status_code == 200
    letter.refresh_from_db()
    assert letter.tracking_number == "1A23456789012" and letter.received_on == date(2026, 11, 19)
    events = {e.kind: e for e in Event.objects.filter(reminder_id_ref=letter.pk)}
    assert events["letter.tracking_recorded"].data["tracking_number"] == "1A23456789012"
    assert events["letter.received"].data["received_on"] == "2026-11-19"
    assert events["letter.received"].actor.startswith("admin:")


def test_a_receipt_before_the_posting_is_refused_and_leaves_nothing(admin_client: Client, letter: Reminder):
    response = _post(admin_client, letter, received_on="2026-11-10")
    assert "la date de réception précède l’envoi du courrier" in response.content.decode()
    letter.refresh_from_db()
    assert letter.received_on is None
    assert not Event.objects.filter(reminder_id_ref=letter.pk).exists()
