"""The rest of a collector's day in a real browser, on the customer page: open a dispute
on one invoice (only that one leaves the sequence), resolve it (it comes back), then
propose a payment plan and activate it once signed. Each action shows in the timeline
and changes the next step the page announces."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.clock import today_for
from relance.holds.models import Hold, PaymentPlan
from relance.ledger.models import Customer, Invoice, Membership
from relance.ledger.services.imports import import_file
from relance.operations.daily import run_day
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
        ("FA-1", "C001", (today - timedelta(days=70)).isoformat(), (today - timedelta(days=40)).isoformat(),
         "1200,00"),
        ("FA-2", "C001", (today - timedelta(days=40)).isoformat(), (today - timedelta(days=10)).isoformat(),
         "300,00"),
    ])))
    run_day(org, today, queue=False)
    user = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    customer = Customer.objects.get(organisation=org, code="C001")
    return {"org": org, "customer": customer, "today": today,
            "fa1": Invoice.objects.get(number="FA-1"), "fa2": Invoice.objects.get(number="FA-2")}


def _next(page: Any, invoice: Invoice) -> str:
    return str(page.get_by_test_id(f"next-{invoice.pk}").inner_text())


def test_dispute_then_plan_from_the_customer_page(page: Any, live_server: Any, world: dict[str, Any]) -> None:
    fa1, fa2 = world["fa1"], world["fa2"]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, live_server.url, "claire", PASSWORD)
    page.goto(f"{live_server.url}/clients/{world['customer'].pk}/")
    before = _next(page, fa2)
    assert "Litige" not in before and "relance" in before

    # A dispute on FA-2 only: FA-2 leaves the sequence, FA-1 keeps its next step.
    form = page.get_by_test_id("form-dispute")
    form.get_by_label("Motif").select_option(label="Montant contesté")
    form.get_by_label("FA-2").check()
    form.get_by_label("Note").fill("<script>alert('x')</script> quantité livrée contestée")
    form.get_by_role("button", name="Ouvrir le litige").click()
    hold = Hold.objects.get(invoice=fa2, kind=Hold.Kind.DISPUTE, state=Hold.State.ACTIVE)
    assert "Litige" in _next(page, fa2)
    assert "Litige" not in _next(page, fa1) and "relance" in _next(page, fa1)
    # The note is shown as text, never run.
    assert page.get_by_test_id(f"hold-note-{hold.pk}").inner_text().startswith("<script>alert")
    assert dialogs == []
    assert "Litige ouvert" in page.locator("ol.timeline").inner_text()

    # Resolved: FA-2 is chased again, from where it was.
    page.get_by_role("button", name="Litige résolu").click()
    hold.refresh_from_db()
    assert hold.state == Hold.State.RESOLVED
    assert _next(page, fa2) == before
    assert "Litige résolu" in page.locator("ol.timeline").inner_text()

    # A plan in three monthly instalments over both invoices, then signed and activated.
    form = page.get_by_test_id("form-plan")
    form.get_by_label("Nombre d’échéances mensuelles").fill("3")
    form.get_by_label("Première échéance").fill((world["today"] + timedelta(days=15)).isoformat())
    form.get_by_role("button", name="Proposer l’échéancier").click()
    plan = PaymentPlan.objects.get(customer=world["customer"])
    assert plan.instalments.count() == 3
    assert sum(i.amount for i in plan.instalments.all()) == fa1.amount_due + fa2.amount_due
    assert "Échéancier proposé" in page.locator("ol.timeline").inner_text()
    page.get_by_test_id(f"plan-{plan.pk}").get_by_role("button", name="Accord signé : activer").click()
    plan.refresh_from_db()
    assert plan.state == PaymentPlan.State.ACTIVE
    assert "Échéancier accepté" in page.locator("ol.timeline").inner_text()
    for invoice in (fa1, fa2):
        assert "Échéancier" in _next(page, invoice)
    assert dialogs == []
