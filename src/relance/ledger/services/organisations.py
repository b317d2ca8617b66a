"""Finding the organisation a command or a request works for."""

from __future__ import annotations

from relance.errors import InvalidInput, NotFound
from relance.ledger.models import Organisation


def resolve_organisation(slug: str | None) -> Organisation:
    """The organisation named by ``slug``; without one, the only organisation there is."""
    if slug:
        org = Organisation.objects.filter(slug=slug).first()
        if org is None:
            raise NotFound(f"organisation « {slug} » introuvable")
        return org
    orgs = list(Organisation.objects.all()[:2])
    if not orgs:
        raise NotFound("aucune organisation : lancez « relance demo » ou créez-en une dans l’administration")
    if len(orgs) > 1:
        raise InvalidInput("plusieurs organisations : précisez laquelle avec --org")
    return orgs[0]
