"""Prescription watch with interruptions recorded as events; terms flagged at import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.dunning.services.prescription import record_interruption
from relance.errors import InvalidInput
from relance.ledger.models import Customer
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from relance.litigation.prescription import watch as litigation_watch
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(tmp_path):
    org = make_org()
    import_file(org, write(tmp_path, "c.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "f.csv", invoices_csv([
        # no delivery date: the period runs from the invoice date (docs/law.md § 5)
        ("OLD-B", "C001", "2021-06-30", "2021-07-30", "500,00"),   # business: 5 years -> 2026-06-30
        ("OLD-C", "C003", "2024-12-31", "2025-01-30", "90,00"),    # consumer: 2 years -> 2026-12-31
        ("NEW", "C002", "2026-10-01", "2026-10-31", "100,00"),
    ])))
    return org


def watch(org, as_of):
    return litigation_watch(org, as_of, days=183)


def test_watch_lists_expired_and_soon_expired_invoices(org):
    rows = {w.invoice.number: w for w in watch(org, date(2026, 11, 23))}
    assert set(rows) == {"OLD-B", "OLD-C"}
    assert rows["OLD-B"].expired and rows["OLD-B"].ends_on == date(2026, 6, 30)
    assert not rows["OLD-C"].expired and rows["OLD-C"].days_left == 38


def test_acknowledgment_restarts_the_period_and_is_an_event(org):
    event = record_interruption(org, "OLD-C", "acknowledgment", date(2026, 3, 1), date(2026, 11, 23), "courriel")
    assert event.kind == "prescription.interrupted" and event.data["on"] == "2026-03-01"
    rows = {w.invoice.number for w in watch(org, date(2026, 11, 23))}
    assert "OLD-C" not in rows  # now 2028-03-01


def test_partial_payment_acknowledges_the_debt(org):
    customer = Customer.objects.get(code="C003")
    record_payment(org, customer, "P1", date(2026, 2, 1), Decimal("10.00"), ["OLD-C"])
    assert "OLD-C" not in {w.invoice.number for w in watch(org, date(2026, 11, 23))}


def test_interruption_inputs_are_checked(org):
    with pytest.raises(InvalidInput):
        record_interruption(org, "OLD-C", "formal_notice", date(2026, 3, 1), date(2026, 11, 23))
    with pytest.raises(InvalidInput):
        record_interruption(org, "OLD-C", "acknowledgment", date(2026, 12, 1), date(2026, 11, 23))


def test_terms_beyond_the_legal_maximum_are_flagged_at_import(org, tmp_path):
    report = import_file(org, write(tmp_path, "g.csv", invoices_csv([
        ("LONG", "C001", "2025-01-15", "2025-03-31", "100,00"),
        ("OK", "C001", "2025-01-15", "2025-02-14", "100,00"),
    ])))
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("g.csv, ligne 2, champ « échéance »")
    assert "L441-10" in report.warnings[0] and "14 jours" in report.warnings[0]
