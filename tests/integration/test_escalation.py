"""Escalation on the database (issue #10): the cases seen on the demo's history, each replayed
with the real planner and dispatcher, then the audit, the second formal notice a person asks for,
the advice of delivery and the steps skipped in the approval queue."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from relance.cli.main import main
from relance.dunning.models import Reminder, Scenario, Step
from relance.dunning.services import approvals
from relance.dunning.services.audit import audit_organisation
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.escalation import reissue_formal_notice
from relance.dunning.services.planner import plan_day
from relance.dunning.services.registered_mail import record_delivery
from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Invoice, Organisation
from relance.ledger.services.imports import import_file
from relance.litigation.models import LitigationCase
from relance.rates.models import AddedRate
from relance.rates.services import add_rate
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def run_days(org: Organisation, first: date, last: date) -> list[Reminder]:
    sent: list[Reminder] = []
    day = first
    while day <= last:
        plan_day(org, day)
        sent += list(Reminder.objects.filter(pk__in=dispatch_now(org, noon(day)).sent))
        day += timedelta(days=1)
    return sent


def numbers(reminder: Reminder) -> list[str]:
    return sorted(reminder.lines.values_list("invoice__number", flat=True))


def label(reminder: Reminder) -> str:
    return reminder.step.label if reminder.step else reminder.kind


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = make_org(min_gap_days=5)
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    add_rate("2026-S2", ecb="2.15", source="hypothèse de test (BCE inchangé)", actor="test")
    return org


def add(org: Organisation, tmp_path: Any, name: str, rows: list[tuple[str, str, str, str, str]]) -> None:
    import_file(org, write(tmp_path, name, invoices_csv(rows)))


def test_an_invoice_never_reminded_is_not_pulled_to_its_neighbours_formal_notice(org: Organisation,
                                                                              tmp_path: Any) -> None:
    """FA-2026-000194 of the issue: imported while an older invoice of the customer is near its
    formal notice, it walks its own sequence from the first reminder, in its own messages."""
    add(org, tmp_path, "a.csv", [("F-OLD", "C001", "2026-06-01", "2026-07-01", "1000,00")])
    sent = run_days(org, date(2026, 6, 22), date(2026, 8, 28))
    add(org, tmp_path, "b.csv", [("F-NEW", "C001", "2026-08-01", "2026-09-01", "500,00")])
    sent += run_days(org, date(2026, 8, 29), date(2026, 12, 31))
    new = [r for r in sent if "F-NEW" in numbers(r)]
    assert all(numbers(r) == ["F-NEW"] for r in new)  # never in F-OLD's messages
    # due 1 September, imported 29 August: the courtesy notice, then its own reminders from the first
    assert [label(r) for r in new][:4] == ["Rappel avant échéance", "Première relance", "Deuxième relance",
                                           "Troisième relance et appel"]
    old = [r for r in sent if "F-OLD" in numbers(r)]
    assert [r.channel for r in old].count("registered_letter") == 1  # one formal notice, not one a week
    assert LitigationCase.objects.filter(customer__code="C001").count() >= 1
    assert audit_organisation(org).violations == []


def test_a_late_import_starts_at_the_first_reminder_and_says_nothing_of_earlier_ones(org: Organisation,
                                                                                   tmp_path: Any) -> None:
    add(org, tmp_path, "late.csv", [("F-LATE", "C001", "2026-06-01", "2026-07-01", "800,00")])
    sent = run_days(org, date(2026, 9, 14), date(2026, 9, 30))  # J+75 at import: no jump to the hand-over
    assert [label(r) for r in sent] == ["Première relance", "Deuxième relance"]
    assert (sent[1].planned_for - sent[0].planned_for).days >= 8  # J+15 − J+7
    assert "Malgré notre précédent rappel" in sent[1].body_text
    assert not LitigationCase.objects.exists()


def test_a_late_entry_step_is_said_truthfully(org: Organisation, tmp_path: Any) -> None:
    """The scenario starts late invoices at its second reminder: the message does not claim a
    previous one the invoice never received."""
    scenario = Scenario.objects.get(organisation=org, is_default=True)
    scenario.late_entry_position = 2
    scenario.save()
    add(org, tmp_path, "late.csv", [("F-LATE", "C001", "2026-06-01", "2026-07-01", "800,00")])
    (first,) = run_days(org, date(2026, 8, 3), date(2026, 8, 3))
    assert label(first) == "Deuxième relance"
    assert first.subject.startswith("Relance :") and "Nous constatons que" in first.body_text
    assert "précédent" not in first.body_text
    assert audit_organisation(org).violations == []


def test_a_cancelled_message_leaves_the_invoice_where_it_was(org: Organisation, tmp_path: Any) -> None:
    from relance.holds.services import holds

    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    plan_day(org, date(2026, 7, 8))
    holds.pause(org, Invoice.objects.get(number="F-1").customer, date(2026, 7, 20), reason="congés",
                today=date(2026, 7, 8))
    dispatch_now(org, noon(date(2026, 7, 8)))
    invoice = Invoice.objects.get(number="F-1")
    assert Reminder.objects.get().status == Reminder.Status.CANCELLED
    assert (invoice.last_step_position, invoice.reminders_received) == (-1, 0)
    sent = run_days(org, date(2026, 7, 21), date(2026, 7, 31))
    assert label(sent[0]) == "Première relance"  # not the second: the first never left


def test_audit_cli_reports_violations_of_an_older_engine(org: Organisation, tmp_path: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A history written before the rules (a formal notice to an invoice never reminded, twice)."""
    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    invoice = Invoice.objects.get(number="F-1")
    notice = Step.objects.get(scenario__organisation=org, channel="registered_letter")
    for n, day in enumerate((date(2026, 7, 6), date(2026, 7, 13))):
        reminder = Reminder.objects.create(organisation=org, customer=invoice.customer, step=notice,
                                           channel="registered_letter", planned_for=day, idempotency_key=f"old-{n}",
                                           status=Reminder.Status.SENT, sent_at=noon(day))
        reminder.lines.create(invoice=invoice, step_position=notice.position, amount_due=invoice.amount_due)
        record_many(org, [NewEvent("reminder.sent", customer_id=invoice.customer_id, reminder_id=reminder.pk,
                                   data={"invoices": [{"number": "F-1", "amount_due": "800.00"}]})], at=noon(day))
    assert main(["audit", "--json"]) == 8
    report = json.loads(capsys.readouterr().out)
    rules = sorted({v["rule"] for v in report["organisations"][0]["violations"]})
    # twice, too soon after the first, a formal notice as the first step, « Malgré nos relances » untrue
    assert report["violations"] >= 4 and rules == [2, 3, 4, 5]
    assert main(["audit"]) == 8
    assert "règle 2 (une seule fois)" in capsys.readouterr().out


