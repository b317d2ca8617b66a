"""Back-office: litigation cases, read-only (a case moves only through ``litigation.services``,
which records the events: the « Contentieux » pages and ``relance litigation``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CaseInvoice, LitigationCase


class CaseInvoiceInline(admin.TabularInline):
    model = CaseInvoice
    fields = ("invoice", "amount_due_at_opening", "formal_notice")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LitigationCase)
class LitigationCaseAdmin(admin.ModelAdmin):
    list_display = ("pk", "customer", "state", "opened_on", "filed_on", "closed_on", "outcome", "handled_by",
                    "organisation")
    list_filter = ("organisation", "state", "outcome")
    search_fields = ("customer__legal_name", "customer__code", "handled_by")
    list_select_related = ("customer", "organisation")
    inlines = [CaseInvoiceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
