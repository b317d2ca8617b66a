"""Dashboard: aging buckets at their boundaries, DSO, counts, constant queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.ledger import queries as ledger
from relance.ledger.models import Organisation
from tests.builders import bare_org, make_customer, make_invoice, make_user

# The pages count days late from today's date: the clock is pinned on ON (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]
ON = date(2026, 11, 23)


@pytest.fixture
def org() -> Organisation:
    org = bare_org("atelier", "Atelier Dubois SAS")
    c = make_customer(org, "C1", "Boulangerie Martin")
    # days past due: -5 (not due), 0 (due today: not due), 1, 30, 31, 60, 61, 90, 91, 400
    for n, late in enumerate([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400]):
        make_invoice(c, f"FA-{n}", "100.00", ON - timedelta(days=late), issued=ON - timedelta(days=late + 30))
    paid = make_invoice(c, "FA-PAID", "50.00", ON - timedelta(days=10), issued=ON - timedelta(days=40))
    paid.status, paid.amount_due = "paid", Decimal("0")
    paid.save()
    return org


def test_aging_buckets_by_days_past_due(org: Organisation) -> None:
    buckets = {b.key: b for b in ledger.aging(org, ON)}
    assert {k: (b.invoices, b.amount) for k, b in buckets.items()} == {
        "not_due": (2, Decimal("200.00")), "d1_30": (2, Decimal("200.00")), "d31_60": (2, Decimal("200.00")),
        "d61_90": (2, Decimal("200.00")), "d90": (2, Decimal("200.00")),
    }
    assert sum(b.share for b in buckets.values()) == Decimal("100.0")


def test_dso_simple_method(org: Organisation) -> None:
    d = ledger.dso(org, ON)
    # issued 25, 30, 31, 60, 61 days ago (5 × 100) and the paid one 40 days ago (50): the window is
    # the 90 days ending on ON, so 89 days ago is its first day and 90, 91… are outside.
    assert d.invoiced == Decimal("550.00")
    assert d.outstanding == Decimal("1000.00")
    assert d.days == Decimal("164")  # 1000 × 90 / 550 = 163,6


def test_dashboard_page_and_constant_queries(client: Client, org: Organisation,
                                             django_assert_max_num_queries: Any) -> None:
    user = make_user("claire", org)
    client.force_login(user)
    with django_assert_max_num_queries(14):  # 12, the navigation's count of replies waiting, the prescription watch
        page = client.get(reverse("web:dashboard"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Balance âgée" in html and "Plus de 90 jours" in html and "164 jours" in html
    c = make_customer(org, "C2", "Garage")
    for n in range(30):
        make_invoice(c, f"FB-{n}", "10.00", ON - timedelta(days=n))
    with django_assert_max_num_queries(14):  # and the prescription watch
        assert client.get(reverse("web:dashboard")).status_code == 200


def test_dashboard_html_escapes_nothing_user_controlled(client: Client, org: Organisation) -> None:
    org.legal_name = "<script>alert(1)</script>"
    org.save()
    client.force_login(make_user("claire", org))
    html = client.get(reverse("web:dashboard")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_invoice_page(client: Client, org: Organisation) -> None:
    from relance.ledger.models import Invoice

    client.force_login(make_user("claire", org))
    from relance.rates.services import add_rate

    add_rate("2026-S2", individual="6,50", other="2,50", ecb="2,15", source="hypothèse de test")
    invoice = Invoice.objects.get(number="FA-9")
    html = client.get(reverse("web:invoice", kwargs={"pk": invoice.pk})).content.decode()
    assert "Facture FA-9" in html and "400 jours de retard" in html and "Indemnité forfaitaire" in html
    other = bare_org("autre", "Autre SA")
    stranger = make_customer(other, "X1", "Étranger")
    foreign = make_invoice(stranger, "FX-1", "10.00", ON)
    assert client.get(reverse("web:invoice", kwargs={"pk": foreign.pk})).status_code == 404


def test_customer_list_filters(client: Client, org: Organisation) -> None:
    from relance.holds.models import Hold

    client.force_login(make_user("claire", org))
    small = make_customer(org, "C2", "Petit Client")
    make_invoice(small, "FS-1", "20.00", ON - timedelta(days=5))
    held = make_customer(org, "C3", "Client En Litige")
    make_invoice(held, "FH-1", "5000.00", ON - timedelta(days=200))
    Hold.objects.create(organisation=org, customer=held, kind=Hold.Kind.DISPUTE, reason="livraison contestée")

    def names(**params: str) -> set[str]:
        html = client.get(reverse("web:customers"), params).content.decode()
        return {n for n in ("Boulangerie Martin", "Petit Client", "Client En Litige") if n in html}

    assert names() == {"Boulangerie Martin", "Petit Client", "Client En Litige"}
    assert names(min="1 000,00") == {"Boulangerie Martin", "Client En Litige"}
    assert names(retard="100") == {"Boulangerie Martin", "Client En Litige"}
    assert names(retard="300") == {"Boulangerie Martin"}
    assert names(suspension="dispute") == {"Client En Litige"}
    assert names(suspension="aucune") == {"Boulangerie Martin", "Petit Client"}
    assert names(min="abc", retard="-3", suspension="<x>") == {"Boulangerie Martin", "Petit Client", "Client En Litige"}
