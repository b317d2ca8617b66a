"""The scheduler's record of each organisation's day: one row per organisation and day, created
when a worker claims the day (unique constraint: a second claim fails), so that a day never runs
twice whatever the number of workers; a lease lets another worker resume a day whose worker died."""

from __future__ import annotations

from django.db import models

from relance.ledger.models import Organisation


class DayRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "en cours"
        DONE = "done", "terminée"
        FAILED = "failed", "en échec"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="day_runs")
    day = models.DateField("journée")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    worker = models.CharField("worker", max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField("lancée à")
    #: the worker holding the day renews it every minute; past it, another worker may resume the day
    lease_until = models.DateTimeField()
    finished_at = models.DateTimeField("terminée à", null=True, blank=True)
    #: business days whose hour passed while no worker ran (never run afterwards: reminders are dated today)
    missed_days = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    digest_claimed_at = models.DateTimeField(null=True, blank=True)
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "journée planifiée"
        verbose_name_plural = "journées planifiées"
        ordering = ["-day", "organisation_id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "day"], name="dayrun_one_per_org_day")]

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.day} ({self.status})"
