"""Rates added by users on top of the tables shipped in ``relance/core/law/data``.

The shipped tables stop where our sources stop; when a new semester is published (the
arrêté fixing the taux de l’intérêt légal, CMF L313-2; the ECB rate in force on 1 January
or 1 July, C. com. L441-10 II), a user adds it with its source, and every computation
uses it from then on. A shipped (sourced) value always wins over a contradicting one.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class AddedRate(models.Model):
    semester = models.CharField("semestre", max_length=7, unique=True, help_text="AAAA-S1 ou AAAA-S2")
    individual_rate = models.DecimalField("intérêt légal, créancier particulier (%)", max_digits=6, decimal_places=2,
                                          null=True, blank=True)
    other_rate = models.DecimalField("intérêt légal, autres cas (%)", max_digits=6, decimal_places=2,
                                     null=True, blank=True)
    ecb_rate = models.DecimalField("taux BCE au 1er janvier / 1er juillet (%)", max_digits=6, decimal_places=2,
                                   null=True, blank=True)
    source = models.CharField("source (arrêté, JO, décision BCE)", max_length=300)
    added_by = models.CharField("ajouté par", max_length=150, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "taux ajouté"
        verbose_name_plural = "taux ajoutés"
        ordering = ["semester"]
        constraints = [
            models.CheckConstraint(condition=Q(semester__regex=r"^[0-9]{4}-S[12]$"), name="added_rate_semester_format"),
            models.CheckConstraint(
                condition=(Q(individual_rate__isnull=True) & Q(other_rate__isnull=True))
                | (Q(individual_rate__gte=0) & Q(other_rate__gte=0)),
                name="added_rate_legal_pair",
            ),
            models.CheckConstraint(condition=Q(ecb_rate__isnull=True) | Q(ecb_rate__gte=0), name="added_rate_ecb"),
        ]

    def __str__(self) -> str:
        return self.semester
