"""What may be chased today: the planner's query (open invoices under active dunning, not held)."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from relance.holds.models import Hold
from relance.ledger.models import Invoice, Organisation


def active_holds(organisation: Organisation, today: date) -> QuerySet[Hold]:
    return Hold.objects.filter(organisation=organisation, state=Hold.State.ACTIVE).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )


def held_condition(organisation: Organisation, today: date, invoice_ref: str = "pk",
                   customer_ref: str = "customer_id") -> Exists:
    """``Exists`` of an active hold on the invoice itself or on its whole customer."""
    return Exists(active_holds(organisation, today).filter(
        Q(invoice_id=OuterRef(invoice_ref)) | Q(invoice__isnull=True, customer_id=OuterRef(customer_ref))
    ))


def chaseable(organisation: Organisation, today: date) -> QuerySet[Invoice]:
    """Open invoices under active dunning and not on hold."""
    return Invoice.objects.filter(
        organisation=organisation, status=Invoice.Status.OPEN, dunning_state=Invoice.Dunning.ACTIVE
    ).exclude(held_condition(organisation, today))
