"""The collector's missing actions of issue #5: a reminder awaiting approval leaves the queue
when its invoices are settled or held; « Renvoyer » a failed reminder (service, CLI, pages);
the registered-letter tracking number and receipt from « Le travail du jour »; « Envoyer
l’accord » of a payment plan; a plan whose J+3 notice was cancelled at send time. The SMTP
side of the retry and of the agreement is in ``tests/e2e/test_collector_actions_smtp.py``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from relance.cli.main import main
from relance.dunning.models import Reminder, Step
from relance.dunning.services import approvals
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.plan_messages import send_agreement
from relance.dunning.services.planner import plan_day
from relance.dunning.services.retries import NotRetryable, retry
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold, PaymentPlan
from relance.holds.services.holds import lift, open_dispute, pause, record_promise, stop
from relance.holds.services.plans import accept_plan, cancel_plan, propose_plan
from relance.ledger.models import Customer, Membership, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, write

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)  # C001: F-001 (J+40) and F-002 (J+19) due for « Première relance »
# For the tests that work on today (the day page, a letter sent today, a plan due in 10 days): the clock is
# pinned (tests/conftest.py), so that timezone.localdate() (UTC) is also the organisation's today (Paris).
pinned = pytest.mark.usefixtures("pinned_clock")


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _org(tmp_path: Any, rows: list[tuple[str, str, str, str, str]]) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv(rows)))
    return org


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    return _org(tmp_path, [("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
                           ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
                           ("F-003", "C002", "2026-10-15", "2026-11-14", "2 400,00")])


@pytest.fixture
def c001(org: Organisation) -> Customer:
    return Customer.objects.get(organisation=org, code="C001")


def cancelled_events(reminder: Reminder) -> list[tuple[str, str]]:
    return list(Event.objects.filter(kind="reminder.cancelled", reminder_id_ref=reminder.pk)
                .values_list("data__reason", "actor"))


# --------------------------------------------------------------------------- 3. approval clean-up


@pytest.fixture
def awaiting(org: Organisation) -> Reminder:
    Step.objects.filter(scenario__organisation=org, template="relance_1").update(needs_approval=True)
    plan_day(org, DAY)
    reminder = Reminder.objects.get(organisation=org, customer__code="C001")
    assert reminder.status == Reminder.Status.AWAITING_APPROVAL
    return reminder


def in_queue(org: Organisation) -> list[int]:
    return list(approvals.queue(org).values_list("pk", flat=True))


def test_settlement_cancels_an_awaiting_reminder_like_a_planned_one(org: Organisation, awaiting: Reminder) -> None:
    record_payment(org, awaiting.customer, "VIR-1", DAY, Decimal("1200.00"), designated=["F-001"])
    awaiting.refresh_from_db()
    assert awaiting.status == Reminder.Status.AWAITING_APPROVAL  # F-002 still due: it stays
    record_payment(org, awaiting.customer, "VIR-2", DAY, Decimal("480.50"), designated=["F-002"])
    awaiting.refresh_from_db()
    assert awaiting.status == Reminder.Status.CANCELLED and in_queue(org) == []
    assert cancelled_events(awaiting) == [("settled", "system")]
    assert not verify_chain(org)


def test_a_promise_on_its_invoices_takes_it_out_of_the_queue(org: Organisation, c001: Customer,
                                                                awaiting: Reminder) -> None:
    record_promise(org, c001, DAY + timedelta(days=7), Decimal("1680.50"), via="phone", obtained_by="Sophie",
                   actor="web:sophie", today=DAY)
    awaiting.refresh_from_db()
    assert awaiting.status == Reminder.Status.CANCELLED and in_queue(org) == []
    assert cancelled_events(awaiting) == [("held", "web:sophie")]
    # the customer is no longer kept from being planned by a reminder nobody will approve
    assert "approbation" not in awaiting.last_error and "suspendues" in awaiting.last_error


def test_a_dispute_on_all_its_invoices_takes_it_out_of_the_queue(org: Organisation, c001: Customer,
                                                                   awaiting: Reminder) -> None:
    f1, f2 = c001.invoices.order_by("number")
    open_dispute(org, f1, "montant_conteste", actor="web:sophie", today=DAY)
    awaiting.refresh_from_db()
    assert awaiting.status == Reminder.Status.AWAITING_APPROVAL  # F-002 is still chased
    open_dispute(org, f2, "non_recu", actor="web:sophie", today=DAY)
    awaiting.refresh_from_db()
    assert awaiting.status == Reminder.Status.CANCELLED and in_queue(org) == []


@pytest.mark.parametrize("hold", ["stop", "pause", "plan"])
def test_a_stop_a_pause_or_a_plan_takes_it_out_of_the_queue(org: Organisation, c001: Customer,
                                                              awaiting: Reminder, hold: str) -> None:
    other = Reminder.objects.create(organisation=org, customer=Customer.objects.get(code="C002"), channel="email",
                                    planned_for=DAY, idempotency_key="other", status=Reminder.Status.AWAITING_APPROVAL)
    if hold == "stop":
        stop(org, c001, "insolvency", actor="web:sophie", today=DAY)
    elif hold == "pause":
        pause(org, c001, DAY + timedelta(days=10), reason="congés", actor="web:sophie", today=DAY)
    else:
        plan = propose_plan(org, c001, ["F-001", "F-002"], count=2, first_due=DAY + timedelta(days=20), today=DAY)
        awaiting.refresh_from_db()
        assert awaiting.status == Reminder.Status.AWAITING_APPROVAL  # only proposed
        accept_plan(org, plan, actor="web:sophie", on=DAY)
    awaiting.refresh_from_db()
    assert awaiting.status == Reminder.Status.CANCELLED
    assert in_queue(org) == [other.pk]  # another customer's reminder is left alone
    assert cancelled_events(awaiting) == [("held", "web:sophie")]


# --------------------------------------------------------------------------- 2. retry


@pytest.fixture
def failed(org: Organisation) -> Reminder:
    plan_day(org, DAY)
    reminder = Reminder.objects.get(organisation=org, customer__code="C001", status=Reminder.Status.PLANNED)
    Reminder.objects.filter(pk=reminder.pk).update(status=Reminder.Status.FAILED, attempts=1,
                                                   last_error="refus du serveur SMTP : 550 5.1.1 User unknown")
    reminder.refresh_from_db()
    return reminder


@pytest.mark.parametrize("status", ["planned", "sending", "sent", "uncertain", "cancelled", "awaiting"])
def test_only_a_failed_reminder_can_be_retried(org: Organisation, failed: Reminder, status: str) -> None:
    Reminder.objects.filter(pk=failed.pk).update(status=status)
    tasks = DBTaskResult.objects.count()
    with pytest.raises(NotRetryable, match="seule une relance en échec"):
        retry(org, failed.pk, actor="web:alice")
    failed.refresh_from_db()
    assert failed.status == status and DBTaskResult.objects.count() == tasks
    assert not Event.objects.filter(kind="reminder.retried").exists()


def test_retry_puts_it_back_on_the_queue_with_an_event(org: Organisation, failed: Reminder) -> None:
    tasks = DBTaskResult.objects.count()
    retry(org, failed.pk, actor="web:alice")
    failed.refresh_from_db()
    assert (failed.status, failed.last_error, failed.next_attempt_at) == (Reminder.Status.PLANNED, "", None)
    assert DBTaskResult.objects.count() == tasks + 1
    event = Event.objects.get(kind="reminder.retried", reminder_id_ref=failed.pk)
    assert event.actor == "web:alice" and "550" in event.data["previous_error"]
    assert dispatch_now(org, noon(DAY)).sent == [failed.pk] and len(mail.outbox) == 1
    with pytest.raises(NotRetryable):
        retry(org, failed.pk, actor="web:alice")  # sent now: never twice


def test_a_failure_behind_a_later_reminder_is_not_retried(org: Organisation, failed: Reminder) -> None:
    later = Reminder.objects.create(organisation=org, customer=failed.customer, channel="email",
                                    planned_for=DAY + timedelta(days=10), idempotency_key="later",
                                    status=Reminder.Status.SENT)
    later.lines.create(invoice=failed.lines.first().invoice, step_position=2)
    with pytest.raises(NotRetryable, match="plus récente"):
        retry(org, failed.pk, actor="web:alice")


def test_retry_is_scoped_to_the_organisation_and_the_collector(org: Organisation, failed: Reminder) -> None:
    from relance.errors import NotFound

    with pytest.raises(NotFound):
        retry(make_org(slug="autre"), failed.pk, actor="web:x")
    assigned = make_user("bruno", org)
    with pytest.raises(NotFound):
        retry(org, failed.pk, actor="web:bruno", collector_id=assigned.pk)


def test_cli_retry(org: Organisation, failed: Reminder, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retry", str(failed.pk), "--org", org.slug, "--now", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["reminder"], out["outcome"], out["status"]) == (failed.pk, "sent", "sent")
    assert len(mail.outbox) == 1
    assert Event.objects.get(kind="reminder.retried").actor == "cli"
    assert main(["retry", str(failed.pk), "--org", org.slug]) == 6  # Conflict: sent, not retried again
    assert "seule une relance en échec" in capsys.readouterr().err
    assert main(["retry", "999999", "--org", org.slug]) == 3


def member(org: Organisation, username: str, role: str = Membership.Role.COLLECTOR) -> Client:
    client = Client()
    client.force_login(make_user(username, org, role=role))
    return client


@pinned
def test_renvoyer_from_the_day_and_the_reminder_page(org: Organisation, failed: Reminder) -> None:
    Reminder.objects.filter(pk=failed.pk).update(planned_for=timezone.localdate())
    client = member(org, "alice")
    url = reverse("web:reminder_retry", kwargs={"pk": failed.pk})
    today_page = client.get(reverse("web:today")).content.decode()
    assert f'action="{url}"' in today_page and "Renvoyer" in today_page
    assert f'action="{url}"' in client.get(reverse("web:reminder", kwargs={"pk": failed.pk})).content.decode()
    response = client.post(url, {"next": reverse("web:today")}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:today")
    assert "remise en file d’envoi" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Reminder.Status.PLANNED
    assert f'action="{url}"' not in client.get(reverse("web:today")).content.decode()
    # a second click: refused with a French message, nothing changes
    page = client.post(url, follow=True).content.decode()
    assert "Seule une relance en échec peut être renvoyée" in page
    assert Event.objects.filter(kind="reminder.retried").count() == 1
    # the customer's timeline shows it
    timeline = client.get(reverse("web:customer", kwargs={"pk": failed.customer_id})).content.decode()
    assert "Relance renvoyée" in timeline


def test_renvoyer_is_refused_to_read_only_other_organisations_and_without_csrf(org: Organisation,
                                                                                failed: Reminder) -> None:
    url = reverse("web:reminder_retry", kwargs={"pk": failed.pk})
    reader = member(org, "lecteur", Membership.Role.READ_ONLY)
    assert reader.post(url).status_code == 403
    assert "Renvoyer" not in reader.get(reverse("web:reminder", kwargs={"pk": failed.pk})).content.decode()
    stranger = member(make_org(slug="autre"), "autre")
    assert stranger.post(url).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("alice", org))
    assert strict.post(url).status_code == 403
    failed.refresh_from_db()
    assert failed.status == Reminder.Status.FAILED


# --------------------------------------------------------------------------- 1. registered letters


@pytest.fixture
def letter(org: Organisation, c001: Customer) -> Reminder:
    """A registered letter produced today (it is in « Courriers à imprimer »): its tests pin the clock."""
    return Reminder.objects.create(organisation=org, customer=c001, channel="registered_letter",
                                   planned_for=timezone.localdate(), idempotency_key="lrar-1",
                                   status=Reminder.Status.SENT, sent_at=timezone.now())


@pinned
def test_tracking_number_then_receipt_from_the_day(org: Organisation, letter: Reminder) -> None:
    client = member(org, "alice")
    url = reverse("web:letter_delivery", kwargs={"pk": letter.pk})
    page = client.get(reverse("web:today")).content.decode()
    assert f'action="{url}"' in page and 'name="tracking_number"' in page
    back = reverse("web:today") + "#courriers"

    response = client.post(url, {"tracking_number": "??", "next": back}, follow=True)
    assert "Numéro de recommandé illisible : « ?? »" in response.content.decode()
    letter.refresh_from_db()
    assert letter.tracking_number == "" and not Event.objects.filter(kind__startswith="letter.").exists()

    response = client.post(url, {"tracking_number": "1A 123 456 7890 1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    letter.refresh_from_db()
    assert letter.tracking_number == "1A12345678901"
    assert Event.objects.get(kind="letter.tracking_recorded").actor == "web:alice"
    page = client.get(reverse("web:today")).content.decode()
    assert "1A12345678901" in page and 'name="received_on"' in page and 'name="tracking_number"' not in page

    today = timezone.localdate()
    for bad, message in (((today + timedelta(days=1)).isoformat(), "dans le futur"),
                         ((today - timedelta(days=3)).isoformat(), "précède l’envoi"),
                         ("23/11", "illisible")):
        content = client.post(url, {"received_on": bad, "next": back}, follow=True).content.decode()
        assert message in content
    letter.refresh_from_db()
    assert letter.received_on is None
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad_scan = SimpleUploadedFile("avis.exe", b"MZ\x90\x00")
    content = client.post(url, {"received_on": today.isoformat(), "scan": bad_scan}, follow=True).content.decode()
    assert "PDF, PNG ou JPEG" in content
    letter.refresh_from_db()
    assert letter.received_on is None and not letter.receipt_scan  # nothing saved half-way

    scan = SimpleUploadedFile("avis.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    client.post(url, {"received_on": today.isoformat(), "scan": scan})
    letter.refresh_from_db()
    assert letter.received_on == today and letter.receipt_scan.read() == b"%PDF-1.4\n%%EOF\n"
    kinds = list(Event.objects.filter(reminder_id_ref=letter.pk).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["letter.tracking_recorded", "letter.received", "letter.receipt_attached"]
    timeline = client.get(reverse("web:customer", kwargs={"pk": letter.customer_id})).content.decode()
    assert "Numéro de recommandé enregistré" in timeline and "Avis de réception enregistré" in timeline
    assert "Avis de réception du" in client.get(reverse("web:reminder", kwargs={"pk": letter.pk})).content.decode()
    assert not verify_chain(org)


@pinned
def test_letter_follow_up_is_refused_to_read_only_other_orgs_and_emails(org: Organisation, letter: Reminder,
                                                                       failed: Reminder) -> None:
    url = reverse("web:letter_delivery", kwargs={"pk": letter.pk})
    reader = member(org, "lecteur", Membership.Role.READ_ONLY)
    assert reader.post(url, {"tracking_number": "1A12345678901"}).status_code == 403
    assert 'name="tracking_number"' not in reader.get(reverse("web:today")).content.decode()
    assert member(make_org(slug="autre"), "autre").post(url, {"tracking_number": "1A12345678901"}).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("alice", org))
    assert strict.post(url, {"tracking_number": "1A12345678901"}).status_code == 403
    # an email is not a registered letter
    content = member(org, "bob").post(reverse("web:letter_delivery", kwargs={"pk": failed.pk}),
                                      {"tracking_number": "1A12345678901"}, follow=True).content.decode()
    assert "pas une lettre recommandée" in content
    assert not Event.objects.filter(kind__startswith="letter.").exists()


# --------------------------------------------------------------------------- 4. plan agreement


@pinned
def test_envoyer_l_accord_is_sent_once_through_the_dispatcher(org: Organisation, c001: Customer) -> None:
    plan = propose_plan(org, c001, ["F-001", "F-002"], count=3, first_due=timezone.localdate() + timedelta(days=10))
    client = member(org, "alice")
    url = reverse("web:plan_action", kwargs={"pk": plan.pk, "action": "envoyer"})
    assert f'action="{url}"' in client.get(reverse("web:customer", kwargs={"pk": c001.pk})).content.decode()
    tasks = DBTaskResult.objects.count()
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()  # a double click
    assert "en cours d’envoi" in first and "ne part qu’une fois" in second
    reminder = Reminder.objects.get(kind=Reminder.Kind.PLAN_AGREEMENT)
    assert reminder.plan_id == plan.pk and DBTaskResult.objects.count() == tasks + 1
    assert Event.objects.get(kind="plan.agreement_planned").actor == "web:alice"
    report = dispatch_now(org)
    assert report.sent == [reminder.pk]
    (message,) = mail.outbox
    (name, pdf, mimetype) = message.attachments[0]
    assert name == f"Accord-echeancier-{plan.pk}.pdf" and mimetype == "application/pdf" and pdf.startswith(b"%PDF")
    assert message.subject.startswith(f"Votre échéancier de paiement n° {plan.pk}")
    assert "«\xa0Bon pour accord\xa0»" in message.body and "1. " in message.body
    reminder.refresh_from_db()
    plan.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.document_sha256 == plan.agreement_sha256
    event = Event.objects.get(kind="plan.agreement_sent")
    assert event.data["plan"] == plan.pk and event.data["document_sha256"] == plan.agreement_sha256
    assert dispatch_now(org).sent == [] and len(mail.outbox) == 1
    timeline = client.get(reverse("web:customer", kwargs={"pk": c001.pk})).content.decode()
    assert "Accord d’échéancier envoyé" in timeline


@pinned
def test_without_an_email_address_the_letter_is_printed_instead(org: Organisation, tmp_path: Any) -> None:
    import_file(org, write(tmp_path, "c003.csv", invoices_csv([("F-009", "C003", "2026-09-01", "2026-10-01",
                                                                  "300,00")])))
    c003 = Customer.objects.get(organisation=org, code="C003")  # Jean Petit: no email address
    plan = propose_plan(org, c003, ["F-009"], count=2, first_due=timezone.localdate() + timedelta(days=10))
    client = member(org, "alice")
    page = client.post(reverse("web:plan_action", kwargs={"pk": plan.pk, "action": "envoyer"}),
                       follow=True).content.decode()
    assert "n’a pas d’adresse e-mail : l’accord n’est pas envoyé" in page
    assert reverse("web:plan_agreement", kwargs={"pk": plan.pk}) in page  # the letter to print
    assert not Reminder.objects.filter(kind=Reminder.Kind.PLAN_AGREEMENT).exists()
    assert Event.objects.filter(kind="plan.agreement_issued").count() == 1
    pdf = client.get(reverse("web:plan_agreement", kwargs={"pk": plan.pk}))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


@pinned
def test_an_agreement_not_yet_sent_is_cancelled_with_its_plan(org: Organisation, c001: Customer) -> None:
    plan = propose_plan(org, c001, ["F-001"], count=2, first_due=timezone.localdate() + timedelta(days=10))
    reminder, created = send_agreement(org, plan, actor="web:alice")
    assert created and send_agreement(org, plan, actor="web:alice") == (reminder, False)
    cancel_plan(org, plan, actor="web:alice")
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert dispatch_now(org).sent == [] and mail.outbox == []


# --------------------------------------------------------------------------- 5. notice cancelled at send time


def test_a_notice_cancelled_by_a_stop_is_planned_again_once_lifted(org: Organisation, c001: Customer) -> None:
    plan = propose_plan(org, c001, ["F-001", "F-002"], count=3, first_due=date(2026, 12, 15), today=DAY)
    accept_plan(org, plan, actor="sophie", on=DAY)
    day = DAY
    while day < date(2026, 12, 18):
        plan_day(org, day)
        dispatch_now(org, noon(day))
        day += timedelta(days=1)
    plan_day(org, date(2026, 12, 18))  # the J+3 notice of the unpaid first instalment is planned…
    hold = stop(org, c001, "litigation", actor="sophie", today=date(2026, 12, 18))
    dispatch_now(org, noon(date(2026, 12, 18)))  # …and cancelled at send time
    (notice,) = Reminder.objects.filter(kind=Reminder.Kind.INSTALMENT_MISSED)
    assert notice.status == Reminder.Status.CANCELLED
    for offset in range(1, 20):  # while stopped: neither broken nor reminded
        day = date(2026, 12, 18) + timedelta(days=offset)
        plan_day(org, day)
        dispatch_now(org, noon(day))
    plan.refresh_from_db()
    assert plan.state == PaymentPlan.State.ACTIVE
    assert Reminder.objects.filter(kind=Reminder.Kind.INSTALMENT_MISSED).count() == 1
    lift(org, hold, actor="sophie", today=date(2027, 1, 7))
    plan_day(org, date(2027, 1, 7))
    dispatch_now(org, noon(date(2027, 1, 7)))
    again = Reminder.objects.filter(kind=Reminder.Kind.INSTALMENT_MISSED).exclude(pk=notice.pk).get()
    assert again.status == Reminder.Status.SENT and again.instalment.position == 1
    event = Event.objects.get(kind="instalment.notice_replanned")
    assert event.data["cancelled_notice"] == notice.pk and event.data["notice"] == again.pk
    for offset in range(1, 9):  # the grace runs from the new notice: 8 days after 7 January
        day = date(2027, 1, 7) + timedelta(days=offset)
        plan_day(org, day)
        plan.refresh_from_db()
        assert plan.state == PaymentPlan.State.ACTIVE, day
    plan_day(org, date(2027, 1, 16))
    plan.refresh_from_db()
    assert plan.state == PaymentPlan.State.BROKEN
    assert not Hold.objects.filter(plan=plan, state="active").exists()
    assert not verify_chain(org)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_agreement_email_template_renders(language: str) -> None:
    from relance.dunning.services.messages import TEMPLATE_DIR, render_source, sample_context

    subject, _, body = (TEMPLATE_DIR / language / "accord_echeancier_envoi.txt").read_text(encoding="utf-8").partition(
        "\n")
    message = render_source(subject, body, sample_context(language), "accord_echeancier_envoi")
    assert "{{" not in message.text and "{%" not in message.text and "\n\n\n" not in message.text
    assert "'" not in message.text and "12" in message.subject
    if language == "fr":
        assert "1. 15/12/2026\xa0: 493,50\xa0€\n2. 15/01/2027\xa0: 493,50\xa0€" in message.text
    else:
        assert "1. 15/12/2026: €493.50\n2. 15/01/2027: €493.50" in message.text
