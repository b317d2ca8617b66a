"""Record payments and credit notes and allocate them to invoices.

Allocation order (C. civ. art. 1342-10): the invoices the debtor designated, in the
order given; then, failing a designation, the debts already due, oldest due date
first; what remains stays on the customer's account, unallocated.

Locks (``locks.py``): the customer's invoices a payment may write, by id, then the organisation
row (the event) — the project's order; each call is one short transaction, or a part of the
caller's when that caller locked them already (an import's batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db import transaction

from relance.core import law
from relance.errors import AlreadyRecorded, InvalidInput
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Allocation, CreditNote, Customer, Invoice, Organisation, Payment
from relance.locks import lock_customer_invoices

from .balances import refresh_balances


def allocation_order(open_invoices: Sequence[Invoice], designated: Sequence[str], on: date) -> list[Invoice]:
    """The invoices in the order of C. civ. 1342-10 (the rule lives in ``core.law.allocation``)."""
    by_number = {i.number: i for i in open_invoices}
    debts = [law.Debt(i.number, i.due_date, i.issue_date, i.amount_due) for i in open_invoices]
    return [by_number[str(d.id)] for d in law.allocation_order(debts, on, designated)]


def _allocate(
    organisation: Organisation,
    customer: Customer,
    amount: Decimal,
    on: date,
    designated: Sequence[str],
    *,
    payment: Payment | None = None,
    credit_note: CreditNote | None = None,
) -> list[Allocation]:
    # the caller locked the customer's invoices (lock_customer_invoices) before anything else
    open_invoices = list(
        Invoice.objects.filter(organisation=organisation, customer=customer, status=Invoice.Status.OPEN).order_by("id")
    )
    unknown = [n for n in designated if n not in {i.number for i in open_invoices}]
    if unknown and not Invoice.objects.filter(organisation=organisation, customer=customer, number__in=unknown).exists():
        raise InvalidInput(f"facture(s) inconnue(s) pour le client {customer.code} : {', '.join(unknown)}")
    remaining = amount
    allocations = []
    for invoice in allocation_order(open_invoices, designated, on):
        if remaining <= 0:
            break
        part = min(remaining, invoice.amount_due)
        if part <= 0:
            continue
        allocations.append(Allocation(
            organisation=organisation, invoice=invoice, payment=payment, credit_note=credit_note, amount=part, date=on,
        ))
        remaining -= part
    Allocation.objects.bulk_create(allocations)
    return allocations


def record_payment(
    organisation: Organisation,
    customer: Customer,
    reference: str,
    on: date,
    amount: Decimal,
    designated: Sequence[str] = (),
    method: str = "",
    actor: str = "system",
) -> Payment:
    if amount <= 0:
        raise InvalidInput("le montant d’un paiement doit être positif")
    with transaction.atomic():
        lock_customer_invoices(organisation, [customer.pk])  # before anything: the project's lock order
        if Payment.objects.filter(organisation=organisation, reference=reference).exists():
            raise AlreadyRecorded(f"le paiement « {reference} » est déjà enregistré")
        payment = Payment.objects.create(
            organisation=organisation, customer=customer, reference=reference, date=on, amount=amount, method=method,
        )
        allocations = _allocate(organisation, customer, amount, on, designated, payment=payment)
        record_many(organisation, [kinds.payment_recorded(
            customer_id=customer.id, reference=reference, date=on, amount=amount,
            allocations=[{"invoice": a.invoice.number, "amount": a.amount} for a in allocations], actor=actor,
        )])
        refresh_balances(organisation, [a.invoice_id for a in allocations], on, actor)
    return payment


def record_credit_note(
    organisation: Organisation,
    customer: Customer,
    number: str,
    on: date,
    amount: Decimal,
    invoice_number: str = "",
    reason: str = "",
    actor: str = "system",
) -> CreditNote:
    if amount <= 0:
        raise InvalidInput("le montant d’un avoir doit être positif")
    with transaction.atomic():
        lock_customer_invoices(organisation, [customer.pk])  # before anything: the project's lock order
        if CreditNote.objects.filter(organisation=organisation, number=number).exists():
            raise AlreadyRecorded(f"l’avoir « {number} » est déjà enregistré")
        invoice = None
        if invoice_number:
            invoice = Invoice.objects.filter(organisation=organisation, customer=customer, number=invoice_number).first()
            if invoice is None:
                raise InvalidInput(f"avoir {number} : facture {invoice_number} inconnue")
        note = CreditNote.objects.create(
            organisation=organisation, customer=customer, number=number, issue_date=on,
            amount_incl_tax=amount, invoice=invoice, reason=reason,
        )
        allocations = _allocate(
            organisation, customer, amount, on, [invoice_number] if invoice_number else [], credit_note=note,
        )
        record_many(organisation, [kinds.credit_note_recorded(
            customer_id=customer.id, invoice_id=invoice.id if invoice else None, number=number, date=on,
            amount=amount, allocations=[{"invoice": a.invoice.number, "amount": a.amount} for a in allocations],
            actor=actor,
        )])
        refresh_balances(organisation, [a.invoice_id for a in allocations], on, actor)
    return note
