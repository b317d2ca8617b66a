"""Users and roles: only administrators manage members; the last administrator stays;
passwords go through Django's validators; assignment restricts a collector's view."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.ledger.models import Customer, Membership, Organisation
from relance.ledger.services import members as service
from tests.builders import bare_org, make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Organisation:
    return bare_org()


def test_add_change_remove_with_events(org: Organisation) -> None:
    boss = make_user("boss", org, role=Membership.Role.ADMIN)
    m = service.add_member(org, "claire", "collector", password="Un-mot-de-passe-solide-2026", email="c@x.test",
                           actor="test")
    assert User.objects.get(username="claire").check_password("Un-mot-de-passe-solide-2026")
    service.change_role(org, m.pk, "read_only", actor="test")
    service.remove_member(org, m.pk, actor="test")
    kinds = list(Event.objects.filter(organisation=org).values_list("kind", flat=True))
    assert kinds == ["member.added", "member.role_changed", "member.removed"]
    with pytest.raises(Conflict):
        service.remove_member(org, Membership.objects.get(user=boss).pk, actor="test")
    with pytest.raises(Conflict):
        service.change_role(org, Membership.objects.get(user=boss).pk, "collector", actor="test")


def test_weak_password_and_unknown_role_refused(org: Organisation) -> None:
    with pytest.raises(InvalidInput, match="mot de passe refusé"):
        service.add_member(org, "paul", "collector", password="123", actor="test")
    with pytest.raises(InvalidInput, match="rôle"):
        service.add_member(org, "paul", "chef", password="Un-mot-de-passe-solide-2026", actor="test")
    assert not User.objects.filter(username="paul").exists()


def test_only_admins_reach_the_page(client: Client, org: Organisation) -> None:
    collector = make_user("claire", org)
    client.force_login(collector)
    assert client.get(reverse("web:members")).status_code == 403
    assert client.post(reverse("web:members"), {"action": "add", "username": "x", "role": "admin",
                                                "password": "Un-mot-de-passe-solide-2026"}).status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_admin_assigns_a_customer_and_the_collector_sees_only_it(client: Client, org: Organisation,
                                                                  settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    boss = make_user("boss", org, role=Membership.Role.ADMIN)
    client.force_login(boss)
    response = client.post(reverse("web:members"), {
        "action": "add", "username": "claire", "role": "collector", "password": "Un-mot-de-passe-solide-2026"})
    assert response.status_code == 302
    client.post(reverse("web:members"), {"action": "restriction", "assigned_only": "on"})
    mine = make_customer(org, "C1", "Boulangerie <b>Martin</b>")
    other = make_customer(org, "C2", "Garage du Centre")
    membership = Membership.objects.get(user__username="claire")
    client.post(reverse("web:assign_customer", kwargs={"pk": mine.pk}), {"membership": membership.pk})
    assert Customer.objects.get(pk=mine.pk).collector.username == "claire"  # type: ignore[union-attr]
    page = client.get(reverse("web:customer", kwargs={"pk": mine.pk})).content.decode()
    assert "Boulangerie &lt;b&gt;Martin&lt;/b&gt;" in page
    claire = Client()
    claire.force_login(User.objects.get(username="claire"))
    listing = claire.get(reverse("web:customers")).content.decode()
    assert "Martin" in listing and "Garage du Centre" not in listing
    assert claire.get(reverse("web:customer", kwargs={"pk": other.pk})).status_code == 404
