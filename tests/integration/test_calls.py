"""Phone calls: the call list (order, contents, script, constant queries) and the outcomes
of a call, each creating the right hold, plan or task in one transaction with its events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relance.dunning.models import CallTask
from relance.dunning.services.calls import MAX_ATTEMPTS, call_list, record_call_outcome
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events.models import Event
from relance.holds.models import Hold, PaymentPlan, Promise
from relance.holds.services.holds import dispute_reasons, open_dispute, stop
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from tests.builders import org_with_three_invoices

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)  # Thursday
NNBSP, NBSP = "\u202f", "\xa0"


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = org_with_three_invoices(tmp_path)
    plan_day(org, DAY)
    dispatch_now(org, datetime(2026, 11, 19, 11, tzinfo=UTC))  # some history
    return org


def customer(org: Organisation, code: str) -> Customer:
    return Customer.objects.get(organisation=org, code=code)


def task(org: Organisation, code: str, due: date = DAY, **kwargs: Any) -> CallTask:
    return CallTask.objects.create(organisation=org, customer=customer(org, code), due_on=due, **kwargs)


def kinds(org: Organisation) -> list[str]:
    return list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", flat=True))


def test_call_list_is_ordered_by_what_is_at_stake(org: Organisation) -> None:
    task(org, "C002")
    task(org, "C001", due=DAY - timedelta(days=2))
    task(org, "C001")  # the same call covers both
    task(org, "C003", due=DAY + timedelta(days=1))  # not yet due
    items = call_list(org, DAY)
    assert [i.customer_code for i in items] == ["C001", "C002"]
    c001, c002 = items
    # 1 200 × 40 days + 480,50 × 19 days against 2 400 × 5 days
    assert c001.score == Decimal("57129.50") and c002.score == Decimal("12000.00")
    assert len(c001.other_tasks) == 1
    assert [(c.name, c.role, c.phone) for c in c001.contacts] == [("Mme Claire Martin", "Gérante", "04 72 00 00 01")]
    assert c001.phones == ["04 72 00 00 01"]
    assert [(i.number, i.days_late, i.hold) for i in c001.invoices] == [("F-001", 40, ""), ("F-002", 19, "")]
    assert c001.total_due == Decimal("1680.50")
    assert [h.kind for h in c001.history][:1] == ["reminder.sent"]
    assert c001.history[0].label == "Relance envoyée" and "F-001" in c001.history[0].detail
    script = "\n".join(c001.script)
    assert "Ici [votre nom], du service comptable d’Atelier Dubois SAS." in script
    assert ("2 factures échues, pour un total de 1\u202f680,50\xa0€ : n° F-001 (1\u202f200,00\xa0€, échue le "
            "10/10/2026) ; n° F-002 (480,50\xa0€, échue le 31/10/2026)") in script
    assert "Y a-t-il une difficulté avec ces factures (non reçu, montant contesté" in script
    assert f"par exemple 3 mensualités de 560,16{NBSP}€ (la dernière de 560,18{NBSP}€)" in script
    assert "jusqu’à cette date, plus 3 jours ouvrés" in script
    assert c001.as_dict()["customer_code"] == "C001"


def test_held_invoices_are_marked_and_stopped_customers_wait(org: Organisation) -> None:
    task(org, "C001")
    task(org, "C002")
    open_dispute(org, Invoice.objects.get(number="F-001"), "non_recu", today=DAY)
    stop(org, customer(org, "C002"), Hold.StopCause.INSOLVENCY)
    (item,) = call_list(org, DAY)
    assert item.customer_code == "C001"
    assert [(i.number, i.hold) for i in item.invoices] == [("F-001", "Litige"), ("F-002", "")]
    assert item.score == Decimal("480.50") * 19
    assert "F-001" not in "\n".join(item.script[1:2])


def test_call_list_queries_do_not_grow_with_the_tasks(org: Organisation, tmp_path: Any) -> None:
    dispute_reasons(org)
    task(org, "C001")
    with CaptureQueriesContext(connection) as few:
        call_list(org, DAY)
    task(org, "C002")
    task(org, "C003")
    with CaptureQueriesContext(connection) as more:
        assert len(call_list(org, DAY)) == 3
    assert len(more.captured_queries) == len(few.captured_queries)


def test_not_reached_schedules_a_retry_until_the_limit(org: Organisation) -> None:
    first = task(org, "C001")
    result = record_call_outcome(org, first, "not_reached", actor="sophie", note="messagerie", today=DAY)
    first.refresh_from_db()
    assert first.status == CallTask.Status.DONE and first.result == "not_reached" and first.done_by == "sophie"
    assert first.outcome == "Client injoignable — messagerie"
    retry = result.retry
    assert retry is not None and retry.due_on == date(2026, 11, 20) and retry.attempt == 2
    assert kinds(org)[-2:] == ["call.recorded", "call_task.created"]
    with pytest.raises(Conflict):
        record_call_outcome(org, first, "not_reached", actor="sophie", today=DAY)
    last = record_call_outcome(org, retry, "not_reached", actor="sophie", today=date(2026, 11, 20)).retry
    assert last is not None and last.attempt == MAX_ATTEMPTS and last.due_on == date(2026, 11, 23)  # after the weekend
    assert record_call_outcome(org, last, "not_reached", actor="sophie", today=date(2026, 11, 23)).retry is None
    assert Event.objects.filter(kind="call.recorded").last().data["retries"] == "stopped"  # type: ignore[union-attr]


def test_promise_outcome_creates_the_promise_in_one_step(org: Organisation) -> None:
    call = task(org, "C001")
    result = record_call_outcome(org, call, "promise", actor="sophie", promised_on=date(2026, 11, 27),
                                 amount=Decimal("1680.50"), note="virement en fin de semaine", today=DAY)
    promise = result.promise
    assert promise is not None and promise.obtained_via == Promise.Via.PHONE and promise.obtained_by == "sophie"
    assert sorted(Hold.objects.filter(promise=promise).values_list("invoice__number", flat=True)) == ["F-001", "F-002"]
    assert kinds(org)[-2:] == ["promise.recorded", "call.recorded"]
    assert Event.objects.get(kind="call.recorded").data["promise"] == promise.pk
    assert call_list(org, DAY) == []


def test_a_bad_promise_leaves_nothing_behind(org: Organisation) -> None:
    call = task(org, "C001")
    events = Event.objects.count()
    with pytest.raises(InvalidInput) as caught:
        record_call_outcome(org, call, "promise", actor="sophie", promised_on=date(2026, 11, 1), amount=Decimal("10"),
                            today=DAY)
    assert "est déjà passée" in caught.value.message
    with pytest.raises(InvalidInput):
        record_call_outcome(org, call, "promise", actor="sophie", today=DAY)  # no date, no amount
    call.refresh_from_db()
    assert call.status == CallTask.Status.OPEN and not Promise.objects.exists()
    assert Event.objects.count() == events


def test_dispute_outcome_creates_a_dispute_per_invoice(org: Organisation) -> None:
    call = task(org, "C001")
    with pytest.raises(InvalidInput):
        record_call_outcome(org, call, "dispute", actor="sophie", reason="montant_conteste", today=DAY)
    result = record_call_outcome(org, call, "dispute", actor="sophie", reason="montant_conteste",
                                 invoices=["F-001", "F-002"], note="remise de 10 % non appliquée", today=DAY)
    assert [(h.invoice.number, h.kind, h.reason, h.note) for h in result.disputes if h.invoice] == [
        ("F-001", "dispute", "Montant contesté", "remise de 10 % non appliquée"),
        ("F-002", "dispute", "Montant contesté", "remise de 10 % non appliquée")]
    assert kinds(org).count("dispute.opened") == 2


def test_plan_requested_outcome(org: Organisation) -> None:
    c001 = task(org, "C001")
    follow = record_call_outcome(org, c001, "plan_requested", actor="sophie", note="3 fois", today=DAY).follow_up
    assert follow is not None and follow.purpose == CallTask.Purpose.PLAN and follow.status == CallTask.Status.OPEN
    (item,) = call_list(org, DAY)
    assert item.purpose == "plan" and "a demandé un échéancier" in item.script[0]
    later_call = task(org, "C001")
    record_call_outcome(org, follow, "done", actor="sophie", note="proposition envoyée", today=DAY)
    later_call.refresh_from_db()
    assert later_call.status == CallTask.Status.OPEN  # closing a collector task does not answer a call

    c002 = task(org, "C002")
    result = record_call_outcome(org, c002, "plan_requested", actor="sophie", count=2, first_due=date(2026, 12, 15),
                                 today=DAY)
    plan = result.plan
    assert plan is not None and plan.state == PaymentPlan.State.PROPOSED and plan.total == Decimal("2400.00")
    assert [i.amount for i in plan.instalments.order_by("position")] == [Decimal("1200.00")] * 2
    assert "plan.proposed" in kinds(org)


def test_wrong_contact_flags_it(org: Organisation) -> None:
    c001 = customer(org, "C001")
    claire = Contact.objects.get(customer=c001)
    other = Contact.objects.create(organisation=org, customer=c001, last_name="Comptabilité", phone="04 72 00 00 09")
    call = task(org, "C001", contact=claire)
    result = record_call_outcome(org, call, "wrong_contact", actor="sophie", note="numéro d’un particulier", today=DAY)
    follow = result.follow_up
    assert follow is not None and follow.purpose == CallTask.Purpose.CONTACT and follow.contact == claire
    event = Event.objects.get(kind="contact.flagged")
    assert event.data["contact"] == claire.pk and event.data["phone"] == "04 72 00 00 01"
    task(org, "C001")
    items = {i.purpose: i for i in call_list(org, DAY)}
    assert items["call"].phones == [other.phone]  # the flagged number is not offered
    assert [c.flagged for c in items["call"].contacts] == [False, True]
    assert "a été signalé comme erroné" in items["contact"].script[0]
    with pytest.raises(NotFound):
        foreign = Contact.objects.get(customer__code="C002")
        record_call_outcome(org, items["call"].task_id and CallTask.objects.get(pk=items["call"].task_id),
                            "wrong_contact", actor="sophie", contact=foreign, today=DAY)


def test_a_call_without_a_task_is_recorded_on_the_customer(org: Organisation) -> None:
    result = record_call_outcome(org, customer(org, "C002"), "promise", actor="paul", promised_on=date(2026, 11, 30),
                                 amount=Decimal("2400.00"), today=DAY)
    assert result.task.pk is not None and result.task.status == CallTask.Status.DONE
    assert result.task.due_on == DAY and result.promise is not None
    with pytest.raises(InvalidInput):
        record_call_outcome(org, customer(org, "C002"), "voicemail", actor="paul", today=DAY)


def test_the_script_speaks_the_customers_language(org: Organisation) -> None:
    Customer.objects.filter(organisation=org, code="C002").update(language="en")
    task(org, "C002")
    (item,) = call_list(org, DAY)
    script = "\n".join(item.script)
    assert "I am calling about invoice F-003 of 15/10/2026, €2,400.00 outstanding, due on 14 November 2026" in script
    assert "for example 3 monthly instalments of €800.00" in script
