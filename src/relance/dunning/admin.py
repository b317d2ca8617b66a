"""Back-office (superusers) for scenarios, reminders, holds, promises, payment plans,
dispute reasons and call tasks.

A reminder is created by the planner and its content is evidence of what was sent:
the admin cannot add one, and what was sent (text, HTML, PDF, its hash, the message
id, the idempotency key) is read-only. Its status, next attempt and tracking number
stay editable for the operator.

The state of a hold, a promise or a plan moves only through the services (each
transition leaves an event): it is read-only here, and the actions of the lists call
those services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from relance.actors import actor_of
from relance.errors import RelanceError
from relance.ledger.admin import ScopedAdmin

from .models import (
    CallTask,
    DisputeReason,
    Hold,
    Instalment,
    PaymentPlan,
    PlanInvoice,
    Promise,
    Reminder,
    ReminderLine,
    Scenario,
    Step,
)
from .services.letters import record_delivery


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    ordering = ["position"]
    fields = ["position", "label", "offset_days", "channel", "tone", "template", "call_task", "attach_invoices"]


@admin.register(Scenario)
class ScenarioAdmin(ScopedAdmin):
    list_display = ["name", "organisation", "is_default", "thank_you", "step_count"]
    list_filter = ["organisation", "is_default"]
    search_fields = ["name", "organisation__legal_name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    inlines = [StepInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(n_steps=Count("steps"))

    @admin.display(description="étapes", ordering="n_steps")
    def step_count(self, obj: Scenario) -> int:
        return getattr(obj, "n_steps", 0)


class ReminderLineInline(admin.TabularInline):
    model = ReminderLine
    extra = 0
    fields = readonly_fields = ("invoice", "step_position", "amount_due")
    can_delete = False
    verbose_name = "facture relancée"
    verbose_name_plural = "factures relancées"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("invoice")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reminder)
class ReminderAdmin(ScopedAdmin):
    list_display = [
        "planned_for", "customer", "kind", "channel", "step", "status", "attempts", "sent_at", "organisation",
    ]
    list_display_links = ["planned_for", "customer"]
    list_filter = ["status", "channel", "kind", "organisation"]
    search_fields = [
        "customer__legal_name",
        "customer__code",
        "subject",
        "recipient",
        "idempotency_key",
        "message_id",
        "tracking_number",
    ]
    list_select_related = ["customer", "step", "organisation"]
    date_hierarchy = "planned_for"
    inlines = [ReminderLineInline]
    readonly_fields = [
        "organisation",
        "customer",
        "kind",
        "step",
        "channel",
        "idempotency_key",
        "attempts",
        "last_error",
        "sent_at",
        "recipient",
        "message_id",
        "subject",
        "body_text",
        "body_html",
        "document",
        "document_sha256",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["organisation", "customer", "kind", "step", "channel", "planned_for", "idempotency_key"]}),
        ("Envoi", {"fields": ["status", "attempts", "next_attempt_at", "last_error", "sent_at"]}),
        ("Lettre recommandée", {"fields": ["tracking_number", "received_on", "receipt_scan"]}),
        ("Message", {"fields": ["recipient", "message_id", "subject", "body_text", "body_html"]}),
        ("Courrier", {"fields": ["document", "document_sha256"]}),
        ("Suivi", {"fields": ["created_at"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Reminder, form: Any, change: bool) -> None:
        """The registered letter's proof (tracking number, receipt date, scanned receipt) goes
        through :func:`record_delivery`, as from ``relance letter`` and the pages: checked, and
        each change leaves an event; a refused one is reported and leaves the stored value."""
        changed = [f for f in DELIVERY_FIELDS if f in form.changed_data] if change and obj.pk else []
        if not changed:
            super().save_model(request, obj, form, change)
            return
        stored = Reminder.objects.get(pk=obj.pk)
        wanted = {f: getattr(obj, f) for f in changed}
        for name in changed:
            setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)
        tracking = wanted.get("tracking_number")
        received = wanted.get("received_on")
        upload = form.cleaned_data.get("receipt_scan") if "receipt_scan" in changed else None
        if ("tracking_number" in changed and not tracking) or ("received_on" in changed and received is None) or (
                "receipt_scan" in changed and not upload):
            messages.error(request, "Une preuve d’envoi ou de réception enregistrée ne s’efface pas : "
                                    "elle reste dans le journal des événements.")
            return
        try:
            saved = record_delivery(
                obj.organisation, obj.pk, tracking_number=tracking if "tracking_number" in changed else None,
                received_on=received, scan=(upload.name, upload.read()) if upload else None,
                actor=actor_of(request, "admin"),
            )
        except RelanceError as exc:
            messages.error(request, f"Lettre recommandée : {exc.message}")
            return
        for name in DELIVERY_FIELDS:
            setattr(obj, name, getattr(saved, name))


DELIVERY_FIELDS = ("tracking_number", "received_on", "receipt_scan")


def _each(request: HttpRequest, queryset: QuerySet[Any], action: Callable[[Any, str], Any], done: str) -> None:
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

        _each(request, queryset, lambda h, actor: lift(h.organisation, h, actor=actor), "suspension(s) levée(s)")

    @admin.action(description="Marquer les litiges sélectionnés comme résolus")
    def resolve_disputes(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        from .services.holds import resolve_dispute

        _each(request, queryset, lambda h, actor: resolve_dispute(h.organisation, h, actor=actor), "litige(s) résolu(s)")


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

        _each(request, queryset, lambda p, actor: cancel_promise(p.organisation, p, actor=actor, reason="admin"),
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
    actions = ["accept_plans", "cancel_plans", "issue_agreements"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposed through the service, which checks that the instalments add up

    @admin.action(description="Enregistrer l’accord du client (activer)")
    def accept_plans(self, request: HttpRequest, queryset: QuerySet[PaymentPlan]) -> None:
        from .services.plans import accept_plan

        _each(request, queryset, lambda p, actor: accept_plan(p.organisation, p, actor=actor), "échéancier(s) activé(s)")

    @admin.action(description="Annuler les échéanciers sélectionnés")
    def cancel_plans(self, request: HttpRequest, queryset: QuerySet[PaymentPlan]) -> None:
        from .services.plans import cancel_plan

        _each(request, queryset, lambda p, actor: cancel_plan(p.organisation, p, actor=actor, reason="admin"),
              "échéancier(s) annulé(s)")

    @admin.action(description="Établir la lettre d’accord (PDF)")
    def issue_agreements(self, request: HttpRequest, queryset: QuerySet[PaymentPlan]) -> None:
        from .services.plans import agreement_letter

        _each(request, queryset, lambda p, actor: agreement_letter(p.organisation, p, actor=actor),
              "lettre(s) d’accord établie(s)")


@admin.register(CallTask)
class CallTaskAdmin(ScopedAdmin):
    list_display = ["due_on", "customer", "purpose", "status", "attempt", "result", "outcome", "reminder",
                    "organisation"]
    list_filter = ["status", "purpose", "result", "organisation"]
    search_fields = ["customer__legal_name", "customer__code", "outcome", "note"]
    list_select_related = ["customer", "reminder", "reminder__customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    raw_id_fields = ["reminder", "contact"]
    date_hierarchy = "due_on"
