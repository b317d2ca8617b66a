"""Approval mode (issue #5): steps « à valider », the review queue and its actions, and the
test mode that sends every email to one address."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from relance.dunning.models import Reminder, Step
from relance.dunning.services import approvals
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_customer, make_org, member_client, write
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)  # C001: F-001 (J+40) and F-002 (J+19) due for « Première relance »; C002 not yet
XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _import(org: Organisation, tmp_path: Any, rows: list[tuple[str, str, str, str, str]]) -> None:
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv(rows)))


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    """The default scenario, its « Première relance » to be approved."""
    org = make_org()
    _import(org, tmp_path, [
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
        ("F-003", "C002", "2026-10-15", "2026-11-14", "2 400,00"),
    ])
    Step.objects.filter(scenario__organisation=org, template="relance_1").update(needs_approval=True)
    return org


def awaiting_one(org: Organisation) -> Reminder:
    plan_day(org, DAY)
    return Reminder.objects.get(organisation=org, customer__code="C001")


def kinds(org: Organisation, reminder: Reminder) -> list[tuple[str, str]]:
    return list(Event.objects.filter(organisation=org, reminder_id_ref=reminder.pk).order_by("seq")
                .values_list("kind", "actor"))


# --------------------------------------------------------------------------- planner and dispatcher


def test_planner_plans_an_awaiting_reminder_for_a_step_to_approve(org: Organisation) -> None:
    report = plan_day(org, DAY)
    reminder = Reminder.objects.get(customer__code="C001")
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL
    assert reminder.step is not None and reminder.step.needs_approval
    assert [r.awaiting_approval for r in report.reminders] == [True]
    assert report.as_dict()["reminders"][0]["awaiting_approval"] is True
    event = Event.objects.get(kind="reminder.planned", reminder_id_ref=reminder.pk)
    assert event.data["awaiting_approval"] is True
    # the invoices only move on when the message is sent; the customer is not planned again while it waits
    assert set(Invoice.objects.filter(number__in=["F-001", "F-002"]).values_list("last_step_position", flat=True)) == {-1}
    later = plan_day(org, DAY + timedelta(days=7))  # C001's second reminder would be due by now
    assert [r.customer for r in later.reminders] == ["C002"]


def test_a_step_without_approval_is_planned_as_before(org: Organisation) -> None:
    Step.objects.filter(scenario__organisation=org).update(needs_approval=False)
    plan_day(org, DAY)
    assert Reminder.objects.get(customer__code="C001").status == Reminder.Status.PLANNED


def test_the_dispatcher_never_sends_an_awaiting_reminder(org: Organisation) -> None:
    reminder = awaiting_one(org)
    for offset in range(0, 10):
        report = dispatch_now(org, noon(DAY + timedelta(days=offset)))
        assert report.sent == [] and report.cancelled == []
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL and reminder.attempts == 0
    assert mail.outbox == []


def test_approve_then_the_usual_dispatch_sends_it(org: Organisation) -> None:
    reminder = awaiting_one(org)
    approved = approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    assert [r.pk for r in approved] == [reminder.pk]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.approved_by) == (Reminder.Status.PLANNED, "web:alice")
    assert reminder.approved_at is not None
    report = dispatch_now(org, noon(DAY))
    assert report.sent == [reminder.pk]
    msg = mail.outbox[0]
    assert msg.to == ["Claire Martin <claire.martin@boulangerie-martin.test>"]
    assert "F-001" in msg.subject and not msg.subject.startswith("[TEST]")
    sent = Event.objects.get(kind="reminder.sent", reminder_id_ref=reminder.pk)
    assert sent.data["approved_by"] == "web:alice" and "test_mode" not in sent.data
    assert ("reminder.approved", "web:alice") in kinds(org, reminder)
    # approving twice does nothing
    assert approvals.approve(org, [reminder.pk], actor="web:bob", today=DAY) == []
    assert not verify_chain(org)


def test_approve_enqueues_like_the_daily_run_and_a_worker_sends_it(org: Organisation) -> None:
    reminder = awaiting_one(org)
    before = DBTaskResult.objects.count()
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    assert DBTaskResult.objects.count() == before + 1  # on commit, as ``relance run`` enqueues
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert len(mail.outbox) == 1


def test_a_postponed_reminder_approved_early_waits_for_its_day(org: Organisation) -> None:
    reminder = awaiting_one(org)
    later = DAY + timedelta(days=3)
    approvals.postpone(org, reminder.pk, later, actor="web:alice", today=DAY)
    before = DBTaskResult.objects.count()
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    assert DBTaskResult.objects.count() == before  # not due yet: nothing enqueued
    assert dispatch_now(org, noon(DAY)).sent == []
    assert dispatch_now(org, noon(later)).sent == [reminder.pk]


def test_send_time_rechecks_still_apply_to_an_approved_reminder(org: Organisation) -> None:
    reminder = awaiting_one(org)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    Hold.objects.create(organisation=org, customer=reminder.customer, kind=Hold.Kind.DISPUTE, reason="livraison")
    dispatch_now(org, noon(DAY))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert mail.outbox == []


def test_a_paid_invoice_is_dropped_from_an_approved_reminder(org: Organisation) -> None:
    reminder = awaiting_one(org)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    record_payment(org, reminder.customer, "VIR-1", DAY, Decimal("1200.00"), designated=["F-001"])
    dispatch_now(org, noon(DAY))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert list(reminder.lines.values_list("invoice__number", flat=True)) == ["F-002"]
    assert "F-001" not in mail.outbox[0].body


# --------------------------------------------------------------------------- edit, skip, postpone, bulk


def test_the_edited_text_is_exactly_what_is_sent_and_stored(org: Organisation) -> None:
    reminder = awaiting_one(org)
    preview = approvals.preview(org, reminder, DAY)
    assert "F-001" in preview.draft_text and preview.draft_subject
    body = ("Madame,\n\nComme convenu au téléphone ce matin, voici le relevé des factures F-001 et F-002 "
            "(1 680,50 €).\nMerci de votre règlement d’ici vendredi.\n\nBien cordialement,")
    approvals.edit(org, reminder.pk, "  Relevé   convenu  ", body + "\r\n\r\n", actor="web:alice", today=DAY)
    reminder.refresh_from_db()
    assert (reminder.subject, reminder.body_text, reminder.edited_by) == ("Relevé convenu", body, "web:alice")
    assert reminder.edited_at is not None
    assert reminder.body_html.startswith("<p>Madame,</p>")
    assert "<p>Comme convenu au téléphone ce matin" in reminder.body_html and "<br>\nMerci" in reminder.body_html
    edited = Event.objects.get(kind="reminder.edited", reminder_id_ref=reminder.pk)
    assert edited.actor == "web:alice"
    assert edited.data["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()

    shown = approvals.preview(org, reminder, DAY)
    assert shown.edited and shown.subject == "Relevé convenu" and shown.draft_text == body

    approvals.approve(org, [reminder.pk], actor="web:bob", today=DAY)
    dispatch_now(org, noon(DAY))
    reminder.refresh_from_db()
    msg = mail.outbox[0]
    assert msg.subject == "Relevé convenu"
    assert msg.body.startswith(body + "\n\n")  # then the signature the channel adds
    assert "Sophie Laurent" in msg.body
    html = msg.alternatives[0][0]
    assert "Comme convenu au téléphone ce matin" in html and "Sauf erreur" not in html
    assert (reminder.status, reminder.subject, reminder.body_text) == (Reminder.Status.SENT, "Relevé convenu", body)
    sent = Event.objects.get(kind="reminder.sent", reminder_id_ref=reminder.pk)
    assert sent.data["edited_by"] == "web:alice"
    assert sent.data["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()


def test_an_edited_text_that_kept_the_payment_block_carries_it_with_its_qr_code(org: Organisation) -> None:
    reminder = awaiting_one(org)
    draft = approvals.preview(org, reminder, DAY).draft_text
    assert "IBAN" in draft
    approvals.edit(org, reminder.pk, "Facture impayée", "Madame,\n\nUn mot de plus.\n\n" + draft,
                   actor="web:alice", today=DAY)
    reminder.refresh_from_db()
    assert 'data-relance="paiement"' in reminder.body_html
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    dispatch_now(org, noon(DAY))
    msg = mail.outbox[0]
    assert msg.body.count("IBAN") == 1  # the block is not added a second time
    assert msg.inline_images  # the QR code goes with it
    assert "cid:" in msg.alternatives[0][0]


def test_an_xss_payload_in_an_edited_body_is_escaped(org: Organisation) -> None:
    reminder = awaiting_one(org)
    approvals.edit(org, reminder.pk, f"Objet {XSS}", f"Bonjour {XSS}\n\n  {XSS}", actor="web:alice", today=DAY)
    reminder.refresh_from_db()
    assert "<script" not in reminder.body_html and "<img" not in reminder.body_html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in reminder.body_html
    preview = approvals.preview(org, reminder, DAY)
    assert "<script" not in preview.html.split("<body>", 1)[1]
    # the payload is full of words no dictionary knows: the writing check (issue 17) would hold it
    Organisation.objects.filter(pk=org.pk).update(writing_check_holds=False)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    dispatch_now(org, noon(DAY))
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert mail.outbox[0].body.startswith(f"Bonjour {XSS}")  # the text part is the text, as typed


def test_an_edited_text_whose_figures_changed_goes_back_for_review(org: Organisation) -> None:
    reminder = awaiting_one(org)
    approvals.edit(org, reminder.pk, "Relevé", "Vous nous devez 1 680,50 €.", actor="web:alice", today=DAY)
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    record_payment(org, reminder.customer, "VIR-2", DAY, Decimal("100.00"), designated=["F-002"])
    report = dispatch_now(org, noon(DAY))
    assert report.sent == [] and mail.outbox == []
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL
    assert "ont changé" in reminder.last_error and reminder.approved_by == ""
    assert Event.objects.filter(kind="reminder.review_needed", reminder_id_ref=reminder.pk).exists()
    # reverting to the template: rendered with the current figures at sending time
    approvals.revert(org, reminder.pk, actor="web:alice")
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    assert dispatch_now(org, noon(DAY)).sent == [reminder.pk]
    assert "1\u202f580,50\xa0€" in mail.outbox[0].body


def test_edit_refuses_empty_or_oversized_text_and_silent_channels(org: Organisation) -> None:
    reminder = awaiting_one(org)
    with pytest.raises(InvalidInput, match="objet est vide"):
        approvals.edit(org, reminder.pk, "  ", "texte", actor="a", today=DAY)
    with pytest.raises(InvalidInput, match="texte est vide"):
        approvals.edit(org, reminder.pk, "Objet", " \n ", actor="a", today=DAY)
    with pytest.raises(InvalidInput, match="dépasse"):
        approvals.edit(org, reminder.pk, "Objet", "x" * (approvals.MAX_BODY + 1), actor="a", today=DAY)
    Reminder.objects.filter(pk=reminder.pk).update(channel="phone")
    with pytest.raises(InvalidInput, match="rien à rédiger"):
        approvals.edit(org, reminder.pk, "Objet", "Texte", actor="a", today=DAY)


def test_skip_cancels_with_its_reason(org: Organisation) -> None:
    reminder = awaiting_one(org)
    with pytest.raises(InvalidInput):
        approvals.skip(org, reminder.pk, "   ", actor="web:alice")
    approvals.skip(org, reminder.pk, "client rappelé : virement parti hier", actor="web:alice")
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert reminder.last_error == "écartée à la validation : client rappelé : virement parti hier"
    event = Event.objects.get(kind="reminder.skipped", reminder_id_ref=reminder.pk)
    assert (event.actor, event.data["reason"]) == ("web:alice", "client rappelé : virement parti hier")
    assert approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY) == []
    with pytest.raises(Conflict):
        approvals.skip(org, reminder.pk, "encore", actor="web:alice")
    assert dispatch_now(org, noon(DAY)).sent == []


def test_postpone_moves_the_date_and_stays_awaiting(org: Organisation) -> None:
    reminder = awaiting_one(org)
    with pytest.raises(InvalidInput, match="date passée"):
        approvals.postpone(org, reminder.pk, DAY - timedelta(days=1), actor="web:alice", today=DAY)
    approvals.postpone(org, reminder.pk, DAY + timedelta(days=4), actor="web:alice", today=DAY)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.planned_for) == (Reminder.Status.AWAITING_APPROVAL, DAY + timedelta(days=4))
    event = Event.objects.get(kind="reminder.postponed", reminder_id_ref=reminder.pk)
    assert event.data == {"from": "2026-11-19", "to": "2026-11-23"} and event.actor == "web:alice"
    assert dispatch_now(org, noon(DAY + timedelta(days=4))).sent == []  # still to approve


def test_bulk_approve_takes_only_the_awaiting_visible_ones(org: Organisation) -> None:
    plan_day(org, DAY + timedelta(days=6))  # both customers now due
    ids = list(Reminder.objects.filter(organisation=org).values_list("pk", flat=True))
    assert len(ids) == 2
    other = make_org("autre")
    foreign = Reminder.objects.create(organisation=other, customer=make_customer(other, "X1", "Autre"), channel="email",
                                      planned_for=DAY, idempotency_key="autre-1", status=Reminder.Status.AWAITING_APPROVAL)
    approved = approvals.approve(org, [*ids, foreign.pk], actor="web:alice", today=DAY + timedelta(days=6))
    assert sorted(r.pk for r in approved) == sorted(ids)
    foreign.refresh_from_db()
    assert foreign.status == Reminder.Status.AWAITING_APPROVAL
    events = Event.objects.filter(organisation=org, kind="reminder.approved")
    assert events.count() == 2 and all(e.data["bulk"] for e in events)
    assert len(dispatch_now(org, noon(DAY + timedelta(days=6))).sent) == 2


def test_collector_restriction_applies_to_the_queue_and_the_actions(org: Organisation) -> None:
    plan_day(org, DAY + timedelta(days=6))
    user = User.objects.create_user("carla")
    c001 = Customer.objects.get(organisation=org, code="C001")
    Customer.objects.filter(pk=c001.pk).update(collector=user)
    mine = approvals.queue(org, user.pk)
    assert [r.customer.code for r in mine] == ["C001"]
    theirs = Reminder.objects.get(organisation=org, customer__code="C002")
    assert approvals.approve(org, [theirs.pk], actor="web:carla", collector_id=user.pk) == []
    with pytest.raises(NotFound):
        approvals.skip(org, theirs.pk, "non", actor="web:carla", collector_id=user.pk)
    with pytest.raises(NotFound):
        approvals.awaiting_reminder(org, theirs.pk, user.pk)


# --------------------------------------------------------------------------- test mode


@pytest.fixture
def smtp(settings: Any) -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    yield server
    server.stop()


def test_test_mode_sends_every_email_to_the_test_address(org: Organisation, smtp: SMTPServer) -> None:
    Organisation.objects.filter(pk=org.pk).update(test_mode_email="essais@atelier-dubois.test")
    org.refresh_from_db()
    reminder = awaiting_one(org)
    preview = approvals.preview(org, reminder, DAY)
    assert preview.test_mode and preview.subject.startswith("[TEST] ")
    assert preview.recipient.startswith("[TEST] essais@atelier-dubois.test")
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    dispatch_now(org, noon(DAY))
    [got] = smtp.received
    assert got.rcpt_tos == ["essais@atelier-dubois.test"]  # the envelope: never the customer
    assert str(got.message["To"]) == "essais@atelier-dubois.test"
    assert str(got.message["Subject"]).startswith("[TEST] ")
    reminder.refresh_from_db()
    assert reminder.recipient == ("[TEST] essais@atelier-dubois.test au lieu de "
                                  "Claire Martin <claire.martin@boulangerie-martin.test>")
    assert reminder.subject.startswith("[TEST] ")
    sent = Event.objects.get(kind="reminder.sent", reminder_id_ref=reminder.pk)
    assert sent.data["test_mode"] is True
    assert sent.data["test_recipient"] == "essais@atelier-dubois.test"
    assert sent.data["real_recipient"] == "Claire Martin <claire.martin@boulangerie-martin.test>"


def test_test_mode_leaves_letters_alone(org: Organisation) -> None:
    Organisation.objects.filter(pk=org.pk).update(test_mode_email="essais@atelier-dubois.test")
    Customer.objects.filter(organisation=org, code="C001").update(preferred_channel="letter")
    org.refresh_from_db()
    reminder = awaiting_one(org)
    assert reminder.channel == "letter"
    approvals.approve(org, [reminder.pk], actor="web:alice", today=DAY)
    dispatch_now(org, noon(DAY))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and mail.outbox == []
    assert reminder.document and not reminder.subject.startswith("[TEST]")
    assert "TEST" not in reminder.recipient
    assert "test_mode" not in Event.objects.get(kind="reminder.sent", reminder_id_ref=reminder.pk).data


# --------------------------------------------------------------------------- the pages


@pytest.fixture
def today_org(pinned_clock: Any, tmp_path: Any) -> Organisation:
    """The pages work on today, pinned (tests/conftest.py) so that timezone.localdate() (UTC) is also the
    organisation's today (Paris): invoices due relative to it."""
    today = timezone.localdate()
    org = make_org()
    _import(org, tmp_path, [
        ("F-101", "C001", (today - timedelta(days=40)).isoformat(), (today - timedelta(days=10)).isoformat(),
         "1234,56"),
    ])
    Step.objects.filter(scenario__organisation=org).update(needs_approval=True)
    plan_day(org, today)
    return org


