"""The event log in the back-office: shown, never added to, changed or deleted (it is
append-only and hash-chained; ``relance.events.services.verify_chain`` checks it)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = [
        "seq", "organisation", "kind", "occurred_at", "customer_id_ref", "invoice_id_ref", "reminder_id_ref", "actor",
    ]
    list_display_links = ["seq", "kind"]
    list_filter = ["organisation", "kind", "actor"]
    search_fields = ["kind", "actor", "hash"]
    list_select_related = ["organisation"]
    date_hierarchy = "occurred_at"
    ordering = ["organisation", "-seq"]
    fields = readonly_fields = (
        "organisation",
        "seq",
        "kind",
        "occurred_at",
        "customer_id_ref",
        "invoice_id_ref",
        "reminder_id_ref",
        "actor",
        "data_pretty",
        "prev_hash",
        "hash",
    )

    @admin.display(description="données")
    def data_pretty(self, obj: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False, sort_keys=True))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
