"""The customer page's « Prochaine action » column follows the holds: a disputed invoice
shows its dispute instead of a step, the customer's other invoices keep theirs, and a
pause of the whole customer covers every invoice; lifting it brings the steps back."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.clock import today_for
from relance.holds.services import holds
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.services.imports import import_file
from relance.operations.daily import run_day
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(tmp_path: Path, settings: Any) -> Organisation:
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    today = today_for(org)
    rows = [("FA-1", "C001", today - timedelta(days=60), today - timedelta(days=30), "1200,00"),
            ("FA-2", "C001", today - timedelta(days=40), today - timedelta(days=10), "300,00")]
    import_file(org, write(tmp_path, "factures.csv", invoices_csv(
        [(n, c, i.isoformat(), d.isoformat(), a) for n, c, i, d, a in rows])))
    run_day(org, today, queue=False)
    return org


def _next_cells(client: Client, customer: Customer) -> dict[str, str]:
    page = client.get(reverse("web:customer", kwargs={"pk": customer.pk})).content.decode()
    cells = {}
    for invoice in Invoice.objects.filter(customer=customer):
        match = re.search(rf'data-testid="next-{invoice.pk}">(.*?)</td>', page, re.S)
        assert match, invoice.number
        cells[invoice.number] = " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())
    return cells


def test_next_action_follows_disputes_and_pauses(client: Client, org: Organisation) -> None:
    client.force_login(make_user("claire", org))
    customer = Customer.objects.get(organisation=org, code="C001")
    today = today_for(org)
    before = _next_cells(client, customer)
    assert all("relance" in cell for cell in before.values()), before

    hold = holds.open_dispute(org, Invoice.objects.get(number="FA-2"), "montant_conteste", actor="test")
    cells = _next_cells(client, customer)
    assert cells["FA-2"] == "Litige" and cells["FA-1"] == before["FA-1"]

    holds.resolve_dispute(org, hold, actor="test")
    assert _next_cells(client, customer) == before

    until = today + timedelta(days=20)
    pause = holds.pause(org, customer, until, reason="congés", actor="test")
    cells = _next_cells(client, customer)
    assert set(cells.values()) == {f"Pause jusqu’au {until:%d/%m/%Y}"}
    holds.lift(org, pause, actor="test")
    assert _next_cells(client, customer) == before


def _upcoming(client: Client, customer: Customer) -> str:
    page = client.get(reverse("web:customer", kwargs={"pk": customer.pk})).content.decode()
    match = re.search(r'data-testid="upcoming">(.*?)</section>', page, re.S)
    assert match
    return match.group(1)


def test_upcoming_step_with_its_preview_then_the_planned_reminder(client: Client, org: Organisation) -> None:
    from relance.dunning.models import Reminder
    from relance.dunning.services.planner import plan_day

    client.force_login(make_user("claire", org))
    customer = Customer.objects.get(organisation=org, code="C001")
    Reminder.objects.filter(customer=customer).exclude(status=Reminder.Status.SENT).delete()
    block = _upcoming(client, customer)
    # not planned yet: the step, its day and the message as it would leave today, on this customer
    assert "Deuxième relance" in block and "FA-2" in block and 'data-testid="upcoming-preview"' in block
    assert "Boulangerie Martin" in block or "FA-2" in block.split("srcdoc=")[1]
    # once planned, the page points to the planned reminder instead
    # on the day the page announces (the scenario's own gap after the first reminder, J+15 − J+7,
    # moved to a business day), the planner plans exactly that
    from relance.dunning import queries as dunning

    today = today_for(org)
    actions = dunning.next_actions(org, customer, Invoice.objects.filter(customer=customer), today)
    day = min(d for _, d in actions.values())
    assert day >= today + timedelta(days=8)
    plan_day(org, day)
    planned = Reminder.objects.filter(customer=customer, status=Reminder.Status.PLANNED).order_by("planned_for").first()
    assert planned is not None
    block = _upcoming(client, customer)
    assert reverse("web:reminder", kwargs={"pk": planned.pk}) in block and "upcoming-preview" not in block

    # everything under a pause: nothing to come
    holds.pause(org, customer, today_for(org) + timedelta(days=30), reason="congés", actor="test")
    Reminder.objects.filter(customer=customer, status=Reminder.Status.PLANNED).delete()
    assert "Aucune relance à venir" in _upcoming(client, customer)
