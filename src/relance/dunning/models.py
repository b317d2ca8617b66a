"""Scenarios and their steps, planned reminders and phone-call tasks.

Promises, disputes, pauses, stops and payment plans are in ``relance.holds.models``; a
reminder may be about one of them (``promise``, ``instalment``, ``plan``), and
``dunning.services.chaseable.chaseable`` excludes every invoice under an active hold.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.core.policy import Channel, StepSpec
from relance.ledger.models import Contact, Customer, Invoice, Organisation

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class Scenario(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField("nom", max_length=100)
    is_default = models.BooleanField("scénario par défaut", default=False)
    thank_you = models.BooleanField("remercier après paiement d’une facture relancée", default=True)
    # the step an invoice entering the sequence late starts at (empty: the first after the due date)
    late_entry_position = models.PositiveSmallIntegerField("étape d’entrée des factures en retard", null=True,
                                                           blank=True)

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
        (Channel.EMAIL.value, _("Email")),
        (Channel.LETTER.value, _("Lettre simple")),
        (Channel.REGISTERED_LETTER.value, _("Lettre recommandée AR")),
        (Channel.PHONE.value, _("Appel téléphonique")),
        (Channel.LITIGATION.value, _("Transmission au contentieux")),
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
    # « à valider »: the planned reminder waits for a person's approval instead of going out
    needs_approval = models.BooleanField("à valider avant l’envoi", default=False)

    class Meta:
        verbose_name = "étape"
        ordering = ["scenario", "position"]
        constraints = [models.UniqueConstraint(fields=["scenario", "position"], name="step_position_unique")]

    def __str__(self) -> str:
        sign = "+" if self.offset_days >= 0 else "−"
        return f"J{sign}{abs(self.offset_days)} {self.label}"

    def spec(self) -> StepSpec:
        return StepSpec(self.position, self.offset_days, self.channel, self.tone, self.call_task, self.template)


class Reminder(models.Model):
    """One message (or action) planned for one customer. Its idempotency key is unique:
    planning the same day twice finds it instead of creating another."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Relance")
        THANKS = "thanks", _("Remerciement")
        LITIGATION = "litigation", _("Passage au contentieux")
        PROMISE_BROKEN = "promise_broken", _("Promesse non tenue")
        INSTALMENT_DUE = "instalment_due", _("Rappel d’échéance")
        INSTALMENT_MISSED = "instalment_missed", _("Échéance impayée")
        PLAN_AGREEMENT = "plan_agreement", _("Accord d’échéancier")
        # a second formal notice, asked for by a person (dunning.services.escalation.reissue_formal_notice)
        FORMAL_NOTICE_AGAIN = "notice_again", _("Nouvelle mise en demeure")
        # a copy of invoices the customer says never reached them (a reply « non reçue »,
        # dunning.services.invoice_copy): not a scenario step, sent while the customer is paused
        INVOICE_COPY = "invoice_copy", _("Copie de facture")
        # a litigation case's file emailed to the lawyer, commissaire de justice or agency it is
        # handed to (litigation.services.handover): written when planned, sent as written
        CASE_HANDOVER = "case_handover", _("Transmission d’un dossier de contentieux")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planifiée")
        SENDING = "sending", _("En cours d’envoi")
        SENT = "sent", _("Envoyée")
        FAILED = "failed", _("Échec")
        CANCELLED = "cancelled", _("Annulée")
        UNCERTAIN = "uncertain", _("À vérifier")
        # sent, then returned for good by the recipient's server (a permanent bounce): a final
        # state, never claimed nor sent again (dunning.services.bounces)
        UNDELIVERED = "undelivered", _("Non distribuée")
        # planned for a step that needs approval: never claimed by the dispatcher until approved
        AWAITING_APPROVAL = "awaiting", _("À valider")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reminders")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REMINDER)
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.PROTECT)
    # what a promise-broken or an instalment message is about (quoted in it)
    promise = models.ForeignKey("holds.Promise", null=True, blank=True, on_delete=models.SET_NULL, related_name="reminders")
    instalment = models.ForeignKey("holds.Instalment", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="reminders")
    # the payment plan whose agreement letter a ``plan_agreement`` email carries
    plan = models.ForeignKey("holds.PaymentPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="reminders")
    channel = models.CharField("canal", max_length=20, choices=Step.CHANNELS)
    planned_for = models.DateField("prévue le")
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField("état", max_length=12, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative", null=True, blank=True)
    claimed_at = models.DateTimeField("pris en charge à", null=True, blank=True)
    # the moment the channel began the irreversible part (SMTP: the DATA content being transmitted),
    # written and committed before it; null: nothing can have left (dunning.services.dispatcher)
    handed_over_at = models.DateTimeField("remise au serveur à", null=True, blank=True)
    # the random part of the Message-ID, drawn once and kept for every attempt of this reminder
    message_nonce = models.CharField(max_length=32, blank=True)
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
    # a permanent bounce (dunning.services.bounces): when it came, and why (« adresse inconnue (5.1.1) »)
    bounced_at = models.DateTimeField("non distribuée le", null=True, blank=True)
    bounce_reason = models.CharField("motif de non-distribution", max_length=200, blank=True)
    receipt_scan = models.FileField("avis de réception scanné", upload_to="receipts/", blank=True)
    # approval mode (dunning.services.approvals): a wording edited for this one customer is kept in
    # subject/body_text/body_html and sent as is (edited_at set); who edited it and who approved it
    edited_by = models.CharField("texte modifié par", max_length=150, blank=True)
    edited_at = models.DateTimeField("texte modifié le", null=True, blank=True)
    approved_by = models.CharField("validée par", max_length=150, blank=True)
    approved_at = models.DateTimeField("validée le", null=True, blank=True)
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


class CallTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("À appeler")
        DONE = "done", _("Fait")

    class Purpose(models.TextChoices):
        CALL = "call", _("Appeler le client")
        PLAN = "plan", _("Préparer un échéancier")
        CONTACT = "contact", _("Vérifier le contact")

    class Result(models.TextChoices):
        NOT_REACHED = "not_reached", _("Client injoignable")
        PROMISE = "promise", _("Promesse de règlement")
        DISPUTE = "dispute", _("Litige")
        PLAN_REQUESTED = "plan_requested", _("Échéancier demandé")
        WRONG_CONTACT = "wrong_contact", _("Mauvais interlocuteur ou numéro")
        DONE = "done", _("Traité")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="call_tasks")
    reminder = models.OneToOneField(Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="call_task")
    due_on = models.DateField("à faire le")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField("résultat", max_length=200, blank=True)
    purpose = models.CharField("objet", max_length=10, choices=Purpose.choices, default=Purpose.CALL)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name="contact")
    attempt = models.PositiveSmallIntegerField("tentative", default=1)
    result = models.CharField("issue", max_length=16, choices=Result.choices, blank=True)
    note = models.TextField("note", blank=True)
    done_on = models.DateField("fait le", null=True, blank=True)
    done_by = models.CharField("fait par", max_length=150, blank=True)

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

    # A template is validated (compiled and rendered on sample data) by the one service that
    # saves it, ``dunning.services.editing.save_template``: the model does not call up into the
    # services (issue #14).
