"""A collector's day in a real browser: log in, open the call list, record a call that
ends with a promise, then see it on the customer page (hold and timeline)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.clock import today_for
from relance.dunning.models import CallTask
from relance.holds.models import Promise
from relance.ledger.models import Customer, Membership
from relance.ledger.services.imports import import_file
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def world(tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    today = today_for(org)
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("FA-1", "C001", (today - timedelta(days=60)).isoformat(), (today - timedelta(days=30)).isoformat(),
         "1200,00")])))
    user = get_user_model().objects.create_user("claire", password=PASSWORD, first_name="Claire", last_name="Roux")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    customer = Customer.objects.get(organisation=org, code="C001")
    CallTask.objects.create(organisation=org, customer=customer, due_on=today)
    return {"org": org, "customer": customer, "today": today}


def test_call_with_a_promise_shows_in_the_timeline(page: Any, live_server: Any, world: dict[str, Any]) -> None:
    login(page, live_server.url, "claire", PASSWORD)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Appels", exact=True).click()
    call = page.get_by_test_id("call-C001")
    assert "Trame d’appel" in call.inner_text()
    form = page.get_by_test_id("outcome-C001")
    form.get_by_label("Promesse de règlement").check()
    form.get_by_label("Date promise").fill((world["today"] + timedelta(days=10)).isoformat())
    form.get_by_label("Montant promis (€)").fill("1 200,00")
    form.get_by_label("Note").fill("Virement annoncé par la gérante")
    form.get_by_role("button", name="Enregistrer l’appel").click()
    assert page.get_by_text("Appel à Boulangerie Martin SARL enregistré.").is_visible()
    promise = Promise.objects.get(customer=world["customer"])
    assert promise.amount == 1200 and "claire" in promise.obtained_by.lower()

    page.goto(f"{live_server.url}/clients/{world['customer'].pk}/")
    assert page.get_by_text("Promesse de règlement").first.is_visible()
    timeline = page.locator("ol.timeline").inner_text()
    assert "Promesse de règlement" in timeline and "Appel enregistré" in timeline
