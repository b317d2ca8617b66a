from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import DayRun


@admin.register(DayRun)
class DayRunAdmin(admin.ModelAdmin):
    """The scheduler's days, read only: what ran, when, by which worker, the days missed before."""

    list_display = ["day", "organisation", "status", "attempts", "worker", "started_at", "finished_at", "digest_sent_at"]
    list_filter = ["status", "organisation"]
    date_hierarchy = "day"
    readonly_fields = [f.name for f in DayRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
