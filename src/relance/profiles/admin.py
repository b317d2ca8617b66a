"""Back-office (superusers) for payer profiles. The profile a customer was given is derived
(``services.assign_profiles``): shown, never edited. An override is set or cleared through the
service, so that the scenario follows and an event is written."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from relance.ledger.admin import ScopedAdmin

from .models import CustomerProfile, PayerProfile, ProfileOverride


@admin.register(PayerProfile)
class PayerProfileAdmin(ScopedAdmin):
    list_display = ["position", "name", "organisation", "scenario", "audience", "min_invoices",
                    "max_average_days_late", "max_share_late", "max_reminders_per_invoice"]
    list_display_links = ["position", "name"]
    list_filter = ["organisation", "audience"]
    search_fields = ["name", "organisation__legal_name"]
    list_select_related = ["organisation", "scenario"]
    autocomplete_fields = ["organisation"]
    ordering = ["organisation", "position"]
    fieldsets = [
        (None, {"fields": ["organisation", "position", "name", "scenario", "description"]}),
        ("Conditions (toutes doivent être remplies ; vide = sans condition)", {"fields": [
            "audience", "min_invoices", "min_outstanding", "max_outstanding", "max_average_days_late",
            "max_share_late", "max_reminders_per_invoice",
        ]}),
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CustomerProfile)
class CustomerProfileAdmin(ReadOnlyAdmin):
    list_display = ["customer", "profile", "assigned_on", "organisation"]
    list_filter = ["organisation", "profile"]
    search_fields = ["customer__legal_name", "customer__code"]
    list_select_related = ["customer", "profile", "organisation"]


@admin.register(ProfileOverride)
class ProfileOverrideAdmin(ReadOnlyAdmin):
    list_display = ["customer", "profile", "by", "at", "reason", "organisation"]
    list_filter = ["organisation", "profile"]
    search_fields = ["customer__legal_name", "customer__code", "reason"]
    list_select_related = ["customer", "profile", "organisation"]
