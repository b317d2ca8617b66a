"""« Le travail du jour » and the dashboard count what did not leave — failed, waiting for an
automatic retry (planned again after a temporary failure), to check — each with its reasons and
a link to its list. Before issue #12 the pages showed « Échecs d’envoi 0 » while 12 reminders
waited for a retry behind an unreachable SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.dunning.models import Reminder
from relance.ledger.models import Membership, Organisation
from relance.operations.delivery import not_left, reason_of
from tests.builders import bare_org, make_user
from tests.integration.test_list_pages import _reminders
from tests.integration.test_web import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]
S = Reminder.Status
LATER = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org() -> Organisation:
    org = bare_org("atelier", "Atelier Dubois SAS")
    _reminders(org, 12, None, S.PLANNED, attempts=1, next_attempt_at=LATER,
               last_error="serveur SMTP injoignable : [Errno 111] Connection refused")
    _reminders(org, 2, None, S.FAILED, start=20, attempts=1, last_error="destinataire refusé : 550 5.1.1 No such user")
    _reminders(org, 1, None, S.FAILED, start=30, attempts=6,
               last_error="serveur SMTP injoignable : [Errno 111] Connection refused")
    _reminders(org, 1, None, S.UNCERTAIN, start=40, attempts=1, last_error="envoi interrompu : vérifier s’il est parti")
    _reminders(org, 3, None, S.PLANNED, start=50)  # not tried yet: not a problem
    _reminders(org, 2, None, S.SENT, start=60, attempts=1)
    return org


@pytest.fixture
def web(client: Client, org: Organisation) -> Client:
    return login(client, make_user("claire", org, role=Membership.Role.ADMIN))


def test_reasons_are_counted_without_their_details(org):
    assert reason_of("serveur SMTP injoignable : [Errno 111] Connection refused") == "serveur SMTP injoignable"
    assert reason_of("erreur temporaire du serveur SMTP : 451 busy") == "erreur temporaire du serveur SMTP"
    assert reason_of("") == "raison non enregistrée"
    counts = not_left(Reminder.objects.filter(organisation=org))
    assert (counts.failed.count, counts.retrying.count, counts.uncertain.count, counts.total) == (3, 12, 1, 16)
    assert counts.failed.reasons == [("destinataire refusé", 2), ("serveur SMTP injoignable", 1)]
    assert counts.retrying.reasons == [("serveur SMTP injoignable", 12)]
    assert counts.lines() == ["3 en échec — destinataire refusé (2) ; serveur SMTP injoignable (1)",
                              "12 nouveaux essais prévus — serveur SMTP injoignable (12)",
                              "1 à vérifier — envoi interrompu (1)"]
    first = Reminder.objects.filter(organisation=org, status=S.PLANNED, attempts=1).values_list("pk", flat=True)[0]
    one = not_left(Reminder.objects.filter(pk=first))
    assert one.lines() == ["1 nouvel essai prévu — serveur SMTP injoignable (1)"]


def test_the_days_page_counts_retries_and_uncertain_with_their_reasons(web, org):
    response = web.get(reverse("web:today"))
    page = response.content.decode()
    assert response.context["not_left"].retrying.count == 12
    assert 'data-testid="count-failed">3<' in page
    assert 'data-testid="count-retrying">12<' in page
    assert 'data-testid="count-uncertain">1<' in page
    assert '<a href="#relances-planned">12 relances attendent un nouvel essai automatique</a>' in page
    assert "serveur SMTP injoignable (12)" in page
    assert '<a href="#relances-failed">3 relances en échec</a>' in page
    assert "destinataire refusé (2)" in page and "serveur SMTP injoignable (1)" in page
    assert '<a href="#relances-uncertain">1 envoi à vérifier</a>' in page
    assert 'id="relances-failed"' in page and 'id="relances-uncertain"' in page and 'id="relances-planned"' in page


def test_the_dashboard_counts_them_too_and_links_to_the_days_lists(web, org):
    page = web.get(reverse("web:dashboard")).content.decode()
    assert 'data-testid="dash-failed">3<' in page
    assert 'data-testid="dash-retrying">12<' in page
    assert 'data-testid="dash-uncertain">1<' in page
    today = reverse("web:today")
    assert f'<a href="{today}#relances-planned">12 relances attendent un nouvel essai automatique</a>' in page


def test_nothing_to_report_shows_no_panel(client):
    quiet = bare_org("calme", "Calme SARL")
    _reminders(quiet, 2, None, S.SENT, attempts=1)
    web = login(client, make_user("paul", quiet, role=Membership.Role.ADMIN))
    page = web.get(reverse("web:today")).content.decode()
    assert 'data-testid="not-left"' not in page
    assert 'data-testid="count-retrying">0<' in page
