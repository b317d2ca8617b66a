"""Organisations (creditors), customers (debtors), contacts, invoices, credit notes,
payments and their allocations. The amount still due is derived from allocations."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum import iban as std_iban
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


def validate_siren(value: str) -> None:
    if value and not fr_siren.is_valid(value):
        raise ValidationError(f"SIREN invalide : {value}")


def validate_siret(value: str) -> None:
    if value and not fr_siret.is_valid(value):
        raise ValidationError(f"SIRET invalide : {value}")


def validate_vat(value: str) -> None:
    if value and not eu_vat.is_valid(value):
        raise ValidationError(f"Numéro de TVA invalide : {value}")


def validate_iban(value: str) -> None:
    if value and not std_iban.is_valid(value):
        raise ValidationError(f"IBAN invalide : {value}")


class Language(models.TextChoices):
    FR = "fr", _("Français")
    EN = "en", _("English")


class Organisation(models.Model):
    """The creditor: the company whose invoices are chased."""

    slug = models.SlugField(unique=True)
    legal_name = models.CharField("raison sociale", max_length=200)
    legal_form = models.CharField("forme juridique", max_length=60, blank=True)
    siren = models.CharField(max_length=9, blank=True, validators=[validate_siren])
    vat_number = models.CharField("TVA intracommunautaire", max_length=20, blank=True, validators=[validate_vat])
    address1 = models.CharField("adresse", max_length=200, blank=True)
    address2 = models.CharField("complément", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=10, blank=True)
    city = models.CharField("ville", max_length=100, blank=True)
    country = models.CharField("pays", max_length=2, default="FR")
    iban = models.CharField(max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(max_length=11, blank=True)
    sender_name = models.CharField("nom d’expéditeur", max_length=200, blank=True)
    sender_email = models.EmailField("adresse d’expédition", blank=True)
    reply_to_email = models.EmailField("adresse de réponse", blank=True)
    reply_tag_separator = models.CharField(
        "séparateur d’étiquette de l’adresse de réponse", max_length=1, blank=True,
        help_text="« + » : chaque relance demande la réponse à recouvrement+clé@… (adresse étiquetée), qui la "
                  "rattache à sa relance même si la messagerie du client perd le fil ; vide = désactivé. Votre "
                  "messagerie doit livrer ces adresses dans la boîte de réception (Gmail, Microsoft 365, Fastmail… "
                  "le font avec « + »)")
    phone = models.CharField("téléphone", max_length=30, blank=True)
    signature_name = models.CharField("signataire", max_length=200, blank=True)
    signature_title = models.CharField("fonction du signataire", max_length=200, blank=True)
    # the writing check (relance.writing): words it accepts for this organisation (one per line:
    # brand names, trades, people), and whether a text a person changed waits « à valider » when
    # it finds a spelling mistake in it instead of leaving
    accepted_words = models.TextField("mots acceptés par la vérification d’écriture", blank=True,
                                      help_text="un mot par ligne : noms de marque, de produits, de personnes…")
    copy_other_contacts = models.BooleanField(
        "mettre en copie les autres contacts du client", default=False,
        help_text="les e-mails vont au contact de facturation, les autres contacts du client ayant une adresse en copie")
    writing_check_holds = models.BooleanField(
        "retenir un texte modifié qui contient une faute", default=True,
        help_text="un message dont une personne a modifié le texte et où la vérification trouve une faute "
                  "d’orthographe attend « à valider » au lieu de partir")
    logo = models.FileField(upload_to="logos/", blank=True)
    timezone = models.CharField("fuseau horaire", max_length=64, default="Europe/Paris")
    holiday_subdivision = models.CharField("jours fériés locaux", max_length=8, blank=True)
    run_at = models.TimeField(
        "heure de la journée de relances", default=datetime.time(7, 0),
        help_text="heure locale (fuseau de l’organisation) à laquelle « relance worker » lance la journée : "
                  "planification puis envoi, les jours ouvrés",
    )
    default_terms_days = models.PositiveSmallIntegerField("délai de paiement par défaut (jours)", default=30)
    min_gap_days = models.PositiveSmallIntegerField("écart minimal entre deux messages (jours)", default=5)
    # Conditions de règlement printed on the invoices (C. com. L441-9, L441-10)
    penalty_rate = models.DecimalField(
        "taux des pénalités de retard (%)", max_digits=6, decimal_places=2, null=True, blank=True,
        help_text="taux contractuel figurant sur vos factures ; vide = taux BCE majoré de 10 points (L441-10 II)",
    )
    # The 40 € indemnity (D441-5) is owed per invoice and never replaced: costs above it are
    # recorded per invoice with their proof (``RecoveryCost``, L441-10 II « sur justification »).
    consumer_penalty_rate = models.DecimalField(
        "taux de la clause d’intérêts de retard des contrats avec les particuliers (%)", max_digits=6,
        decimal_places=2, null=True, blank=True,
        help_text="clause pénale de vos conditions générales (C. civ. 1231-5) : elle ne court qu’à compter de la "
                  "mise en demeure ; vide = intérêts au taux légal à compter de la mise en demeure",
    )

    class TermsConvention(models.TextChoices):
        EOM_AFTER = "eom_after", _("45 jours, puis fin de mois")
        EOM_BEFORE = "eom_before", _("fin de mois, puis 45 jours")

    terms_convention = models.CharField(
        "calcul des 45 jours fin de mois", max_length=10, choices=TermsConvention.choices,
        default=TermsConvention.EOM_BEFORE,
    )
    creditor_is_individual = models.BooleanField(
        "créancier personne physique hors besoins professionnels", default=False,
        help_text="choisit la catégorie du taux de l’intérêt légal (CMF L313-2)",
    )
    collectors_see_assigned_only = models.BooleanField(
        "les chargés de recouvrement ne voient que leurs clients", default=False,
        help_text="un chargé de recouvrement ne voit alors que les clients qui lui sont attribués",
    )
    test_mode_email = models.EmailField(
        "mode test : adresse recevant tous les emails", blank=True,
        help_text="renseignée, chaque email part à cette adresse au lieu de celle du client, objet préfixé "
                  "« [TEST] » ; les courriers ne changent pas",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organisations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "organisation"
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrateur")
        COLLECTOR = "collector", _("Chargé de recouvrement")
        READ_ONLY = "read_only", _("Lecture seule")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COLLECTOR)
    # how the member signs the messages of the customers assigned to them (« Chargée de recouvrement »)
    job_title = models.CharField("fonction (signature)", max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.organisation_id} ({self.role})"


class Customer(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Courrier")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="customers")
    code = models.CharField("code client", max_length=50)
    legal_name = models.CharField("raison sociale", max_length=200)
    is_business = models.BooleanField("professionnel", default=True)
    # a company's legal form (SAS, SARL…): a mention the injonction de payer request needs
    # (C. proc. civ. 1407 and 57 for a legal person: « sa forme, sa dénomination, son siège social »)
    legal_form = models.CharField("forme juridique", max_length=60, blank=True)
    siren = models.CharField(max_length=9, blank=True, validators=[validate_siren])
    siret = models.CharField(max_length=14, blank=True, validators=[validate_siret])
    vat_number = models.CharField("TVA intracommunautaire", max_length=20, blank=True, validators=[validate_vat])
    address1 = models.CharField("adresse", max_length=200, blank=True)
    address2 = models.CharField("complément", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=10, blank=True)
    city = models.CharField("ville", max_length=100, blank=True)
    country = models.CharField("pays", max_length=2, default="FR")
    language = models.CharField("langue", max_length=2, choices=Language.choices, default=Language.FR)
    preferred_channel = models.CharField("canal préféré", max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    terms_days = models.PositiveSmallIntegerField("délai de paiement (jours)", null=True, blank=True)
    scenario = models.ForeignKey("dunning.Scenario", null=True, blank=True, on_delete=models.SET_NULL)
    # ISO 11649 creditor reference for a transfer covering the whole account (see services.references)
    payment_reference = models.CharField("référence de paiement", max_length=35, blank=True, db_index=True)
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="chargé de recouvrement", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="assigned_customers",
    )
    last_contact_date = models.DateField("dernier message", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "client"
        ordering = ["legal_name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "code"], name="customer_code_unique")]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.code})"

    @property
    def billing_contact(self) -> Contact | None:
        contacts = list(self.contacts.all())
        for contact in contacts:
            if contact.is_billing:
                return contact
        return contacts[0] if contacts else None


class Contact(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    civility = models.CharField("civilité", max_length=20, blank=True)
    first_name = models.CharField("prénom", max_length=100, blank=True)
    last_name = models.CharField("nom", max_length=100)
    role = models.CharField("fonction", max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    is_billing = models.BooleanField("contact facturation", default=False)
    # the address was returned for good (a permanent bounce, dunning.services.bounces): no email
    # goes to it any more until it is changed (ledger.services.contacts clears the flag)
    email_bounced_at = models.DateTimeField("adresse en échec depuis le", null=True, blank=True)
    email_bounce_reason = models.CharField("motif de l’échec de l’adresse", max_length=200, blank=True)

    class Meta:
        verbose_name = "contact"
        ordering = ["-is_billing", "last_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def usable_email(self) -> str:
        """The address an email may go to: none when it is empty or was returned for good."""
        return "" if self.email_bounced_at is not None else self.email


class Source(models.TextChoices):
    CSV = "csv", _("Fichier CSV / Excel")
    FEC = "fec", _("FEC")
    EINVOICE = "einvoice", _("Facture électronique")
    API = "api", _("API")
    MANUAL = "manual", _("Saisie")


class Invoice(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("À payer")
        PAID = "paid", _("Payée")
        CREDITED = "credited", _("Annulée par avoir")

    class Dunning(models.TextChoices):
        ACTIVE = "active", _("Relances en cours")
        LITIGATION = "litigation", _("Contentieux")
        DONE = "done", _("Terminé")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField("numéro", max_length=50)
    issue_date = models.DateField("date")
    due_date = models.DateField("échéance")
    delivery_date = models.DateField("date de livraison", null=True, blank=True)
    amount_excl_tax = models.DecimalField("montant HT", **MONEY, null=True, blank=True)
    tax_amount = models.DecimalField("TVA", **MONEY, null=True, blank=True)
    amount_incl_tax = models.DecimalField("montant TTC", **MONEY)
    currency = models.CharField("devise", max_length=3, default="EUR")
    description = models.CharField("libellé", max_length=300, blank=True)
    pdf = models.FileField(upload_to="invoices/", blank=True)
    pdf_url = models.URLField(blank=True)
    # The reference the customer quotes on the transfer: the e-invoice's own (BT-83) or our RF.
    payment_reference = models.CharField("référence de paiement", max_length=35, blank=True, db_index=True)
    source = models.CharField("origine", max_length=10, choices=Source.choices, default=Source.CSV)
    # Identity of the item in its source (FEC: journal|entry|account|piece), for re-imports.
    source_key = models.CharField("clé d’origine", max_length=200, blank=True)
    # Derived from allocations by ledger.services.balances.refresh_balances(); never typed in.
    amount_due = models.DecimalField("reste dû", **MONEY)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.OPEN)
    settled_on = models.DateField("soldée le", null=True, blank=True)
    # Facts of the dunning policy (``relance.core.escalation.Progress``): the steps the invoice
    # *received*, written by the dispatcher when a step's message goes, read by the planner.
    last_step_position = models.SmallIntegerField("dernière étape", default=-1)
    escalation_rank = models.SmallIntegerField("fermeté atteinte", default=-1)
    last_step_on = models.DateField("dernière étape reçue le", null=True, blank=True)
    reminders_received = models.PositiveSmallIntegerField("relances reçues après l’échéance", default=0)
    formal_notice_on = models.DateField("mise en demeure envoyée le", null=True, blank=True)
    notice_received_on = models.DateField("mise en demeure reçue le", null=True, blank=True)
    next_action_date = models.DateField("prochaine action", null=True, blank=True)
    dunning_state = models.CharField(max_length=12, choices=Dunning.choices, default=Dunning.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "facture"
        ordering = ["due_date", "number"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="invoice_number_unique"),
            models.CheckConstraint(condition=Q(amount_incl_tax__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="invoice_due_not_negative"),
        ]
        indexes = [
            # The planner's one query: open invoices whose next action is due.
            models.Index(
                fields=["organisation", "next_action_date"],
                name="invoice_due_for_action",
                condition=Q(status="open", dunning_state="active"),
            ),
            # A customer's open invoices and their balance (the customer list joins on it and
            # reads its columns alone: no table access).
            models.Index(fields=["organisation", "customer", "status", "due_date", "amount_due"],
                         name="invoice_customer_balance"),
            # The open amounts per due date (aging, outstanding) and the customers late.
            models.Index(fields=["organisation", "status", "due_date", "amount_due", "customer"],
                         name="invoice_open_due"),
            # The amounts invoiced over a window (DSO).
            models.Index(fields=["organisation", "issue_date", "amount_incl_tax"], name="invoice_issued"),
        ]

    def __str__(self) -> str:
        return self.number

    def days_late(self, today) -> int:  # type: ignore[no-untyped-def]
        return max(0, (today - self.due_date).days)


class RecoveryCost(models.Model):
    """Collection costs actually incurred for one invoice (bailiff, lawyer, agency fees), with
    their proof: what exceeds the 40 € indemnity of that invoice may be claimed from a business
    debtor « sur justification » (C. com. L441-10 II), as a separate amount; never from a
    consumer (CPCE L111-8)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE, related_name="recovery_costs",
                                verbose_name="facture")
    incurred_on = models.DateField("date des frais")
    amount = models.DecimalField("montant des frais (€)", **MONEY)
    description = models.CharField("nature des frais", max_length=200,
                                   help_text="p. ex. « honoraires du commissaire de justice, facture n° 2026-118 »")
    proof = models.FileField("justificatif", upload_to="recovery_costs/")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "frais de recouvrement justifiés (au-delà de 40 €)"
        verbose_name_plural = "frais de recouvrement justifiés (au-delà de 40 €)"
        ordering = ["incurred_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_cost_positive")]

    def __str__(self) -> str:
        return f"{self.description} ({self.amount} €)"


