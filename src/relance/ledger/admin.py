"""Back-office (superusers) for the ledger. Querysets here are not scoped to an
organisation: the admin is for the operator of the installation, not for collectors.

What is derived stays read-only: an invoice's amount due, status, settlement date and
dunning facts are computed (``ledger.services.balances``, the planner), and an issued
invoice's amount is never edited (a correction is a credit note). Allocations
(lettrage) are written by the payment import only: they are shown, never added or
edited here; deleting one (or the payment or credit note it comes from) recomputes the
balances of the invoices concerned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from relance.actors import actor_of

from .models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    ImportBatch,
    Invoice,
    Membership,
    Organisation,
    Payment,
    RecoveryCost,
)
from .services.contacts import save_contact
from .services.references import assign_references

admin.site.site_header = "Relance — administration"
admin.site.site_title = "Relance"
admin.site.index_title = "Administration"

OTHER_ORGANISATION = "Cet élément appartient à une autre organisation."


class SameOrganisationForm(forms.ModelForm):
    """Refuses a related object (customer, invoice, scenario…) of another organisation
    than the edited object's: the admin must not break the scoping invariant."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organisation = cleaned.get("organisation")
        if organisation is None and getattr(self.instance, "organisation_id", None):
            organisation_id = self.instance.organisation_id
        else:
            organisation_id = getattr(organisation, "pk", None)
        if organisation_id is None:
            return cleaned
        for name, value in list(cleaned.items()):
            if name == "organisation" or value is None:
                continue
            other = getattr(value, "organisation_id", None)
            if other is not None and other != organisation_id:
                self.add_error(name, OTHER_ORGANISATION)
        return cleaned


class ScopedAdmin(admin.ModelAdmin):
    form = SameOrganisationForm


