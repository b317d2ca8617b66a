"""The current organisation of a request.

A user belongs to organisations through ``Membership``. The current one is kept in the
session (``request.session["org_id"]``) and defaults to the user's first membership.
Every page and API call starts from here, and every query is then filtered by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Membership, Organisation

SESSION_KEY = "org_id"

NO_MEMBERSHIP = _("Votre compte n’est rattaché à aucune organisation.")


@dataclass(frozen=True)
class Scope:
    organisation: Organisation
    membership: Membership
    memberships: list[Membership]

    @property
    def organisations(self) -> list[Organisation]:
        """The user's organisations, by name (for the switcher)."""
        return sorted((m.organisation for m in self.memberships), key=lambda o: (o.legal_name.lower(), o.pk))

    @property
    def can_switch(self) -> bool:
        return len(self.memberships) > 1

    @property
    def collector_id(self) -> int | None:
        """The user whose assigned customers are the only visible ones, when the organisation
        restricts its collectors to their own customers; else ``None`` (everything visible)."""
        if self.membership.role == Membership.Role.COLLECTOR and self.organisation.collectors_see_assigned_only:
            return self.membership.user_id
        return None

    @property
    def can_edit(self) -> bool:
        return self.membership.role != Membership.Role.READ_ONLY

    @property
    def is_admin(self) -> bool:
        return self.membership.role == Membership.Role.ADMIN


def _memberships(request: HttpRequest) -> list[Membership]:
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied(_("Authentification requise."))
    return list(Membership.objects.filter(user_id=user.pk).select_related("organisation").order_by("pk"))


def scope(request: HttpRequest) -> Scope:
    """The user's current organisation and memberships (one query).

    Raises ``PermissionDenied`` (403) when the user belongs to no organisation.
    """
    memberships = _memberships(request)
    if not memberships:
        raise PermissionDenied(NO_MEMBERSHIP)
    wanted = request.session.get(SESSION_KEY)
    current = next((m for m in memberships if m.organisation_id == wanted), None)
    if current is None:
        current = memberships[0]
        request.session[SESSION_KEY] = current.organisation_id
    return Scope(current.organisation, current, memberships)


def current_organisation(request: HttpRequest) -> Organisation:
    """The organisation every query of this request must be filtered by."""
    return scope(request).organisation


def switch_organisation(request: HttpRequest, org_id: int) -> Organisation:
    """Make ``org_id`` the current organisation; 404 unless the user is a member."""
    memberships = _memberships(request)
    if not memberships:
        raise PermissionDenied(NO_MEMBERSHIP)
    membership = next((m for m in memberships if m.organisation_id == org_id), None)
    if membership is None:
        raise Http404("Organisation inconnue.")
    request.session[SESSION_KEY] = membership.organisation_id
    return membership.organisation
