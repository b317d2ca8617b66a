"""The writing check in the approval queue's edit (issue 17): a text with a spelling mistake is
stored only once the person confirmed it, its problems underlined on the review page; a text
confirmed so is not held again by the dispatcher."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from relance.dunning.models import Reminder, Step
from relance.dunning.services import approvals, proofreading
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Membership, Organisation
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, member_client, write

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)  # C001: F-001 and F-002 due for « Première relance »
SUBJECT = "Relevé de compte"
GOOD = ("Madame,\n\nSauf erreur de notre part, la facture F-001 reste impayée à ce jour.\n\n"
        "Nous vous remercions de bien vouloir la régler.\n\nBien cordialement,")
TYPO = GOOD.replace("la facture F-001", "la facure F-001")


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
    ])))
    Step.objects.filter(scenario__organisation=org, template="relance_1").update(needs_approval=True)
    return org


@pytest.fixture
def reminder(org: Organisation) -> Reminder:
    plan_day(org, DAY)
    return Reminder.objects.get(organisation=org, customer__code="C001")


@pytest.fixture
def collector(org: Organisation, pinned_clock: Any) -> Client:
    return member_client(org, "alice", Membership.Role.COLLECTOR)


def _edited(org: Organisation, reminder: Reminder) -> list[Event]:
    return list(Event.objects.filter(organisation=org, kind=kinds.REMINDER_EDITED, reminder_id_ref=reminder.pk))


def test_the_service_stores_a_mistake_only_when_confirmed(org: Organisation, reminder: Reminder) -> None:
    with pytest.raises(proofreading.WritingToConfirm) as err:
        approvals.edit(org, reminder.pk, SUBJECT, TYPO, actor="web:alice", today=DAY, check_writing=True)
    assert [f.problem.text for f in err.value.review.spelling] == ["facure"]
    reminder.refresh_from_db()
    assert reminder.edited_at is None and reminder.body_text == ""
    assert _edited(org, reminder) == []

    approvals.edit(org, reminder.pk, SUBJECT, TYPO, actor="web:alice", today=DAY, check_writing=True,
                   writing_confirmed=True)
    reminder.refresh_from_db()
    assert reminder.edited_at is not None and reminder.body_text == TYPO
    [event] = _edited(org, reminder)
    assert event.data["writing_confirmed"] is True
    assert event.data["text_sha256"] == proofreading.digest(SUBJECT, TYPO)
    assert "facure" in [p["text"] for p in event.data["writing_problems"]]
    assert not verify_chain(org)


def test_a_correct_text_is_stored_at_once(org: Organisation, reminder: Reminder) -> None:
    approvals.edit(org, reminder.pk, SUBJECT, GOOD, actor="web:alice", today=DAY, check_writing=True)
    reminder.refresh_from_db()
    assert reminder.body_text == GOOD
    [event] = _edited(org, reminder)
    assert "writing_confirmed" not in event.data


def test_the_review_page_asks_to_confirm_then_stores(org: Organisation, reminder: Reminder,
                                                      collector: Client) -> None:
    url = reverse("web:approval", kwargs={"pk": reminder.pk})
    response = collector.post(url, {"action": "edit", "subject": SUBJECT, "body": TYPO})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enregistrer malgré les fautes signalées" in page and 'name="confirmer_fautes"' in page
    assert re.search(r'<mark class="writing-orthographe" title="[^"]+">facure</mark>', page)
    assert "la facure F-001" in page  # the draft is kept in the form
    reminder.refresh_from_db()
    assert reminder.edited_at is None

    response = collector.post(url, {"action": "edit", "subject": SUBJECT, "body": TYPO, "confirmer_fautes": "1"})
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.body_text == TYPO and reminder.edited_by == "web:alice"
    # the review page shows the stored text's problems underlined
    page = collector.get(url).content.decode()
    assert re.search(r'<mark class="writing-orthographe" title="[^"]+">facure</mark>', page)

    # the other button confirms as well
    response = collector.post(url, {"action": "edit_anyway", "subject": SUBJECT, "body": TYPO + "\n"})
    assert response.status_code == 302


def test_a_text_confirmed_at_the_edit_is_not_held_at_sending(org: Organisation, reminder: Reminder,
                                                             collector: Client) -> None:
    url = reverse("web:approval", kwargs={"pk": reminder.pk})
    collector.post(url, {"action": "edit", "subject": SUBJECT, "body": TYPO, "confirmer_fautes": "1"})
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    report = dispatch_now(org, noon(DAY))
    assert report.sent == [reminder.pk]
    assert len(mail.outbox) == 1 and "facure" in mail.outbox[0].body
    assert not Event.objects.filter(organisation=org, kind=kinds.REMINDER_HELD_FOR_WRITING).exists()
    sent = Event.objects.get(organisation=org, kind=kinds.REMINDER_SENT, reminder_id_ref=reminder.pk)
    assert "facure" in [p["text"] for p in sent.data["writing_problems"]]  # the proof says what left


def test_a_read_only_member_cannot_confirm(org: Organisation, reminder: Reminder) -> None:
    reader = member_client(org, "bob", Membership.Role.READ_ONLY)
    url = reverse("web:approval", kwargs={"pk": reminder.pk})
    response = reader.post(url, {"action": "edit", "subject": SUBJECT, "body": TYPO, "confirmer_fautes": "1"})
    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.edited_at is None
