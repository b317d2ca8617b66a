"""Back-office: the organisations' bank accounts (registered here before their statements are
imported), and the imported statements and lines, read-only (a line changes only through the
review list, which records the events)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import BankAccount, BankTransaction, StatementFile


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ("organisation", "label", "iban", "account_id", "created_at")
    list_filter = ("organisation",)
    search_fields = ("label", "iban", "account_id")

    def save_model(self, request: HttpRequest, obj: BankAccount, form: Any, change: bool) -> None:
        obj.iban = "".join(obj.iban.split()).upper()
        obj.account_id = obj.account_id.strip()
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatementFile)
class StatementFileAdmin(ReadOnlyAdmin):
    list_display = ("filename", "organisation", "format", "imported_at", "actor")
    list_filter = ("organisation", "format")
    search_fields = ("filename", "sha256")


@admin.register(BankTransaction)
class BankTransactionAdmin(ReadOnlyAdmin):
    list_display = ("booking_date", "amount", "currency", "counterparty_name", "status", "method", "organisation")
    list_filter = ("organisation", "status", "method")
    search_fields = ("counterparty_name", "counterparty_iban", "remittance", "end_to_end_id", "structured_reference")
    list_select_related = ("organisation",)
