"""Bounces: what a returned email does to its reminder and to the address (issue #15).

The replies app (above) reads the mailbox and recognises a bounce (``core.replies.bounces``);
it calls :func:`record_bounce` with what the bounce says. Here, in one transaction:

* **a permanent, final failure** (the server gave up for good, status class 5): the reminder
  ``SENT`` (or ``UNCERTAIN``: it did leave) becomes ``UNDELIVERED`` (« Non distribuée »), a
  final state the dispatcher never claims; ``bounced_at`` and ``bounce_reason`` (« adresse
  inconnue (5.1.1) ») are kept on it. Each contact of the customer whose address is a failed
  recipient is flagged (``Contact.email_bounced_at``, ``email_bounce_reason``): no email goes
  to it any more — the planner and ``compose`` treat it as no address, so the next message is a
  letter — until its address is changed (``ledger.services.contacts`` clears the flag). Events
  ``reminder.undelivered`` and one ``contact.email_bounced`` per contact. A reminder in any other
  state (sent again since, cancelled…) keeps it; the contacts are flagged all the same.
* **a delay, or a failure that is not permanent**: only ``reminder.delivery_delayed``.

The same bounce twice changes nothing and records nothing more (``already_recorded``). Locks:
the organisation row, then the reminder, then the contacts (``relance/locks.py``); no invoice
is written. A ``SENDING`` reminder belongs to its worker: it is read, never locked nor changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Final

from django.db import transaction
from django.db.models import Q

from relance.core.escalation import Stage, stage
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Contact, Invoice, Organisation
from relance.locks import lock_invoices, lock_organisation, lock_rows

from ..models import Reminder
from .escalation import ESCALATING

UNDELIVERED: Final = "undelivered"
DELAYED: Final = "delayed"
UNKNOWN_REMINDER: Final = "unknown_reminder"
ALREADY_RECORDED: Final = "already_recorded"

#: the states a permanent bounce turns into ``UNDELIVERED``: the message left
BOUNCEABLE: Final = (Reminder.Status.SENT, Reminder.Status.UNCERTAIN)

REASON_LENGTH: Final = 200
DIAGNOSTIC_LENGTH: Final = 500


@dataclass(frozen=True)
class BounceOutcome:
    """What :func:`record_bounce` did: ``outcome`` one of ``undelivered``, ``delayed``,
    ``unknown_reminder``, ``already_recorded``; the contacts flagged by this call."""

    reminder_id: int | None
    customer_id: int | None
    flagged_contact_ids: tuple[int, ...]
    outcome: str


def _inside(message_id: str) -> str:
    """The part of a Message-ID inside its angle brackets, lower case (``""`` when empty)."""
    return message_id.strip().strip("<>").strip().lower()


def find_reminder(organisation: Organisation, our_message_ids: Sequence[str]) -> Reminder | None:
    """The organisation's reminder sent with one of these Message-IDs (the first one found, in
    the order given); case does not matter, nor the angle brackets."""
    wanted = [m for m in dict.fromkeys(_inside(m) for m in our_message_ids) if m]
    if not wanted:
        return None
    condition = Q()
    for m in wanted:
        condition |= Q(message_id__iexact=f"<{m}>") | Q(message_id__iexact=m)
    found = {_inside(r.message_id): r for r in Reminder.objects.filter(condition, organisation=organisation)
             .order_by("pk")}
    return next((found[m] for m in wanted if m in found), None)


def bounce_reason(reason: str, status: str) -> str:
    """« adresse inconnue (5.1.1) »: the French reason and the status code when there is one."""
    text = reason.strip() or "autre"
    return (f"{text} ({status.strip()})" if status.strip() else text)[:REASON_LENGTH]


def _failed_addresses(reminder: Reminder, recipients: Sequence[str]) -> set[str]:
    """The failed addresses, lower case; when the bounce named none, the address the reminder
    was recorded as sent to (never a test-mode recipient: the customer's address did not fail)."""
    addresses = {parseaddr(r)[1].strip().lower() or r.strip().lower() for r in recipients if r.strip()}
    if not addresses and reminder.recipient and not reminder.recipient.startswith("[TEST]"):
        address = parseaddr(reminder.recipient)[1].strip().lower()
        if address:
            addresses.add(address)
    return addresses


def record_bounce(organisation: Organisation, *, our_message_ids: Sequence[str], recipients: Sequence[str],
                  permanent: bool, final: bool, reason: str, status: str, diagnostic: str, received_at: datetime,
                  actor: str = "system") -> BounceOutcome:
    """Record what a bounce says about one of our reminders (see the module)."""
    found = find_reminder(organisation, our_message_ids)
    if found is None:
        return BounceOutcome(None, None, (), UNKNOWN_REMINDER)
    diagnostic = diagnostic.strip()[:DIAGNOSTIC_LENGTH]
    if not (permanent and final):
        return _delayed(organisation, found, recipients=recipients, permanent=permanent, final=final, reason=reason,
                        status=status, diagnostic=diagnostic, received_at=received_at, actor=actor)
    with transaction.atomic():
        # the lock order: the reminder's invoices (their count of reminders received may change), then
        # the organisation, then the reminder and the contacts
        invoices = lock_invoices(found.lines.values_list("invoice_id", flat=True))
        lock_organisation(organisation)
        reminder = found
        if found.status != Reminder.Status.SENDING:  # a SENDING reminder belongs to its worker
            locked = lock_rows(Reminder, [found.pk], organisation=organisation)
            reminder = locked[0] if locked else found
        if (reminder.status == Reminder.Status.UNDELIVERED
                or Event.objects.filter(organisation=organisation, kind=kinds.REMINDER_UNDELIVERED,
                                        reminder_id_ref=reminder.pk).exists()):
            return BounceOutcome(reminder.pk, reminder.customer_id, (), ALREADY_RECORDED)
        why = bounce_reason(reason, status)
        previous = reminder.status
        if previous in BOUNCEABLE:
            reminder.status = Reminder.Status.UNDELIVERED
            reminder.bounced_at = received_at
            reminder.bounce_reason = why
            reminder.save(update_fields=["status", "bounced_at", "bounce_reason"])
        not_received = _not_received(reminder, invoices) if previous == Reminder.Status.SENT else []
        events: list[NewEvent] = [kinds.reminder_undelivered(
            customer_id=reminder.customer_id, reminder_id=reminder.pk, message_id=reminder.message_id,
            recipients=list(recipients), status=status, reason=reason, diagnostic=diagnostic, received_at=received_at,
            previous_status=previous, actor=actor, not_received=not_received)]
        addresses = _failed_addresses(reminder, recipients)
        candidates = [c.pk for c in Contact.objects.filter(organisation=organisation, customer_id=reminder.customer_id)
                      .exclude(email="") if c.email.strip().lower() in addresses]
        flagged: list[int] = []
        for contact in lock_rows(Contact, candidates, organisation=organisation):
            if contact.email_bounced_at is not None or contact.email.strip().lower() not in addresses:
                continue  # flagged already (another reminder's bounce), or changed meanwhile
            contact.email_bounced_at = received_at
            contact.email_bounce_reason = why
            contact.save(update_fields=["email_bounced_at", "email_bounce_reason"])
            flagged.append(contact.pk)
            events.append(kinds.contact_email_bounced(customer_id=reminder.customer_id, contact=contact.pk,
                                                      email=contact.email, reason=why, reminder_id=reminder.pk,
                                                      actor=actor))
        record_many(organisation, events)
    return BounceOutcome(reminder.pk, reminder.customer_id, tuple(flagged), UNDELIVERED)


def _not_received(reminder: Reminder, invoices: Sequence[Invoice]) -> list[str]:
    """A reminder that never arrived is not one the customer received: its invoices' count of
    reminders received (``Invoice.reminders_received``, what « nos précédentes relances » may
    claim) loses it, so that no later message speaks of it. The sequence still goes on after its
    step (the next one, by letter since the address failed); a firmer rank reached stays reached
    (no softer message after it). The numbers of the invoices corrected."""
    step = reminder.step
    if step is None or reminder.kind not in ESCALATING or stage(step.spec()) not in (Stage.REMINDER,
                                                                                   Stage.FORMAL_NOTICE):
        return []
    changed = [i for i in invoices if i.reminders_received > 0]
    for invoice in changed:
        invoice.reminders_received -= 1
    Invoice.objects.bulk_update(changed, ["reminders_received"])
    return [i.number for i in changed]


def _delayed(organisation: Organisation, reminder: Reminder, *, recipients: Sequence[str], permanent: bool,
             final: bool, reason: str, status: str, diagnostic: str, received_at: datetime,
             actor: str) -> BounceOutcome:
    """A delay notice or a transient failure: one event, once per notice (the same notice read
    twice — same moment, status and recipients — records nothing more)."""
    event = kinds.reminder_delivery_delayed(
        customer_id=reminder.customer_id, reminder_id=reminder.pk, message_id=reminder.message_id,
        recipients=list(recipients), status=status, reason=reason, diagnostic=diagnostic, final=final,
        permanent=permanent, received_at=received_at, actor=actor)
    key = json.loads(json.dumps({"recipients": list(recipients), "status": status, "received_at": received_at},
                                default=str))  # as the JSON column gives it back
    with transaction.atomic():
        lock_organisation(organisation)
        stored = Event.objects.filter(organisation=organisation, kind=kinds.REMINDER_DELIVERY_DELAYED,
                                      reminder_id_ref=reminder.pk).values_list("data", flat=True)
        if any({k: data.get(k) for k in key} == key for data in stored):
            return BounceOutcome(reminder.pk, reminder.customer_id, (), ALREADY_RECORDED)
        record_many(organisation, [event])
    return BounceOutcome(reminder.pk, reminder.customer_id, (), DELAYED)
