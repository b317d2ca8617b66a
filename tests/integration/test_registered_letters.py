"""Registered letters: tracking number, receipt date and scanned receipt, each with an event."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from relance.dunning.models import Reminder
from relance.dunning.services.registered_mail import record_delivery
from relance.errors import InvalidInput, NotFound
from relance.events.models import Event
from relance.events.services import verify_chain
from tests.builders import make_customer, make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

    org = make_org()
    customer = make_customer(org, "C1", "Client SARL")
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, channel="registered_letter", planned_for=date(2026, 11, 20),
        idempotency_key="k1", status=Reminder.Status.SENT, sent_at=datetime(2026, 11, 20, 11, tzinfo=UTC))
    return org, reminder


def test_tracking_receipt_and_scan_are_recorded_with_events(letter, tmp_path):
    org, reminder = letter
    scan = tmp_path / "avis.pdf"
    scan.write_bytes(b"%PDF-1.4\n%%EOF\n")
    record_delivery(org, reminder.id, tracking_number="1A 123 456 7890 1", received_on=date(2026, 11, 23), scan=scan)
    reminder.refresh_from_db()
    assert reminder.tracking_number == "1A12345678901"
    assert reminder.received_on == date(2026, 11, 23)
    assert reminder.receipt_scan.read() == b"%PDF-1.4\n%%EOF\n"
    kinds = list(Event.objects.filter(reminder_id_ref=reminder.id).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["letter.tracking_recorded", "letter.received", "letter.receipt_attached"]
    assert not verify_chain(org)


def test_bad_inputs_are_refused(letter, tmp_path):
    org, reminder = letter
    with pytest.raises(InvalidInput, match="illisible"):
        record_delivery(org, reminder.id, tracking_number="??")
    with pytest.raises(InvalidInput, match="précède"):
        record_delivery(org, reminder.id, received_on=date(2026, 11, 1))
    exe = tmp_path / "avis.exe"
    exe.write_bytes(b"MZ\x90\x00")
    with pytest.raises(InvalidInput, match="PDF, PNG ou JPEG"):
        record_delivery(org, reminder.id, scan=exe)
    with pytest.raises(NotFound):
        record_delivery(org, reminder.id + 999, tracking_number="1A12345678901")
    other = make_org(slug="autre")
    with pytest.raises(NotFound):
        record_delivery(other, reminder.id, tracking_number="1A12345678901")
    Reminder.objects.filter(pk=reminder.pk).update(channel="email")
    with pytest.raises(InvalidInput, match="pas une lettre recommandée"):
        record_delivery(org, reminder.id, tracking_number="1A12345678901")
    assert not Event.objects.filter(kind__startswith="letter.").exists()
