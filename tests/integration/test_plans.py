"""Payment plans on the database: proposal (nothing saved when it does not add up),
acceptance pausing exactly the plan's invoices, instalment reminders J−3 / J+3 through the
normal reminder path, payments applied in order, completion, break and resumption, the
agreement letter, and the dispatcher's re-check."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import reverse

from relance.documents.plan_letter import plan_agreement_html
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.plan_messages import agreement_document, agreement_letter
from relance.dunning.services.planner import plan_day
from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold, Instalment, PaymentPlan, Promise
from relance.holds.services.holds import open_dispute, record_promise
from relance.holds.services.plans import accept_plan, cancel_plan, propose_plan
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_credit_note, record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)

XSS = '<script>alert("x")</script>'
NNBSP, NBSP = "\u202f", "\xa0"
DAY = date(2026, 11, 19)


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def run(org: Organisation, day: date) -> list[Reminder]:
    plan_day(org, day)
    report = dispatch_now(org, noon(day))
    return list(Reminder.objects.filter(pk__in=report.sent))


def run_days(org: Organisation, first: date, last: date) -> list[Reminder]:
    sent: list[Reminder] = []
    day = first
    while day <= last:
        sent += run(org, day)
        day += timedelta(days=1)
    return sent


def numbers(reminder: Reminder) -> list[str]:
    return sorted(reminder.lines.values_list("invoice__number", flat=True))


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
        ("F-003", "C002", "2026-10-15", "2026-11-14", "2 400,00"),
        ("F-004", "C001", "2026-11-10", "2026-12-10", "300,00"),
    ])))
    return org


@pytest.fixture
def c001(org: Organisation) -> Customer:
    return Customer.objects.get(organisation=org, code="C001")


def three(org: Organisation, customer: Customer, **kwargs: Any) -> PaymentPlan:
    """F-001 + F-002 (1 680,50 €) in 3 monthly instalments from Tuesday 15 December 2026."""
    return propose_plan(org, customer, ["F-001", "F-002"], count=3, first_due=date(2026, 12, 15), actor="sophie",
                        today=DAY, **kwargs)


def test_equal_plan_puts_the_cents_on_the_last_instalment(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001, waive_penalties=True)
    assert plan.state == PaymentPlan.State.PROPOSED and plan.total == Decimal("1680.50")
    assert list(plan.instalments.values_list("position", "due_on", "amount")) == [
        (1, date(2026, 12, 15), Decimal("560.16")), (2, date(2027, 1, 15), Decimal("560.16")),
        (3, date(2027, 2, 15), Decimal("560.18"))]
    event = Event.objects.get(organisation=org, kind="plan.proposed")
    assert event.actor == "sophie" and event.data["invoices"] == ["F-001", "F-002"] and event.data["total"] == "1680.50"
    assert event.data["waive_penalties"] is True
    # only proposed: the normal sequence goes on
    (sent,) = [r for r in run(org, DAY) if r.customer_id == c001.pk]
    assert numbers(sent) == ["F-001", "F-002"]


def test_a_plan_that_does_not_add_up_saves_nothing(org: Organisation, c001: Customer) -> None:
    events = Event.objects.count()
    with pytest.raises(InvalidInput) as caught:
        propose_plan(org, c001, ["F-001", "F-002"], instalments=[(date(2026, 12, 15), Decimal("1000")),
                                                                 (date(2027, 1, 15), Decimal("600"))], today=DAY)
    assert caught.value.message == (f"Les échéances totalisent 1{NNBSP}600,00{NBSP}€, mais le montant à échelonner est "
                                    f"de 1{NNBSP}680,50{NBSP}€ : il manque 80,50{NBSP}€. Rien n’a été enregistré.")
    for bad in (dict(instalments=[(date(2026, 11, 18), Decimal("1680.50"))]), dict(count=0, first_due=DAY), {}):
        with pytest.raises(InvalidInput):
            propose_plan(org, c001, ["F-001", "F-002"], today=DAY, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        propose_plan(org, c001, [], count=2, first_due=DAY, today=DAY)
    assert not PaymentPlan.objects.exists() and not Instalment.objects.exists()
    assert Event.objects.count() == events


def test_custom_schedule(org: Organisation, c001: Customer) -> None:
    plan = propose_plan(org, c001, ["F-002"], instalments=[(date(2026, 11, 30), Decimal("80.50")),
                                                           (date(2026, 12, 31), Decimal("400"))], today=DAY)
    assert [i.amount for i in plan.instalments.order_by("position")] == [Decimal("80.50"), Decimal("400.00")]


def test_active_plan_pauses_its_invoices_and_plans_instalment_reminders(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001)
    promise = record_promise(org, c001, date(2026, 11, 27), Decimal("480.50"), via="phone", obtained_by="Sophie",
                             invoices=["F-002"], today=DAY)
    accept_plan(org, plan, actor="sophie", on=DAY)
    plan.refresh_from_db()
    promise.refresh_from_db()
    assert plan.state == PaymentPlan.State.ACTIVE and plan.accepted_on == DAY
    assert promise.state == Promise.State.CANCELLED  # the plan replaces it
    assert sorted(Hold.objects.filter(plan=plan, state="active").values_list("invoice__number", flat=True)) == [
        "F-001", "F-002"]

    sent = run_days(org, DAY, date(2026, 12, 10))
    mine = [r for r in sent if r.customer_id == c001.pk]
    # F-004 (not in the plan) keeps its own sequence; F-001 and F-002 get no normal reminder
    assert all(numbers(r) == ["F-004"] for r in mine if r.kind == Reminder.Kind.REMINDER)
    assert not [r for r in mine if r.kind != Reminder.Kind.REMINDER]
    assert [r.customer.code for r in sent if r.customer.code == "C002"]

    # J−3 before Tuesday 15 December is Saturday 12: the reminder goes on Friday 11, once
    due = run(org, date(2026, 12, 11)) + run(org, date(2026, 12, 11))
    (reminder,) = [r for r in due if r.customer_id == c001.pk]
    assert reminder.kind == Reminder.Kind.INSTALMENT_DUE and numbers(reminder) == ["F-001", "F-002"]
    assert reminder.subject == "Rappel : échéance n° 1 de votre échéancier, le 15 décembre 2026"
    assert f"l’échéance n°{NBSP}1, d’un montant de 560,16{NBSP}€, arrive à terme le 15 décembre 2026" in reminder.body_text
    assert f"1. 15/12/2026{NBSP}: 560,16{NBSP}€" in reminder.body_text
    assert Reminder.objects.filter(kind=Reminder.Kind.INSTALMENT_DUE).count() == 1
    assert not verify_chain(org)


def test_payments_apply_in_order_then_a_missed_instalment_breaks_the_plan(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001)
    accept_plan(org, plan, actor="sophie", on=DAY)
    run_days(org, DAY, date(2026, 12, 14))
    record_payment(org, c001, "VIR-1", date(2026, 12, 14), Decimal("560.16"), designated=["F-001"])
    run_days(org, date(2026, 12, 15), date(2027, 1, 17))
    first, second, _third = plan.instalments.order_by("position")
    assert first.paid_amount == Decimal("560.16") and first.paid_on == date(2026, 12, 14)
    assert Event.objects.filter(organisation=org, kind="instalment.paid").count() == 1
    assert not Reminder.objects.filter(instalment=first, kind=Reminder.Kind.INSTALMENT_MISSED).exists()
    assert second.reminded_on == date(2027, 1, 12)  # J−3 of Friday 15 January

    # instalment 2 unpaid: the J+3 notice goes on Monday 18 January, with an 8-day deadline
    (notice,) = [r for r in run(org, date(2027, 1, 18)) if r.customer_id == c001.pk]
    assert notice.kind == Reminder.Kind.INSTALMENT_MISSED
    assert notice.subject == "Échéance impayée du 15 janvier 2027 : échéancier n° " + str(plan.pk)
    assert "au plus tard le 26 janvier 2027" in notice.body_text
    assert f"la totalité du solde, soit 1{NNBSP}120,34{NBSP}€, deviendra immédiatement exigible" in notice.body_text
    assert Event.objects.filter(organisation=org, kind="instalment.missed").count() == 1

    run_days(org, date(2027, 1, 19), date(2027, 1, 26))
    plan.refresh_from_db()
    assert plan.state == PaymentPlan.State.ACTIVE  # the last day to pay
    resumed = [r for r in run(org, date(2027, 1, 27)) if r.customer_id == c001.pk]
    plan.refresh_from_db()
    assert plan.state == PaymentPlan.State.BROKEN and plan.ended_on == date(2027, 1, 27)
    event = Event.objects.get(organisation=org, kind="plan.broken")
    assert event.data["position"] == 2 and event.data["still_due"] == "1120.34"
    assert not Hold.objects.filter(plan=plan, state="active").exists()
    # the normal sequence resumes, after the minimum gap, on what is still due
    resumed += [r for r in run_days(org, date(2027, 1, 28), date(2027, 2, 3)) if r.customer_id == c001.pk]
    normal = next(r for r in resumed if "F-001" in numbers(r))
    assert normal.kind == Reminder.Kind.REMINDER and {"F-001", "F-002"} <= set(numbers(normal))
    assert Invoice.objects.get(number="F-001").amount_due == Decimal("639.84")
    assert f"639,84{NBSP}€" in normal.body_text
    assert not verify_chain(org)


def test_plan_completed_when_paid_and_pending_reminders_cancelled(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001)
    accept_plan(org, plan, actor="sophie", on=DAY)
    plan_day(org, date(2026, 12, 11))
    pending = Reminder.objects.get(kind=Reminder.Kind.INSTALMENT_DUE)
    record_payment(org, c001, "VIR-ALL", date(2026, 12, 11), Decimal("1680.50"), designated=["F-001", "F-002"])
    plan.refresh_from_db()
    pending.refresh_from_db()
    assert plan.state == PaymentPlan.State.COMPLETED
    assert pending.status == Reminder.Status.CANCELLED
    assert Event.objects.filter(organisation=org, kind="instalment.paid").count() == 3
    assert Event.objects.filter(organisation=org, kind="plan.completed").count() == 1


def test_dispatcher_cancels_an_instalment_reminder_paid_after_planning(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001)
    accept_plan(org, plan, actor="sophie", on=DAY)
    plan_day(org, date(2026, 12, 11))
    reminder = Reminder.objects.get(kind=Reminder.Kind.INSTALMENT_DUE)
    # paid without the daily run seeing it: F-001 is not settled, nothing else reacts
    record_payment(org, c001, "VIR-1", date(2026, 12, 11), Decimal("600.00"), designated=["F-001"])
    dispatch_now(org, noon(date(2026, 12, 11)))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert not [m for m in mail.outbox if "échéance" in m.subject]


def test_credit_note_reduces_the_last_instalments(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001)
    accept_plan(org, plan, actor="sophie", on=DAY)
    record_credit_note(org, c001, "AV-1", date(2026, 11, 20), Decimal("600.00"), invoice_number="F-002")
    plan_day(org, date(2026, 11, 20))
    assert [(i.credited_amount, i.remaining) for i in plan.instalments.order_by("position")] == [
        (Decimal("0"), Decimal("560.16")), (Decimal("39.82"), Decimal("520.34")), (Decimal("560.18"), Decimal("0"))]


def test_cancelled_plan_resumes_the_sequence(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001)
    accept_plan(org, plan, actor="sophie", on=DAY)
    assert not [r for r in run(org, DAY) if r.customer_id == c001.pk and "F-001" in numbers(r)]
    cancel_plan(org, plan, actor="sophie", reason="le client règle en une fois", today=date(2026, 11, 20))
    with pytest.raises(Conflict):
        cancel_plan(org, plan, actor="sophie")
    with pytest.raises(Conflict):
        accept_plan(org, plan, actor="sophie")
    sent = [r for r in run_days(org, date(2026, 11, 20), date(2026, 11, 25)) if r.customer_id == c001.pk]
    assert sent and "F-001" in numbers(sent[0])


def test_plans_and_disputes_exclude_each_other(org: Organisation, c001: Customer) -> None:
    open_dispute(org, Invoice.objects.get(number="F-001"), "montant_conteste", today=DAY)
    with pytest.raises(Conflict) as caught:
        three(org, c001)
    assert "F-001" in caught.value.message and "litige" in caught.value.message
    plan = propose_plan(org, c001, ["F-002"], count=2, first_due=date(2026, 12, 15), today=DAY)
    with pytest.raises(Conflict):
        open_dispute(org, Invoice.objects.get(number="F-002"), "non_recu", today=DAY)
    with pytest.raises(Conflict):
        propose_plan(org, c001, ["F-002"], count=2, first_due=date(2026, 12, 15), today=DAY)
    accept_plan(org, plan, actor="sophie", on=DAY)
    with pytest.raises(Conflict):
        record_promise(org, c001, date(2026, 12, 1), Decimal("100"), via="phone", obtained_by="S",
                       invoices=["F-002"], today=DAY)


def test_agreement_letter(org: Organisation, c001: Customer) -> None:
    plan = three(org, c001, note=XSS)
    html = plan_agreement_html(agreement_document(org, plan, DAY))
    assert f"Proposition d’échéancier de paiement{NBSP}: factures n°{NBSP}F-001 et F-002" in html
    assert f"560,16{NBSP}€" in html and f"560,18{NBSP}€" in html and "15/12/2026" in html
    assert "Bon pour accord" in html and "Chaque règlement s’impute sur la plus ancienne échéance" in html
    assert "Les pénalités de retard prévues à l’article L441-10 du Code de commerce continuent de courir" in html
    assert "%%ECHEANCIER%%" not in html
    assert html.index("Bon pour accord") < html.index("Nous vous prions d’agréer")
    assert XSS not in html and "&lt;script&gt;" in html  # the note, escaped
    pdf = agreement_letter(org, plan, actor="sophie", today=DAY)
    plan.refresh_from_db()
    assert pdf.startswith(b"%PDF") and plan.agreement_sha256 == hashlib.sha256(pdf).hexdigest()
    assert Event.objects.get(organisation=org, kind="plan.agreement_issued").data["sha256"] == plan.agreement_sha256

    waived = propose_plan(org, c001, ["F-004"], count=1, first_due=date(2026, 12, 31), waive_penalties=True, today=DAY)
    html = plan_agreement_html(agreement_document(org, waived, DAY))
    assert "nous renonçons aux pénalités de retard" in html and "redeviendront exigibles" in html


def test_plan_admin_pages_load(org: Organisation, c001: Customer, admin_client: Client) -> None:
    plan = three(org, c001)
    accept_plan(org, plan, actor="sophie", on=DAY)
    record_promise(org, c001, date(2026, 12, 1), Decimal("100"), via="phone", obtained_by="S", invoices=["F-004"],
                   today=DAY)
    from relance.holds.models import DisputeReason
    from relance.holds.services.holds import dispute_reasons

    dispute_reasons(org)
    for model in (PaymentPlan, Promise, DisputeReason, Hold):
        assert admin.site.is_registered(model)
        opts = model._meta
        obj = model.objects.first()
        assert obj is not None
        assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                                ).status_code == 200
    assert admin_client.get(reverse("admin:holds_paymentplan_add")).status_code == 403
