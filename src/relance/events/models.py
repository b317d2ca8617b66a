"""The append-only, hash-chained event log of each organisation."""

from __future__ import annotations

from typing import Any

from django.db import models

from relance.core.hashchain import ChainedRecord


class Event(models.Model):
    organisation = models.ForeignKey("ledger.Organisation", on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    customer_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    invoice_id_ref = models.BigIntegerField(null=True, blank=True)
    reminder_id_ref = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, default="system")
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "événement"
        ordering = ["organisation", "seq"]
        constraints = [models.UniqueConstraint(fields=["organisation", "seq"], name="event_seq_unique")]
        # an invoice's timeline (``services.invoice_timeline``) without scanning the log
        indexes = [models.Index(fields=["organisation", "invoice_id_ref", "seq"], name="event_invoice_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("le journal des événements est en ajout seul")
        super().save(*args, **kwargs)

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at": self.occurred_at.isoformat(),
            "customer": self.customer_id_ref,
            "invoice": self.invoice_id_ref,
            "reminder": self.reminder_id_ref,
            "actor": self.actor,
            "data": self.data,
        }

    def as_record(self) -> ChainedRecord:
        return ChainedRecord(self.seq, self.payload(), self.prev_hash, self.hash)