def test_a_second_formal_notice_only_at_a_persons_request(org: Organisation, tmp_path: Any) -> None:
    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    sent = run_days(org, date(2026, 7, 6), date(2026, 9, 4))
    notices = [r for r in sent if r.channel == "registered_letter"]
    assert len(notices) == 1
    invoice = Invoice.objects.get(number="F-1")
    assert invoice.formal_notice_on == notices[0].planned_for
    with pytest.raises(InvalidInput):
        reissue_formal_notice(org, invoice, reason=" ", actor="sophie", today=date(2026, 9, 7))
    again = reissue_formal_notice(org, invoice, reason="pli avisé non réclamé, nouvelle adresse", actor="sophie",
                                  today=date(2026, 9, 7))
    with pytest.raises(Conflict):
        reissue_formal_notice(org, invoice, reason="encore", actor="sophie", today=date(2026, 9, 7))
    report = dispatch_now(org, noon(date(2026, 9, 7)))
    assert report.sent == [again.pk]
    again.refresh_from_db()
    assert again.channel == "registered_letter" and "mettons en demeure" in again.body_text
    event = Event.objects.get(kind="formal_notice.reissue_requested")
    assert event.actor == "sophie" and event.data["reason"] == "pli avisé non réclamé, nouvelle adresse"
    invoice.refresh_from_db()
    assert invoice.formal_notice_on == date(2026, 9, 7)
    assert audit_organisation(org).violations == []


def test_the_advice_of_delivery_sets_the_deadline_of_the_hand_over(org: Organisation, tmp_path: Any) -> None:
    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    sent = run_days(org, date(2026, 7, 6), date(2026, 9, 4))
    (notice,) = [r for r in sent if r.channel == "registered_letter"]
    received = notice.planned_for + timedelta(days=12)  # a letter presented late, collected on the last day
    record_delivery(org, notice.pk, received_on=received, today=received)
    run_days(org, notice.planned_for + timedelta(days=1), received + timedelta(days=8))
    assert not LitigationCase.objects.exists()  # eight days from the receipt, not from the posting
    run_days(org, received + timedelta(days=9), received + timedelta(days=15))
    case = LitigationCase.objects.get()
    assert case.opened_on > received + timedelta(days=8)
    assert case.lines.get().formal_notice_id == notice.pk
    assert audit_organisation(org).violations == []


