"""Which customer, and which reminder, a message answers.

In this order (the first that finds wins):

1. **the thread**: a Message-ID of ``In-Reply-To`` or ``References`` is one of our reminders'
   (``Reminder.message_id``, ``relance.channels.email.message_id``) — the reply to a reminder
   keeps these headers in every common client;
2. **the tagged address**: the message was written to the reply address with the reminder's tag
   (``recouvrement+<16 hex of its key>@…``, ``channels.email.reply_address``, when the
   organisation set ``reply_tag_separator``), which survives a client that drops
   the thread headers;
3. **the sender** is the email of contacts of exactly one customer (no reminder then).

Anything else waits « à rattacher » for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

from relance.core.replies.envelope import Envelope, tag_of
from relance.dunning.models import Reminder
from relance.ledger.models import Contact, Customer, Organisation

from ..models import Reply

_TAG = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Attachment:
    customer: Customer | None
    reminder: Reminder | None
    by: str
    candidates: tuple[int, ...] = ()  # customers sharing the sender's address


#: a case's file sent to its lawyer or agency: their answer is not the debtor's reply (« à rattacher »)
NOT_THE_DEBTOR = Reminder.Kind.CASE_HANDOVER


def _by_thread(organisation: Organisation, envelope: Envelope) -> Reminder | None:
    if not envelope.answers:
        return None
    wanted = Q()
    for answer in envelope.answers[:50]:
        wanted |= Q(message_id__iexact=f"<{answer}>")
    found = {r.message_id.strip("<>").lower(): r for r in
             Reminder.objects.filter(wanted, organisation=organisation).exclude(kind=NOT_THE_DEBTOR)
             .select_related("customer")}
    for answer in envelope.answers:  # In-Reply-To first, then the newest reference
        if answer in found:
            return found[answer]
    return None


def _by_tag(organisation: Organisation, envelope: Envelope) -> Reminder | None:
    separator = organisation.reply_tag_separator
    base = (organisation.reply_to_email or organisation.sender_email or "").split("@", 1)[0]
    if not separator or not base:
        return None
    for address in envelope.recipients:
        tag = tag_of(address, base, separator).lower()
        if _TAG.match(tag):
            reminder = (Reminder.objects.filter(organisation=organisation, idempotency_key__startswith=tag)
                        .exclude(kind=NOT_THE_DEBTOR).select_related("customer").order_by("pk").first())
            if reminder is not None:
                return reminder
    return None


def _by_sender(organisation: Organisation, envelope: Envelope) -> tuple[Customer | None, tuple[int, ...]]:
    if not envelope.sender:
        return None, ()
    ids = sorted(set(Contact.objects.filter(organisation=organisation, email__iexact=envelope.sender)
                     .values_list("customer_id", flat=True)))
    if len(ids) == 1:
        return Customer.objects.get(pk=ids[0]), ()
    return None, tuple(ids)


def attach(organisation: Organisation, envelope: Envelope) -> Attachment:
    reminder = _by_thread(organisation, envelope)
    if reminder is not None:
        return Attachment(reminder.customer, reminder, Reply.AttachedBy.THREAD)
    reminder = _by_tag(organisation, envelope)
    if reminder is not None:
        return Attachment(reminder.customer, reminder, Reply.AttachedBy.TAG)
    customer, candidates = _by_sender(organisation, envelope)
    if customer is not None:
        return Attachment(customer, None, Reply.AttachedBy.SENDER)
    return Attachment(None, None, Reply.AttachedBy.NONE, candidates)
