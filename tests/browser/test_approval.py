"""Approval mode in a real browser: the collector opens the queue, edits the wording for
one customer, approves it, and the customer's timeline shows both steps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.clock import today_for
from relance.dunning.models import Reminder, Step
from relance.ledger.models import Membership
from relance.ledger.services.imports import import_file
from relance.operations.daily import run_day
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def awaiting(tmp_path: Path, settings: Any) -> Reminder:
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    Step.objects.filter(scenario__organisation=org).update(needs_approval=True)
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    today = today_for(org)
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("FA-1", "C001", (today - timedelta(days=35)).isoformat(), (today - timedelta(days=5)).isoformat(),
         "1200,00")])))
    for offset in range(0, 4):  # the first run schedules the invoice, a later one plans its step
        run_day(org, today + timedelta(days=offset), queue=False)
    user = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    return Reminder.objects.filter(organisation=org, status=Reminder.Status.AWAITING_APPROVAL).get()


def test_edit_then_approve_a_reminder(page: Any, live_server: Any, awaiting: Reminder) -> None:
    login(page, live_server.url, "claire", PASSWORD)
    page.goto(f"{live_server.url}/a-valider/")
    card = page.get_by_test_id("approval-card").first
    assert "Boulangerie Martin SARL" in card.inner_text()
    card.get_by_role("link", name="Modifier, écarter ou reporter…").click()
    page.get_by_label("Objet").fill("Facture FA-1 : où en est le règlement ?")
    page.get_by_label("Texte").fill("Madame,\n\nNous attendons toujours le règlement de la facture FA-1.\n\n"
                                    "Bien cordialement,")
    page.get_by_role("button", name="Enregistrer ce texte").click()
    page.get_by_role("button", name="Valider").first.click()
    awaiting.refresh_from_db()
    assert awaiting.status != Reminder.Status.AWAITING_APPROVAL
    assert awaiting.subject == "Facture FA-1 : où en est le règlement ?"
    page.goto(f"{live_server.url}/clients/{awaiting.customer_id}/")
    timeline = page.locator("ol.timeline").inner_text()
    assert "Texte de la relance modifié" in timeline and "Relance validée" in timeline
