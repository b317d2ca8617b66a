"""« À vérifier »: reminders that may have left, resolved by a person (issue #12).

A reminder is ``UNCERTAIN`` when the channel had begun handing it over (SMTP: its content
transmitted) and the outcome is unknown — the connection dropped or no final answer came, or
the worker died after the hand-over (``recovery``). It is never resent automatically: the same
message could reach the customer twice. A person looks at what went (recipient, subject, the
exact text, the PDF, the Message-ID to search for in the mail server's logs or the sent box)
and decides:

* « parti » (:func:`confirm_sent`): ``SENT``, its ``sent_at`` the hand-over time, and the facts
  recorded as for a normal send (the invoices received the step: ``escalation.record_received``;
  a plan's agreement letter becomes its « accord.pdf »), events ``reminder.confirmed_sent`` and
  the usual sent event;
* « renvoyer » (:func:`request_resend`): back to ``PLANNED``, due now and queued; the dispatcher
  claims it as any other, re-checks its invoices (paid, held…) and sends it — the same reminder
  (no second one is created) with the same Message-ID, so a copy is recognisable. Event
  ``reminder.resend_requested``.

While a reminder is uncertain the planner plans nothing else for its customer (it is pending);
after either decision the sequence goes on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from relance import clock
from relance.clock import today_for
from relance.errors import Conflict, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import PaymentPlan
from relance.ledger.models import Customer, Organisation
from relance.ledger.queries import visible
from relance.locks import lock_invoices, lock_organisation, lock_rows

from ..models import CallTask, Reminder
from .escalation import record_received
from .queue import queue_send


class NotUncertain(Conflict):
    """Only a reminder « à vérifier » is resolved this way (``Conflict``: exit code 6, HTTP 409)."""


@dataclass(frozen=True)
class UncertainRow:
    reminder: Reminder
    customer_code: str
    customer_name: str
    handed_over_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        r = self.reminder
        return {"id": r.pk, "organisation": r.organisation.slug, "customer": self.customer_code,
                "customer_name": self.customer_name, "kind": r.kind, "channel": r.channel,
                "planned_for": r.planned_for, "attempts": r.attempts, "claimed_at": r.claimed_at,
                "handed_over_at": self.handed_over_at, "recipient": r.recipient, "subject": r.subject,
                "message_id": r.message_id, "document": r.document.name or "", "error": r.last_error}


def uncertain_reminders(organisation: Organisation | None = None, collector_id: int | None = None) -> list[UncertainRow]:
    """Every reminder « à vérifier » (of one organisation, or all), oldest hand-over first."""
    qs = Reminder.objects.filter(status=Reminder.Status.UNCERTAIN).select_related("organisation", "customer")
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    qs = visible(qs, collector_id, "customer__")
    return [UncertainRow(r, r.customer.code, r.customer.legal_name, r.handed_over_at)
            for r in qs.order_by("handed_over_at", "claimed_at", "pk")]


def uncertain_reminder(organisation: Organisation, reminder_id: int, collector_id: int | None = None) -> Reminder:
    """One reminder of the organisation (any state: the detail page also shows it once resolved)."""
    qs = visible(Reminder.objects.filter(organisation=organisation, pk=reminder_id), collector_id, "customer__")
    reminder = qs.select_related("customer", "organisation").first()
    if reminder is None:
        raise NotFound(f"relance n° {reminder_id} introuvable")
    return reminder


def _locked(organisation: Organisation, reminder_id: int, collector_id: int | None) -> tuple[Reminder, list]:
    """The reminder's invoices locked, then the organisation row, then the reminder (lock order,
    ``relance/locks.py``) — only while it is « à vérifier »: a ``SENDING`` one belongs to
    its worker, which locks it before the organisation row; waiting for it here, organisation
    held, would close a circle with that worker."""
    reminder = uncertain_reminder(organisation, reminder_id, collector_id)
    invoices = lock_invoices(reminder.lines.values_list("invoice_id", flat=True))
    lock_organisation(organisation)
    locked = lock_rows(Reminder, [reminder.pk], status=Reminder.Status.UNCERTAIN)
    if not locked:
        fresh = Reminder.objects.get(pk=reminder.pk)
        raise NotUncertain(f"la relance n° {fresh.pk} n’est pas « à vérifier » : elle est "
                           f"« {fresh.get_status_display().lower()} »")
    return locked[0], sorted(invoices, key=lambda i: (i.due_date, i.number))


def confirm_sent(organisation: Organisation, reminder_id: int, *, actor: str,
                 collector_id: int | None = None) -> Reminder:
    """« Parti »: the person checked that the message reached the customer (or the server's logs
    show it accepted): ``SENT`` at its hand-over time, facts recorded as for a normal send."""
    from .dispatcher import SENT_EVENTS, _escalation_facts  # the dispatcher's own records

    with transaction.atomic():
        reminder, invoices = _locked(organisation, reminder_id, collector_id)
        sent_at = reminder.handed_over_at or reminder.claimed_at or clock.now()
        day = today_for(organisation, sent_at)
        customer = Customer.objects.prefetch_related("contacts").get(pk=reminder.customer_id)
        escalation = _escalation_facts(reminder, invoices, customer)
        reminder.status = Reminder.Status.SENT
        reminder.sent_at = sent_at
        reminder.handed_over_at = sent_at
        previous_error, reminder.last_error = reminder.last_error, ""
        reminder.save(update_fields=["status", "sent_at", "handed_over_at", "last_error"])
        events = []
        if escalation:
            record_received(organisation, reminder, invoices, day)
        if reminder.kind == Reminder.Kind.PLAN_AGREEMENT and reminder.plan_id and reminder.document:
            PaymentPlan.objects.filter(pk=reminder.plan_id).update(agreement=reminder.document.name,
                                                                   agreement_sha256=reminder.document_sha256)
        step = reminder.step
        if step is not None and step.call_task and reminder.kind == Reminder.Kind.REMINDER:
            _, created = CallTask.objects.get_or_create(organisation=organisation, customer=customer,
                                                        reminder=reminder, defaults={"due_on": today_for(organisation)})
            if created:
                events.append(kinds.call_task_created(customer_id=customer.pk, reminder_id=reminder.pk,
                                                      due_on=today_for(organisation)))
        lines = dict(reminder.lines.values_list("invoice_id", "amount_due"))
        data: dict[str, object] = {
            "key": reminder.idempotency_key, "channel": reminder.channel, "recipient": reminder.recipient,
            "subject": reminder.subject, "message_id": reminder.message_id,
            "body_sha256": hashlib.sha256(reminder.body_text.encode()).hexdigest(),
            "document_sha256": reminder.document_sha256,
            "invoices": [{"number": i.number, "amount_due": lines.get(i.pk, i.amount_due)} for i in invoices],
            "dropped": [], "attempt": reminder.attempts, "handed_over_at": sent_at, "confirmed_by": actor,
        }
        if escalation:
            data["escalation"] = escalation
        record_many(organisation, [
            kinds.reminder_confirmed_sent(customer_id=customer.pk, reminder_id=reminder.pk, sent_at=sent_at,
                                          message_id=reminder.message_id, previous_error=previous_error, actor=actor),
            kinds.reminder_sent(SENT_EVENTS.get(reminder.kind, kinds.REMINDER_SENT), customer_id=customer.pk,
                                reminder_id=reminder.pk, actor=actor, data=data),
            *events,
        ])
    return reminder


def request_resend(organisation: Organisation, reminder_id: int, *, actor: str, collector_id: int | None = None,
                   today: date | None = None, enqueue: bool = True) -> Reminder:
    """« Renvoyer »: the person checked that it did not arrive. The same reminder goes back to
    ``PLANNED``, due now; the dispatcher re-checks it and sends it with the same Message-ID.
    ``enqueue=False`` leaves the sending to the caller (``--now``, or the next run)."""
    today = today or today_for(organisation)
    with transaction.atomic():
        reminder, _ = _locked(organisation, reminder_id, collector_id)
        previous_error = reminder.last_error
        reminder.status = Reminder.Status.PLANNED
        reminder.next_attempt_at = reminder.claimed_at = reminder.handed_over_at = None
        reminder.last_error = ""
        reminder.save(update_fields=["status", "next_attempt_at", "claimed_at", "handed_over_at", "last_error"])
        record_many(organisation, [kinds.reminder_resend_requested(
            customer_id=reminder.customer_id, reminder_id=reminder.pk, previous_error=previous_error,
            message_id=reminder.message_id, attempts=reminder.attempts, planned_for=reminder.planned_for,
            actor=actor)])
        if enqueue and reminder.planned_for <= today:
            queue_send(reminder.pk)  # part of this transaction (services/queue.py)
    return reminder
