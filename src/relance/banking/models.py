"""Bank accounts of an organisation, imported statement files and their credit lines.

A statement is accepted only for an account of the organisation (its IBAN, or a
``BankAccount`` registered with the IBAN or the identifier the bank writes in its files).
Each credit line is stored once, whatever the number of overlapping statements that carry
it (``fingerprint``), and ends matched (a ``Payment`` was recorded), to review, unmatched
or dismissed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import MONEY, Organisation, Payment, validate_iban


class BankAccount(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bank_accounts")
    label = models.CharField("libellé", max_length=100, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[validate_iban])
    account_id = models.CharField(
        "identifiant dans les relevés", max_length=60, blank=True,
        help_text="numéro de compte tel que l’écrit la banque quand le relevé ne porte pas d’IBAN (OFX, MT940)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "compte bancaire"
        verbose_name_plural = "comptes bancaires"
        ordering = ["organisation", "label", "iban"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "iban"], condition=~Q(iban=""), name="bank_account_iban"),
            models.UniqueConstraint(fields=["organisation", "account_id"], condition=~Q(account_id=""),
                                    name="bank_account_identifier"),
            models.CheckConstraint(condition=~Q(iban="") | ~Q(account_id=""), name="bank_account_identified"),
        ]

    def __str__(self) -> str:
        return self.label or self.iban or self.account_id


class StatementFile(models.Model):
    """One imported statement file; the same content imported twice is recognised."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="statement_files")
    filename = models.CharField("fichier", max_length=300)
    sha256 = models.CharField(max_length=64)
    format = models.CharField("format", max_length=12)
    counts = models.JSONField(default=dict)
    actor = models.CharField("importé par", max_length=150, blank=True)
    imported_at = models.DateTimeField("importé le", auto_now_add=True)

    class Meta:
        verbose_name = "relevé importé"
        verbose_name_plural = "relevés importés"
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "sha256"], name="statement_file_once")]

    def __str__(self) -> str:
        return self.filename


class BankTransaction(models.Model):
    """A credit line of a statement (a receipt). Debits are counted, never stored."""

    class Status(models.TextChoices):
        MATCHED = "matched", _("Rapprochée")
        TO_REVIEW = "to_review", _("À vérifier")
        UNMATCHED = "unmatched", _("Non rapprochée")
        DISMISSED = "dismissed", _("Écartée")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bank_lines")
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines")
    statement_file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="lines")
    location = models.CharField("ligne ou élément", max_length=200, blank=True)
    # sha256(account, date, amount, reference, occurrence in its file): one line, whatever the overlaps
    fingerprint = models.CharField(max_length=64)
    booking_date = models.DateField("date d’opération")
    value_date = models.DateField("date de valeur", null=True, blank=True)
    amount = models.DecimalField("montant", **MONEY)
    currency = models.CharField("devise", max_length=3, default="EUR")
    counterparty_name = models.CharField("donneur d’ordre", max_length=200, blank=True)
    counterparty_iban = models.CharField("IBAN du donneur d’ordre", max_length=34, blank=True)
    remittance = models.TextField("libellé", blank=True)
    structured_reference = models.CharField("référence structurée", max_length=140, blank=True)
    end_to_end_id = models.CharField("référence de bout en bout", max_length=140, blank=True)
    bank_reference = models.CharField("référence de la banque", max_length=140, blank=True)
    status = models.CharField("état", max_length=12, choices=Status.choices, default=Status.UNMATCHED)
    method = models.CharField("rapprochement", max_length=20, blank=True)
    reason = models.CharField("motif", max_length=300, blank=True)
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_line")
    decided_by = models.CharField("décidé par", max_length=150, blank=True)
    decided_at = models.DateTimeField("décidé le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "ligne de relevé"
        verbose_name_plural = "lignes de relevé"
        ordering = ["booking_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fingerprint"], name="bank_line_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_line_amount_positive"),
        ]
        indexes = [models.Index(fields=["organisation", "status", "booking_date"], name="bank_line_status")]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount} {self.counterparty_name}".strip()

    @property
    def payment_reference(self) -> str:
        """The reference of the payment recorded for this line (unique per organisation)."""
        return f"BANQUE-{self.pk}"
