"""A business without SIREN nor SIRET gets a warning, from an import row (tests/integration/
test_imports_safety.py::test_a_business_without_siren_or_siret_is_imported_with_a_warning) and from
the customer form of the administration (here), issue #11."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from relance.ledger.models import Customer
from tests.builders import make_org

pytestmark = pytest.mark.django_db

WARNING = "entreprise sans SIREN ni SIRET, à compléter"


def form(org_pk: int, code: str, **values: str) -> dict[str, Any]:
    return {"organisation": org_pk, "code": code, "legal_name": f"Client {code}", "country": "FR",
            "language": "fr", "preferred_channel": "email", "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0", "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
            **values}


@pytest.mark.parametrize(("values", "warned"), [
    ({"is_business": "on"}, True),
    ({"is_business": "on", "siren": "732829320"}, False),
    ({"is_business": "on", "siret": "73282932000074"}, False),
    ({}, False),  # a consumer has none
])
def test_the_customer_form_warns_about_a_business_without_siren(admin_client: Client, values: dict[str, str],
                                                                 warned: bool) -> None:
    org = make_org()
    response = admin_client.post(reverse("admin:ledger_customer_add"), form(org.pk, "C100", **values))
    assert response.status_code == 302, response.content.decode()[:1000]
    assert Customer.objects.filter(code="C100").exists()
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(WARNING in t and "C100" in t for t in texts) is warned, texts
