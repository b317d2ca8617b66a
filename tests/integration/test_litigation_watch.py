"""Prescription watch of ``relance.litigation.prescription`` (issue #16): 5 years between
merchants (C. com. L110-4), 2 years against a consumer (C. conso L218-2), from the delivery date
else the invoice date, moved by an acknowledgment, a partial payment (C. civ. 2240), a court
action (2241) or the service of an injonction de payer order — never by the request alone; the
date bound applied in SQL first, a fixed number of queries, collectors' scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relance import clock
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Allocation, Customer, Invoice, Organisation, Payment
from relance.litigation.models import CaseInvoice, LitigationCase
from relance.litigation.prescription import candidates, watch
from tests.builders import make_customer, make_invoice, make_org, make_user

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with clock.frozen(NOON):
        yield


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def pro(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin SARL", siren="732829320")


@pytest.fixture
def person(org: Organisation) -> Customer:
    return make_customer(org, "P001", "Jean Petit", is_business=False)


def issued(customer: Customer, number: str, on: date, amount: str = "100.00", **fields: Any) -> Invoice:
    return make_invoice(customer, number, amount, date.fromordinal(on.toordinal() + 30), issued=on, **fields)


def interrupt(org: Organisation, invoice: Invoice, kind: str, on: date) -> None:
    record_many(org, [kinds.prescription_interrupted(customer_id=invoice.customer_id, invoice_id=invoice.pk,
                                                     kind=kind, on=on, note="")])


def partial_payment(org: Organisation, invoice: Invoice, on: date, amount: str = "10.00") -> None:
    payment = Payment.objects.create(organisation=org, customer=invoice.customer, reference=f"VIR-{invoice.number}",
                                     date=on, amount=Decimal(amount))
    Allocation.objects.create(organisation=org, invoice=invoice, payment=payment, amount=Decimal(amount), date=on)


def served_case(org: Organisation, invoice: Invoice, served_on: date, *, state: str = "served") -> LitigationCase:
    case = LitigationCase.objects.create(organisation=org, customer=invoice.customer, state=state,
                                         opened_on=date(2024, 6, 1), request_filed_on=date(2024, 7, 1),
                                         order_issued_on=date(2024, 8, 1), served_on=served_on,
                                         closed_on=date(2026, 1, 5) if state == "closed" else None,
                                         outcome="judgment" if state == "closed" else "")
    CaseInvoice.objects.create(case=case, invoice=invoice, amount_due_at_opening=invoice.amount_due)
    return case


def numbers(rows: list[Any]) -> list[str]:
    return [r.invoice.number for r in rows]


def test_the_periods_their_start_and_what_is_left_out(org: Organisation, pro: Customer, person: Customer) -> None:
    soon = issued(pro, "FA-SOON", date(2021, 12, 1))  # 1 Dec 2026: 8 days left
    expired = issued(pro, "FA-EXPIRED", date(2021, 6, 1))  # prescribed since 1 June 2026
    issued(pro, "FA-LATER", date(2022, 6, 1))  # 1 June 2027: beyond 90 days
    consumer = issued(person, "FA-CONSO", date(2024, 12, 15))  # 2 years: 15 Dec 2026
    issued(person, "FA-CONSO-LATER", date(2025, 6, 15))  # 15 June 2027
    # delivered long before it was invoiced: the period runs from the delivery (30 Nov 2026)
    delivered = issued(pro, "FA-DELIVERED", date(2022, 3, 1), delivery_date=date(2021, 11, 30))
    issued(pro, "FA-PAID", date(2020, 1, 1), status=Invoice.Status.PAID, amount_due=Decimal("0"))

    rows = watch(org, AS_OF)

    assert numbers(rows) == ["FA-EXPIRED", "FA-DELIVERED", "FA-SOON", "FA-CONSO"]
    by = {r.invoice.number: r for r in rows}
    assert (by["FA-SOON"].ends_on, by["FA-SOON"].days_left, by["FA-SOON"].years) == (date(2026, 12, 1), 8, 5)
    assert by["FA-EXPIRED"].days_left == -175 and by["FA-EXPIRED"].expired
    assert (by["FA-CONSO"].ends_on, by["FA-CONSO"].years) == (date(2026, 12, 15), 2)
    assert "L218-2" in by["FA-CONSO"].basis and "L110-4" in by["FA-SOON"].basis
    assert by["FA-DELIVERED"].ends_on == date(2026, 11, 30)
    assert all(r.interruptions == [] and r.case_id is None for r in rows)
    assert by["FA-SOON"].invoice == soon and by["FA-SOON"].customer == pro
    assert by["FA-CONSO"].invoice == consumer and by["FA-DELIVERED"].invoice == delivered and expired
    # the window: 7 days ahead leaves out what ends on the 1st of December and after
    assert numbers(watch(org, AS_OF, days=7)) == ["FA-EXPIRED", "FA-DELIVERED"]
    data = by["FA-SOON"].as_dict()
    assert data["number"] == "FA-SOON" and data["days_left"] == 8 and data["customer"]["code"] == "C001"


def test_interruptions_move_the_deadline_and_are_listed(org: Organisation, pro: Customer, person: Customer) -> None:
    acknowledged = issued(pro, "FA-ACK", date(2021, 10, 1))
    interrupt(org, acknowledged, "acknowledgment", date(2024, 3, 1))  # 1 March 2029: out of the list
    paid_part = issued(pro, "FA-PART", date(2021, 9, 1))
    partial_payment(org, paid_part, date(2022, 1, 10))  # 10 Jan 2027: 48 days left
    sued = issued(pro, "FA-SUED", date(2021, 5, 2))
    interrupt(org, sued, "court_action", date(2021, 12, 20))  # 20 Dec 2026
    # an act after the deadline revives nothing (C. civ. 2229)
    late = issued(person, "FA-LATE-ACK", date(2023, 1, 5))
    interrupt(org, late, "acknowledgment", date(2025, 2, 1))
    served = issued(person, "FA-SERVED", date(2023, 1, 5))
    case = served_case(org, served, date(2024, 12, 20))  # order served: 20 Dec 2026
    interrupt(org, served, "court_action", date(2024, 12, 20))  # as the steps service records it: one act

    rows = {r.invoice.number: r for r in watch(org, AS_OF)}

    assert "FA-ACK" not in rows
    assert acknowledged in candidates(org, AS_OF)  # selected by the date bound, dropped once moved
    assert (rows["FA-PART"].ends_on, rows["FA-PART"].days_left) == (date(2027, 1, 10), 48)
    assert rows["FA-PART"].interruptions == [(date(2022, 1, 10),
                                              "paiement partiel (reconnaissance de dette, C. civ. art. 2240)")]
    assert rows["FA-SUED"].ends_on == date(2026, 12, 20)
    assert rows["FA-SUED"].interruptions == [(date(2021, 12, 20), "action en justice (C. civ. art. 2241)")]
    assert rows["FA-LATE-ACK"].ends_on == date(2025, 1, 5) and rows["FA-LATE-ACK"].interruptions == []
    assert rows["FA-SERVED"].ends_on == date(2026, 12, 20) and rows["FA-SERVED"].case_id == case.pk
    assert rows["FA-SERVED"].interruptions == [(date(2024, 12, 20),
                                                "signification de l’ordonnance d’injonction de payer")]


def test_the_request_alone_does_not_interrupt_and_a_closed_case_holds_nothing(
        org: Organisation, person: Customer) -> None:
    requested = issued(person, "FA-REQUEST", date(2024, 12, 1))  # 1 Dec 2026
    case = LitigationCase.objects.create(organisation=org, customer=person, state="request_filed",
                                         opened_on=date(2026, 9, 1), request_filed_on=date(2026, 9, 15))
    CaseInvoice.objects.create(case=case, invoice=requested, amount_due_at_opening=requested.amount_due)
    closed = issued(person, "FA-CLOSED", date(2023, 1, 5))
    served_case(org, closed, date(2024, 12, 21), state="closed")

    rows = {r.invoice.number: r for r in watch(org, AS_OF)}

    assert rows["FA-REQUEST"].ends_on == date(2026, 12, 1) and rows["FA-REQUEST"].interruptions == []
    assert rows["FA-REQUEST"].case_id == case.pk
    # the service still interrupted, but the closed case no longer holds the invoice
    assert rows["FA-CLOSED"].ends_on == date(2026, 12, 21) and rows["FA-CLOSED"].case_id is None


def test_29_february_and_the_exact_window(org: Organisation, person: Customer) -> None:
    leap = issued(person, "FA-LEAP", date(2024, 2, 29))  # 2 years: 28 Feb 2026 (C. civ. 2229)
    assert numbers(watch(org, date(2025, 12, 1), days=89)) == ["FA-LEAP"]  # 1 Dec 2025 + 89 = 28 Feb 2026
    assert watch(org, date(2025, 12, 1), days=88) == []
    assert watch(org, date(2025, 12, 1), days=89)[0].invoice == leap


def test_only_old_invoices_are_read_and_the_queries_are_fixed(org: Organisation, pro: Customer) -> None:
    recent = [Invoice(organisation=org, customer=pro, number=f"FA-NEW-{n}", issue_date=date(2025, 1, 1),
                      due_date=date(2025, 1, 31), amount_incl_tax=Decimal("50"), amount_due=Decimal("50"))
              for n in range(200)]
    Invoice.objects.bulk_create(recent)
    olds = [issued(pro, f"FA-OLD-{n:02}", date(2021, 7, 1)) for n in range(20)]
    for n, invoice in enumerate(olds[:10]):
        partial_payment(org, invoice, date(2021, 8, 1))
        interrupt(org, invoice, "acknowledgment", date(2021, 9, n + 1))
    served_case(org, olds[10], date(2021, 8, 15))

    assert candidates(org, AS_OF).count() == 20  # the 200 recent ones never leave the database
    with CaptureQueriesContext(connection) as ctx:
        rows = watch(org, AS_OF)
    assert len(ctx.captured_queries) <= 5
    assert len(rows) == 20
    assert rows[0].ends_on == date(2026, 7, 1)  # uninterrupted ones first
    moved = {r.invoice.number: r for r in rows}["FA-OLD-03"]
    assert moved.ends_on == date(2026, 9, 4) and [d for d, _ in moved.interruptions] == [date(2021, 8, 1),
                                                                                          date(2021, 9, 4)]


def test_a_restricted_collector_sees_their_customers_only(org: Organisation, pro: Customer,
                                                          person: Customer) -> None:
    zoe = make_user("zoe", org)
    pro.collector = zoe
    pro.save(update_fields=["collector"])
    issued(pro, "FA-ZOE", date(2021, 12, 1))
    issued(person, "FA-OTHER", date(2024, 12, 15))
    assert numbers(watch(org, AS_OF, collector_id=zoe.pk)) == ["FA-ZOE"]
    assert numbers(watch(org, AS_OF)) == ["FA-ZOE", "FA-OTHER"]
    other = make_org(slug="autre")
    assert watch(other, AS_OF) == []
