"""Prescription follow-up of open invoices (C. com. L110-4, C. conso L218-2).

An acknowledgment of the debt by the debtor (C. civ. 2240) or a court action (2241)
restarts the period (2231); it is recorded here as an event on the invoice, and the watch
list (``relance.litigation.prescription``) reads those events. A formal notice does not
interrupt (Cass. com. 18 May 2022).
"""

from __future__ import annotations

from datetime import date

from relance.errors import InvalidInput, NotFound
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import record_many
from relance.ledger.models import Invoice, Organisation

KINDS = {"acknowledgment": "reconnaissance de dette (C. civ. 2240)", "court_action": "action en justice (C. civ. 2241)"}


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