def refresh_invoices_after(
    allocations: QuerySet[Allocation], action: Callable[[], Any], actor: str
) -> None:
    """Run ``action`` (a deletion that cascades to ``allocations``), then recompute the
    balances of the invoices those allocations were applied to."""
    from .services.balances import refresh_balances  # late: keeps the admin importable on its own

    with transaction.atomic():
        touched: dict[int, set[int]] = defaultdict(set)
        for organisation_id, invoice_id in allocations.values_list("organisation_id", "invoice_id"):
            touched[organisation_id].add(invoice_id)
        action()
        for organisation in Organisation.objects.filter(pk__in=touched):
            refresh_balances(organisation, touched[organisation.pk], actor=actor)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    verbose_name = "membre"
    verbose_name_plural = "membres"


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "slug", "siren", "city", "timezone", "default_terms_days", "created_at"]
    search_fields = ["legal_name", "slug", "siren", "vat_number"]
    list_filter = ["country", "timezone"]
    prepopulated_fields = {"slug": ["legal_name"]}
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["slug", "legal_name", "legal_form", "siren", "vat_number"]}),
        ("Adresse", {"fields": ["address1", "address2", "postal_code", "city", "country"]}),
        ("Banque", {"fields": ["iban", "bic"]}),
        (
            "Expédition",
            {
                "fields": [
                    "sender_name", "sender_email", "reply_to_email", "phone",
                    "signature_name", "signature_title", "logo", "test_mode_email", "copy_other_contacts",
                ]
            },
        ),
        ("Règles", {"fields": ["timezone", "run_at", "holiday_subdivision", "default_terms_days", "min_gap_days"]}),
        (
            "Vérification d’écriture",
            {
                "fields": ["accepted_words", "writing_check_holds"],
                "description": "Les modèles et les textes modifiés sont relus avant l’envoi : les mots listés ici "
                               "(un par ligne : marques, produits, noms propres) ne sont jamais signalés.",
            },
        ),
        (
            "Conditions de règlement (retards de paiement)",
            {
                "fields": ["penalty_rate", "consumer_penalty_rate", "terms_convention", "creditor_is_individual"],
                "description": "L’indemnité forfaitaire de 40 € est due pour chaque facture payée en retard par un "
                               "professionnel (C. com. D441-5) ; les frais de recouvrement qui la dépassent se "
                               "saisissent facture par facture, avec leur justificatif, dans « Frais de recouvrement "
                               "justifiés (au-delà de 40 €) » (L441-10 II).",
            },
        ),
    ]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        """Saved as typed; a consumer clause rate that looks excessive is flagged (docs/law.md)."""
        super().save_model(request, obj, form, change)
        if obj.consumer_penalty_rate is not None:
            from relance.clock import today_for
            from relance.core.law.penalties import clause_rate_warning  # late: the admin stays light to import
            from relance.rates.services import rate_tables

            warning = clause_rate_warning(obj.consumer_penalty_rate, today_for(obj), rate_tables())
            if warning:
                messages.warning(request, warning)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "job_title"]
    list_filter = ["role", "organisation"]
    search_fields = ["user__username", "user__email", "organisation__legal_name"]
    autocomplete_fields = ["user", "organisation"]
    list_select_related = ["user", "organisation"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["civility", "first_name", "last_name", "role", "email", "phone", "is_billing", "email_bounced_at",
              "email_bounce_reason"]
    # set by a permanent bounce, cleared when the address changes (ledger.services.contacts)
    readonly_fields = ["email_bounced_at", "email_bounce_reason"]


@admin.register(Customer)
class CustomerAdmin(ScopedAdmin):
    list_display = [
        "code", "legal_name", "organisation", "is_business", "siren", "city", "preferred_channel", "scenario",
    ]
    list_display_links = ["code", "legal_name"]
    list_filter = ["organisation", "is_business", "preferred_channel", "language"]
    search_fields = ["code", "legal_name", "siren", "siret", "vat_number", "city"]
    list_select_related = ["organisation", "scenario"]
    autocomplete_fields = ["organisation", "scenario"]
    readonly_fields = ["last_contact_date", "created_at"]
    inlines = [ContactInline]
    fieldsets = [
        (None, {"fields": ["organisation", "code", "legal_name", "is_business", "legal_form"]}),
        ("Identifiants", {"fields": ["siren", "siret", "vat_number"]}),
        ("Adresse", {"fields": ["address1", "address2", "postal_code", "city", "country"]}),
        ("Relances", {"fields": ["language", "preferred_channel", "terms_days", "scenario", "last_contact_date"]}),
        ("Suivi", {"fields": ["created_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        """Saved as typed; a business without SIREN nor SIRET is flagged, as the imports do. A new
        customer gets its payment reference, as an imported one."""
        super().save_model(request, obj, form, change)
        if not obj.payment_reference:
            assign_references(obj.organisation, customer_ids=[obj.pk])
        if obj.is_business and not obj.siren and not obj.siret:
            messages.warning(request, (
                f"Client {obj.code} « {obj.legal_name} » : entreprise sans SIREN ni SIRET, à compléter (ils "
                "identifient le débiteur dans une mise en demeure ou une injonction de payer)."))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline contacts belong to the customer's organisation.
        for obj in formset.save(commit=False):
            if isinstance(obj, Contact):
                obj.organisation_id = form.instance.organisation_id
                save_contact(obj, actor=actor_of(request, "admin"))  # a new address clears a bounce's flag
            else:
                obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Contact)
class ContactAdmin(ScopedAdmin):
    list_display = ["__str__", "customer", "role", "email", "phone", "is_billing", "organisation"]
    list_filter = ["is_billing", "organisation"]
    search_fields = ["first_name", "last_name", "email", "phone", "customer__legal_name", "customer__code"]
    list_select_related = ["customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    # set by a permanent bounce, cleared when the address changes (ledger.services.contacts)
    readonly_fields = ["email_bounced_at", "email_bounce_reason"]

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        save_contact(obj, actor=actor_of(request, "admin"))


@admin.register(Invoice)
class InvoiceAdmin(ScopedAdmin):
    list_display = [
        "number",
        "customer",
        "issue_date",
        "due_date",
        "amount_incl_tax",
        "amount_due",
        "status",
        "dunning_state",
        "next_action_date",
        "organisation",
    ]
    list_filter = ["status", "dunning_state", "organisation", "currency"]
    search_fields = ["number", "description", "customer__legal_name", "customer__code"]
    list_select_related = ["customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    date_hierarchy = "due_date"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    #: Derived by the balance service and the planner: never typed in.
    derived_fields = ["amount_due", "status", "settled_on", "last_step_position", "next_action_date", "dunning_state"]
    readonly_fields = [*derived_fields, "created_at"]
    fieldsets = [
        (None, {"fields": ["organisation", "customer", "number", "description"]}),
        ("Dates", {"fields": ["issue_date", "due_date", "delivery_date"]}),
        ("Montants", {"fields": ["amount_excl_tax", "tax_amount", "amount_incl_tax", "currency"]}),
        ("Pièce", {"fields": ["pdf", "pdf_url"]}),
        ("Calculé", {"fields": [*derived_fields, "created_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # An issued invoice is corrected by a credit note, not edited.
            fields += ["organisation", "customer", "number", "currency"]
            fields += ["amount_excl_tax", "tax_amount", "amount_incl_tax"]
        return fields

    def save_model(self, request: HttpRequest, obj: Invoice, form: Any, change: bool) -> None:
        if not change:
            obj.amount_due = obj.amount_incl_tax  # nothing allocated yet
        super().save_model(request, obj, form, change)
        if not obj.payment_reference:  # a new invoice gets its payment reference, as an imported one
            assign_references(obj.organisation, [obj.pk])


@admin.register(RecoveryCost)
class RecoveryCostAdmin(ScopedAdmin):
    """Costs above the 40 € indemnity, claimed from a business debtor only on justification
    (C. com. L441-10 II): each with its invoice, amount and proof."""

    list_display = ["invoice", "incurred_on", "amount", "description", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["invoice__number", "description", "invoice__customer__legal_name"]
    list_select_related = ["invoice", "organisation"]
    autocomplete_fields = ["organisation", "invoice"]
    fields = ["organisation", "invoice", "incurred_on", "amount", "description", "proof"]


@admin.register(CreditNote)
class CreditNoteAdmin(ScopedAdmin):
    list_display = ["number", "customer", "issue_date", "amount_incl_tax", "invoice", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["number", "reason", "customer__legal_name", "customer__code", "invoice__number"]
    list_select_related = ["customer", "invoice", "organisation"]
    autocomplete_fields = ["organisation", "customer", "invoice"]
    date_hierarchy = "issue_date"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["organisation", "customer", "amount_incl_tax", "invoice"]
        return fields

    def delete_model(self, request: HttpRequest, obj: CreditNote) -> None:
        refresh_invoices_after(obj.allocations.all(), lambda: super(CreditNoteAdmin, self).delete_model(request, obj),
                               actor_of(request, "admin"))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CreditNote]) -> None:
        refresh_invoices_after(
            Allocation.objects.filter(credit_note__in=queryset),
            lambda: super(CreditNoteAdmin, self).delete_queryset(request, queryset),
            actor_of(request, "admin"),
        )


@admin.register(Payment)
class PaymentAdmin(ScopedAdmin):
    list_display = ["reference", "customer", "date", "amount", "method", "organisation"]
    list_filter = ["organisation", "method"]
    search_fields = ["reference", "customer__legal_name", "customer__code"]
    list_select_related = ["customer", "organisation"]
    autocomplete_fields = ["organisation", "customer"]
    date_hierarchy = "date"
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["organisation", "customer", "amount"]
        return fields

    def delete_model(self, request: HttpRequest, obj: Payment) -> None:
        refresh_invoices_after(obj.allocations.all(), lambda: super(PaymentAdmin, self).delete_model(request, obj),
                               actor_of(request, "admin"))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        refresh_invoices_after(
            Allocation.objects.filter(payment__in=queryset),
            lambda: super(PaymentAdmin, self).delete_queryset(request, queryset),
            actor_of(request, "admin"),
        )


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    """Allocations are written by the payment import together with the balances they
    change: here they can be looked at or deleted (the balances are then recomputed),
    not added or edited."""

    list_display = ["invoice", "payment", "credit_note", "amount", "date", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["invoice__number", "payment__reference", "credit_note__number"]
    list_select_related = ["invoice", "payment", "credit_note", "organisation"]
    date_hierarchy = "date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Allocation) -> None:
        refresh_invoices_after(Allocation.objects.filter(pk=obj.pk),
                               lambda: super(AllocationAdmin, self).delete_model(request, obj), actor_of(request, "admin"))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Allocation]) -> None:
        refresh_invoices_after(Allocation.objects.filter(pk__in=queryset.values("pk")),
                               lambda: super(AllocationAdmin, self).delete_queryset(request, queryset),
                               actor_of(request, "admin"))


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The record of imported files (written by the import)."""

    list_display = ["filename", "kind", "organisation", "imported_at", "sha256"]
    list_filter = ["kind", "organisation"]
    search_fields = ["filename", "sha256"]
    list_select_related = ["organisation"]
    date_hierarchy = "imported_at"
    readonly_fields = ["organisation", "filename", "sha256", "kind", "counts", "imported_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
