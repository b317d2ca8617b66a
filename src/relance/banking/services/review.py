"""The receipts waiting for a person: the review list, a match applied by hand, a line dismissed.

The candidates of each line are computed afresh (the invoices still open now, the aliases
learnt since), with one bounded load for the whole list (``matching.load_matcher_for``: the
invoices the lines can match, not the whole ledger). Applying a match records the payment
exactly as an automatic match does (``matching.apply_decisions``): allocations in the order
of C. civ. 1342-10 after the designated invoices, the payer's IBAN and name learnt, events,
reminders of the settled invoices cancelled and the thank-you planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from relance import clock
from relance.core.formatting import money
from relance.core.matching import Decision, OpenItem, Outcome, allocate
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Customer, Invoice, Organisation, Payment
from relance.locks import lock_customer_invoices, lock_organisation

from ..models import BankTransaction
from .matching import METHOD_LABELS, apply_decisions, line_data, load_matcher_for, receipt_of

PENDING = (BankTransaction.Status.TO_REVIEW, BankTransaction.Status.UNMATCHED)


@dataclass(frozen=True)
class ReviewCandidate:
    customer_id: int
    customer_code: str
    customer_name: str
    invoices: tuple[str, ...]
    amount: Decimal
    score: int
    reason: str
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"customer": self.customer_code, "customer_name": self.customer_name, "customer_id": self.customer_id,
                "invoices": list(self.invoices), "amount": self.amount, "score": self.score, "reason": self.reason,
                "method": self.method}


@dataclass(frozen=True)
class ReviewItem:
    line_id: int
    status: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty: str
    counterparty_iban: str
    remittance: str
    reference: str
    end_to_end_id: str
    statement: str
    location: str
    reason: str
    candidates: tuple[ReviewCandidate, ...] = field(default=())

    @property
    def status_label(self) -> str:
        return str(BankTransaction.Status(self.status).label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id, "status": self.status, "booking_date": self.booking_date,
            "value_date": self.value_date, "amount": self.amount, "currency": self.currency,
            "counterparty": self.counterparty, "counterparty_iban": self.counterparty_iban,
            "remittance": self.remittance, "reference": self.reference, "end_to_end_id": self.end_to_end_id,
            "statement": self.statement, "location": self.location, "reason": self.reason,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def pending_count(organisation: Organisation) -> int:
    return BankTransaction.objects.filter(organisation=organisation, status__in=PENDING).count()


def review_list(organisation: Organisation, *, limit: int | None = None) -> list[ReviewItem]:
    """The lines to review and those without any match, oldest first, each with its ranked
    candidates (never applied here)."""
    lines = list(BankTransaction.objects.filter(organisation=organisation, status__in=PENDING)
                 .select_related("statement_file").order_by("booking_date", "id")[:limit])
    if not lines:
        return []
    receipts = [receipt_of(line) for line in lines]
    matcher = load_matcher_for(organisation, receipts)  # the invoices these lines can match, read now
    decisions = [matcher.decide(receipt) for receipt in receipts]  # nothing consumed
    customers = {c.customer_id for d in decisions for c in d.candidates}
    names = {cid: (code, name) for cid, code, name in
             Customer.objects.filter(organisation=organisation, id__in=list(customers))
             .values_list("id", "code", "legal_name")} if customers else {}
    items = []
    for line, decision in zip(lines, decisions, strict=True):
        candidates = tuple(
            ReviewCandidate(c.customer_id, names[c.customer_id][0], names[c.customer_id][1],
                            tuple(matcher.items[i].number for i in c.invoice_ids), c.amount, c.score,
                            c.reason, c.method)
            for c in decision.candidates if c.customer_id in names
        )
        items.append(ReviewItem(
            line.pk, line.status, line.booking_date, line.value_date, line.amount, line.currency,
            line.counterparty_name, line.counterparty_iban, line.remittance, line.structured_reference,
            line.end_to_end_id, line.statement_file.filename, line.location,
            decision.reason if decision.outcome != Outcome.UNMATCHED or not line.reason else line.reason,
            candidates,
        ))
    return items


def _line_for_update(organisation: Organisation, line_id: int) -> BankTransaction:
    try:
        return BankTransaction.objects.select_for_update().get(organisation=organisation, pk=line_id)
    except BankTransaction.DoesNotExist:
        raise NotFound(f"ligne bancaire n° {line_id} introuvable") from None


def _clean_numbers(numbers: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in numbers:
        for part in str(raw).replace(";", ",").split(","):
            number = part.strip()
            if number and number not in cleaned:
                cleaned.append(number)
    return cleaned


def apply_match(organisation: Organisation, line_id: int, invoice_numbers: Sequence[str], *,
                customer_code: str | None = None, actor: str) -> Payment:
    """Record the line as a payment of ``invoice_numbers`` (in that order, then C. civ.
    1342-10 for what is left), or, with no invoice, of ``customer_code``'s account."""
    numbers = _clean_numbers(invoice_numbers)
    code = (customer_code or "").strip()
    if not numbers and not code:
        raise InvalidInput("indiquer au moins une facture, ou le client dont le compte est crédité")
    if not BankTransaction.objects.filter(organisation=organisation, pk=line_id).exists():
        raise NotFound(f"ligne bancaire n° {line_id} introuvable")
    with transaction.atomic():
        invoices = {i.number: i for i in Invoice.objects.filter(organisation=organisation, number__in=numbers)}
        unknown = [n for n in numbers if n not in invoices]
        if unknown:
            raise InvalidInput(f"facture(s) inconnue(s) : {', '.join(unknown)}")
        owners = {i.customer_id for i in invoices.values()}
        if len(owners) > 1:
            raise InvalidInput("les factures désignées appartiennent à plusieurs clients : un virement se rapproche "
                               "des factures d’un seul client")
        customer: Customer | None = None
        if code:
            customer = Customer.objects.filter(organisation=organisation, code=code).first()
            if customer is None:
                raise InvalidInput(f"client « {code} » inconnu")
            if owners and owners != {customer.pk}:
                raise InvalidInput(f"les factures désignées ne sont pas celles du client {code}")
        else:
            customer = Customer.objects.get(organisation=organisation, pk=owners.pop())
        # the lock order (relance/locks.py): the customer's invoices, the organisation, the line
        locked = {i.pk: i for i in lock_customer_invoices(organisation, [customer.pk])}
        invoices = {n: locked.get(i.pk, i) for n, i in invoices.items()}
        lock_organisation(organisation)
        line = _line_for_update(organisation, line_id)
        if line.status == BankTransaction.Status.MATCHED:
            raise Conflict(f"la ligne bancaire n° {line_id} est déjà rapprochée (paiement {line.payment_reference})")
        closed = [n for n in numbers if invoices[n].status != Invoice.Status.OPEN]
        if closed:
            raise InvalidInput(f"facture(s) déjà soldée(s) : {', '.join(closed)}")
        other_currency = [n for n in numbers if invoices[n].currency != line.currency]
        if other_currency:
            raise InvalidInput(f"facture(s) dans une autre devise que le virement ({line.currency}) : "
                               f"{', '.join(other_currency)}")
        items = [
            OpenItem(*row) for row in Invoice.objects
            .filter(organisation=organisation, customer=customer, status=Invoice.Status.OPEN, amount_due__gt=0,
                    currency=line.currency)
            .values_list("id", "number", "customer_id", "due_date", "issue_date", "amount_due", "currency",
                         "payment_reference").order_by("id")
        ]
        designated = tuple(invoices[n].pk for n in numbers)
        parts, left = allocate(items, line.amount, line.booking_date, designated)
        what = ", ".join(numbers) if numbers else f"compte du client {customer.code}"
        reason = f"rapprochement manuel : {what}"
        if left > 0:
            reason += f" ; {money(left)} non affecté(s)"
        decision = Decision(receipt_of(line), Outcome.MATCHED, customer.pk, designated, parts, left, "manual",
                            reason)
        line.status = BankTransaction.Status.MATCHED
        line.method, line.reason = "manual", reason[:300]
        line.decided_by, line.decided_at = actor[:150], clock.now()
        line.save(update_fields=["status", "method", "reason", "decided_by", "decided_at"])
        apply_decisions(organisation, [(line, decision)], actor=actor)
        return Payment.objects.select_related("customer").get(organisation=organisation, reference=line.payment_reference)


def dismiss_line(organisation: Organisation, line_id: int, reason: str, *, actor: str) -> None:
    """Take a line out of the review list (not a customer's payment: a refund, a transfer
    between own accounts…); it stays stored, with the reason."""
    with transaction.atomic():
        lock_organisation(organisation)  # the lock order: the organisation, then the line
        line = _line_for_update(organisation, line_id)
        if line.status == BankTransaction.Status.MATCHED:
            raise Conflict(f"la ligne bancaire n° {line_id} est rapprochée (paiement {line.payment_reference}) : "
                           "elle ne peut pas être écartée")
        if line.status == BankTransaction.Status.DISMISSED:
            return
        text = " ".join((reason or "").split()) or "sans motif"
        line.status = BankTransaction.Status.DISMISSED
        line.method, line.reason = "", f"écartée : {text}"[:300]
        line.decided_by, line.decided_at = actor[:150], clock.now()
        line.save(update_fields=["status", "method", "reason", "decided_by", "decided_at"])
        record_many(organisation, [kinds.bank_line_dismissed(line=line_data(line), reason=text, actor=actor)])


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)
