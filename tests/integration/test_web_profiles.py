"""Payer profiles in the web app: the card on the customer page, a collector's override
(with its reason, evented), the list filter by profile."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.events.models import Event
from relance.profiles.models import PayerProfile
from relance.profiles.services import install_default_profiles
from tests.builders import bare_org, make_customer, make_user

pytestmark = pytest.mark.django_db


def test_profile_card_override_and_filter(client: Client, settings: Any) -> None:
    from relance.ledger.models import Membership

    org = bare_org("atelier", "Atelier Dubois SAS")
    install_default_profiles(org)
    martin = make_customer(org, "C1", "Boulangerie Martin")
    make_customer(org, "C2", "Garage du Centre")
    client.force_login(make_user("claire", org, role=Membership.Role.COLLECTOR))
    page = client.get(reverse("web:customer", kwargs={"pk": martin.pk})).content.decode()
    assert "Profil de payeur" in page and "Choisir le profil" in page
    risky = PayerProfile.objects.get(organisation=org, name__icontains="risque")
    url = reverse("web:customer_profile", kwargs={"pk": martin.pk})
    client.post(url, {"profile": risky.pk, "reason": ""})
    assert not Event.objects.filter(kind="profile.overridden").exists()  # a reason is required
    client.post(url, {"profile": risky.pk, "reason": "redressement judiciaire annoncé"})
    event = Event.objects.get(kind="profile.overridden")
    assert event.customer_id_ref == martin.pk
    listing = client.get(reverse("web:customers"), {"profil": risky.pk}).content.decode()
    assert "Boulangerie Martin" in listing and "Garage du Centre" not in listing
    client.post(url, {"profile": "", "reason": "erreur"})
    assert Event.objects.filter(kind="profile.override_cleared").exists()
