"""Reactions of dunning to the ledger: a settled invoice stops being chased at once (its
reminders still planned or awaiting approval are cancelled), and the customer is thanked
when it had been reminded."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef

from relance.clock import today_for as local_today
from relance.core.policy import thanks_key
from relance.dunning.models import Reminder, ReminderLine, Scenario
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Invoice, Organisation

from .services.holds import CANCELLABLE, cancel_pending


def on_invoices_settled(sender: Any, organisation: Organisation, invoice_ids: list[int], on: date | None,
                        **kwargs: Any) -> None:
    open_lines = ReminderLine.objects.filter(reminder=OuterRef("pk"), invoice__status=Invoice.Status.OPEN)
    to_cancel = list(
        Reminder.objects.filter(organisation=organisation, status__in=CANCELLABLE,
                                kind__in=[Reminder.Kind.REMINDER, Reminder.Kind.LITIGATION],
                                lines__invoice_id__in=invoice_ids)
        .exclude(Exists(open_lines)).distinct()
    )
    Reminder.objects.filter(pk__in=[r.pk for r in to_cancel]).update(
        status=Reminder.Status.CANCELLED, last_error="factures réglées avant l’envoi")
    events = [NewEvent("reminder.cancelled", customer_id=r.customer_id, reminder_id=r.id,
                       data={"reason": "settled"}) for r in to_cancel]
    Invoice.objects.filter(pk__in=invoice_ids).update(dunning_state=Invoice.Dunning.DONE, next_action_date=None)

    # thank the customers whose settled invoices had been reminded (a message actually sent)
    reminded = (Invoice.objects.filter(pk__in=invoice_ids)
                .filter(Exists(ReminderLine.objects.filter(invoice=OuterRef("pk"), reminder__status=Reminder.Status.SENT,
                                                           reminder__kind=Reminder.Kind.REMINDER)))
                .select_related("customer").order_by("customer_id", "due_date"))
    default = Scenario.objects.filter(organisation=organisation, is_default=True).first()
    by_customer: dict[int, list[Invoice]] = {}
    for invoice in reminded:
        scenario = invoice.customer.scenario or default
        if scenario is None or scenario.thank_you:
            by_customer.setdefault(invoice.customer_id, []).append(invoice)
    today = on or local_today(organisation)
    for customer_id, invoices in by_customer.items():
        pending = Reminder.objects.filter(organisation=organisation, customer_id=customer_id,
                                          kind=Reminder.Kind.THANKS, status=Reminder.Status.PLANNED).first()
        if pending is None:
            key = thanks_key(organisation.id, min(i.id for i in invoices))
            pending, created = Reminder.objects.get_or_create(
                idempotency_key=key,
                defaults=dict(organisation=organisation, customer_id=customer_id, kind=Reminder.Kind.THANKS,
                              channel="email", planned_for=today),
            )
            if not created:
                continue  # this invoice was already thanked
            events.append(NewEvent("thanks.planned", customer_id=customer_id, reminder_id=pending.id,
                                   data={"invoices": [i.number for i in invoices]}))
        ReminderLine.objects.bulk_create(
            [ReminderLine(reminder=pending, invoice=i, step_position=-1, amount_due=i.amount_incl_tax)
             for i in invoices], ignore_conflicts=True)
    record_many(organisation, events)


def on_invoices_moved(sender: Any, organisation: Organisation, invoice_ids: list[int], from_customer_id: int,
                      actor: str = "system", **kwargs: Any) -> None:
    """Invoices now belong to another customer: the messages still planned (or awaiting
    approval) for the previous one that list them are cancelled, so nobody is chased for
    someone else's invoice; the planner plans the right customer's next step."""
    reminders = Reminder.objects.filter(organisation=organisation, customer_id=from_customer_id,
                                        lines__invoice_id__in=invoice_ids).distinct()
    record_many(organisation, cancel_pending(organisation, reminders, "invoices_moved",
                                             "factures rattachées à un autre client", actor=actor))
