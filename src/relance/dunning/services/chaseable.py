"""What may be chased today: the planner's query (open invoices under active dunning, not held —
the holds in force are the holds app's: ``holds.queries``)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from relance.holds.queries import held_condition
from relance.ledger.models import Invoice, Organisation


def chaseable(organisation: Organisation, today: date) -> QuerySet[Invoice]:
    """Open invoices under active dunning and not on hold."""
    return Invoice.objects.filter(
        organisation=organisation, status=Invoice.Status.OPEN, dunning_state=Invoice.Dunning.ACTIVE
    ).exclude(held_condition(organisation, today))
