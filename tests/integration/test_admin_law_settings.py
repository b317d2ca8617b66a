"""The organisation's late-payment settings in the administration (issue #11): justified
recovery costs per invoice with their proof, and a consumer clause rate that looks excessive
is flagged when saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db.models.fields.files import FieldFile
from django.test import Client
from django.urls import reverse

from relance.ledger.models import Organisation, RecoveryCost
from tests.builders import make_org

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _form_data(response: Any) -> dict[str, Any]:
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form.initial.get(name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None and not isinstance(value, FieldFile):
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
    return data


def _save(client: Client, org: Organisation, **changes: str) -> str:
    url = reverse("admin:ledger_organisation_change", args=[org.pk])
    data = {**_form_data(client.get(url)), **changes}
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return " ".join(str(m) for m in response.context["messages"])


def test_an_excessive_consumer_clause_rate_is_flagged(admin_client: Client):
    org = make_org()
    messages = _save(admin_client, org, consumer_penalty_rate="18")
    org.refresh_from_db()
    assert str(org.consumer_penalty_rate) == "18.00"
    assert "dépasse le taux BCE majoré de 10 points" in messages and "1231-5" in messages
    assert "dépasse" not in _save(admin_client, org, consumer_penalty_rate="8")


def test_justified_costs_are_recorded_per_invoice_in_the_admin(admin_client: Client):
    assert admin.site.is_registered(RecoveryCost)
    assert RecoveryCost._meta.verbose_name == "frais de recouvrement justifiés (au-delà de 40 €)"
    assert not hasattr(Organisation, "recovery_costs")
    page = admin_client.get(reverse("admin:ledger_recoverycost_add")).content.decode()
    assert 'name="proof"' in page and 'name="invoice"' in page and 'name="amount"' in page
    org_page = admin_client.get(reverse("admin:ledger_organisation_change", args=[make_org().pk])).content.decode()
    assert "40 € est due pour chaque facture" in org_page and 'name="consumer_penalty_rate"' in org_page
