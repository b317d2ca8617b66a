"""Holds and payment plans: what stops the reminders of an invoice or of a whole customer.

A *hold* row stops the reminders of one invoice (``invoice`` set) or of a whole customer
(``invoice`` empty); ``relance.holds.queries.active_holds`` lists the ones in force. Disputes,
pauses and stops are hold rows themselves. A promise or an active payment plan covers several
invoices: it puts one hold row of kind ``promise``/``plan`` on each (linked to it), which ends
with it. The state machines and their events are in ``relance.core.holds`` and
``relance.core.plans``.

The tables keep the names they had in ``dunning`` (``db_table``), where these models were first
created (migration ``holds.0001_initial`` moved them in Django's state only).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Customer, Invoice, Organisation

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class DisputeReason(models.Model):
    """The organisation's list of dispute reasons (defaults: :data:`DEFAULT_DISPUTE_REASONS`)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="dispute_reasons")
    code = models.SlugField("code", max_length=40)
    label = models.CharField("motif", max_length=120)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    is_active = models.BooleanField("proposé", default=True)

    class Meta:
        db_table = "dunning_disputereason"
        verbose_name = "motif de litige"
        verbose_name_plural = "motifs de litige"
        ordering = ["organisation", "position", "label"]
        constraints = [models.UniqueConstraint(fields=["organisation", "code"], name="dispute_reason_unique")]

    def __str__(self) -> str:
        return self.label


#: (code, label) installed for an organisation the first time its list is needed.
DEFAULT_DISPUTE_REASONS: tuple[tuple[str, str], ...] = (
    ("non_recu", "Non reçu"),
    ("montant_conteste", "Montant contesté"),
    ("prestation_contestee", "Marchandise ou prestation contestée"),
    ("deja_paye", "Déjà payé"),
    ("autre", "Autre"),
)


