"""Prescription follow-up of open invoices (C. com. L110-4, C. conso L218-2).

An acknowledgment of the debt by the debtor (C. civ. 2240) or a court action (2241)
restarts the period (2231); it is recorded as an event on the invoice, and the watch
list reads those events. A formal notice does not interrupt (Cass. com. 18 May 2022).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from relance.core.law import Interruption, LawInputError, PrescriptionResult, prescription
from relance.errors import InvalidInput, NotFound
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import record_many
from relance.ledger.models import Allocation, Invoice, Organisation

KINDS = {"acknowledgment": "reconnaissance de dette (C. civ. 2240)", "court_action": "action en justice (C. civ. 2241)"}


@dataclass
class Watched:
    invoice: Invoice
    result: PrescriptionResult


def record_interruption(organisation: Organisation, number: str, kind: str, on: date, today: date, note: str = "",
                        actor: str = "system") -> Event:
    if kind not in KINDS:
        raise InvalidInput(f"type « {kind} » : attendu {' ou '.join(KINDS)}")
    invoice = Invoice.objects.filter(organisation=organisation, number=number).first()
    if invoice is None:
        raise NotFound(f"facture « {number} » introuvable")
    if on > today:
        raise InvalidInput("la date de l’acte ne peut pas être dans le futur")
    if on < invoice.issue_date:
        raise InvalidInput("la date de l’acte précède la facture")
    return record_many(organisation, [kinds.prescription_interrupted(
        customer_id=invoice.customer_id, invoice_id=invoice.id, kind=kind, on=on, note=note, actor=actor)])[0]


def watch(organisation: Organisation, as_of: date) -> list[Watched]:
    """Open invoices whose prescription is expired or less than six months away (three queries)."""
    invoices = list(Invoice.objects.filter(organisation=organisation, status=Invoice.Status.OPEN)
                    .select_related("customer").order_by("due_date"))
    acts: dict[int, list[Interruption]] = defaultdict(list)
    interruptions = Event.objects.filter(organisation=organisation, kind=kinds.PRESCRIPTION_INTERRUPTED)
    for invoice_id, data in interruptions.values_list("invoice_id_ref", "data"):
        if invoice_id is not None:
            acts[invoice_id].append(Interruption(date.fromisoformat(data["on"]), data["kind"]))
    # a partial payment acknowledges the debt (C. civ. 2240)
    for invoice_id, day in Allocation.objects.filter(organisation=organisation, payment__isnull=False,
                                                     invoice__status=Invoice.Status.OPEN).values_list("invoice_id",
                                                                                                      "date"):
        acts[invoice_id].append(Interruption(day, "partial_payment"))
    watched = []
    for invoice in invoices:
        try:
            result = prescription(invoice.due_date, "business" if invoice.customer.is_business else "consumer",
                                  invoice.delivery_date, acts.get(invoice.id, []), as_of,
                                  issue_date=invoice.issue_date)
        except LawInputError:
            continue
        if result.expired or result.alert:
            watched.append(Watched(invoice, result))
    return watched
