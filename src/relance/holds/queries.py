"""What is held: the active holds of an organisation, and the invoices or customers they block.

Read only. The planner (``dunning.services.chaseable``), the dispatcher's send-time re-check and the
approval queue ask here, so that every kind of hold (promise, dispute, pause, stop, plan) stops
the reminders alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from relance.ledger.models import Invoice, Organisation

from .models import Hold, PaymentPlan, PlanInvoice


def active_holds(organisation: Organisation, today: date) -> QuerySet[Hold]:
    """The holds in force on ``today`` (a pause's last day included)."""
    return Hold.objects.filter(organisation=organisation, state=Hold.State.ACTIVE).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )


def held_condition(organisation: Organisation, today: date, invoice_ref: str = "pk",
                   customer_ref: str = "customer_id") -> Exists:
    """``Exists`` of an active hold on the invoice itself or on its whole customer."""
    return Exists(active_holds(organisation, today).filter(
        Q(invoice_id=OuterRef(invoice_ref)) | Q(invoice__isnull=True, customer_id=OuterRef(customer_ref))
    ))


@dataclass(frozen=True)
class Blocked:
    invoices: frozenset[int]
    customers: frozenset[int]

    def blocks(self, invoice: Invoice) -> bool:
        return invoice.id in self.invoices or invoice.customer_id in self.customers


def blocked(organisation: Organisation, customer_ids: Iterable[int], today: date, *,
            except_plan_id: int | None = None) -> Blocked:
    """Active holds of these customers: on invoices, and on whole customers. The holds of
    ``except_plan_id`` (the plan an instalment reminder is about) do not count."""
    qs = active_holds(organisation, today).filter(customer_id__in=list(customer_ids))
    if except_plan_id is not None:
        qs = qs.exclude(plan_id=except_plan_id)
    invoices, customers = set(), set()
    for invoice_id, customer_id in qs.values_list("invoice_id", "customer_id"):
        if invoice_id:
            invoices.add(invoice_id)
        else:
            customers.add(customer_id)
    return Blocked(frozenset(invoices), frozenset(customers))


def in_open_plan(invoices: Sequence[Invoice], states: Sequence[str] = (PaymentPlan.State.ACTIVE,),
                 exclude_plan: PaymentPlan | None = None) -> dict[int, int]:
    """invoice id -> plan id of the plans (in ``states``) that hold one of these invoices."""
    qs = PlanInvoice.objects.filter(invoice__in=invoices, plan__state__in=list(states))
    if exclude_plan is not None:
        qs = qs.exclude(plan=exclude_plan)
    return dict(qs.values_list("invoice_id", "plan_id"))


def active_disputes(invoices: Sequence[Invoice]) -> set[int]:
    return set(Hold.objects.filter(invoice__in=invoices, kind=Hold.Kind.DISPUTE, state=Hold.State.ACTIVE)
               .values_list("invoice_id", flat=True))
