"""A copy of invoices the customer says never reached them (a reply « je n’ai jamais reçu la
facture », ``replies.services.effects``), sent through the dispatcher like every message.

The copy is an ``invoice_copy`` reminder planned outside the scenario (``off_scenario.plan_message``:
once per key, the customer's last contact becomes today) and put on the task queue at once
(``queue.queue_send``, in the caller's transaction), so that it leaves within minutes through a
worker, not with the next day's run. The dispatcher re-checks it at send time (the invoices still
open; the customer's pause does not stop it — that pause is the new delay the reply gave),
composes it with the template :data:`COPY_TEMPLATE` and the invoices' PDFs attached, sends it once
and records ``invoice_copy.sent``. It is not a scenario step: no rank, no stage, not a reminder
received by the invoices, nothing for the escalation audit.

What is copied is the invoice's own PDF (``Invoice.pdf``, imported or uploaded): relance does not
render an invoice of its own — it knows the totals, not the lines, and a second document with the
same number would not be the invoice. An invoice without its PDF is not copied; the caller keeps
its task « renvoyer » for it. Nothing is planned when the customer cannot be written to by email
(no usable address, or letters preferred): the caller keeps the task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from relance.core.policy import Channel
from relance.dunning.models import Reminder
from relance.ledger.models import Customer, Invoice, Organisation

from .off_scenario import channel_for, plan_message
from .queue import queue_send

#: the template of the email carrying the copy (``message_templates/<langue>/copie_facture.txt``)
COPY_TEMPLATE = "copie_facture"


def copy_key(organisation_id: int, key: str) -> str:
    """The reminder's idempotency key for the caller's ``key`` (hashed like every key: it seeds the
    Message-ID and the tagged reply address)."""
    return hashlib.sha256(f"relance:invoice-copy:{organisation_id}:{key}".encode()).hexdigest()[:32]


def copiable(invoices: Sequence[Invoice]) -> list[Invoice]:
    """The invoices a copy can carry: still open, with their PDF."""
    return [i for i in invoices if i.status == Invoice.Status.OPEN and i.pdf]


def plan_invoice_copy(organisation: Organisation, customer: Customer, invoices: Sequence[Invoice], *, key: str,
                      today: date, actor: str) -> Reminder | None:
    """Plan and queue the email carrying a copy of ``invoices`` (those :func:`copiable`), in the
    caller's transaction; the reminder, or ``None`` when no copy can go (no usable email address,
    letters preferred, or no open invoice with its PDF: keep a task for a person).

    Idempotent on ``key`` (a reply: ``f"copie:{reply_id}"``): asked again, the reminder already
    planned — or sent, or cancelled — under that key is returned and nothing more is planned nor
    queued (to send again after a cancellation, the caller gives a new key: ``replies`` counts its
    rounds)."""
    idempotency_key = copy_key(organisation.pk, key)
    existing = Reminder.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    if channel_for(customer) != Channel.EMAIL:
        return None
    sendable = copiable(invoices)
    if not sendable:
        return None
    reminder = plan_message(organisation, customer, Reminder.Kind.INVOICE_COPY, idempotency_key, today, sendable,
                            label=str(Reminder.Kind.INVOICE_COPY.label), actor=actor)
    if reminder is None:  # planned meanwhile under the same key
        return Reminder.objects.get(idempotency_key=idempotency_key)
    queue_send(reminder.pk)
    return reminder
