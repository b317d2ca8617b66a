"""The words an organisation's messages may hold that no dictionary knows: its accepted words
(``Organisation.accepted_words``, one per line), its names (legal name, sender, signatory, city),
its members' names (collectors sign), and its customers' and contacts' names. Only the words the
dictionary rejected are looked up, in one query per table, so a correct text costs no query."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q

from relance.ledger.models import Contact, Customer, Organisation

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")


def accepted_words(organisation: Organisation | None) -> set[str]:
    """The organisation's own list and names, lower case (one query-free read of the row)."""
    if organisation is None:
        return set()
    words = {line.strip().lower() for line in (organisation.accepted_words or "").splitlines() if line.strip()}
    for text in (organisation.legal_name, organisation.legal_form, organisation.sender_name,
                 organisation.signature_name, organisation.signature_title, organisation.city,
                 organisation.address1, organisation.address2):
        words |= _words(text)
    return words


def names_among(organisation: Organisation, candidates: Iterable[str]) -> set[str]:
    """Those of ``candidates`` (words the dictionary rejected) that are a word of a customer's,
    contact's or member's name or address in this organisation, lower case."""
    wanted = {c.lower() for c in candidates if len(c) >= 2}
    if not wanted or organisation.pk is None:
        return set()
    wanted = set(sorted(wanted)[:60])  # a bound on the query; a text with more unknown words is not a letter
    found: set[str] = set()
    customers = Q()
    contacts = Q()
    users = Q()
    for word in wanted:
        customers |= Q(legal_name__icontains=word) | Q(city__icontains=word) | Q(address1__icontains=word)
        contacts |= Q(last_name__icontains=word) | Q(first_name__icontains=word) | Q(role__icontains=word)
        users |= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    rows: list[tuple[str, ...]] = [
        *Customer.objects.filter(customers, organisation=organisation).values_list(
            "legal_name", "city", "address1")[:500],
        *Contact.objects.filter(contacts, organisation=organisation).values_list(
            "last_name", "first_name", "role")[:500],
        *get_user_model().objects.filter(users, membership__organisation=organisation).values_list(
            "first_name", "last_name")[:200],
    ]
    for row in rows:
        found |= {w for text in row for w in _words(text)}
    return found & wanted


def _words(text: str | None) -> set[str]:
    return {w.lower() for w in _WORD.findall(text or "")} | {
        part.lower() for w in _WORD.findall(text or "") for part in w.split("-") if part}
