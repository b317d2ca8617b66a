"""The dispatcher's writing check (issue 17): a text a person edited that has a spelling mistake
nobody acknowledged goes back « à valider » instead of leaving (``Organisation.writing_check_holds``),
the problems in an event; approved again, it leaves once. A template's text is never held by it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from relance.dunning.models import MessageTemplate, Reminder, Step
from relance.dunning.services import approvals, proofreading
from relance.dunning.services.dispatcher import dispatch_now, send_reminder
from relance.dunning.services.planner import plan_day
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Organisation
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

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


def edited_and_approved(org: Organisation, body: str) -> Reminder:
    """C001's reminder, its text edited without the page's check (an older edit, a script) and approved."""
    plan_day(org, DAY)
    reminder = Reminder.objects.get(organisation=org, customer__code="C001")
    approvals.edit(org, reminder.pk, SUBJECT, body, actor="web:alice", today=DAY)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED
    return reminder


def events(org: Organisation, reminder: Reminder, kind: str) -> list[Event]:
    return list(Event.objects.filter(organisation=org, kind=kind, reminder_id_ref=reminder.pk).order_by("seq"))


def test_an_edited_text_with_a_mistake_waits_for_approval_and_never_leaves(org: Organisation) -> None:
    reminder = edited_and_approved(org, TYPO)
    report = dispatch_now(org, noon(DAY))
    assert report.sent == [] and report.failed == [] and mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL
    assert "faute d’orthographe" in reminder.last_error and "« facure »" in reminder.last_error
    assert reminder.approved_at is None and reminder.approved_by == ""
    assert reminder.body_text == TYPO and reminder.sent_at is None and reminder.handed_over_at is None
    [held] = events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING)
    assert "facure" in [p["text"] for p in held.data["problems"] if p["kind"] == "orthographe"]
    assert held.data["text_sha256"] == proofreading.digest(SUBJECT, TYPO)
    assert events(org, reminder, kinds.REMINDER_SENT) == []
    # later runs never claim it: it waits for a person
    for offset in range(1, 4):
        assert dispatch_now(org, noon(DAY + timedelta(days=offset))).sent == []
    assert send_reminder(reminder.pk, noon(DAY)) == "skipped"
    assert mail.outbox == []
    assert len(events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING)) == 1
    assert not verify_chain(org)


def test_approved_again_after_the_hold_it_leaves_once(org: Organisation) -> None:
    reminder = edited_and_approved(org, TYPO)
    dispatch_now(org, noon(DAY))
    approvals.approve(org, [reminder.pk], actor="web:bob", today=DAY)  # the person read the problems
    report = dispatch_now(org, noon(DAY))
    assert report.sent == [reminder.pk] and len(mail.outbox) == 1
    assert dispatch_now(org, noon(DAY + timedelta(days=1))).sent == [] and len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.last_error == ""
    [sent] = events(org, reminder, kinds.REMINDER_SENT)
    assert sent.data["approved_by"] == "web:bob"
    assert "facure" in [p["text"] for p in sent.data["writing_problems"]]


def test_edited_again_after_the_hold_it_is_checked_again(org: Organisation) -> None:
    reminder = edited_and_approved(org, TYPO)
    dispatch_now(org, noon(DAY))
    other = TYPO.replace("régler", "réglerr")
    approvals.edit(org, reminder.pk, SUBJECT, other, actor="web:alice", today=DAY)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    dispatch_now(org, noon(DAY))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL and mail.outbox == []
    assert len(events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING)) == 2
    # corrected, it leaves at once
    approvals.edit(org, reminder.pk, SUBJECT, GOOD, actor="web:alice", today=DAY)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    assert dispatch_now(org, noon(DAY)).sent == [reminder.pk]


def test_when_the_organisation_does_not_hold_it_leaves_with_the_problems_recorded(org: Organisation) -> None:
    org.writing_check_holds = False
    org.save(update_fields=["writing_check_holds"])
    reminder = edited_and_approved(org, TYPO)
    report = dispatch_now(org, noon(DAY))
    assert report.sent == [reminder.pk] and len(mail.outbox) == 1 and "facure" in mail.outbox[0].body
    assert events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING) == []
    [sent] = events(org, reminder, kinds.REMINDER_SENT)
    assert "facure" in [p["text"] for p in sent.data["writing_problems"] if p["kind"] == "orthographe"]
    assert sent.data["writing_text_sha256"] == proofreading.digest(SUBJECT, TYPO)


def test_a_correct_edit_leaves(org: Organisation) -> None:
    reminder = edited_and_approved(org, GOOD)
    assert dispatch_now(org, noon(DAY)).sent == [reminder.pk]
    assert len(mail.outbox) == 1
    assert events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING) == []
    [sent] = events(org, reminder, kinds.REMINDER_SENT)
    assert not [p for p in sent.data.get("writing_problems", []) if p["kind"] == "orthographe"]


def test_a_message_nobody_edited_is_never_held_by_the_check(org: Organisation) -> None:
    MessageTemplate.objects.create(organisation=org, key="relance_1", language="fr", subject="Rappel",
                                   body="{{ salutation }}\n\nVotre facure reste impayée.\n\n{{ tableau_factures }}")
    Step.objects.filter(scenario__organisation=org).update(needs_approval=False)
    plan_day(org, DAY)
    reminder = Reminder.objects.get(organisation=org, customer__code="C001")
    assert reminder.edited_at is None
    assert dispatch_now(org, noon(DAY)).sent == [reminder.pk]
    assert "facure" in mail.outbox[0].body
    assert events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING) == []
    assert "writing_problems" not in events(org, reminder, kinds.REMINDER_SENT)[0].data


def test_a_checker_that_fails_holds_nothing(org: Organisation, monkeypatch: pytest.MonkeyPatch) -> None:
    import relance.writing

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("dictionnaire illisible")

    monkeypatch.setattr(relance.writing, "check_text", broken)
    reminder = edited_and_approved(org, TYPO)
    assert dispatch_now(org, noon(DAY)).sent == [reminder.pk]
    assert events(org, reminder, kinds.REMINDER_HELD_FOR_WRITING) == []
