"""Back-office (superusers) for holds, promises, payment plans and dispute reasons.

The state of a hold, a promise or a plan moves only through the services (each transition
leaves an event): it is read-only here, and the actions of the lists call those services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from relance.actors import actor_of
from relance.errors import RelanceError
from relance.ledger.admin import ScopedAdmin

from .models import DisputeReason, Hold, Instalment, PaymentPlan, PlanInvoice, Promise


def each(request: HttpRequest, queryset: QuerySet[Any], action: Callable[[Any, str], Any], done: str) -> None:
    """Run a service on each selected object; a refused transition is reported, not raised."""
    ok = 0
    for obj in queryset:
        try:
            action(obj, actor_of(request, "admin"))
            ok += 1
        except RelanceError as exc:
            messages.error(request, f"{obj} : {exc.message}")
    if ok:
        messages.success(request, f"{ok} {done}")


@admin.register(Hold)
class HoldAdmin(ScopedAdmin):
    list_display = ["customer", "invoice", "kind", "state", "until", "reason", "created_at", "organisation"]
    list_filter = ["state", "kind", "organisation"]
    search_fields = ["customer__legal_name", "customer__code", "invoice__number", "reason", "note"]
    list_select_related = ["customer", "invoice", "organisation"]
    autocomplete_fields = ["organisation", "customer", "invoice"]
    raw_id_fields = ["promise", "plan"]
    readonly_fields = ["state", "created_at", "created_by", "ended_on", "ended_by"]
    actions = ["lift_holds", "resolve_disputes"]

    @admin.action(description="Lever les pauses et arrêts sélectionnés")
    def lift_holds(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        from .services.holds import lift

        each(request, queryset, lambda h, actor: lift(h.organisation, h, actor=actor), "suspension(s) levée(s)")

    @admin.action(description="Marquer les litiges sélectionnés comme résolus")
    def resolve_disputes(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        from .services.holds import resolve_dispute

        each(request, queryset, lambda h, actor: resolve_dispute(h.organisation, h, actor=actor), "litige(s) résolu(s)")


@admin.register(DisputeReason)
class DisputeReasonAdmin(ScopedAdmin):
    list_display = ["label", "code", "position", "is_active", "organisation"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "organisation"]
    search_fields = ["label", "code"]
    autocomplete_fields = ["organisation"]


class PromiseHoldInline(admin.TabularInline):
    model = Hold
    fk_name = "promise"
    extra = 0
    fields = readonly_fields = ("invoice", "state", "until")
    can_delete = False
    verbose_name = "facture couverte"
    verbose_name_plural = "factures couvertes"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Promise)
class PromiseAdmin(ScopedAdmin):
    list_display = ["customer", "promised_on", "amount", "obtained_via", "obtained_by", "state", "grace_until",
                    "organisation"]
    list_filter = ["state", "obtained_via", "organisation"]
    search_fields = ["customer__legal_name", "customer__code", "obtained_by", "note"]
    list_select_related = ["customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    readonly_fields = ["state", "covered_due", "grace_until", "closed_on", "created_at"]
    inlines = [PromiseHoldInline]
    actions = ["cancel_promises"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded through the service, which puts the holds on the invoices

    @admin.action(description="Annuler les promesses sélectionnées")
    def cancel_promises(self, request: HttpRequest, queryset: QuerySet[Promise]) -> None:
        from .services.holds import cancel_promise

        each(request, queryset, lambda p, actor: cancel_promise(p.organisation, p, actor=actor, reason="admin"),
             "promesse(s) annulée(s)")


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0
    fields = ("position", "due_on", "amount", "paid_amount", "credited_amount", "paid_on", "reminded_on", "missed_on")
    readonly_fields = ("paid_amount", "credited_amount", "paid_on", "reminded_on", "missed_on")


class PlanInvoiceInline(admin.TabularInline):
    model = PlanInvoice
    extra = 0
    fields = readonly_fields = ("invoice", "amount_due_at_start")
    can_delete = False
    verbose_name_plural = "factures de l’échéancier"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ScopedAdmin):
    list_display = ["__str__", "customer", "total", "state", "proposed_on", "accepted_on", "ended_on", "organisation"]
    list_filter = ["state", "waive_penalties", "organisation"]
    search_fields = ["customer__legal_name", "customer__code", "note"]
    list_select_related = ["customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    readonly_fields = ["state", "total", "proposed_on", "accepted_on", "ended_on", "created_by", "allocation_watermark",
                       "agreement", "agreement_sha256", "created_at"]
    inlines = [PlanInvoiceInline, InstalmentInline]
    actions = ["accept_plans", "cancel_plans"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposed through the service, which checks that the instalments add up

    @admin.action(description="Enregistrer l’accord du client (activer)")
    def accept_plans(self, request: HttpRequest, queryset: QuerySet[PaymentPlan]) -> None:
        from .services.plans import accept_plan

        each(request, queryset, lambda p, actor: accept_plan(p.organisation, p, actor=actor), "échéancier(s) activé(s)")

    @admin.action(description="Annuler les échéanciers sélectionnés")
    def cancel_plans(self, request: HttpRequest, queryset: QuerySet[PaymentPlan]) -> None:
        from .services.plans import cancel_plan

        each(request, queryset, lambda p, actor: cancel_plan(p.organisation, p, actor=actor, reason="admin"),
             "échéancier(s) annulé(s)")