class CreditNote(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField("numéro", max_length=50)
    issue_date = models.DateField("date")
    amount_incl_tax = models.DecimalField("montant TTC", **MONEY)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes")
    reason = models.CharField("motif", max_length=300, blank=True)

    class Meta:
        verbose_name = "avoir"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="credit_note_number_unique"),
            models.CheckConstraint(condition=Q(amount_incl_tax__gt=0), name="credit_note_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField("référence", max_length=100)
    date = models.DateField("date")
    amount = models.DecimalField("montant", **MONEY)
    method = models.CharField("mode", max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "paiement"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="payment_reference_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.reference


class Allocation(models.Model):
    """A part of a payment or a credit note applied to an invoice (lettrage)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.CASCADE, related_name="allocations")
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.CASCADE, related_name="allocations")
    amount = models.DecimalField("montant", **MONEY)
    date = models.DateField("date")

    class Meta:
        verbose_name = "lettrage"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="allocation_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.invoice_id}"


class CustomerAlias(models.Model):
    """Another name by which a customer is recognised: an entry label of a FEC without
    customer accounts, a payer's IBAN or name seen on a bank statement."""

    class Kind(models.TextChoices):
        FEC_LABEL = "fec_label", _("Libellé d’écriture FEC")
        IBAN = "iban", _("IBAN du payeur")
        PAYER_NAME = "payer_name", _("Nom du payeur")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField("valeur", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "alias de client"
        constraints = [models.UniqueConstraint(fields=["organisation", "kind", "value"], name="customer_alias_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} « {self.value} » → {self.customer_id}"


class ImportBatch(models.Model):
    """One imported file. The same content imported twice is recognised and changes nothing."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    filename = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=30)
    counts = models.JSONField(default=dict)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "import"
        constraints = [models.UniqueConstraint(fields=["organisation", "sha256"], name="import_once")]

    def __str__(self) -> str:
        return self.filename
