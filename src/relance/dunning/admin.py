"""Back-office (superusers) for scenarios, reminders and call tasks (holds, promises, payment
plans and dispute reasons: ``relance.holds.admin``).

A reminder is created by the planner and its content is evidence of what was sent:
the admin cannot add one, and what was sent (text, HTML, PDF, its hash, the message
id, the idempotency key) is read-only. Its status, next attempt and tracking number
stay editable for the operator.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from relance.actors import actor_of
from relance.errors import RelanceError
from relance.holds.admin import PaymentPlanAdmin, each
from relance.holds.models import PaymentPlan
from relance.ledger.admin import ScopedAdmin

from .models import CallTask, Reminder, ReminderLine, Scenario, Step
from .services.registered_mail import record_delivery


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


# The payment plans' admin is ``relance.holds.admin``; the agreement letter is composed here (a
# message template of dunning), so dunning adds its action to that admin.
class PaymentPlanLetterAdmin(PaymentPlanAdmin):
    actions = [*PaymentPlanAdmin.actions, "issue_agreements"]

    @admin.action(description="Établir la lettre d’accord (PDF)")
    def issue_agreements(self, request: HttpRequest, queryset: QuerySet[PaymentPlan]) -> None:
        from .services.plan_messages import agreement_letter

        each(request, queryset, lambda p, actor: agreement_letter(p.organisation, p, actor=actor),
             "lettre(s) d’accord établie(s)")


admin.site.unregister(PaymentPlan)
admin.site.register(PaymentPlan, PaymentPlanLetterAdmin)


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
