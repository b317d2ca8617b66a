"""The template editor's live preview underlines the writing check's problems in a real browser,
under the Content-Security-Policy (the script builds <mark> elements from the server's segments,
no inline script), and saving a spelling mistake asks to confirm (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.dunning.models import MessageTemplate
from relance.ledger.models import Membership
from relance.ledger.services.imports import import_file
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(tmp_path: Path) -> dict[str, Any]:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    user = get_user_model().objects.create_user("sophie", password="motdepasse-solide-42")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
    return {"org": org, "password": "motdepasse-solide-42"}


def test_live_underlines_and_confirmation(page: Any, live_server: Any, admin: dict[str, Any]) -> None:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    login(page, live_server.url, "sophie", admin["password"])
    page.goto(f"{live_server.url}/modeles/relance_1/fr/")
    page.locator("#body").fill("{{ salutation }}\n\nVotre facure {{ numeros_factures }} reste impayée.")
    mark = page.locator("#writing-text mark.writing-orthographe")
    mark.get_by_text("facure").wait_for()
    assert "facture" in (mark.first.get_attribute("title") or "")
    assert "facure" in page.get_by_test_id("writing-problems").inner_text()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.get_by_test_id("writing-confirm").wait_for()
    assert not MessageTemplate.objects.filter(organisation=admin["org"]).exists()
    page.get_by_role("button", name="Enregistrer malgré les fautes signalées").click()
    page.get_by_text("Modèle enregistré.").wait_for()
    assert MessageTemplate.objects.filter(organisation=admin["org"], key="relance_1").exists()
    assert [v for v in violations if "'cid:" not in v] == []
