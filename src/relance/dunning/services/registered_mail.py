"""Proof of posting and of receipt for registered letters (LRAR): the La Poste tracking
number, the date on the avis de réception and its scan, each recorded with an event
(``relance letter`` and the letters block of « Le travail du jour »). Bad input — a number
that is not one, a receipt dated before the posting or in the future, a scan that is not a
PDF, PNG or JPEG — is refused and nothing is saved."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction

from relance.clock import today_for
from relance.core.policy import Channel
from relance.dunning.models import Reminder
from relance.errors import InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Organisation
from relance.ledger.queries import visible

from .escalation import record_notice_receipt

MAX_SCAN_BYTES = 15 * 1024 * 1024
SCAN_TYPES = {b"%PDF-": "pdf", b"\x89PNG": "png", b"\xff\xd8\xff": "jpg"}


def record_delivery(
    organisation: Organisation,
    reminder_id: int,
    *,
    tracking_number: str | None = None,
    received_on: date | None = None,
    scan: Path | tuple[str, bytes] | None = None,
    actor: str = "system",
    collector_id: int | None = None,
    today: date | None = None,
) -> Reminder:
    """Record what is given of the tracking number, the receipt date and the scanned receipt
    (a file, or its name and content); ``collector_id`` restricts to the collector's customers."""
    today = today or today_for(organisation)
    with transaction.atomic():
        wanted = visible(Reminder.objects.filter(organisation=organisation, pk=reminder_id), collector_id, "customer__")
        reminder = Reminder.objects.select_for_update().filter(pk__in=wanted.values("pk")).first()
        if reminder is None:
            raise NotFound(f"courrier n° {reminder_id} introuvable")
        if reminder.channel != Channel.REGISTERED_LETTER:
            raise InvalidInput(f"le courrier n° {reminder_id} n’est pas une lettre recommandée")
        if reminder.status != Reminder.Status.SENT:
            raise InvalidInput(f"le courrier n° {reminder_id} n’a pas été produit (état : {reminder.get_status_display()})")
        events = []
        if tracking_number is not None:
            number = "".join(tracking_number.split()).upper()
            if not number.isalnum() or not 8 <= len(number) <= 30:
                raise InvalidInput(f"numéro de recommandé illisible : « {tracking_number} »")
            reminder.tracking_number = number
            events.append(kinds.letter_tracking_recorded(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                                         tracking_number=number, actor=actor))
        if received_on is not None:
            if reminder.sent_at and received_on < today_for(organisation, reminder.sent_at):
                raise InvalidInput("la date de réception précède l’envoi du courrier")
            if received_on > today:
                raise InvalidInput("la date de réception est dans le futur")
            reminder.received_on = received_on
            if reminder.sent_at is not None:
                record_notice_receipt(organisation, reminder, today_for(organisation, reminder.sent_at), received_on)
            events.append(kinds.letter_received(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                                received_on=received_on, actor=actor))
        if scan is not None:
            name, data = (scan.name, scan.read_bytes()) if isinstance(scan, Path) else scan
            kind = next((ext for magic, ext in SCAN_TYPES.items() if data.startswith(magic)), None)
            if kind is None or len(data) > MAX_SCAN_BYTES:
                raise InvalidInput(f"{name} : avis de réception attendu en PDF, PNG ou JPEG (15 Mo au plus)")
            reminder.receipt_scan.save(f"{organisation.slug}/avis-{reminder.id}.{kind}", ContentFile(data), save=False)
            events.append(kinds.letter_receipt_attached(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                                        sha256=hashlib.sha256(data).hexdigest(), file=name,
                                                        actor=actor))
        if not events:
            raise InvalidInput("rien à enregistrer : indiquez un numéro, une date de réception ou un scan")
        reminder.save(update_fields=["tracking_number", "received_on", "receipt_scan"])
        record_many(organisation, events)
    return reminder
