# ruff: noqa: F811  (the fixtures of test_web_law are imported by name)
"""For a consumer, legal interest runs from the formal notice (C. civ. 1231-6, 1344-1): the
customer page shows it, read from the invoice's ``formal_notice_on`` (issue #11), and nothing
before the notice; a business's justified recovery costs come apart from its 40 €."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from relance.ledger.models import Customer, Invoice, Organisation, RecoveryCost
from tests.integration.test_web_law import (  # noqa: F401  (fixtures)
    DAY,
    _customer_page,
    add_missing_semesters,
    client_u,
    customers,
    org,
    text,
    user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]


def test_consumer_interest_shows_from_the_formal_notice(client_u: Client, customers: dict[str, Any],
                                                        org: Organisation) -> None:
    add_missing_semesters()
    consumer: Customer = customers["consumer"]
    invoice: Invoice = customers["consumer_late"]
    before = _customer_page(client_u, consumer)
    assert before.context["charges"].by_invoice[invoice.pk].late_charge == Decimal(0)
    assert "à compter de la mise en demeure" in text(before)

    invoice.formal_notice_on = DAY - timedelta(days=20)
    invoice.save(update_fields=["formal_notice_on"])
    response = _customer_page(client_u, consumer)
    charge = response.context["charges"].by_invoice[invoice.pk]
    assert charge.interest is not None and charge.formal_notice_on == invoice.formal_notice_on
    assert charge.interest.periods[0].start == invoice.formal_notice_on + timedelta(days=1)
    assert charge.late_charge > 0 and charge.indemnity == Decimal(0)
    page = text(response)
    assert f"depuis la mise en demeure du {invoice.formal_notice_on:%d/%m/%Y}" in page
    assert response.context["charges"].penalties == charge.late_charge


def test_business_justified_costs_come_apart_from_the_flat_indemnity(client_u: Client, customers: dict[str, Any],
                                                                     org: Organisation) -> None:
    add_missing_semesters()
    late: Invoice = customers["late"]
    RecoveryCost.objects.create(organisation=org, invoice=late, incurred_on=DAY - timedelta(days=2),
                                amount=Decimal("100.00"), description="commissaire de justice",
                                proof="recovery_costs/pv.pdf")
    response = _customer_page(client_u, customers["business"])
    charge = response.context["charges"].by_invoice[late.pk]
    assert (charge.indemnity, charge.complement) == (Decimal("40.00"), Decimal("60.00"))
    assert "+ 60,00\u00a0€ de frais justifiés" in text(response)
    partly = response.context["charges"].by_invoice[customers["partly"].pk]
    assert (partly.indemnity, partly.complement) == (Decimal("40.00"), Decimal(0))
    assert response.context["charges"].indemnities == Decimal("140.00")  # 40 + 40 + 60 justified


def test_invoice_page_of_a_consumer_with_a_clause(client_u: Client, customers: dict[str, Any],
                                                   org: Organisation) -> None:
    from django.urls import reverse

    add_missing_semesters()
    invoice: Invoice = customers["consumer_late"]
    url = reverse("web:invoice", kwargs={"pk": invoice.pk})
    assert "à compter de la mise en demeure" in text(client_u.get(url))
    org.consumer_penalty_rate = Decimal("8.00")
    org.save(update_fields=["consumer_penalty_rate"])
    invoice.formal_notice_on = DAY - timedelta(days=10)
    invoice.save(update_fields=["formal_notice_on"])
    page = text(client_u.get(url))
    assert "Intérêts de retard au taux contractuel (C. civ. 1231-5)" in page
    assert f"depuis la mise en demeure du {invoice.formal_notice_on:%d/%m/%Y}" in page
    assert "Pénalités de retard" not in page and "D441-5" not in page


def test_calculator_consumer_clause_runs_from_the_formal_notice(client_u: Client) -> None:
    from tests.integration.test_web_law import penalties, section

    base = {"montant": "1000", "echeance": "2024-06-15", "paiement": "2024-08-14", "debiteur": "consumer",
            "taux": "10"}
    without = section(penalties(client_u, **base), "penalites")["result"]
    assert without["total"] == Decimal("0.00")
    with_notice = section(penalties(client_u, **base, mise_en_demeure="2024-07-15"), "penalites")["result"]
    assert with_notice["total"] == Decimal("8.22") and with_notice["indemnity"] == Decimal("0.00")
