"""Speaking to a person: the title a contact's civility gives, the greeting of an email or a
letter, the addressee of a letter, and who signs a customer's messages.

The civility is typed freely (« Mme », « Madame », « M. », « Monsieur », « Mlle »…): it is read as
a title only when it is one we know; otherwise the message does not guess (« Madame, Monsieur, »).
A contact is *named* when it has a last name and a first name or a known title: a contact recorded
as « Comptabilité » alone is a service, not a person, and is not greeted by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from relance.ledger.models import Contact, Customer, Membership, Organisation

#: civility as typed (lower case, without the final dot) → French title
_FR_TITLES = {
    "m": "Monsieur", "mr": "Monsieur", "monsieur": "Monsieur",
    "mme": "Madame", "mrs": "Madame", "ms": "Madame", "miss": "Madame", "madame": "Madame", "mlle": "Madame",
    "mademoiselle": "Madame",
    "me": "Maître", "maître": "Maître", "maitre": "Maître",
    "dr": "Docteur", "docteur": "Docteur",
}
#: French title → English one (Maître has none: the name alone)
_EN_TITLES = {"Monsieur": "Mr", "Madame": "Ms", "Docteur": "Dr"}
#: English civilities kept as typed
_EN_KEPT = {"mrs": "Mrs", "miss": "Miss"}

UNNAMED = {"fr": "Madame, Monsieur", "en": "Sir or Madam"}


def title(civility: str, language: str = "fr") -> str:
    """« Madame », « Monsieur »… (« Ms », « Mr », « Dr » in English) of a civility; "" when unknown."""
    typed = civility.strip().rstrip(".").lower()
    french = _FR_TITLES.get(typed, "")
    if language == "en":
        return _EN_KEPT.get(typed) or _EN_TITLES.get(french, "")
    return french


def is_named(contact: Contact | None) -> bool:
    """Whether the contact is a person the message may greet by name."""
    if contact is None or not contact.last_name.strip():
        return False
    return bool(contact.first_name.strip() or title(contact.civility))


def appellation(contact: Contact | None, language: str = "fr") -> str:
    """The formal appellation, without comma: « Madame » (« Nous vous prions d’agréer, Madame, … »),
    « Madame, Monsieur » without a named contact of known civility. English: « Ms Lefèvre »."""
    if language == "en":
        if is_named(contact):
            assert contact is not None
            honorific = title(contact.civility, "en")
            return f"{honorific} {contact.last_name.strip()}" if honorific else contact.full_name
        return UNNAMED["en"]
    french = title(contact.civility) if contact is not None and is_named(contact) else ""
    return french or UNNAMED["fr"]


def greeting(contact: Contact | None, language: str = "fr", letter: bool = False) -> str:
    """The first line of a message, with its comma.

    French email: « Bonjour Madame Lefèvre, » (« Bonjour Claire Lefèvre, » without a known title);
    French letter: « Madame, » — the name is in the address block. Without a named contact:
    « Madame, Monsieur, ». English, both channels: « Dear Ms Lefèvre, », « Dear Sir or Madam, »."""
    if not is_named(contact):
        return f"Dear {UNNAMED['en']}," if language == "en" else f"{UNNAMED['fr']},"
    assert contact is not None
    if language == "en":
        return f"Dear {appellation(contact, 'en')},"
    french = title(contact.civility)
    if letter:
        return f"{french or UNNAMED['fr']},"
    return f"Bonjour {french} {contact.last_name.strip()}," if french else f"Bonjour {contact.full_name},"


def addressee(contact: Contact, language: str = "fr") -> str:
    """The person as written on an envelope: « Madame Claire Lefèvre » (« Ms Claire Lefèvre »)."""
    return " ".join(x for x in (title(contact.civility, language), contact.full_name) if x) or contact.full_name


@dataclass(frozen=True)
class Signatory:
    """Who signs a message: a name and a function (either may be empty)."""

    name: str
    title: str = ""

    def lines(self) -> list[str]:
        return [x for x in (self.name, self.title) if x]


def organisation_signatory(organisation: Organisation) -> Signatory:
    return Signatory(organisation.signature_name.strip(), organisation.signature_title.strip())


def _collector_signatory(membership: Membership | None, organisation: Organisation) -> Signatory:
    name = membership.user.get_full_name().strip() if membership is not None else ""
    if not name:  # a user without a name (a login only) does not sign: the organisation's signatory does
        return organisation_signatory(organisation)
    assert membership is not None
    return Signatory(name, membership.job_title.strip())


def signatory_for(organisation: Organisation, customer: Customer | None) -> Signatory:
    """The collector assigned to the customer (their name and, from their membership of the
    organisation, their function), else the organisation's signatory. A collector who is no
    longer a member of the organisation, or has no name, does not sign."""
    if customer is None or customer.collector_id is None:
        return organisation_signatory(organisation)
    membership = (Membership.objects.filter(organisation=organisation, user_id=customer.collector_id)
                  .select_related("user").first())
    return _collector_signatory(membership, organisation)


def signatories_for(organisation: Organisation, customers: Iterable[Customer]) -> dict[int, Signatory]:
    """:func:`signatory_for` of several customers (by customer id), in one query."""
    customers = list(customers)
    collectors = {c.collector_id for c in customers if c.collector_id is not None}
    memberships = {m.user_id: m for m in Membership.objects.filter(organisation=organisation, user_id__in=collectors)
                   .select_related("user")} if collectors else {}
    return {c.pk: _collector_signatory(memberships.get(c.collector_id), organisation) if c.collector_id is not None
            else organisation_signatory(organisation) for c in customers}