def test_a_step_skipped_in_the_approval_queue_is_passed_over_not_received(org: Organisation, tmp_path: Any) -> None:
    Step.objects.filter(scenario__organisation=org, position=1).update(needs_approval=True)
    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    plan_day(org, date(2026, 7, 8))
    awaiting = Reminder.objects.get(status=Reminder.Status.AWAITING_APPROVAL)
    approvals.skip(org, awaiting.pk, "client au téléphone ce matin", actor="sophie")
    invoice = Invoice.objects.get(number="F-1")
    assert (invoice.last_step_position, invoice.reminders_received) == (1, 0)
    sent = run_days(org, date(2026, 7, 9), date(2026, 7, 31))
    assert label(sent[0]) == "Deuxième relance"
    assert sent[0].subject.startswith("Relance :") and "précédent" not in sent[0].body_text
    assert audit_organisation(org).violations == []


def test_a_consumer_never_reads_business_law(org: Organisation, tmp_path: Any) -> None:
    add(org, tmp_path, "a.csv", [("F-P", "C003", "2026-06-01", "2026-07-01", "300,00")])
    sent = run_days(org, date(2026, 7, 6), date(2026, 9, 30))
    assert {label(r) for r in sent} >= {"Première relance", "Mise en demeure (LRAR)"}
    for reminder in sent:
        assert "L441-10" not in reminder.body_text and not re.search(r"40\s€", reminder.body_text)
    assert audit_organisation(org).violations == []
    assert all("L441-10" not in m.body for m in mail.outbox)


def test_a_formal_notice_failed_for_a_missing_rate_is_never_planned_twice(org: Organisation, tmp_path: Any) -> None:
    """The rate of the semester is missing: the formal notice fails visibly, the planner does not
    plan another beside it, and adding the rate sends exactly one."""
    AddedRate.objects.all().delete()
    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    run_days(org, date(2026, 7, 6), date(2026, 9, 30))
    (failed,) = Reminder.objects.filter(channel="registered_letter")
    assert failed.status == Reminder.Status.FAILED and failed.last_error.startswith("taux manquant")
    add_rate("2026-S2", ecb="2.15", source="hypothèse de test (BCE inchangé)", actor="test")
    failed.refresh_from_db()
    assert failed.status == Reminder.Status.PLANNED  # requeued by the rate
    sent = run_days(org, date(2026, 10, 1), date(2026, 10, 1))
    assert [r.pk for r in sent if r.channel == "registered_letter"] == [failed.pk]
    assert Reminder.objects.filter(channel="registered_letter").count() == 1
    assert audit_organisation(org).violations == []


def test_the_late_entry_step_is_set_from_the_scenario_page(org: Organisation, client: Any) -> None:
    from django.urls import reverse

    from relance.ledger.models import Membership
    from tests.builders import make_user

    scenario = Scenario.objects.get(organisation=org, is_default=True)
    url = reverse("web:scenario", kwargs={"pk": scenario.pk})
    client.force_login(make_user("sophie", org, role=Membership.Role.ADMIN))
    page = client.get(url).content.decode()
    assert 'data-testid="late-entry"' in page and "Mise en demeure" not in page.split('id="late-entry"')[1].split(
        "</select>")[0]  # only reminders after the due date are offered
    client.post(url, {"action": "late_entry", "position": "5"})  # the formal notice: refused
    scenario.refresh_from_db()
    assert scenario.late_entry_position is None
    client.post(url, {"action": "late_entry", "position": "2"})
    scenario.refresh_from_db()
    assert scenario.late_entry_position == 2
    assert Event.objects.get(kind="scenario.late_entry_changed").data["after"] == 2
    client.force_login(make_user("paul", org))  # a collector cannot change it
    assert client.post(url, {"action": "late_entry", "position": ""}).status_code == 403


