"""A contact's address changed: the flag of an address returned for good is cleared (issue #15).

A permanent bounce flags the contact whose address failed (``Contact.email_bounced_at``, set by
``dunning.services.bounces``): no email goes to it any more. Once someone gives another address —
the admin, a CSV import of customers or contacts — the flag is cleared and the log says so
(``contact.email_restored``). The same address typed again keeps the flag.

:func:`clear_bounce` does it on a contact in memory and returns the event for the caller to
record in its own transaction (an import); :func:`save_contact` saves one contact and records
it (the admin).
"""

from __future__ import annotations

from django.db import transaction

from relance.events import kinds
from relance.events.services import NewEvent, record_many

from ..models import Contact


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def clear_bounce(contact: Contact, previous_email: str, *, actor: str = kinds.SYSTEM) -> NewEvent | None:
    """When ``contact`` is flagged and its address is no longer ``previous_email``: the flag is
    cleared (in memory: the caller saves ``email_bounced_at`` and ``email_bounce_reason``) and
    the ``contact.email_restored`` event returned; ``None`` otherwise."""
    if contact.email_bounced_at is None or _same(contact.email, previous_email):
        return None
    event = kinds.contact_email_restored(
        customer_id=contact.customer_id, contact=contact.pk, previous_email=previous_email, email=contact.email,
        bounced_at=contact.email_bounced_at, reason=contact.email_bounce_reason, actor=actor)
    contact.email_bounced_at = None
    contact.email_bounce_reason = ""
    return event


def save_contact(contact: Contact, *, actor: str = kinds.SYSTEM) -> Contact:
    """Save ``contact`` as edited; a flagged address that changed is cleared, with its event."""
    with transaction.atomic():
        previous = (Contact.objects.filter(pk=contact.pk).values_list("email", "email_bounced_at",
                                                                       "email_bounce_reason").first()
                    if contact.pk else None)
        event = None
        if previous is not None:
            # the flag as stored (a form does not carry it), then the address as typed
            contact.email_bounced_at, contact.email_bounce_reason = previous[1], previous[2]
            event = clear_bounce(contact, previous[0], actor=actor)
        contact.save()
        if event is not None:
            record_many(contact.organisation, [event])
    return contact
