"""Finding the organisation a command or a request works for."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from relance.errors import Conflict, InvalidInput, NotFound
from relance.ledger.models import Membership, Organisation
from relance.ledger.signals import organisation_created


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


def create_organisation(slug: str | None, name: str | None, admins: Sequence[str] = (), **fields: str) -> Organisation:
    """Create a creditor organisation; fields are validated (SIREN and IBAN with python-stdnum).
    The apps above the ledger hear ``organisation_created`` in the same transaction and install
    their defaults (the French scenario, the payer profiles)."""
    if not slug or not name:
        raise InvalidInput("indiquez l’identifiant et la raison sociale : relance orgs add SLUG --name \"…\"")
    if Organisation.objects.filter(slug=slug).exists():
        raise Conflict(f"l’organisation « {slug} » existe déjà")
    org = Organisation(slug=slug, legal_name=name, **{k: v for k, v in fields.items() if v})
    org.sender_name = org.sender_name or name
    try:
        org.full_clean()
    except ValidationError as exc:
        raise InvalidInput("; ".join(f"{k} : {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
    users = []
    for username in admins:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise NotFound(f"utilisateur « {username} » introuvable (créez-le avec « relance createsuperuser »)")
        users.append(user)
    with transaction.atomic():
        org.save()
        organisation_created.send(sender=Organisation, organisation=org, actor="system")
        Membership.objects.bulk_create([Membership(user=u, organisation=org, role=Membership.Role.ADMIN) for u in users])
    return org


def set_schedule(slug: str | None, *, run_at: str | None = None, timezone: str | None = None) -> Organisation:
    """Change the hour (``HH:MM``, local) and/or the time zone of an organisation's daily run."""
    from datetime import time
    from zoneinfo import available_timezones

    if not run_at and not timezone:
        raise InvalidInput("indiquez --heure HH:MM et/ou --fuseau Europe/Paris")
    org = resolve_organisation(slug)
    fields = []
    if run_at:
        try:
            org.run_at = time.fromisoformat(run_at.strip().replace("h", ":").rstrip(":"))
        except ValueError as exc:
            raise InvalidInput(f"heure invalide « {run_at} » : attendu HH:MM, par exemple 07:00") from exc
        fields.append("run_at")
    if timezone:
        if timezone not in available_timezones():
            raise InvalidInput(f"fuseau horaire inconnu « {timezone} » : par exemple Europe/Paris, America/Cayenne")
        org.timezone = timezone
        fields.append("timezone")
    org.save(update_fields=fields)
    return org