def test_the_queue_shows_the_message_as_it_will_go_out(today_org: Organisation) -> None:
    client = member_client(today_org, "alice")
    reminder = Reminder.objects.get(organisation=today_org)
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL
    page = client.get(reverse("web:approvals"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="approval-card"' in html and "Boulangerie Martin SARL" in html
    assert "1\u202f234,56\xa0€" in html
    # the queue shows the text as it will go out; the email as built, with its QR code, is on the review page
    assert escape(approvals.preview(today_org, reminder).text) in html
    assert "data:image/png;base64," not in html and "srcdoc=" not in html
    assert reverse("web:approvals") in client.get(reverse("web:today")).content.decode()  # the nav link
    detail = client.get(reverse("web:approval", kwargs={"pk": reminder.pk}))
    assert detail.status_code == 200
    page = detail.content.decode()
    assert 'name="subject"' in page and 'sandbox=""' in page and "srcdoc=" in page
    assert "data:image/png;base64," in page  # the QR code, inline, without fetching anything


def test_the_letter_preview_is_a_pdf_rendered_on_the_fly(today_org: Organisation) -> None:
    client = member_client(today_org, "alice")
    reminder = Reminder.objects.get(organisation=today_org)
    assert client.get(reverse("web:approval_pdf", kwargs={"pk": reminder.pk})).status_code == 404  # an email
    Reminder.objects.filter(pk=reminder.pk).update(channel="registered_letter")
    response = client.get(reverse("web:approval_pdf", kwargs={"pk": reminder.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    reminder.refresh_from_db()
    assert not reminder.document  # nothing stored
    assert 'href="' + reverse("web:approval_pdf", kwargs={"pk": reminder.pk}) in client.get(
        reverse("web:approvals")).content.decode()


def test_actions_through_the_pages(today_org: Organisation) -> None:
    client = member_client(today_org, "alice")
    reminder = Reminder.objects.get(organisation=today_org)
    url = reverse("web:approval", kwargs={"pk": reminder.pk})
    response = client.post(url, {"action": "edit", "subject": "Votre facture", "body": f"Bonjour,\n\n{XSS}",
                                 "confirmer_fautes": "1"})  # its unknown words confirmed (issue 17)
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.edited_by == "web:alice" and "&lt;script&gt;" in reminder.body_html
    page = client.get(url).content.decode()
    assert "<script>alert" not in page  # escaped in the form and in the srcdoc
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(url, {"action": "postpone", "date": yesterday})
    assert response.status_code == 400 and "date passée" in response.content.decode()
    response = client.post(url, {"action": "approve", "retour": "file"})
    assert response.status_code == 302 and response["Location"] == reverse("web:approvals")
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED and reminder.approved_by == "web:alice"
    # no longer awaiting: the review page sends to the reminder, a second decision is refused
    assert client.get(url)["Location"] == reverse("web:reminder", kwargs={"pk": reminder.pk})
    assert client.post(url, {"action": "skip", "reason": "trop tard"}).status_code == 409


def test_bulk_approve_through_the_queue(today_org: Organisation) -> None:
    client = member_client(today_org, "alice")
    reminder = Reminder.objects.get(organisation=today_org)
    response = client.post(reverse("web:approvals"), {"ids": [str(reminder.pk), "999999", "x"]})
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED
    assert client.post(reverse("web:approvals"), {}).status_code == 302  # nothing ticked: a message, no change


def test_read_only_members_read_but_cannot_act(today_org: Organisation) -> None:
    client = member_client(today_org, "rita", Membership.Role.READ_ONLY)
    reminder = Reminder.objects.get(organisation=today_org)
    url = reverse("web:approval", kwargs={"pk": reminder.pk})
    assert client.get(reverse("web:approvals")).status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and 'name="subject"' not in page.content.decode()
    for data in ({"action": "approve"}, {"action": "skip", "reason": "x"}, {"action": "edit", "subject": "s", "body": "b"},
                 {"action": "postpone", "date": timezone.localdate().isoformat()}):
        assert client.post(url, data).status_code == 403
    assert client.post(reverse("web:approvals"), {"ids": [str(reminder.pk)]}).status_code == 403
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL and not reminder.edited_at


def test_other_organisations_and_unassigned_customers_are_not_found(today_org: Organisation) -> None:
    reminder = Reminder.objects.get(organisation=today_org)
    other = make_org("beta")
    outsider = member_client(other, "olga")
    assert outsider.get(reverse("web:approval", kwargs={"pk": reminder.pk})).status_code == 404
    assert outsider.post(reverse("web:approval", kwargs={"pk": reminder.pk}), {"action": "approve"}).status_code == 404
    assert outsider.get(reverse("web:approval_pdf", kwargs={"pk": reminder.pk})).status_code == 404
    assert "Boulangerie" not in outsider.get(reverse("web:approvals")).content.decode()
    Organisation.objects.filter(pk=today_org.pk).update(collectors_see_assigned_only=True)
    restricted = member_client(today_org, "carla")
    assert restricted.get(reverse("web:approval", kwargs={"pk": reminder.pk})).status_code == 404
    assert "Boulangerie" not in restricted.get(reverse("web:approvals")).content.decode()
    restricted.post(reverse("web:approvals"), {"ids": [str(reminder.pk)]})
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL


def test_needs_approval_is_editable_in_the_scenario_editor(today_org: Organisation) -> None:
    from relance.dunning.services import editing

    scenario = today_org.scenarios.get(is_default=True)
    steps = [editing.StepInput(**editing.step_values(s)) for s in scenario.steps.order_by("position")]
    assert all(s.needs_approval for s in steps)
    steps[0] = editing.StepInput(**{**editing.step_values(scenario.steps.get(position=0)), "needs_approval": False})
    editing.save_steps(today_org, scenario, steps, actor="web:admin")
    assert not scenario.steps.get(position=0).needs_approval
    client = member_client(today_org, "adam", Membership.Role.ADMIN)
    page = client.get(reverse("web:scenario", kwargs={"pk": scenario.pk})).content.decode()
    assert "needs_approval" in page and "À valider" in page
