"""Scenario and template editing: validation, all-or-nothing saves, steps already used,
the planner recomputing, the sandbox, previews on real customers, permissions."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.dunning.models import MessageTemplate, Reminder, Scenario
from relance.dunning.services import editing
from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, write

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def org(tmp_path: Path) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("FA-1", "C001", "2026-09-01", "2026-10-01", "1200,00"), ("FA-2", "C002", "2026-10-01", "2026-10-31", "80,00")])))
    return org


def _inputs(scenario: Scenario) -> list[editing.StepInput]:
    return [editing.StepInput(**editing.step_values(s)) for s in scenario.steps.order_by("position")]


def test_offsets_must_increase_and_nothing_is_saved(org: Organisation) -> None:
    scenario = Scenario.objects.get(organisation=org, is_default=True)
    steps = _inputs(scenario)
    before = [(s.label, s.offset_days) for s in steps]
    steps[1] = editing.StepInput(**{**steps[1].__dict__, "offset_days": steps[0].offset_days})
    steps[2] = editing.StepInput(**{**steps[2].__dict__, "template": "inconnu"})
    with pytest.raises(InvalidInput) as err:
        editing.save_steps(org, scenario, steps, actor="test")
    assert "doit suivre" in err.value.message and "modèle « inconnu » inconnu" in err.value.message
    assert [(s.label, s.offset_days) for s in _inputs(scenario)] == before


def test_changing_an_offset_makes_the_planner_recompute(org: Organisation) -> None:
    scenario = Scenario.objects.get(organisation=org, is_default=True)
    Invoice.objects.filter(organisation=org).update(next_action_date=TODAY)
    steps = _inputs(scenario)
    steps[-1] = editing.StepInput(**{**steps[-1].__dict__, "offset_days": steps[-1].offset_days + 10})
    editing.save_steps(org, scenario, steps, actor="web:boss")
    assert not Invoice.objects.filter(organisation=org, next_action_date__isnull=False).exists()
    event = Event.objects.get(organisation=org, kind="scenario.updated")
    assert event.actor == "web:boss" and event.data["after"][-1]["offset_days"] == steps[-1].offset_days


def test_a_step_already_used_cannot_be_deleted(org: Organisation) -> None:
    scenario = Scenario.objects.get(organisation=org, is_default=True)
    last = scenario.steps.order_by("-position").first()
    assert last is not None
    customer = Customer.objects.get(organisation=org, code="C001")
    Reminder.objects.create(organisation=org, customer=customer, step=last, channel=last.channel,
                            planned_for=TODAY, idempotency_key="used-step", status=Reminder.Status.SENT)
    with pytest.raises(Conflict, match="déjà servi"):
        editing.save_steps(org, scenario, _inputs(scenario)[:-1], actor="test")
    assert scenario.steps.count() == len(_inputs(scenario))


def test_template_with_syntax_error_or_reaching_code_is_refused(org: Organisation) -> None:
    with pytest.raises(InvalidInput, match="syntaxe"):
        editing.save_template(org, "relance_1", "fr", "Objet", "Bonjour {{ client.nom ", actor="test")
    with pytest.raises(InvalidInput, match="accès interdit"):
        editing.save_template(org, "relance_1", "fr", "Objet", "{{ client.__class__.__mro__ }}", actor="test")
    assert not MessageTemplate.objects.filter(organisation=org).exists()
    editing.save_template(org, "relance_1", "fr", "Rappel {{ client.nom }}", "Bonjour {{ client.nom }}", actor="t")
    assert editing.template_source(org, "relance_1", "fr")[0] == "Rappel {{ client.nom }}"
    assert editing.reset_template(org, "relance_1", "fr", actor="t")
    assert editing.template_source(org, "relance_1", "fr")[0] != "Rappel {{ client.nom }}"


def test_preview_on_a_real_customer_escapes_its_name(org: Organisation) -> None:
    customer = Customer.objects.get(organisation=org, code="C001")
    customer.legal_name = "<script>alert('x')</script> SARL"
    customer.save()
    rendered = editing.preview(org, "relance_1", "fr", TODAY, customer=customer,
                               subject="Relance {{ client.nom }}",
                               body="Cher client {{ client.nom }}\n\n{{ tableau_factures }}")
    assert "FA-1" in rendered.text and "1 200,00" in rendered.text.replace("\u202f", " ")
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_web_editor_permissions_and_live_preview(client: Client, org: Organisation, settings: Any) -> None:
    collector = make_user("claire", org)
    client.force_login(collector)
    scenario = Scenario.objects.get(organisation=org, is_default=True)
    assert client.get(reverse("web:scenario", kwargs={"pk": scenario.pk})).status_code == 200
    assert client.post(reverse("web:scenario", kwargs={"pk": scenario.pk}), {}).status_code == 403
    url = reverse("web:template_preview", kwargs={"key": "relance_1", "language": "fr"})
    data = json.loads(client.post(url, {"subject": "Objet {{ client.nom }}", "body": "{{ total_du }}"}).content)
    assert data["subject"].startswith("Objet ")
    data = json.loads(client.post(url, {"subject": "x", "body": "{% for %}"}).content)
    assert "erreur" in data["error"]

    boss = make_user("boss", org, role=Membership.Role.ADMIN)
    client.force_login(boss)
    page = client.get(reverse("web:scenario", kwargs={"pk": scenario.pk}))
    formset = page.context["formset"]
    post: dict[str, Any] = {"form-TOTAL_FORMS": str(len(formset.forms)), "form-MIN_NUM_FORMS": "0",
                            "form-INITIAL_FORMS": str(formset.initial_form_count()), "form-MAX_NUM_FORMS": "20"}
    for i, form in enumerate(formset.forms):
        for name, value in (form.initial or {}).items():
            if isinstance(value, bool):
                if value:
                    post[f"form-{i}-{name}"] = "on"
            else:
                post[f"form-{i}-{name}"] = str(value)
    post["form-0-label"] = "Petit rappel <b>amical</b>"
    response = client.post(reverse("web:scenario", kwargs={"pk": scenario.pk}), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert scenario.steps.get(position=0).label == "Petit rappel <b>amical</b>"
    html = client.get(reverse("web:scenarios")).content.decode()
    assert "Petit rappel &lt;b&gt;amical&lt;/b&gt;" in html
