"""Cancelling reminders not yet handed to the dispatcher (planned, or awaiting approval): a
settlement, invoices moved to another customer, a hold that starts or a plan that ends."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from relance.dunning.models import Reminder
from relance.events import kinds
from relance.events.services import NewEvent
from relance.holds.queries import blocked
from relance.ledger.models import Invoice, Organisation

#: reminders not yet handed to the dispatcher: a settlement or a hold can still cancel them
CANCELLABLE = (Reminder.Status.PLANNED, Reminder.Status.AWAITING_APPROVAL)


def cancel_pending(organisation: Organisation, reminders: QuerySet[Reminder], reason: str, why: str,
                   actor: str = "system") -> list[NewEvent]:
    """Cancel the reminders of ``reminders`` still planned or awaiting approval; the events to record."""
    rows = list(reminders.filter(status__in=CANCELLABLE).values_list("id", "customer_id"))
    Reminder.objects.filter(pk__in=[r for r, _ in rows], status__in=CANCELLABLE).update(
        status=Reminder.Status.CANCELLED, last_error=why)
    return [kinds.reminder_cancelled(customer_id=c, reminder_id=r, reason=reason, actor=actor) for r, c in rows]


def withdraw_held_awaiting(organisation: Organisation, customer_id: int, today: date,
                           actor: str = "system") -> list[NewEvent]:
    """A hold has just started: the customer's reminders awaiting approval whose invoices are
    now all held or settled leave the approval queue (cancelled, as the dispatcher would
    cancel them at send time; until then they would also keep the customer from being
    planned). Planned ones are left to the dispatcher's send-time re-check, which also
    honours a pause ended by then. Returns the events to record."""
    held = blocked(organisation, [customer_id], today)
    awaiting = (Reminder.objects.filter(organisation=organisation, customer_id=customer_id,
                                        status=Reminder.Status.AWAITING_APPROVAL)
                .prefetch_related("lines__invoice"))
    gone = [r.pk for r in awaiting
            if all(held.blocks(line.invoice) or line.invoice.status != Invoice.Status.OPEN for line in r.lines.all())]
    return cancel_pending(organisation, Reminder.objects.filter(pk__in=gone), "held",
                          "factures suspendues (promesse, litige, pause, arrêt ou échéancier) avant la validation",
                          actor)
