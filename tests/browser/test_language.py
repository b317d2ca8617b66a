"""The interface language in a real browser (issue #5): French for a French browser, English
with the header's selector (remembered from page to page), French again with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.ledger.models import Membership
from relance.ledger.services.imports import import_file
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def collector(tmp_path: Path) -> None:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    user = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)


def _choose(page: Any, language: str) -> None:
    form = page.get_by_test_id("language-form")
    form.get_by_label(re.compile("Langue de l’interface|Interface language")).select_option(language)
    form.get_by_role("button").click()


def test_switch_to_english_and_back(page: Any, live_server: Any, collector: None) -> None:
    login(page, live_server.url, "claire", PASSWORD)
    assert page.get_by_role("heading", name="Le travail du jour").is_visible()
    assert page.locator("html").get_attribute("lang") == "fr"

    _choose(page, "en")
    page.get_by_role("heading", name="Today’s work").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Customers").is_visible()
    assert page.get_by_text("Le travail du jour").count() == 0

    # remembered: the next page is English too
    page.get_by_role("link", name="Customers").click()
    page.get_by_role("heading", name=re.compile("^Customers")).wait_for()
    assert page.get_by_role("columnheader", name="Open invoices").is_visible()

    _choose(page, "fr")
    page.get_by_role("heading", name=re.compile("^Clients")).wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="Travail du jour").click()
    assert page.get_by_role("heading", name="Le travail du jour").is_visible()
