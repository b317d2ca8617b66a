"""« Utilisateurs » : members of the organisation and their roles (administrators only),
and the assignment of a customer to a collector. Thin views over ledger.services.members."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from relance.actors import actor_of
from relance.errors import InvalidInput, RelanceError
from relance.ledger import queries as ledger
from relance.ledger.models import Membership
from relance.ledger.services import members as service

from .rendering import render_page
from .scoping import Scope, scope


class AddMemberForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Identifiant"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Rôle"), choices=Membership.Role.choices, initial=Membership.Role.COLLECTOR)
    email = forms.EmailField(label=gettext_lazy("Adresse électronique"), required=False)
    first_name = forms.CharField(label=gettext_lazy("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Nom"), max_length=150, required=False)
    password = forms.CharField(label=gettext_lazy("Mot de passe (nouveau compte)"), required=False,
                               widget=forms.PasswordInput, strip=False)


def _admin_scope(request: HttpRequest) -> Scope:
    sc = scope(request)
    if not sc.is_admin:
        raise PermissionDenied(_("Réservé aux administrateurs de l’organisation."))
    return sc


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    sc = _admin_scope(request)
    org = sc.organisation
    form = AddMemberForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                form = AddMemberForm(request.POST)
                if form.is_valid():
                    d = form.cleaned_data
                    service.add_member(org, d["username"], d["role"], email=d["email"], password=d["password"],
                                       first_name=d["first_name"], last_name=d["last_name"], actor=actor_of(request))
                    messages.success(request, _("« %(username)s » a été ajouté.") % {"username": d["username"]})
                    return HttpResponseRedirect(reverse("web:members"))
                status = 400
            elif action == "role":
                service.change_role(org, _int(request.POST.get("membership")), request.POST.get("role", ""),
                                    actor=actor_of(request))
                messages.success(request, _("Rôle modifié."))
                return HttpResponseRedirect(reverse("web:members"))
            elif action == "remove":
                service.remove_member(org, _int(request.POST.get("membership")), actor=actor_of(request))
                messages.success(request, _("Membre retiré de l’organisation."))
                return HttpResponseRedirect(reverse("web:members"))
            elif action == "restriction":
                service.set_restriction(org, request.POST.get("assigned_only") == "on", actor=actor_of(request))
                messages.success(request, _("Réglage enregistré."))
                return HttpResponseRedirect(reverse("web:members"))
            else:
                status = 400
        except RelanceError as exc:
            messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
            status = exc.http_status
    context: dict[str, Any] = {"members": service.members(org), "form": form, "roles": Membership.Role.choices}
    return render_page(request, "relance/members.html", sc, context, status=status)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InvalidInput("formulaire incomplet") from None


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Give the customer to a collector, or to nobody."""
    sc = _admin_scope(request)
    customer = ledger.customer_for(sc.organisation, pk)
    raw = request.POST.get("membership", "")
    try:
        service.assign_customers(sc.organisation, [customer.pk], int(raw) if raw else None, actor=actor_of(request))
        messages.success(request, _("Attribution enregistrée."))
    except (RelanceError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("Choix invalide.")))
    return HttpResponseRedirect(reverse("web:customer", kwargs={"pk": customer.pk}))


@login_required
@require_POST
def customer_profile(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """A collector imposes a payer profile (with a reason), or gives the customer back to the rules."""
    from relance.profiles.models import PayerProfile
    from relance.profiles.services import clear_override, override_profile

    sc = scope(request)
    if not sc.can_edit:
        raise PermissionDenied(_("Votre accès est en lecture seule."))
    customer = ledger.customer_for(sc.organisation, pk, sc.collector_id)
    raw = request.POST.get("profile", "")
    reason = request.POST.get("reason", "")
    try:
        if raw:
            profile = PayerProfile.objects.filter(organisation=sc.organisation, pk=int(raw)).first()
            if profile is None:
                raise InvalidInput("profil inconnu")
            override_profile(sc.organisation, customer, profile, reason, actor_of(request))
            messages.success(request, _("Profil « %(name)s » imposé.") % {"name": profile.name})
        else:
            clear_override(sc.organisation, customer, actor_of(request), reason)
            messages.success(request, _("Le profil suit de nouveau les chiffres du client."))
    except (RelanceError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("Choix invalide.")))
    return HttpResponseRedirect(reverse("web:customer", kwargs={"pk": customer.pk}))
