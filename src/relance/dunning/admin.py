"""Back-office (superusers) for scenarios, reminders, holds and call tasks.

A reminder is created by the planner and its content is evidence of what was sent:
the admin cannot add one, and what was sent (text, HTML, PDF, its hash, the message
id, the idempotency key) is read-only. Its status, next attempt and tracking number
stay editable for the operator.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest

from relance.ledger.admin import ScopedAdmin

from .models import CallTask, Hold, Reminder, ReminderLine, Scenario, Step


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
        ("Envoi", {"fields": ["status", "attempts", "next_attempt_at", "last_error", "sent_at", "tracking_number"]}),
        ("Message", {"fields": ["recipient", "message_id", "subject", "body_text", "body_html"]}),
        ("Courrier", {"fields": ["document", "document_sha256"]}),
        ("Suivi", {"fields": ["created_at"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Hold)
class HoldAdmin(ScopedAdmin):
    list_display = ["customer", "invoice", "kind", "state", "until", "reason", "created_at", "organisation"]
    list_filter = ["state", "kind", "organisation"]
    search_fields = ["customer__legal_name", "customer__code", "invoice__number", "reason"]
    list_select_related = ["customer", "invoice", "organisation"]
    autocomplete_fields = ["organisation", "customer", "invoice"]
    readonly_fields = ["created_at"]


@admin.register(CallTask)
class CallTaskAdmin(ScopedAdmin):
    list_display = ["due_on", "customer", "status", "outcome", "reminder", "organisation"]
    list_filter = ["status", "organisation"]
    search_fields = ["customer__legal_name", "customer__code", "outcome"]
    list_select_related = ["customer", "reminder", "reminder__customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    raw_id_fields = ["reminder"]
    date_hierarchy = "due_on"
