"""Composing a reminder (``dunning/services/compose.py``) reads the database and never writes:
the dispatcher records what was composed, in its own transaction."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relance.dunning.services.compose import compose
from relance.events.services import NewEvent
from relance.ledger.models import Customer, Invoice
from tests.builders import one_planned_reminder

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

DAY = date(2026, 11, 23)
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _compose_and_capture(reminder):  # type: ignore[no-untyped-def]
    org = reminder.organisation
    customer = Customer.objects.prefetch_related("contacts").get(pk=reminder.customer_id)
    invoices = list(Invoice.objects.filter(pk__in=reminder.lines.values("invoice_id")))
    events: list[NewEvent] = []
    with CaptureQueriesContext(connection) as queries:
        composed = compose(reminder, org, customer, invoices, DAY, events)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    return composed, writes


def test_composing_a_reminder_performs_no_write_query(tmp_path, settings) -> None:
    _, reminder = one_planned_reminder(tmp_path, settings, DAY)
    composed, writes = _compose_and_capture(reminder)
    assert writes == []
    assert composed.subject and "F-1" in composed.text
    assert composed.payment is not None and composed.payment.reference.startswith("RF")  # given at the import


def test_a_reference_still_missing_is_left_out_not_written(tmp_path, settings) -> None:
    _, reminder = one_planned_reminder(tmp_path, settings, DAY)
    Invoice.objects.update(payment_reference="")
    Customer.objects.update(payment_reference="")
    composed, writes = _compose_and_capture(reminder)
    assert writes == []
    assert composed.payment is not None and composed.payment.reference == ""
    assert composed.payment.payload  # the QR code carries the invoice number instead
    assert set(Invoice.objects.values_list("payment_reference", flat=True)) == {""}


def test_the_approval_previews_write_nothing_either(tmp_path, settings) -> None:
    from relance.dunning.services import approvals

    org, reminder = one_planned_reminder(tmp_path, settings, DAY)
    with CaptureQueriesContext(connection) as queries:
        preview = approvals.preview(org, reminder, DAY)
        approvals.queue_previews(org, [reminder], DAY)
    assert [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)] == []
    assert preview.subject and not preview.problem
