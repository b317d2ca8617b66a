"""The web app in a real browser: log in, today's page, the import page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.ledger.models import Membership
from relance.ledger.services.imports import import_file
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def collector(tmp_path: Path) -> dict[str, Any]:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    user = get_user_model().objects.create_user("claire", password="motdepasse-solide-42")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    return {"org": org, "user": user, "password": "motdepasse-solide-42"}


def test_login_then_customers(page: Any, live_server: Any, collector: dict[str, Any]) -> None:
    login(page, live_server.url, "claire", collector["password"])
    page.get_by_role("link", name="Clients").click()
    assert page.get_by_role("heading", name="Clients").is_visible()
    page.get_by_role("link", name="Boulangerie Martin SARL").click()
    assert "Boulangerie Martin SARL" in page.content()


def test_wrong_password_is_refused_in_french(page: Any, live_server: Any, collector: dict[str, Any]) -> None:
    login(page, live_server.url, "claire", "pas-le-bon")
    assert page.get_by_text("Identifiant ou mot de passe incorrect").is_visible()
