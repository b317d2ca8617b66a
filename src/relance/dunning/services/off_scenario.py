"""Messages outside the scenario — a promise broken, an instalment's reminder or notice — planned
through the normal Reminder path when ``relance.holds`` asks for them (``dunning.handlers``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from relance.dunning.models import Reminder, ReminderLine
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import Instalment, Promise
from relance.ledger.models import Contact, Customer, Invoice, Organisation


def channel_for(customer: Customer) -> str:
    """Email when the customer takes email and has an address (not one returned for good), else a
    letter (as the planner)."""
    has_email = Contact.objects.filter(customer=customer, email_bounced_at__isnull=True).exclude(email="").exists()
    return "email" if customer.preferred_channel != "letter" and has_email else "letter"


def plan_message(organisation: Organisation, customer: Customer, kind: str, key: str, today: date,
                 invoices: Sequence[Invoice], *, promise: Promise | None = None,
                 instalment: Instalment | None = None, label: str = "", actor: str = "system") -> Reminder | None:
    """Plan a message outside the scenario (its idempotency key makes it unique: planned once,
    never twice). The customer's last contact becomes today, so the normal sequence keeps its
    minimum gap. Returns ``None`` when the key already exists."""
    reminder, created = Reminder.objects.get_or_create(
        idempotency_key=key,
        defaults=dict(organisation=organisation, customer=customer, kind=kind, channel=channel_for(customer),
                      planned_for=today, promise=promise, instalment=instalment),
    )
    if not created:
        return None
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=i.last_step_position,
                                                   amount_due=i.amount_due) for i in invoices])
    Customer.objects.filter(pk=customer.pk).update(last_contact_date=today)
    record_many(organisation, [kinds.reminder_planned(
        customer_id=customer.pk, reminder_id=reminder.pk, key=key, step=label, channel=reminder.channel, kind=kind,
        invoices=[i.number for i in invoices], total_due=sum((i.amount_due for i in invoices), Decimal(0)),
        actor=actor)])
    return reminder
