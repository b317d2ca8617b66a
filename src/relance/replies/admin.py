"""Back-office: the organisation's mailbox (its settings, a connection test) and the replies,
read-only (a reply moves only through ``replies.services.review``, which records the events: the
« Réponses » pages and ``relance replies``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from relance.core.replies.inbox import CATEGORY_ACTIONS

from .imap import MailboxUnavailable, check
from .models import CATEGORIES, Mailbox, Reply
from .services.fetch import settings_of


class MailboxForm(forms.ModelForm):
    """The password is never shown back; left empty, the one stored is kept."""

    password = forms.CharField(label="mot de passe ou mot de passe d’application", required=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text="laissé vide : le mot de passe enregistré est conservé")
    automatic = forms.MultipleChoiceField(
        label="catégories appliquées sans validation", required=False, choices=CATEGORIES,
        widget=forms.CheckboxSelectMultiple,
        help_text="les autres catégories sont proposées à une personne avant tout effet")

    class Meta:
        model = Mailbox
        fields = ("organisation", "enabled", "host", "port", "security", "username", "password", "cafile", "folder",
                  "processed_folder", "every_minutes", "automatic", "paid_wait_business_days", "resend_delay_days",
                  "plan_wait_days")

    def clean_automatic(self) -> list[str]:
        chosen = self.cleaned_data.get("automatic") or []
        return [c for c in chosen if c in CATEGORY_ACTIONS]

    def clean_password(self) -> str:
        typed = self.cleaned_data.get("password") or ""
        return typed or (self.instance.password if self.instance.pk else "")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ("organisation", "username", "host", "port", "security", "folder", "enabled", "last_fetch_at",
                    "last_error")
    readonly_fields = ("last_fetch_at", "last_error", "uidvalidity", "last_uid")
    actions = ["test_connection"]

    @admin.action(description="Tester la connexion")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        for mailbox in queryset:
            try:
                result = check(settings_of(mailbox))
            except (MailboxUnavailable, ValueError) as exc:
                self.message_user(request, f"{mailbox} : {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{mailbox} : connexion réussie, {result['messages']} message(s) dans "
                                           f"le dossier « {mailbox.folder} ».", messages.SUCCESS)


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("received_at", "sender", "customer", "subject", "category", "state", "kind", "organisation")
    list_filter = ("organisation", "state", "category", "kind")
    search_fields = ("sender", "subject", "customer__legal_name", "customer__code", "message_key")
    list_select_related = ("customer", "organisation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
