"""Users and roles of an organisation: administrators manage the members, their roles
(administrateur, chargé de recouvrement, lecture seule) and which collector follows which
customer. Every change is an event of the organisation's journal."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Customer, Membership, Organisation

ROLES = {r.value for r in Membership.Role}


def _role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"rôle « {role} » inconnu : {', '.join(sorted(ROLES))}")
    return role


def members(organisation: Organisation) -> list[Membership]:
    return list(Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__username"))


def add_member(organisation: Organisation, username: str, role: str, *, email: str = "", password: str = "",
               first_name: str = "", last_name: str = "", actor: str) -> Membership:
    """Add an existing user, or create one (a password is then required and validated by
    Django's password validators)."""
    username = username.strip()
    if not username:
        raise InvalidInput("identifiant manquant")
    _role(role)
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        created = user is None
        if user is None:
            if not password:
                raise InvalidInput(f"« {username} » n’existe pas encore : choisissez-lui un mot de passe")
            candidate = User(username=username, email=email, first_name=first_name, last_name=last_name)
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                raise InvalidInput("mot de passe refusé : " + " ".join(exc.messages)) from exc
            candidate.set_password(password)
            candidate.save()
            user = candidate
        if Membership.objects.filter(organisation=organisation, user=user).exists():
            raise Conflict(f"« {username} » est déjà membre de {organisation.legal_name}")
        membership = Membership.objects.create(organisation=organisation, user=user, role=role)
        record_many(organisation, [kinds.member_added(user=username, role=role, new_account=created, actor=actor)])
    return membership


def _membership(organisation: Organisation, membership_id: int) -> Membership:
    m = Membership.objects.filter(organisation=organisation, pk=membership_id).select_related("user").first()
    if m is None:
        raise NotFound("membre introuvable")
    return m


def _keep_an_admin(organisation: Organisation, leaving: Membership) -> None:
    if leaving.role == Membership.Role.ADMIN and not Membership.objects.filter(
            organisation=organisation, role=Membership.Role.ADMIN).exclude(pk=leaving.pk).exists():
        raise Conflict("l’organisation doit garder au moins un administrateur")


def change_role(organisation: Organisation, membership_id: int, role: str, *, actor: str) -> Membership:
    with transaction.atomic():
        m = _membership(organisation, membership_id)
        if m.role == _role(role):
            return m
        if role != Membership.Role.ADMIN:
            _keep_an_admin(organisation, m)
        before, m.role = m.role, role
        m.save(update_fields=["role"])
        record_many(organisation, [kinds.member_role_changed(user=m.user.get_username(), from_=before, to=role,
                                                             actor=actor)])
    return m


def remove_member(organisation: Organisation, membership_id: int, *, actor: str) -> None:
    with transaction.atomic():
        m = _membership(organisation, membership_id)
        _keep_an_admin(organisation, m)
        Customer.objects.filter(organisation=organisation, collector_id=m.user_id).update(collector=None)
        m.delete()
        record_many(organisation, [kinds.member_removed(user=m.user.get_username(), actor=actor)])


def set_restriction(organisation: Organisation, restricted: bool, *, actor: str) -> None:
    if organisation.collectors_see_assigned_only == restricted:
        return
    organisation.collectors_see_assigned_only = restricted
    organisation.save(update_fields=["collectors_see_assigned_only"])
    record_many(organisation, [kinds.organisation_collector_restriction(assigned_only=restricted, actor=actor)])


def assign_customers(organisation: Organisation, customer_ids: Sequence[int], collector_membership_id: int | None,
                     *, actor: str) -> int:
    """Give customers to a collector (``None``: to nobody). Returns how many changed."""
    user_id = None
    username = ""
    if collector_membership_id is not None:
        m = _membership(organisation, collector_membership_id)
        if m.role == Membership.Role.READ_ONLY:
            raise InvalidInput(f"« {m.user.get_username()} » est en lecture seule : il ne peut pas suivre de clients")
        user_id, username = m.user_id, m.user.get_username()
    with transaction.atomic():
        changed = list(Customer.objects.filter(organisation=organisation, pk__in=list(customer_ids))
                       .exclude(collector_id=user_id).values_list("pk", flat=True))
        Customer.objects.filter(pk__in=changed).update(collector_id=user_id)
        record_many(organisation, [kinds.customer_assigned(customer_id=pk, collector=username or None, actor=actor)
                                   for pk in changed])
    return len(changed)
