"""The mailbox of an organisation and the messages read from it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.core.replies.inbox import DEFAULT_AUTOMATIC, ReplyState
from relance.ledger.models import Customer, Organisation

CATEGORIES = [
    ("deja_paye", _("Déjà payé")),
    ("non_recu", _("Facture non reçue")),
    ("litige", _("Litige")),
    ("promesse", _("Promesse de paiement")),
    ("echeancier", _("Demande d’échéancier")),
    ("absence", _("Absence")),
    ("mauvais_contact", _("Mauvais contact")),
    ("autre", _("Autre")),
]


def _default_automatic() -> list[str]:
    return list(DEFAULT_AUTOMATIC)


class Mailbox(models.Model):
    """The IMAP mailbox where customers' replies arrive (the organisation's « adresse de
    réponse »). Read-only towards the server, except the optional move to ``processed_folder``."""

    class Security(models.TextChoices):
        SSL = "ssl", _("TLS (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        NONE = "none", _("aucune (réseau local seulement)")

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="mailbox")
    enabled = models.BooleanField("relève active", default=True)
    host = models.CharField("serveur IMAP", max_length=200)
    port = models.PositiveIntegerField("port", default=993)
    security = models.CharField("sécurité", max_length=10, choices=Security.choices, default=Security.SSL)
    username = models.CharField("identifiant", max_length=200)
    password = models.CharField("mot de passe ou mot de passe d’application", max_length=200, blank=True)
    cafile = models.CharField(
        "certificat d’autorité supplémentaire (PEM)", max_length=500, blank=True,
        help_text="chemin d’un certificat à approuver en plus de ceux du système (serveur au certificat auto-signé)")
    folder = models.CharField("dossier lu", max_length=200, default="INBOX")
    processed_folder = models.CharField(
        "dossier « traité »", max_length=200, blank=True,
        help_text="renseigné, chaque message lu et enregistré y est déplacé ; vide, la boîte n’est jamais modifiée")
    every_minutes = models.PositiveSmallIntegerField("relève toutes les (minutes)", default=10)
    automatic = models.JSONField(
        "catégories appliquées sans validation", default=_default_automatic, blank=True,
        help_text="les autres catégories sont proposées à une personne avant tout effet")
    paid_wait_business_days = models.PositiveSmallIntegerField(
        "« déjà payé » : jours ouvrés d’attente du relevé bancaire", default=5)
    resend_delay_days = models.PositiveSmallIntegerField("« non reçue » : nouveau délai après renvoi (jours)",
                                                         default=10)
    plan_wait_days = models.PositiveSmallIntegerField("« échéancier » : pause le temps de le proposer (jours)",
                                                      default=14)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_fetch_at = models.DateTimeField("dernière relève", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)

    class Meta:
        verbose_name = "boîte de réception"

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"


class Reply(models.Model):
    """One message read from the mailbox (or given to ``relance replies receive``), stored once.

    ``message_key`` is its Message-ID, or the SHA-256 of its bytes when it has none: the same
    message read twice (another UIDVALIDITY, a copy in two folders) is found, not stored again."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Réponse")
        BOUNCE = "bounce", _("Message non distribué")

    class State(models.TextChoices):
        TO_ATTACH = ReplyState.TO_ATTACH, _("À rattacher")
        TO_REVIEW = ReplyState.TO_REVIEW, _("À traiter")
        APPLIED = ReplyState.APPLIED, _("Traitée")
        DISMISSED = ReplyState.DISMISSED, _("Classée sans suite")

    class AttachedBy(models.TextChoices):
        THREAD = "thread", _("fil de la relance (In-Reply-To, References)")
        TAG = "tag", _("adresse étiquetée de la relance")
        SENDER = "sender", _("adresse de l’expéditeur parmi les contacts")
        PERSON = "person", _("rattachée par une personne")
        NONE = "", _("non rattachée")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="replies")
    message_key = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPLY)
    state = models.CharField("état", max_length=12, choices=State.choices)
    source = models.CharField("source", max_length=20, default="imap")  # imap | fichier
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    raw = models.FileField("message d’origine", upload_to="replies/", blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField("reçue le")
    received_on = models.DateField("jour de réception")
    sender = models.CharField("expéditeur", max_length=300, blank=True)
    subject = models.CharField("objet", max_length=300, blank=True)
    body = models.TextField("texte", blank=True)
    auto_submitted = models.BooleanField("réponse automatique", default=False)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    reminder = models.ForeignKey("dunning.Reminder", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="replies")
    attached_by = models.CharField("rattachée par", max_length=10, choices=AttachedBy.choices, blank=True)
    predicted = models.CharField("catégorie lue", max_length=20, choices=CATEGORIES, default="autre")
    category = models.CharField("catégorie", max_length=20, choices=CATEGORIES, default="autre")
    confidence = models.DecimalField("confiance", max_digits=4, decimal_places=3, default=0)
    evidence = models.JSONField("indices", default=list, blank=True)
    promised_date = models.DateField("date promise", null=True, blank=True)
    return_date = models.DateField("date de retour", null=True, blank=True)
    problems = models.JSONField("problèmes de lecture", default=list, blank=True)
    bounce = models.JSONField("non-distribution", default=dict, blank=True)
    # what the effect created, to revert it: {"holds": [...], "promise": id, "tasks": [...]}
    effect = models.JSONField(default=dict, blank=True)
    review_hold = models.ForeignKey("holds.Hold", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.CharField("vue par", max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    follow_up_task = models.ForeignKey("dunning.CallTask", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "réponse"
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["organisation", "message_key"], name="reply_once")]
        indexes = [models.Index(fields=["organisation", "state"], name="reply_state")]

    def __str__(self) -> str:
        return f"{self.sender} — {self.subject}"
