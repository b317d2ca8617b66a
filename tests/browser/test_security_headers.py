"""The Content-Security-Policy in a real browser (issue #11, docs/security.md): the pages, the template
editor's live preview (its script is a static file, the preview a sandboxed srcdoc frame) and the login
lockout work under the policy, and Chromium reports no violation."""

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
def admin(tmp_path: Path) -> dict[str, Any]:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    user = get_user_model().objects.create_user("sophie", password="motdepasse-solide-42")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
    return {"org": org, "user": user, "password": "motdepasse-solide-42"}


def test_pages_and_template_preview_under_the_policy(page: Any, live_server: Any, admin: dict[str, Any]) -> None:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    login(page, live_server.url, "sophie", admin["password"])
    for path in ("/", "/clients/", "/modeles/", "/scenarios/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status < 400, path
        assert "default-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.goto(f"{live_server.url}/modeles/relance_1/fr/")
    page.locator("#body").fill("Bonjour {{ client.nom }}, ceci est un test CSP.")
    frame = page.frame_locator("#preview-frame")
    frame.get_by_text("ceci est un test CSP").wait_for()
    page.locator("#body").fill("{% include 'x' %}")
    page.get_by_test_id("template-problem").get_by_text("un seul texte").wait_for()
    # the email's QR code is an inline attachment (cid:…), which no browser page could load before the policy
    assert [v for v in violations if "'cid:" not in v] == []


def test_lockout_message_in_the_browser(page: Any, live_server: Any, admin: dict[str, Any], settings: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(page, live_server.url, "sophie", "mauvais")
    login(page, live_server.url, "sophie", admin["password"])
    assert page.get_by_test_id("login-locked").is_visible()
    assert "/accounts/login/" in page.url
