"""Litigation cases (*contentieux*): what the scenario's hand-over step opens, per customer
and day. A case lists the invoices handed over (with what each owed that day and the formal
notice sent about it by registered letter: its PDF, tracking number and avis de réception are
the proof), then records to whom it was handed and how it ended. The state machine and its
events are in ``relance.core.litigation``; only ``litigation.services`` moves it."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.core import litigation as machine
from relance.ledger.models import Customer, Invoice, Organisation

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class LitigationCase(models.Model):
    class State(models.TextChoices):
        OPENED = machine.State.OPENED.value, _("Ouvert")
        FILED = machine.State.FILED.value, _("Transmis")
        CLOSED = machine.State.CLOSED.value, _("Clôturé")

    class Outcome(models.TextChoices):
        PAID = machine.Outcome.PAID.value, _("Payé")
        SETTLED = machine.Outcome.SETTLED.value, _("Accord amiable")
        JUDGMENT = machine.Outcome.JUDGMENT.value, _("Décision obtenue")
        ABANDONED = machine.Outcome.ABANDONED.value, _("Abandonné")
        OTHER = machine.Outcome.OTHER.value, _("Autre")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="litigation_cases")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="litigation_cases")
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.OPENED)
    opened_on = models.DateField("ouvert le")
    filed_on = models.DateField("transmis le", null=True, blank=True)
    closed_on = models.DateField("clôturé le", null=True, blank=True)
    outcome = models.CharField("issue", max_length=10, choices=Outcome.choices, blank=True)
    note = models.TextField("note", blank=True)
    created_by = models.CharField("ouvert par", max_length=150, blank=True)
    # who pursues it: a lawyer, a bailiff (commissaire de justice), a collection agency…
    handled_by = models.CharField("transmis à", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    invoices = models.ManyToManyField(Invoice, through="CaseInvoice", related_name="litigation_cases")

    class Meta:
        verbose_name = "dossier de contentieux"
        verbose_name_plural = "dossiers de contentieux"
        ordering = ["-opened_on", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "state", "opened_on"], name="litigation_case_state"),
            models.Index(fields=["customer", "opened_on"], name="litigation_case_customer_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state="opened") | Q(filed_on__isnull=False) | Q(state="closed"),
                                   name="litigation_filed_has_date"),
            models.CheckConstraint(condition=~Q(state="closed") | (Q(closed_on__isnull=False) & ~Q(outcome="")),
                                   name="litigation_closed_has_outcome"),
        ]

    def __str__(self) -> str:
        return f"Contentieux n° {self.pk} ({self.get_state_display()})"


class CaseInvoice(models.Model):
    case = models.ForeignKey(LitigationCase, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="litigation_lines")
    amount_due_at_opening = models.DecimalField("reste dû à l’ouverture", **MONEY)
    # the formal notice (registered letter) sent about this invoice: its proof of delivery
    formal_notice = models.ForeignKey("dunning.Reminder", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="litigation_lines", verbose_name="mise en demeure")

    class Meta:
        verbose_name = "facture du dossier"
        verbose_name_plural = "factures du dossier"
        constraints = [models.UniqueConstraint(fields=["case", "invoice"], name="litigation_case_invoice_unique")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.invoice_id}"
