"""Recording payments: allocation order (C. civ. art. 1342-10), settlement, reminders
cancelled, duplicates and invalid amounts refused without side effects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from relance.dunning.models import Reminder
from relance.dunning.services.planner import plan_day
from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Allocation, CreditNote, Customer, Invoice, Organisation, Payment
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_credit_note, record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db

D = Decimal
PAY_DAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def org(tmp_path) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
        ("F-003", "C001", "2026-08-01", "2026-11-30", "300,00"),  # oldest issued, but due later
        ("F-004", "C001", "2026-11-10", "2026-12-10", "200,00"),  # not yet due on PAY_DAY
        ("F-010", "C002", "2026-10-10", "2026-11-10", "2 400,00"),
    ])))
    return org


@pytest.fixture
def c001(org) -> Customer:
    return Customer.objects.get(organisation=org, code="C001")


def allocations(reference: str) -> list[tuple[str, Decimal]]:
    return list(Allocation.objects.filter(payment__reference=reference).order_by("id")
                .values_list("invoice__number", "amount"))


def dues() -> dict[str, tuple[Decimal, str]]:
    return {n: (a, s) for n, a, s in Invoice.objects.values_list("number", "amount_due", "status")}


def state() -> dict[str, Any]:
    return {
        "payments": sorted(Payment.objects.values_list("reference", "amount", "date")),
        "allocations": sorted(Allocation.objects.values_list("invoice__number", "amount", "date")),
        "invoices": sorted(Invoice.objects.values_list("number", "amount_due", "status", "settled_on",
                                                       "dunning_state", "next_action_date")),
        "reminders": sorted(Reminder.objects.values_list("idempotency_key", "status")),
        "events": list(Event.objects.order_by("seq").values_list("seq", "hash")),
    }


def assert_amount_due_is_derived() -> None:
    for invoice in Invoice.objects.annotate(allocated=Sum("allocations__amount")):
        assert invoice.amount_due == invoice.amount_incl_tax - (invoice.allocated or D("0")), invoice.number


# ---------------------------------------------------------------------------------------------------------------
# allocation order


def test_designated_invoice_first_then_the_oldest_due_date(org, c001):
    record_payment(org, c001, "VIR-1", PAY_DAY, D("1500.00"), designated=["F-002"])
    assert allocations("VIR-1") == [("F-002", D("480.50")), ("F-001", D("1019.50"))]
    assert dues() == {
        "F-001": (D("180.50"), "open"), "F-002": (D("0.00"), "paid"), "F-003": (D("300.00"), "open"),
        "F-004": (D("200.00"), "open"), "F-010": (D("2400.00"), "open"),
    }
    assert_amount_due_is_derived()


def test_without_designation_the_oldest_due_date_comes_first_not_the_oldest_issue(org, c001):
    record_payment(org, c001, "VIR-2", PAY_DAY, D("1500.00"))
    # F-003 was issued first but falls due last among the due ones: it is not touched
    assert allocations("VIR-2") == [("F-001", D("1200.00")), ("F-002", D("300.00"))]
    assert dues()["F-002"] == (D("180.50"), "open")
    assert dues()["F-003"] == (D("300.00"), "open")
    assert_amount_due_is_derived()


def test_several_designated_invoices_are_paid_in_the_order_given(org, c001):
    record_payment(org, c001, "VIR-3", PAY_DAY, D("1000.00"), designated=["F-004", "F-001"])
    assert allocations("VIR-3") == [("F-004", D("200.00")), ("F-001", D("800.00"))]
    assert dues()["F-004"] == (D("0.00"), "paid")
    assert dues()["F-001"] == (D("400.00"), "open")


def test_debts_already_due_come_before_debts_not_yet_due(org, c001):
    # on 2026-12-01 F-003 (due 30/11) is due, F-004 (due 10/12) is not
    record_payment(org, c001, "VIR-4", date(2026, 12, 1), D("1800.00"))
    assert allocations("VIR-4") == [("F-001", D("1200.00")), ("F-002", D("480.50")), ("F-003", D("119.50"))]
    assert dues()["F-004"] == (D("200.00"), "open")


def test_a_payment_larger_than_the_open_invoices_leaves_the_rest_unallocated(org, c001):
    payment = record_payment(org, c001, "VIR-5", PAY_DAY, D("3000.00"))
    assert allocations("VIR-5") == [("F-001", D("1200.00")), ("F-002", D("480.50")), ("F-003", D("300.00")),
                                    ("F-004", D("200.00"))]
    allocated = Allocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
    assert (payment.amount, allocated, payment.amount - allocated) == (D("3000.00"), D("2180.50"), D("819.50"))
    assert {n for n, (a, s) in dues().items() if s == "paid" and a == 0} == {"F-001", "F-002", "F-003", "F-004"}
    # another customer's invoice is never touched
    assert dues()["F-010"] == (D("2400.00"), "open")
    assert not Allocation.objects.filter(invoice__number="F-010").exists()
    event = Event.objects.get(kind="payment.recorded")
    assert event.data["amount"] == "3000.00"
    assert event.data["allocations"] == [
        {"invoice": "F-001", "amount": "1200.00"}, {"invoice": "F-002", "amount": "480.50"},
        {"invoice": "F-003", "amount": "300.00"}, {"invoice": "F-004", "amount": "200.00"}]
    assert_amount_due_is_derived()


def test_a_partial_payment_leaves_the_invoice_open_with_the_right_amount_due(org, c001):
    events = Event.objects.count()
    record_payment(org, c001, "VIR-6", PAY_DAY, D("200.50"), designated=["F-002"])
    invoice = Invoice.objects.get(number="F-002")
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("open", D("280.00"), None)
    assert list(Event.objects.filter(seq__gt=events).values_list("kind", flat=True)) == ["payment.recorded"]
    record_payment(org, c001, "VIR-7", date(2026, 11, 25), D("280.00"), designated=["F-002"])
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("paid", D("0.00"), date(2026, 11, 25))
    assert_amount_due_is_derived()


def test_a_payment_designating_a_paid_invoice_goes_to_the_oldest_open_one(org, c001):
    record_payment(org, c001, "VIR-8", PAY_DAY, D("480.50"), designated=["F-002"])
    record_payment(org, c001, "VIR-9", PAY_DAY, D("100.00"), designated=["F-002"])
    assert allocations("VIR-9") == [("F-001", D("100.00"))]
    assert_amount_due_is_derived()


# ---------------------------------------------------------------------------------------------------------------
# settlement


def test_a_settled_invoice_is_paid_on_the_payment_date_with_an_event(org, c001):
    events = Event.objects.count()
    record_payment(org, c001, "VIR-10", date(2026, 10, 28), D("1200.00"), designated=["F-001"], method="virement")
    invoice = Invoice.objects.get(number="F-001")
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("paid", D("0.00"), date(2026, 10, 28))
    assert (invoice.dunning_state, invoice.next_action_date) == ("done", None)
    new = list(Event.objects.filter(seq__gt=events).order_by("seq"))
    assert [e.kind for e in new] == ["payment.recorded", "invoice.settled"]
    settled = new[1]
    assert (settled.invoice_id_ref, settled.customer_id_ref) == (invoice.id, c001.id)
    assert settled.data == {"number": "F-001", "status": "paid", "on": "2026-10-28"}
    assert Payment.objects.get(reference="VIR-10").method == "virement"
    assert verify_chain(org) == []


def test_settling_all_invoices_of_a_planned_reminder_cancels_it(org, c001):
    plan_day(org, date(2026, 11, 19))
    reminder = Reminder.objects.get(customer=c001, kind=Reminder.Kind.REMINDER)
    assert reminder.status == Reminder.Status.PLANNED
    assert sorted(reminder.lines.values_list("invoice__number", flat=True)) == ["F-001", "F-002"]
    other = Reminder.objects.get(customer__code="C002")
    events = Event.objects.count()

    record_payment(org, c001, "VIR-11", date(2026, 11, 19), D("1680.50"))

    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    other.refresh_from_db()
    assert other.status == Reminder.Status.PLANNED
    kinds = list(Event.objects.filter(seq__gt=events).order_by("seq").values_list("kind", "reminder_id_ref"))
    assert kinds == [("payment.recorded", None), ("invoice.settled", None), ("invoice.settled", None),
                     ("reminder.cancelled", reminder.id)]
    assert {i.status for i in Invoice.objects.filter(number__in=["F-001", "F-002"])} == {"paid"}


def test_settling_only_part_of_a_planned_reminder_keeps_it(org, c001):
    plan_day(org, date(2026, 11, 19))
    reminder = Reminder.objects.get(customer=c001, kind=Reminder.Kind.REMINDER)
    record_payment(org, c001, "VIR-12", date(2026, 11, 19), D("1200.00"), designated=["F-001"])
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED
    assert not Event.objects.filter(kind="reminder.cancelled").exists()


def test_a_full_credit_note_then_nothing_left_to_pay(org, c001):
    record_credit_note(org, c001, "AV-1", date(2026, 10, 20), D("480.50"), "F-002", "annulation")
    invoice = Invoice.objects.get(number="F-002")
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("credited", D("0.00"), date(2026, 10, 20))
    record_payment(org, c001, "VIR-13", PAY_DAY, D("100.00"), designated=["F-002"])
    assert allocations("VIR-13") == [("F-001", D("100.00"))]
    assert CreditNote.objects.get().allocations.get().amount == D("480.50")
    assert_amount_due_is_derived()


# ---------------------------------------------------------------------------------------------------------------
# refusals change nothing


def test_the_same_reference_twice_is_a_conflict_and_changes_nothing(org, c001):
    record_payment(org, c001, "VIR-14", PAY_DAY, D("100.00"))
    before = state()
    with pytest.raises(Conflict) as excinfo:
        record_payment(org, c001, "VIR-14", PAY_DAY, D("250.00"), designated=["F-002"])
    assert "VIR-14" in excinfo.value.message
    assert excinfo.value.exit_code == 6 and excinfo.value.http_status == 409
    assert state() == before
    with pytest.raises(Conflict):  # even for another customer of the same organisation
        record_payment(org, Customer.objects.get(code="C002"), "VIR-14", PAY_DAY, D("250.00"))
    assert state() == before


def test_another_organisation_may_use_the_same_reference(org, c001, tmp_path):
    record_payment(org, c001, "VIR-15", PAY_DAY, D("100.00"))
    other = make_org("autre", legal_name="Autre SAS")
    import_file(other, write(tmp_path, "clients-autre.csv", "Code client;Raison sociale;Type\nZ1;Zèbre SARL;entreprise\n"))
    record_payment(other, Customer.objects.get(organisation=other, code="Z1"), "VIR-15", PAY_DAY, D("100.00"))
    assert Payment.objects.filter(reference="VIR-15").count() == 2


@pytest.mark.parametrize("amount", [D("0"), D("0.00"), D("-10.00")])
def test_a_zero_or_negative_amount_is_invalid_and_changes_nothing(org, c001, amount):
    before = state()
    with pytest.raises(InvalidInput) as excinfo:
        record_payment(org, c001, "VIR-16", PAY_DAY, amount)
    assert excinfo.value.exit_code == 2
    assert state() == before


def test_designating_an_unknown_invoice_is_invalid_and_changes_nothing(org, c001):
    before = state()
    with pytest.raises(InvalidInput) as excinfo:
        record_payment(org, c001, "VIR-17", PAY_DAY, D("100.00"), designated=["F-999"])
    assert "F-999" in excinfo.value.message
    assert state() == before
    with pytest.raises(InvalidInput):  # another customer's invoice is unknown for this one
        record_payment(org, c001, "VIR-17", PAY_DAY, D("100.00"), designated=["F-010"])
    assert state() == before
