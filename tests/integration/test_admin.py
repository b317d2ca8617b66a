"""The back-office: every model registered and browsable by a superuser, the event log
read-only, derived invoice fields read-only, no cross-organisation links."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from relance.dunning.models import CallTask, Reminder, ReminderLine, Scenario, Step
from relance.events.models import Event
from relance.events.services import record
from relance.holds.models import Hold
from relance.ledger.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    ImportBatch,
    Invoice,
    Membership,
    Organisation,
    Payment,
)
from tests.builders import bare_org, make_customer, make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DAY = date(2026, 3, 16)

MODELS: list[type[models.Model]] = [
    Organisation,
    Membership,
    Customer,
    Contact,
    Invoice,
    CreditNote,
    Payment,
    Allocation,
    ImportBatch,
    Scenario,
    Reminder,
    Hold,
    CallTask,
    Event,
]


def _admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def objects() -> dict[type[models.Model], models.Model]:
    """One object of every model (two organisations, so that the lists show both)."""
    org = bare_org("alpha", "Alpha Conseil")
    other = bare_org("beta", "Beta Industrie")
    user = User.objects.create_user("alice", password="x-very-long-password")
    membership = Membership.objects.create(user=user, organisation=org)
    scenario = Scenario.objects.create(organisation=org, name="Standard", is_default=True)
    step = Step.objects.create(scenario=scenario, position=0, label="Rappel", offset_days=3, channel="email",
                               template="r1")
    customer = make_customer(org, "C001", "Durand SARL", scenario=scenario)
    make_customer(other, "B001", "Zeta SA")
    contact = Contact.objects.create(organisation=org, customer=customer, last_name="Durand", is_billing=True)
    invoice = make_invoice(customer, "F-001", "1200.00", DAY, amount_due=Decimal("1000.00"))
    credit_note = CreditNote.objects.create(organisation=org, customer=customer, number="AV-001", issue_date=DAY,
                                            amount_incl_tax=Decimal("50.00"), invoice=invoice)
    payment = Payment.objects.create(organisation=org, customer=customer, reference="VIR-001", date=DAY,
                                     amount=Decimal("150.00"), method="virement")
    allocation = Allocation.objects.create(organisation=org, invoice=invoice, payment=payment,
                                           amount=Decimal("150.00"), date=DAY)
    Allocation.objects.create(organisation=org, invoice=invoice, credit_note=credit_note, amount=Decimal("50.00"),
                              date=DAY)
    batch = ImportBatch.objects.create(organisation=org, filename="factures.csv", sha256="0" * 64, kind="invoices",
                                       counts={"created": 1})
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, step=step, channel="email", planned_for=DAY, idempotency_key="k-1",
        status=Reminder.Status.SENT, subject="Rappel", body_text="Bonjour", body_html="<p>Bonjour</p>",
    )
    ReminderLine.objects.create(reminder=reminder, invoice=invoice, step_position=0, amount_due=Decimal("1000.00"))
    hold = Hold.objects.create(organisation=org, customer=customer, invoice=invoice, kind=Hold.Kind.DISPUTE,
                               reason="Contestation")
    call = CallTask.objects.create(organisation=org, customer=customer, reminder=reminder, due_on=DAY)
    event = record(org, "invoice.imported", customer_id=customer.pk, invoice_id=invoice.pk, data={"n": "F-001"})
    return {
        Organisation: org, Membership: membership, Customer: customer, Contact: contact, Invoice: invoice,
        CreditNote: credit_note, Payment: payment, Allocation: allocation, ImportBatch: batch, Scenario: scenario,
        Reminder: reminder, Hold: hold, CallTask: call, Event: event,
    }


def test_every_model_is_registered() -> None:
    for model in MODELS:
        assert admin.site.is_registered(model), model
    assert not admin.site.is_registered(Step)  # edited inline in its scenario
    assert not admin.site.is_registered(ReminderLine)  # shown inline in its reminder


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_loads(admin_client: Client, objects: dict[Any, Any], model: type[models.Model]) -> None:
    response = admin_client.get(_admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert admin_client.get(_admin_url(model, "changelist") + "?q=a").status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_page_loads(admin_client: Client, objects: dict[Any, Any], model: type[models.Model]) -> None:
    obj = objects[model]
    assert admin_client.get(_admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_add_page(admin_client: Client, objects: dict[Any, Any], model: type[models.Model]) -> None:
    expected = 403 if model in (Event, Allocation, ImportBatch, Reminder) else 200
    assert admin_client.get(_admin_url(model, "add")).status_code == expected


def test_event_log_is_read_only(admin_client: Client, objects: dict[Any, Any]) -> None:
    event = objects[Event]
    model_admin = admin.site._registry[Event]
    request = admin_client.get("/").wsgi_request
    request.user = User.objects.get(username="admin")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    page = admin_client.get(_admin_url(Event, "change", event.pk))
    assert 'name="_save"' not in page.content.decode()
    assert "invoice.imported" in page.content.decode()
    assert admin_client.post(_admin_url(Event, "change", event.pk), {"kind": "falsified"}).status_code == 403
    assert admin_client.post(_admin_url(Event, "delete", event.pk), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.kind == "invoice.imported"
    changelist = admin_client.get(_admin_url(Event, "changelist")).content.decode()
    assert "delete_selected" not in changelist


def test_invoice_derived_fields_are_read_only(admin_client: Client, objects: dict[Any, Any]) -> None:
    invoice = objects[Invoice]
    page = admin_client.get(_admin_url(Invoice, "change", invoice.pk)).content.decode()
    for field in ("amount_due", "status", "settled_on", "last_step_position", "next_action_date", "dunning_state",
                  "amount_incl_tax"):
        assert f'name="{field}"' not in page, field
    assert 'name="description"' in page  # still editable


def test_invoice_added_in_admin_owes_its_full_amount(admin_client: Client, objects: dict[Any, Any]) -> None:
    org, customer = objects[Organisation], objects[Customer]
    response = admin_client.post(
        _admin_url(Invoice, "add"),
        {
            "organisation": org.pk,
            "customer": customer.pk,
            "number": "F-002",
            "description": "Prestation",
            "issue_date": "2026-03-01",
            "due_date": "2026-03-31",
            "amount_incl_tax": "240.00",
            "currency": "EUR",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    invoice = Invoice.objects.get(organisation=org, number="F-002")
    assert invoice.amount_due == Decimal("240.00")
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.payment_reference == "RF22F002"  # as an imported one: composing a reminder only reads it


def test_admin_refuses_links_across_organisations(admin_client: Client, objects: dict[Any, Any]) -> None:
    org = objects[Organisation]
    foreign = Customer.objects.get(code="B001")
    response = admin_client.post(
        _admin_url(Contact, "add"),
        {"organisation": org.pk, "customer": foreign.pk, "last_name": "Intrus", "email": "", "phone": ""},
    )
    assert response.status_code == 200
    assert "appartient à une autre organisation" in response.content.decode()
    assert not Contact.objects.filter(last_name="Intrus").exists()


def test_customer_inline_contacts_take_the_customer_organisation(admin_client: Client, objects: dict[Any, Any]) -> None:
    org = objects[Organisation]
    response = admin_client.post(
        _admin_url(Customer, "add"),
        {
            "organisation": org.pk,
            "code": "C009",
            "legal_name": "Nouveau client",
            "is_business": "on",
            "country": "FR",
            "language": "fr",
            "preferred_channel": "email",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
            "contacts-0-last_name": "Dupont",
            "contacts-0-email": "dupont@example.test",
            "contacts-0-is_billing": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get(last_name="Dupont")
    assert contact.organisation_id == org.pk
    assert contact.customer.code == "C009"
    assert contact.customer.payment_reference == "RF69CC009"


def test_deleting_a_payment_recomputes_the_balances(admin_client: Client, objects: dict[Any, Any]) -> None:
    invoice, payment = objects[Invoice], objects[Payment]
    response = admin_client.post(_admin_url(Payment, "delete", payment.pk), {"post": "yes"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("1150.00")  # 1200 − the remaining 50 credit note
    assert not Allocation.objects.filter(payment_id=payment.pk).exists()


def test_reminder_content_is_read_only(admin_client: Client, objects: dict[Any, Any]) -> None:
    page = admin_client.get(_admin_url(Reminder, "change", objects[Reminder].pk)).content.decode()
    for field in ("body_text", "body_html", "subject", "document", "idempotency_key"):
        assert f'name="{field}"' not in page, field
    assert 'name="status"' in page


def test_collectors_cannot_enter_the_admin(client: Client, objects: dict[Any, Any]) -> None:
    client.force_login(User.objects.get(username="alice"))
    response = client.get(_admin_url(Invoice, "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
