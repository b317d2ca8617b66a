"""Append to and verify the event log. Appends of one organisation are serialised by
locking the organisation row (``relance.locks.lock_organisation``), so the chain stays
linear under concurrent writers. That row comes second in the project's lock order, after the
invoices the transaction writes (``relance/locks.py``): a service locks its invoices
before its first event, and the row is held from the first event to the commit — keep what
follows short."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from relance import clock
from relance.core.hashchain import GENESIS, ChainProblem, link, verify
from relance.locks import lock_organisation

from .models import Event

#: a ``ledger.Organisation`` (the log is a base layer: it names no domain app's model)
Organisation = Any


@dataclass
class NewEvent:
    kind: str
    customer_id: int | None = None
    invoice_id: int | None = None
    reminder_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str = "system"


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    # Decimals, dates… become strings, exactly as they will be read back from the JSON column.
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def record_many(organisation: Organisation, items: Iterable[NewEvent], at: datetime | None = None) -> list[Event]:
    items = list(items)
    if not items:
        return []
    at = (at or clock.now()).astimezone(UTC)  # hashed exactly as stored: UTC
    with transaction.atomic():
        lock_organisation(organisation)
        last = Event.objects.filter(organisation=organisation).order_by("-seq").values("seq", "hash").first()
        seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
        events = []
        for item in items:
            seq += 1
            event = Event(
                organisation=organisation,
                seq=seq,
                kind=item.kind,
                occurred_at=at,
                customer_id_ref=item.customer_id,
                invoice_id_ref=item.invoice_id,
                reminder_id_ref=item.reminder_id,
                actor=item.actor,
                data=_plain(item.data),
                prev_hash=prev,
            )
            event.hash = link(prev, event.payload())
            prev = event.hash
            events.append(event)
        Event.objects.bulk_create(events, batch_size=1000)
    return events


def record(organisation: Organisation, kind: str, **kwargs: Any) -> Event:
    at = kwargs.pop("at", None)
    return record_many(organisation, [NewEvent(kind, **kwargs)], at=at)[0]


def verify_chain(organisation: Organisation) -> list[ChainProblem]:
    events = Event.objects.filter(organisation=organisation).order_by("seq").iterator(chunk_size=2000)
    return verify(e.as_record() for e in events)


def timeline(organisation: Organisation, customer_id: int) -> Any:
    return Event.objects.filter(organisation=organisation, customer_id_ref=customer_id).order_by("-seq")


def invoice_timeline(organisation: Organisation, invoice_id: int) -> Any:
    return Event.objects.filter(organisation=organisation, invoice_id_ref=invoice_id).order_by("-seq")
