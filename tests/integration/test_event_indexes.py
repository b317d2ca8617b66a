"""The event log's indexes: an invoice's timeline (``events.services.invoice_timeline``) reads
an index instead of scanning the organisation's log (issue #5)."""

from __future__ import annotations

import pytest
from django.db import connection

from relance.events.models import Event
from relance.events.services import NewEvent, invoice_timeline, record_many
from tests.builders import make_org

pytestmark = pytest.mark.django_db


def test_the_invoice_timeline_has_its_index() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    assert constraints["event_invoice_seq"]["columns"] == ["organisation_id", "invoice_id_ref", "seq"]
    assert constraints["event_invoice_seq"]["index"]


def test_the_invoice_timeline_lists_its_events_newest_first() -> None:
    org = make_org()
    record_many(org, [NewEvent("invoice.imported", invoice_id=7, data={"n": n}) for n in range(3)]
                + [NewEvent("invoice.imported", invoice_id=8)])
    timeline = list(invoice_timeline(org, 7))
    assert [e.data["n"] for e in timeline] == [2, 1, 0]
