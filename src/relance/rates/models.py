"""Rates added by users on top of the tables shipped in ``relance/core/law/data``.

The shipped tables stop where our sources stop; when a new semester is published
(arrêté fixing the legal interest rate, ECB decision), a user adds it here with its
source, and every computation uses it from then on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AddedLegalRate(models.Model):
    """Taux de l’intérêt légal of one semester (CMF L313-2), both categories."""

    semester = models.CharField("semestre", max_length=7, unique=True, help_text="AAAA-S1 ou AAAA-S2")
    individual_rate = models.DecimalField("créancier particulier (%)", max_digits=6, decimal_places=2)
    other_rate = models.DecimalField("autres cas (%)", max_digits=6, decimal_places=2)
    source = models.CharField("source (arrêté, JO)", max_length=300)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "taux de l’intérêt légal ajouté"
        constraints = [
            models.CheckConstraint(condition=Q(semester__regex=r"^[0-9]{4}-S[12]$"), name="legal_rate_semester_format"),
            models.CheckConstraint(condition=Q(individual_rate__gte=0) & Q(other_rate__gte=0),
                                   name="legal_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.semester} : {self.individual_rate} % / {self.other_rate} %"


class AddedEcbRate(models.Model):
    """ECB main refinancing operations rate in force from a date (a change or a confirmed hold)."""

    effective_date = models.DateField("en vigueur le", unique=True)
    rate = models.DecimalField("taux BCE (%)", max_digits=6, decimal_places=2)
    source = models.CharField("source (décision BCE)", max_length=300)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "taux BCE ajouté"

    def __str__(self) -> str:
        return f"{self.effective_date} : {self.rate} %"
