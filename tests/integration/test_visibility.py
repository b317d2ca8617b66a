"""Roles: a collector restricted to assigned customers sees only those (pages, API,
direct URLs); administrators and unrestricted collectors see everything; read-only
members cannot import."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.ledger.models import Membership
from tests.builders import bare_org, make_customer, make_invoice, make_user
from tests.integration.test_web import make_reminder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world() -> dict[str, Any]:
    org = bare_org("atelier", "Atelier Dubois SAS", collectors_see_assigned_only=True)
    claire = make_user("claire", org)
    paul = make_user("paul", org)
    boss = make_user("boss", org, role=Membership.Role.ADMIN)
    mine = make_customer(org, "C1", "Boulangerie Martin", collector=claire)
    other = make_customer(org, "C2", "Garage du Centre", collector=paul)
    due = date(2026, 10, 1)
    make_invoice(mine, "FA-1", "100.00", due)
    theirs = make_invoice(other, "FA-2", "200.00", due)
    reminder = make_reminder(other, [theirs])
    return {"org": org, "claire": claire, "boss": boss, "mine": mine, "other": other, "reminder": reminder}


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_restricted_collector_sees_only_assigned_customers(client: Client, world: dict[str, Any]) -> None:
    c = _as(client, world["claire"])
    page = c.get(reverse("web:customers")).content.decode()
    assert "Boulangerie Martin" in page and "Garage du Centre" not in page
    assert c.get(reverse("web:customer", kwargs={"pk": world["mine"].pk})).status_code == 200
    assert c.get(reverse("web:customer", kwargs={"pk": world["other"].pk})).status_code == 404
    assert c.get(reverse("web:reminder", kwargs={"pk": world["reminder"].pk})).status_code == 404
    api = c.get("/api/customers").json()
    assert [x["code"] for x in api["customers"]] == ["C1"]
    assert c.get(f"/api/customers/{world['other'].pk}").status_code == 404


def test_admin_and_unrestricted_collectors_see_everything(client: Client, world: dict[str, Any]) -> None:
    c = _as(client, world["boss"])
    page = c.get(reverse("web:customers")).content.decode()
    assert "Boulangerie Martin" in page and "Garage du Centre" in page
    world["org"].collectors_see_assigned_only = False
    world["org"].save()
    c = _as(Client(), world["claire"])
    assert c.get(reverse("web:customer", kwargs={"pk": world["other"].pk})).status_code == 200


def test_read_only_member_cannot_import(client: Client, world: dict[str, Any]) -> None:
    reader = make_user("lecteur", world["org"], role=Membership.Role.READ_ONLY)
    c = _as(client, reader)
    assert "lecture seule" in c.get(reverse("web:imports")).content.decode()
    assert c.post(reverse("web:imports"), {"format": "csv"}).status_code == 403
