"""Payer profiles of an organisation (ordered rules choosing a scenario), the profile each
customer was last given by the rules, and a collector's override."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.core.profiles import Audience, Rule
from relance.dunning.models import Scenario
from relance.ledger.models import Customer, Organisation

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class PayerProfile(models.Model):
    """One rule: the customers it matches follow its scenario. Rules are tried in order
    (``position``); the first whose conditions all hold wins; an empty condition is no condition."""

    AUDIENCES = [
        (Audience.ALL.value, _("Tous les clients")),
        (Audience.BUSINESS.value, _("Professionnels")),
        (Audience.CONSUMER.value, _("Particuliers")),
    ]

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="payer_profiles")
    name = models.CharField("nom", max_length=100)
    position = models.PositiveSmallIntegerField("ordre", help_text="les profils sont essayés dans cet ordre")
    scenario = models.ForeignKey(Scenario, on_delete=models.RESTRICT, related_name="payer_profiles",
                                 verbose_name="scénario")
    description = models.CharField("description", max_length=300, blank=True)
    audience = models.CharField("clients concernés", max_length=10, choices=AUDIENCES, default=Audience.ALL.value)
    min_invoices = models.PositiveSmallIntegerField(
        "au moins … factures sur 12 mois", null=True, blank=True,
        help_text="factures réglées sur la période ou échues et impayées",
    )
    min_outstanding = models.DecimalField("encours d’au moins (€)", **MONEY, null=True, blank=True)
    max_outstanding = models.DecimalField("encours d’au plus (€)", **MONEY, null=True, blank=True)
    max_average_days_late = models.DecimalField(
        "retard moyen d’au plus (jours)", max_digits=6, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    max_share_late = models.DecimalField(
        "part de factures en retard d’au plus", max_digits=3, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text="entre 0 et 1 : 0,25 pour une facture sur quatre",
    )
    max_reminders_per_invoice = models.DecimalField(
        "relances par facture d’au plus", max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "profil de payeur"
        verbose_name_plural = "profils de payeurs"
        ordering = ["organisation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="payer_profile_name_unique"),
            models.UniqueConstraint(fields=["organisation", "position"], name="payer_profile_position_unique"),
            models.CheckConstraint(
                condition=Q(max_share_late__isnull=True) | Q(max_share_late__gte=0, max_share_late__lte=1),
                name="payer_profile_share_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(min_outstanding__isnull=True) | Q(max_outstanding__isnull=True)
                | Q(min_outstanding__lte=models.F("max_outstanding")),
                name="payer_profile_outstanding_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.scenario_id and self.organisation_id and self.scenario.organisation_id != self.organisation_id:
            raise ValidationError({"scenario": "Ce scénario appartient à une autre organisation."})
        if (self.min_outstanding is not None and self.max_outstanding is not None
                and self.min_outstanding > self.max_outstanding):
            raise ValidationError({"max_outstanding": "L’encours maximal est inférieur à l’encours minimal."})

    def rule(self) -> Rule:
        return Rule(
            position=self.position, name=self.name, audience=self.audience, min_invoices=self.min_invoices,
            min_outstanding=self.min_outstanding, max_outstanding=self.max_outstanding,
            max_average_days_late=self.max_average_days_late, max_share_late=self.max_share_late,
            max_reminders_per_invoice=self.max_reminders_per_invoice, key=self.pk,
        )


class CustomerProfile(models.Model):
    """The profile the rules gave a customer, with the figures behind it, as of the day it
    last changed. Written only when it changes (the daily run compares, then leaves it)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="payer_profile")
    profile = models.ForeignKey(PayerProfile, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="assignments", verbose_name="profil")
    assigned_on = models.DateField("depuis le")
    figures = models.JSONField("chiffres", default=dict)

    class Meta:
        verbose_name = "profil d’un client"
        verbose_name_plural = "profils des clients"

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.profile_id}"


class ProfileOverride(models.Model):
    """A collector's choice of profile for one customer: it wins over the rules until cleared."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="profile_override")
    profile = models.ForeignKey(PayerProfile, on_delete=models.RESTRICT, related_name="overrides",
                                verbose_name="profil imposé")
    by = models.CharField("par", max_length=150)
    reason = models.CharField("motif", max_length=300)
    at = models.DateTimeField("le")

    class Meta:
        verbose_name = "profil imposé"
        verbose_name_plural = "profils imposés"
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="profile_override_reason")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.profile_id} ({self.by})"
