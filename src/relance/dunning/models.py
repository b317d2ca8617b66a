"""Scenarios and their steps, planned reminders, holds and phone-call tasks."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from relance.core.policy import Channel, StepSpec
from relance.ledger.models import Customer, Invoice, Organisation

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class Scenario(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField("nom", max_length=100)
    is_default = models.BooleanField("scénario par défaut", default=False)
    thank_you = models.BooleanField("remercier après paiement d’une facture relancée", default=True)

    class Meta:
        verbose_name = "scénario"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="scenario_name_unique"),
            models.UniqueConstraint(fields=["organisation"], condition=Q(is_default=True), name="one_default_scenario"),
        ]

    def __str__(self) -> str:
        return self.name

    def specs(self) -> list[StepSpec]:
        return [s.spec() for s in self.steps.all()]


class Step(models.Model):
    CHANNELS = [
        (Channel.EMAIL.value, "Email"),
        (Channel.LETTER.value, "Lettre simple"),
        (Channel.REGISTERED_LETTER.value, "Lettre recommandée AR"),
        (Channel.PHONE.value, "Appel téléphonique"),
        (Channel.LITIGATION.value, "Transmission au contentieux"),
    ]

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField("ordre")
    label = models.CharField("libellé", max_length=100)
    offset_days = models.SmallIntegerField("décalage (jours après l’échéance)")
    channel = models.CharField("canal", max_length=20, choices=CHANNELS)
    tone = models.PositiveSmallIntegerField("fermeté (1 à 5)", default=1)
    template = models.CharField("modèle", max_length=50)
    call_task = models.BooleanField("créer aussi un appel", default=False)
    attach_invoices = models.BooleanField("joindre les factures", default=False)

    class Meta:
        verbose_name = "étape"
        ordering = ["scenario", "position"]
        constraints = [models.UniqueConstraint(fields=["scenario", "position"], name="step_position_unique")]

    def __str__(self) -> str:
        sign = "+" if self.offset_days >= 0 else "−"
        return f"J{sign}{abs(self.offset_days)} {self.label}"

    def spec(self) -> StepSpec:
        return StepSpec(self.position, self.offset_days, self.channel, self.tone, self.call_task)


class Reminder(models.Model):
    """One message (or action) planned for one customer. Its idempotency key is unique:
    planning the same day twice finds it instead of creating another."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Relance"
        THANKS = "thanks", "Remerciement"
        LITIGATION = "litigation", "Passage au contentieux"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planifiée"
        SENDING = "sending", "En cours d’envoi"
        SENT = "sent", "Envoyée"
        FAILED = "failed", "Échec"
        CANCELLED = "cancelled", "Annulée"
        UNCERTAIN = "uncertain", "À vérifier"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reminders")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REMINDER)
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.PROTECT)
    channel = models.CharField("canal", max_length=20, choices=Step.CHANNELS)
    planned_for = models.DateField("prévue le")
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField("état", max_length=12, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative", null=True, blank=True)
    claimed_at = models.DateTimeField("pris en charge à", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)
    sent_at = models.DateTimeField("envoyée à", null=True, blank=True)
    recipient = models.CharField("destinataire", max_length=300, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    subject = models.CharField("objet", max_length=300, blank=True)
    body_text = models.TextField("texte envoyé", blank=True)
    body_html = models.TextField(blank=True)
    document = models.FileField("courrier (PDF)", upload_to="letters/", blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField("numéro de recommandé", max_length=30, blank=True)
    received_on = models.DateField("reçue le (avis de réception)", null=True, blank=True)
    receipt_scan = models.FileField("avis de réception scanné", upload_to="receipts/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    invoices = models.ManyToManyField(Invoice, through="ReminderLine", related_name="reminders")

    class Meta:
        verbose_name = "relance"
        ordering = ["-planned_for", "customer"]
        indexes = [
            models.Index(fields=["organisation", "status", "planned_for"], name="reminder_work"),
            models.Index(fields=["customer", "status"], name="reminder_customer_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer} {self.planned_for}"


class ReminderLine(models.Model):
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminder_lines")
    step_position = models.SmallIntegerField()
    amount_due = models.DecimalField("reste dû à l’envoi", **MONEY, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reminder", "invoice"], name="reminder_line_unique")]

    def __str__(self) -> str:
        return f"{self.reminder_id} · {self.invoice_id}"


class Hold(models.Model):
    """Something that stops the reminders of an invoice or of a whole customer."""

    class Kind(models.TextChoices):
        PROMISE = "promise", "Promesse de règlement"
        DISPUTE = "dispute", "Litige"
        PAUSE = "pause", "Pause"
        STOP = "stop", "Arrêt des relances"
        PLAN = "plan", "Échéancier"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Terminée"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="holds")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    until = models.DateField("jusqu’au", null=True, blank=True)
    reason = models.CharField("motif", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "suspension"
        indexes = [models.Index(fields=["organisation", "state"], name="hold_state")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class CallTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "À appeler"
        DONE = "done", "Fait"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_tasks")
    reminder = models.OneToOneField(Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="call_task")
    due_on = models.DateField("à faire le")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField("résultat", max_length=200, blank=True)

    class Meta:
        verbose_name = "appel à passer"

    def __str__(self) -> str:
        return f"Appel {self.customer_id} le {self.due_on}"


class MessageTemplate(models.Model):
    """An organisation's own wording of a step's message; without one, the shipped
    template of the same key and language is used. Rendered in a Jinja2 sandbox."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="message_templates")
    key = models.CharField("modèle", max_length=50)
    language = models.CharField("langue", max_length=2, default="fr")
    subject = models.CharField("objet", max_length=300)
    body = models.TextField("texte")

    class Meta:
        verbose_name = "modèle de message"
        constraints = [models.UniqueConstraint(fields=["organisation", "key", "language"], name="template_unique")]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from relance.dunning.services.messages import TemplateProblem, validate_template

        try:
            validate_template(self.subject, self.body, self.language)
        except TemplateProblem as exc:
            raise ValidationError(exc.message) from exc