def test_a_second_formal_notice_from_the_invoice_page(org: Organisation, tmp_path: Any, client: Any) -> None:
    from django.urls import reverse

    from relance.ledger.models import Membership
    from tests.builders import make_user

    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    run_days(org, date(2026, 7, 6), date(2026, 9, 4))
    invoice = Invoice.objects.get(number="F-1")
    url = reverse("web:invoice", kwargs={"pk": invoice.pk})
    client.force_login(make_user("viewer", org, role=Membership.Role.READ_ONLY))
    page = client.get(url).content.decode()
    assert 'data-testid="formal-notice"' in page and "Envoyer une nouvelle mise en demeure" not in page
    action = reverse("web:invoice_formal_notice", kwargs={"pk": invoice.pk})
    assert client.post(action, {"reason": "essai"}).status_code == 403
    client.force_login(make_user("sophie", org, role=Membership.Role.COLLECTOR))
    client.post(action, {"reason": "  "})  # a reason is required
    assert not Reminder.objects.filter(kind=Reminder.Kind.FORMAL_NOTICE_AGAIN).exists()
    response = client.post(action, {"reason": "pli avisé non réclamé"}, follow=True)
    again = Reminder.objects.get(kind=Reminder.Kind.FORMAL_NOTICE_AGAIN)
    assert "Nouvelle mise en demeure prévue" in response.content.decode()
    assert Event.objects.get(kind="formal_notice.reissue_requested").actor == "web:sophie"
    assert again.channel == "registered_letter" and again.status == Reminder.Status.PLANNED


def test_a_hand_over_planned_by_an_earlier_version_opens_a_case_and_is_never_sent(org: Organisation,
                                                                                  tmp_path: Any) -> None:
    """A « Transmission au contentieux » reminder still planned at the upgrade: the dispatcher
    opens the case instead and cancels it (never « Envoyée »)."""
    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    invoice = Invoice.objects.get(number="F-1")
    Invoice.objects.filter(pk=invoice.pk).update(dunning_state=Invoice.Dunning.LITIGATION)
    step = Step.objects.get(scenario__organisation=org, channel="litigation")
    legacy = Reminder.objects.create(organisation=org, customer=invoice.customer, step=step, channel="litigation",
                                     kind=Reminder.Kind.LITIGATION, planned_for=date(2026, 9, 14),
                                     idempotency_key="legacy-handover")
    legacy.lines.create(invoice=invoice, step_position=step.position, amount_due=invoice.amount_due)
    report = dispatch_now(org, noon(date(2026, 9, 14)))
    legacy.refresh_from_db()
    assert report.sent == [] and legacy.status == Reminder.Status.CANCELLED
    assert LitigationCase.objects.get().lines.get().invoice_id == invoice.pk


def test_the_customer_and_invoice_pages_link_to_the_case(org: Organisation, tmp_path: Any, client: Any) -> None:
    from django.urls import reverse

    from tests.builders import make_user

    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    run_days(org, date(2026, 7, 6), date(2026, 9, 30))
    case = LitigationCase.objects.get()
    invoice = Invoice.objects.get(number="F-1")
    client.force_login(make_user("sophie", org))
    link = reverse("web:litigation_case", kwargs={"pk": case.pk})
    customer_page = client.get(reverse("web:customer", kwargs={"pk": invoice.customer_id})).content.decode()
    assert f'href="{link}" data-testid="case-{invoice.pk}"' in customer_page
    invoice_page = client.get(reverse("web:invoice", kwargs={"pk": invoice.pk})).content.decode()
    assert f'href="{link}" data-testid="invoice-case"' in invoice_page and f"Contentieux n° {case.pk}" in invoice_page


def test_a_broken_promise_after_the_formal_notice_does_not_go_back_to_reminders(org: Organisation,
                                                                                 tmp_path: Any) -> None:
    from relance.holds.services import holds

    add(org, tmp_path, "a.csv", [("F-1", "C001", "2026-06-01", "2026-07-01", "800,00")])
    run_days(org, date(2026, 7, 6), date(2026, 9, 4))
    invoice = Invoice.objects.get(number="F-1")
    assert invoice.formal_notice_on is not None
    holds.record_promise(org, invoice.customer, date(2026, 9, 10), Decimal("800.00"), via="phone",
                         obtained_by="Sophie", today=date(2026, 9, 7))
    sent = run_days(org, date(2026, 9, 8), date(2026, 9, 21))
    (broken,) = [r for r in sent if r.kind == Reminder.Kind.PROMISE_BROKEN]
    assert "poursuivrons la procédure engagée par notre mise en demeure" in broken.body_text
    assert "reprendrons nos relances" not in broken.body_text