class Promise(models.Model):
    """A promise to pay: the covered invoices are paused until ``grace_until`` (the promised
    date plus ``core.holds.PROMISE_GRACE_BUSINESS_DAYS`` business days)."""

    class Via(models.TextChoices):
        PHONE = "phone", _("par téléphone")
        EMAIL = "email", _("par email")
        LETTER = "letter", _("par courrier")
        PORTAL = "portal", _("sur le portail client")

    class State(models.TextChoices):
        ACTIVE = "active", _("En cours")
        KEPT = "kept", _("Tenue")
        BROKEN = "broken", _("Non tenue")
        CANCELLED = "cancelled", _("Annulée")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="promises")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    promised_on = models.DateField("date promise")
    amount = models.DecimalField("montant promis", **MONEY)
    currency = models.CharField("devise", max_length=3, default="EUR")
    obtained_via = models.CharField("obtenue", max_length=10, choices=Via.choices)
    obtained_by = models.CharField("obtenue par", max_length=150)
    obtained_on = models.DateField("obtenue le")
    note = models.TextField("note", blank=True)
    covered_due = models.DecimalField("reste dû des factures couvertes lors de la promesse", **MONEY)
    grace_until = models.DateField("relances suspendues jusqu’au")
    state = models.CharField("état", max_length=12, choices=State.choices, default=State.ACTIVE)
    closed_on = models.DateField("close le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dunning_promise"
        verbose_name = "promesse de règlement"
        verbose_name_plural = "promesses de règlement"
        ordering = ["-promised_on", "-pk"]
        indexes = [models.Index(fields=["organisation", "state"], name="promise_state")]

    def __str__(self) -> str:
        return f"Promesse {self.customer_id} {self.amount} le {self.promised_on}"


class PaymentPlan(models.Model):
    """A payment plan (*échéancier*) over some invoices of a customer.

    While it is active the normal sequence is paused for its invoices (one hold row of kind
    ``plan`` on each) and the planner plans instalment reminders instead. Late-payment
    penalties (C. com. L441-10) keep accruing on what is due unless ``waive_penalties``: the
    waiver is conditional, stated in the agreement letter, and lapses if the plan breaks."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposé")
        ACTIVE = "active", _("En cours")
        COMPLETED = "completed", _("Soldé")
        BROKEN = "broken", _("Rompu")
        CANCELLED = "cancelled", _("Annulé")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="payment_plans")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payment_plans")
    state = models.CharField("état", max_length=12, choices=State.choices, default=State.PROPOSED)
    total = models.DecimalField("montant échelonné", **MONEY)
    currency = models.CharField("devise", max_length=3, default="EUR")
    waive_penalties = models.BooleanField("renonce aux pénalités si l’échéancier est respecté", default=False)
    grace_days = models.PositiveSmallIntegerField("délai après l’avis d’échéance impayée (jours)", default=8)
    proposed_on = models.DateField("proposé le")
    accepted_on = models.DateField("accepté le", null=True, blank=True)
    ended_on = models.DateField("terminé le", null=True, blank=True)
    created_by = models.CharField("créé par", max_length=150, blank=True)
    note = models.TextField("note", blank=True)
    # payments and credit notes allocated after this allocation id count towards the plan
    allocation_watermark = models.BigIntegerField(default=0)
    agreement = models.FileField("lettre d’accord (PDF)", upload_to="plans/", blank=True)
    agreement_sha256 = models.CharField(max_length=64, blank=True)
    signed_copy = models.FileField("accord signé", upload_to="plans/signed/", blank=True)
    invoices = models.ManyToManyField(Invoice, through="PlanInvoice", related_name="payment_plans")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dunning_paymentplan"
        verbose_name = "échéancier"
        ordering = ["-proposed_on", "-pk"]
        indexes = [models.Index(fields=["organisation", "state"], name="plan_state")]

    def __str__(self) -> str:
        return f"Échéancier n° {self.pk} ({self.get_state_display()})"


class PlanInvoice(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="plan_lines")
    amount_due_at_start = models.DecimalField("reste dû à la proposition", **MONEY)

    class Meta:
        db_table = "dunning_planinvoice"
        verbose_name = "facture de l’échéancier"
        constraints = [models.UniqueConstraint(fields=["plan", "invoice"], name="plan_invoice_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id} · {self.invoice_id}"


class Instalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    position = models.PositiveSmallIntegerField("n°")
    due_on = models.DateField("échéance")
    amount = models.DecimalField("montant", **MONEY)
    # derived by holds.services.plans.refresh_plan from the allocations, never typed in
    paid_amount = models.DecimalField("payé", **MONEY, default=0)
    credited_amount = models.DecimalField("réduit par avoir", **MONEY, default=0)
    paid_on = models.DateField("soldée le", null=True, blank=True)
    reminded_on = models.DateField("rappel J−3 planifié le", null=True, blank=True)
    missed_on = models.DateField("avis d’impayé planifié le", null=True, blank=True)

    class Meta:
        db_table = "dunning_instalment"
        verbose_name = "échéance"
        ordering = ["plan", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "position"], name="instalment_position_unique")]

    def __str__(self) -> str:
        return f"Échéance {self.position} du {self.due_on}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.credited_amount - self.paid_amount


class Hold(models.Model):
    """Something that stops the reminders of an invoice or of a whole customer.

    Disputes, pauses and stops are their own state machine; the ``promise`` and ``plan``
    rows are the cover of a :class:`Promise` or an active :class:`PaymentPlan` on one
    invoice and end with it (see ``relance.core.holds``)."""

    class Kind(models.TextChoices):
        PROMISE = "promise", _("Promesse de règlement")
        DISPUTE = "dispute", _("Litige")
        PAUSE = "pause", _("Pause")
        STOP = "stop", _("Arrêt des relances")
        PLAN = "plan", _("Échéancier")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Terminée")
        RESOLVED = "resolved", _("Litige résolu")
        CREDITED = "credited", _("Réglé par avoir")
        WRITTEN_OFF = "written_off", _("Passée en perte")
        LIFTED = "lifted", _("Levée")
        EXPIRED = "expired", _("Échue")

    class StopCause(models.TextChoices):
        INSOLVENCY = "insolvency", _("Procédure collective")
        LITIGATION = "litigation", _("Contentieux en cours")
        OTHER = "other", _("Autre")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="holds")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    until = models.DateField("jusqu’au", null=True, blank=True)
    reason = models.CharField("motif", max_length=300, blank=True)
    promise = models.ForeignKey(Promise, null=True, blank=True, on_delete=models.CASCADE, related_name="holds")
    plan = models.ForeignKey(PaymentPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="holds")
    dispute_reason = models.ForeignKey(DisputeReason, null=True, blank=True, on_delete=models.PROTECT,
                                       verbose_name="motif du litige")
    stop_cause = models.CharField("cause de l’arrêt", max_length=12, choices=StopCause.choices, blank=True)
    note = models.TextField("note", blank=True)
    attachment = models.FileField("pièce jointe", upload_to="holds/", blank=True)
    created_by = models.CharField("créée par", max_length=150, blank=True)
    ended_on = models.DateField("terminée le", null=True, blank=True)
    ended_by = models.CharField("terminée par", max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dunning_hold"
        verbose_name = "suspension"
        indexes = [models.Index(fields=["organisation", "state"], name="hold_state")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @property
    def machine(self) -> str:
        """The state machine of this row (``relance.core.holds.Machine``): promise and plan
        rows are the cover of their promise or plan."""
        return self.kind if self.kind in ("dispute", "pause", "stop") else "cover"
