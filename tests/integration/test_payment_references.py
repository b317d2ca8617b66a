"""Payment references are given when invoices and customers are created (and by migration
ledger 0010 to the older ones); composing a message only reads them."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relance.core.references import make_rf, make_rf_lenient
from relance.dunning.services.payment_details import payment_block_for
from relance.ledger.models import Invoice
from tests.builders import make_customer, make_invoice, make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 2)
WRITES = ("INSERT", "UPDATE", "DELETE")


def _invoice(org, customer, number: str, reference: str = "") -> Invoice:
    return make_invoice(customer, number, "100.00", DAY, issued=DAY, payment_reference=reference)


def test_the_migration_gives_a_reference_to_every_invoice_and_customer_without_one() -> None:
    org = make_org()
    customer = make_customer(org, "C001", "Durand SARL")
    kept = _invoice(org, customer, "A-9", reference=make_rf_lenient("A-1"))  # A-1's own reference, already used
    first = _invoice(org, customer, "A-1")
    second = _invoice(org, customer, "A-2")
    fill = importlib.import_module("relance.ledger.migrations.0010_fill_payment_references").fill
    fill(apps, SimpleNamespace(connection=connection))
    for obj in (kept, first, second, customer):
        obj.refresh_from_db()
    assert kept.payment_reference == make_rf_lenient("A-1")  # unchanged
    assert first.payment_reference == make_rf(f"F{first.pk}")  # its number's was taken: from its id
    assert second.payment_reference == make_rf_lenient("A-2")
    assert customer.payment_reference == make_rf_lenient("CC001")


def test_a_missing_reference_is_not_made_up_nor_written_while_composing() -> None:
    org = make_org()
    customer = make_customer(org, "C001", "Durand SARL")
    invoice = _invoice(org, customer, "F-1")
    with CaptureQueriesContext(connection) as queries:
        block = payment_block_for(org, customer, [invoice])
    assert [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)] == []
    assert block.reference == "" and block.payload  # still payable: the QR code carries the invoice number
    invoice.refresh_from_db()
    assert invoice.payment_reference == ""
