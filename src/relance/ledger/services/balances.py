"""Derive each invoice's amount still due from its allocations (payments and credit notes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, Sum

from relance.core.money import ZERO
from relance.errors import Conflict
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Allocation, Invoice, Organisation
from relance.ledger.signals import invoices_settled


def refresh_balances(
    organisation: Organisation, invoice_ids: Iterable[int], on: date | None = None, actor: str = "system"
) -> list[int]:
    """Recompute amount_due and status of the given invoices in two queries.

    Returns the ids of the invoices that became settled; for those an
    ``invoice.settled`` event is written, then the ``invoices_settled`` signal is sent
    (dunning cancels their pending reminders and plans the thank-you).
    """
    ids = list(set(invoice_ids))
    if not ids:
        return []
    sums = {
        row["invoice_id"]: row
        for row in Allocation.objects.filter(invoice_id__in=ids)
        .values("invoice_id")
        .annotate(
            paid=Sum("amount", filter=Q(payment__isnull=False)),
            credited=Sum("amount", filter=Q(credit_note__isnull=False)),
            last=Max("date"),
        )
    }
    changed: list[Invoice] = []
    settled: list[int] = []
    reopened: list[Invoice] = []
    for invoice in Invoice.objects.filter(organisation=organisation, id__in=ids):
        row: Mapping[str, Any] = sums.get(invoice.id, {})
        paid: Decimal = row.get("paid") or ZERO
        credited: Decimal = row.get("credited") or ZERO
        due = invoice.amount_incl_tax - paid - credited
        if due < 0:
            raise Conflict(f"facture {invoice.number} : les règlements et avoirs affectés dépassent son montant")
        if due == 0:
            status = Invoice.Status.CREDITED if credited >= invoice.amount_incl_tax else Invoice.Status.PAID
            settled_on = row.get("last") or on
        else:
            status, settled_on = Invoice.Status.OPEN, None
        if (due, status, settled_on) != (invoice.amount_due, invoice.status, invoice.settled_on):
            if status != Invoice.Status.OPEN and invoice.status == Invoice.Status.OPEN:
                settled.append(invoice.id)
            if status == Invoice.Status.OPEN and invoice.status != Invoice.Status.OPEN:
                reopened.append(invoice)
                invoice.dunning_state = Invoice.Dunning.ACTIVE  # chased again; the planner reschedules it
            invoice.amount_due, invoice.status, invoice.settled_on = due, status, settled_on
            if status != Invoice.Status.OPEN or invoice in reopened:
                invoice.next_action_date = None
            changed.append(invoice)
    Invoice.objects.bulk_update(changed, ["amount_due", "status", "settled_on", "next_action_date", "dunning_state"],
                                batch_size=500)
    if reopened:
        record_many(organisation, [
            kinds.invoice_reopened(customer_id=i.customer_id, invoice_id=i.id, number=i.number,
                                   amount_due=i.amount_due, actor=actor)
            for i in reopened
        ])
    if settled:
        record_many(organisation, [
            kinds.invoice_settled(customer_id=i.customer_id, invoice_id=i.id, number=i.number, status=i.status,
                                  on=i.settled_on, actor=actor)
            for i in changed if i.id in settled
        ])
        invoices_settled.send(sender=Invoice, organisation=organisation, invoice_ids=settled, on=on)
    return settled
