"""Litigation cases (*contentieux*): what the scenario's hand-over step opens, per customer
and day. A case lists the invoices handed over (with what each owed that day and the formal
notice sent about it by registered letter: its PDF, tracking number and avis de réception are
the proof), then records to whom it was handed, the steps of the injonction de payer (C. proc.
civ. 1405 to 1425: request filed, order issued, order served), the documents produced or
received at each step, and how it ended. The state machine and its events are in
``relance.core.litigation``; only ``litigation.services`` moves it.

``HandoverRecipient``: who the organisation hands its cases to (a lawyer, a commissaire de
justice, a collection agency), with the address the file is emailed to. ``Handover``: one
hand-over of a case, by email through the dispatcher (its ``dunning.Reminder``) or downloaded."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.core import litigation as machine
from relance.ledger.models import Customer, Invoice, Organisation

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class HandoverRecipient(models.Model):
    class Kind(models.TextChoices):
        LAWYER = "lawyer", _("Avocat")
        BAILIFF = "bailiff", _("Commissaire de justice")
        AGENCY = "agency", _("Société de recouvrement")

    class Delivery(models.TextChoices):
        ATTACHMENT = "attachment", _("Pièces jointes")
        LINK = "link", _("Lien de téléchargement")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="handover_recipients")
    kind = models.CharField("profession", max_length=10, choices=Kind.choices)
    name = models.CharField("nom", max_length=200)
    email = models.EmailField("adresse e-mail", blank=True)
    address = models.TextField("adresse postale", blank=True)
    # the organisation's reference with them (client number, mandate)
    reference = models.CharField("référence", max_length=100, blank=True)
    delivery = models.CharField("envoi du dossier", max_length=10, choices=Delivery.choices,
                                default=Delivery.ATTACHMENT)
    # how long a download link stays valid
    link_days = models.PositiveSmallIntegerField("validité du lien (jours)", default=14)
    active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "destinataire des dossiers"
        verbose_name_plural = "destinataires des dossiers"
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="handover_recipient_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class LitigationCase(models.Model):
    class State(models.TextChoices):
        OPENED = machine.State.OPENED.value, _("Ouvert")
        FILED = machine.State.FILED.value, _("Transmis")
        REQUEST_FILED = machine.State.REQUEST_FILED.value, _("Requête déposée")
        ORDER_ISSUED = machine.State.ORDER_ISSUED.value, _("Ordonnance rendue")
        SERVED = machine.State.SERVED.value, _("Ordonnance signifiée")
        CLOSED = machine.State.CLOSED.value, _("Clôturé")

    class Court(models.TextChoices):
        # C. proc. civ. 1406: the tribunal de commerce between merchants (C. com. L721-3),
        # otherwise the tribunal judiciaire — of the debtor's domicile
        COMMERCE = "commerce", _("Tribunal de commerce")
        JUDICIAIRE = "judiciaire", _("Tribunal judiciaire")

    class Outcome(models.TextChoices):
        PAID = machine.Outcome.PAID.value, _("Payé")
        SETTLED = machine.Outcome.SETTLED.value, _("Accord amiable")
        JUDGMENT = machine.Outcome.JUDGMENT.value, _("Décision obtenue")
        IRRECOVERABLE = machine.Outcome.IRRECOVERABLE.value, _("Irrécouvrable")
        ABANDONED = machine.Outcome.ABANDONED.value, _("Abandonné")
        OTHER = machine.Outcome.OTHER.value, _("Autre")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="litigation_cases")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="litigation_cases")
    state = models.CharField("état", max_length=16, choices=State.choices, default=State.OPENED)
    opened_on = models.DateField("ouvert le")
    filed_on = models.DateField("transmis le", null=True, blank=True)
    closed_on = models.DateField("clôturé le", null=True, blank=True)
    outcome = models.CharField("issue", max_length=16, choices=Outcome.choices, blank=True)
    request_filed_on = models.DateField("requête déposée le", null=True, blank=True)
    order_issued_on = models.DateField("ordonnance rendue le", null=True, blank=True)
    served_on = models.DateField("ordonnance signifiée le", null=True, blank=True)
    # the court the request goes to: its kind (art. 1406) and its name and address as the user
    # entered them (never guessed from the debtor's address)
    court_kind = models.CharField("juridiction", max_length=10, choices=Court.choices, blank=True)
    court_name = models.CharField("nom de la juridiction", max_length=200, blank=True)
    court_address = models.TextField("adresse du greffe", blank=True)
    # the court's reference (numéro RG, or the order's number) once the request is filed
    court_reference = models.CharField("référence au greffe", max_length=60, blank=True)
    recipient = models.ForeignKey(HandoverRecipient, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="cases", verbose_name="transmis à (destinataire)")
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
            models.CheckConstraint(condition=~Q(state="filed") | Q(filed_on__isnull=False),
                                   name="litigation_filed_has_date"),
            models.CheckConstraint(condition=~Q(state__in=["request_filed", "order_issued", "served"])
                                   | Q(request_filed_on__isnull=False), name="litigation_request_has_date"),
            models.CheckConstraint(condition=~Q(state__in=["order_issued", "served"]) | Q(order_issued_on__isnull=False),
                                   name="litigation_order_has_date"),
            models.CheckConstraint(condition=~Q(state="served") | Q(served_on__isnull=False),
                                   name="litigation_served_has_date"),
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


class CaseDocument(models.Model):
    """A document of a case: produced by relance (the evidence file, its originals, the request,
    the small-claims file) or received and uploaded at a step (the order, the act of service)."""

    class Kind(models.TextChoices):
        EVIDENCE_PDF = "evidence_pdf", _("Dossier de recouvrement (PDF)")
        EVIDENCE_ZIP = "evidence_zip", _("Pièces originales (ZIP)")
        REQUEST = "request", _("Requête en injonction de payer")
        SMALL_CLAIM = "small_claim", _("Procédure simplifiée de recouvrement des petites créances")
        ORDER = "order", _("Ordonnance d’injonction de payer")
        SERVICE = "service", _("Acte de signification")
        OTHER = "other", _("Autre document")

    case = models.ForeignKey(LitigationCase, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("type", max_length=16, choices=Kind.choices)
    title = models.CharField("titre", max_length=200)
    file = models.FileField("fichier", upload_to="litigation/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField("taille (octets)", default=0)
    # the day the amounts of a produced document are computed to
    as_of = models.DateField("arrêté au", null=True, blank=True)
    created_by = models.CharField("ajouté par", max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "document du dossier"
        verbose_name_plural = "documents du dossier"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.case_id})"


class Handover(models.Model):
    """One hand-over of a case: emailed through the dispatcher (``reminder``: exactly once, with
    its event) with the files attached or a download link, or downloaded by a person."""

    class Method(models.TextChoices):
        ATTACHMENT = "attachment", _("E-mail avec pièces jointes")
        LINK = "link", _("E-mail avec lien de téléchargement")
        DOWNLOAD = "download", _("Téléchargé")

    case = models.ForeignKey(LitigationCase, on_delete=models.CASCADE, related_name="handovers")
    recipient = models.ForeignKey(HandoverRecipient, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="handovers")
    method = models.CharField("mode", max_length=10, choices=Method.choices)
    reminder = models.OneToOneField("dunning.Reminder", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="case_handover")
    documents = models.ManyToManyField(CaseDocument, related_name="handovers")
    on = models.DateField("le")
    # a download link's end of validity
    link_expires_at = models.DateTimeField("lien valable jusqu’au", null=True, blank=True)
    actor = models.CharField("par", max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "transmission du dossier"
        verbose_name_plural = "transmissions du dossier"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.recipient_id or '—'} ({self.method})"
