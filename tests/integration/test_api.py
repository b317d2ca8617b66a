"""The JSON API: 401 for anonymous callers, 403 without membership, organisation
scoping, amounts as two-decimal strings, and a constant number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from relance.api import urls as api_urls
from relance.ledger.models import Invoice, Organisation
from tests.builders import bare_org, make_customer, make_invoice, make_user
from tests.conftest import PINNED_NOW

# The API counts days late from the organisation's today: the clock is pinned (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

TODAY = PINNED_NOW.astimezone(ZoneInfo("Europe/Paris")).date()


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org_a() -> Organisation:
    return bare_org("alpha", "Alpha Conseil")


@pytest.fixture
def org_b() -> Organisation:
    return bare_org("beta", "Beta Industrie")


@pytest.fixture
def client_a(client: Client, org_a: Organisation) -> Client:
    client.force_login(make_user("alice", org_a))
    return client


@pytest.fixture
def data(org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    durand = make_customer(org_a, "C001", "Durand Menuiserie", siren="732829320")
    make_invoice(durand, "F-001", "1234.5", TODAY - timedelta(days=20))
    make_invoice(durand, "F-002", "100", TODAY + timedelta(days=10))
    make_invoice(durand, "F-000", "80", TODAY - timedelta(days=90), amount_due=Decimal("0"),
                 status=Invoice.Status.PAID)
    partial = make_customer(org_a, "C002", "Martin", is_business=False)
    make_invoice(partial, "F-010", "300", TODAY - timedelta(days=5), amount_due=Decimal("120.10"))
    idle = make_customer(org_a, "C003", "Sans Facture")
    secret = make_customer(org_b, "B001", "Zeta Secrète")
    make_invoice(secret, "B-001", "999.99", TODAY - timedelta(days=30))
    return {"durand": durand, "partial": partial, "idle": idle, "secret": secret}


def _api_urls() -> list[tuple[str, str]]:
    urls = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {"pk": 1} if "<int:pk>" in str(pattern.pattern) else {}
        urls.append((f"api:{pattern.name}", reverse(f"api:{pattern.name}", kwargs=kwargs)))
    return urls


def test_routes() -> None:
    assert reverse("api:customers") == "/api/customers"
    assert reverse("api:customer", kwargs={"pk": 7}) == "/api/customers/7"
    assert {name for name, _ in _api_urls()} == {"api:customers", "api:customer"}


@pytest.mark.parametrize(("name", "url"), _api_urls())
def test_anonymous_gets_401_json_not_a_redirect(client: Client, name: str, url: str) -> None:
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 401, name
        assert response["Content-Type"] == "application/json"
        assert "error" in response.json()


def test_user_without_membership_gets_403(client: Client, data: dict[str, Any]) -> None:
    client.force_login(make_user("nobody"))
    for url in (reverse("api:customers"), reverse("api:customer", kwargs={"pk": data["durand"].pk})):
        response = client.get(url)
        assert response.status_code == 403
        assert "aucune organisation" in response.json()["error"]


def test_customer_list(client_a: Client, data: dict[str, Any]) -> None:
    response = client_a.get(reverse("api:customers"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    rows = {row["code"]: row for row in body["customers"]}
    assert set(rows) == {"C001", "C002", "C003"}  # never B's
    assert rows["C001"] == {
        "id": data["durand"].pk,
        "code": "C001",
        "name": "Durand Menuiserie",
        "is_business": True,
        "amount_due": "1334.50",
        "overdue": "1234.50",
        "currency": "EUR",
    }
    assert rows["C002"]["amount_due"] == "120.10" and rows["C002"]["overdue"] == "120.10"
    assert rows["C002"]["is_business"] is False
    assert rows["C003"]["amount_due"] == "0.00" and rows["C003"]["overdue"] == "0.00"


def test_customer_list_search(client_a: Client, data: dict[str, Any]) -> None:
    body = client_a.get(reverse("api:customers") + "?q=mart").json()
    assert [c["code"] for c in body["customers"]] == ["C002"]
    assert client_a.get(reverse("api:customers") + "?q=Zeta").json() == {"customers": [], "count": 0}


def test_customer_detail(client_a: Client, data: dict[str, Any]) -> None:
    durand = data["durand"]
    body = client_a.get(reverse("api:customer", kwargs={"pk": durand.pk})).json()
    assert body["id"] == durand.pk and body["code"] == "C001" and body["siren"] == "732829320"
    assert body["amount_due"] == "1334.50" and body["overdue"] == "1234.50"
    assert body["count"] == 3
    by_number = {i["number"]: i for i in body["invoices"]}
    assert by_number["F-001"]["amount_incl_tax"] == "1234.50"
    assert by_number["F-001"]["amount_due"] == "1234.50"
    assert by_number["F-001"]["days_late"] == 20
    assert by_number["F-001"]["due_date"] == (TODAY - timedelta(days=20)).isoformat()
    assert by_number["F-002"]["days_late"] == 0
    assert by_number["F-000"]["status"] == "paid" and by_number["F-000"]["amount_due"] == "0.00"


def test_other_organisation_customer_gives_404_json(client_a: Client, data: dict[str, Any]) -> None:
    response = client_a.get(reverse("api:customer", kwargs={"pk": data["secret"].pk}))
    assert response.status_code == 404
    assert response.json() == {"error": "Introuvable."}


def test_follows_the_current_organisation(client: Client, data: dict[str, Any], org_a: Organisation,
                                          org_b: Organisation) -> None:
    client.force_login(make_user("multi", org_a, org_b))
    assert {c["code"] for c in client.get(reverse("api:customers")).json()["customers"]} == {"C001", "C002", "C003"}
    client.post(reverse("web:switch_organisation"), {"organisation": org_b.pk})
    body = client.get(reverse("api:customers")).json()
    assert body == {
        "customers": [
            {
                "id": data["secret"].pk,
                "code": "B001",
                "name": "Zeta Secrète",
                "is_business": True,
                "amount_due": "999.99",
                "overdue": "999.99",
                "currency": "EUR",
            }
        ],
        "count": 1,
    }


def test_only_get(client_a: Client, data: dict[str, Any]) -> None:
    assert client_a.post(reverse("api:customers")).status_code == 405


def test_customer_list_does_a_constant_number_of_queries(
    client_a: Client, org_a: Organisation, django_assert_max_num_queries: Any
) -> None:
    url = reverse("api:customers")
    for c in range(30):
        customer = make_customer(org_a, f"N{c:03}", f"Client {c:03}")
        for i in range(5):
            make_invoice(customer, f"N{c:03}-{i}", "10.25", TODAY - timedelta(days=i * 10 - 15))
    client_a.get(url)  # the session is written on the first request
    with django_assert_max_num_queries(5):
        response = client_a.get(url)
    body = response.json()
    assert body["count"] == 30
    assert all(c["amount_due"] == "51.25" for c in body["customers"])
    assert all(c["overdue"] == "30.75" for c in body["customers"])  # due 5, 15 and 25 days ago
