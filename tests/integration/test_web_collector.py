"""The collector's day in the web app (server side): a promise, a dispute, a plan and a
pause from the customer page, the call list and a call outcome creating a promise; bad
input gives a French message and saves nothing; read-only members cannot act."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.clock import today_for
from relance.dunning.models import CallTask
from relance.events.models import Event
from relance.holds.models import Hold, PaymentPlan, Promise
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.ledger.services.imports import import_file
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
    return org


@pytest.fixture
def collector(client: Client, org: Organisation) -> Client:
    client.force_login(make_user("claire", org))
    return client


def _customer(org: Organisation) -> Customer:
    return Customer.objects.get(organisation=org, code="C001")


def test_promise_from_the_customer_page(collector: Client, org: Organisation) -> None:
    customer = _customer(org)
    today = today_for(org)
    page = collector.get(reverse("web:customer", kwargs={"pk": customer.pk})).content.decode()
    assert "Promesse de règlement" in page and "Ouvrir le litige" in page
    url = reverse("web:customer_action", kwargs={"pk": customer.pk, "action": "promesse"})
    response = collector.post(url, {"promised_on": (today - timedelta(days=1)).isoformat(), "amount": "1500",
                                    "via": "phone"}, follow=True)
    assert "passé" in response.content.decode() or "passée" in response.content.decode()
    assert not Promise.objects.exists()
    collector.post(url, {"promised_on": (today + timedelta(days=7)).isoformat(), "amount": "1 500,00",
                         "via": "phone", "note": "<script>x</script>"})
    promise = Promise.objects.get()
    assert promise.amount == 1500 and promise.obtained_by == "claire"
    assert Event.objects.filter(kind="promise.recorded", customer_id_ref=customer.pk).exists()
    page = collector.get(reverse("web:customer", kwargs={"pk": customer.pk})).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page


def test_dispute_excludes_only_the_chosen_invoice_and_resolves(collector: Client, org: Organisation) -> None:
    customer = _customer(org)
    fa1 = Invoice.objects.get(number="FA-1")
    collector.post(reverse("web:customer_action", kwargs={"pk": customer.pk, "action": "litige"}),
                   {"invoices": [fa1.pk], "reason": "montant_conteste", "note": "remise oubliée"})
    hold = Hold.objects.get(kind=Hold.Kind.DISPUTE)
    assert hold.invoice_id == fa1.pk
    collector.post(reverse("web:hold_action", kwargs={"pk": hold.pk, "action": "resoudre"}))
    hold.refresh_from_db()
    assert hold.state == Hold.State.RESOLVED


def test_plan_proposed_then_letter_then_accepted(collector: Client, org: Organisation) -> None:
    customer = _customer(org)
    today = today_for(org)
    ids = list(Invoice.objects.filter(customer=customer).values_list("pk", flat=True))
    collector.post(reverse("web:customer_action", kwargs={"pk": customer.pk, "action": "echeancier"}),
                   {"invoices": ids, "count": "3", "first_due": (today + timedelta(days=10)).isoformat()})
    plan = PaymentPlan.objects.get()
    assert [str(i.amount) for i in plan.instalments.order_by("position")] == ["500.00", "500.00", "500.00"]
    pdf = collector.post(reverse("web:plan_action", kwargs={"pk": plan.pk, "action": "lettre"}))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    collector.post(reverse("web:plan_action", kwargs={"pk": plan.pk, "action": "accepter"}))
    plan.refresh_from_db()
    assert plan.state == PaymentPlan.State.ACTIVE


def test_call_list_and_outcome_promise(collector: Client, org: Organisation) -> None:
    customer = _customer(org)
    today = today_for(org)
    task = CallTask.objects.create(organisation=org, customer=customer, due_on=today)
    page = collector.get(reverse("web:calls")).content.decode()
    assert "Boulangerie Martin SARL" in page and "Trame d’appel" in page
    collector.post(reverse("web:call_outcome", kwargs={"pk": task.pk}), {
        "outcome": "promise", "promised_on": (today + timedelta(days=5)).isoformat(), "amount": "300"})
    task.refresh_from_db()
    assert task.status == CallTask.Status.DONE and Promise.objects.filter(customer=customer).exists()


def test_read_only_cannot_act(client: Client, org: Organisation) -> None:
    client.force_login(make_user("lecteur", org, role=Membership.Role.READ_ONLY))
    customer = _customer(org)
    url = reverse("web:customer_action", kwargs={"pk": customer.pk, "action": "arret"})
    assert client.post(url, {"cause": "insolvency"}).status_code == 403
    assert not Hold.objects.exists()
