"""The pages: login required everywhere, organisation scoping, today's work, customers,
a customer, a reminder and its letter, and a constant number of queries per page."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse
from django.utils import timezone

from relance.core.formatting import long_date
from relance.dunning.models import CallTask, Reminder, ReminderLine, Scenario, Step
from relance.events.services import record
from relance.holds.models import Hold
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.web import urls as web_urls
from relance.web.scoping import SESSION_KEY, current_organisation
from tests.builders import bare_org, make_customer, make_invoice, make_user
from tests.conftest import PINNED_NOW

# Pages without ?date= work on the organisation's today: the clock is pinned (tests/conftest.py), so that
# DAY, computed once at import, stays their today even when a run crosses midnight.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

PARIS = ZoneInfo("Europe/Paris")
DAY = PINNED_NOW.astimezone(PARIS).date()  # the organisations' today: pages without ?date= use it
NNBSP = "\u202f"  # Babel's thousands separator in French
NBSP = "\u00a0"  # before the currency sign

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --------------------------------------------------------------------------- data


def make_scenario(org: Organisation, default: bool = True) -> Scenario:
    scenario = Scenario.objects.create(organisation=org, name=f"Standard {org.slug}", is_default=default)
    Step.objects.bulk_create(
        [
            Step(scenario=scenario, position=0, label="Rappel amical", offset_days=3, channel="email", template="r1"),
            Step(scenario=scenario, position=1, label="Relance ferme", offset_days=15, channel="email", template="r2"),
            Step(
                scenario=scenario,
                position=2,
                label="Mise en demeure",
                offset_days=30,
                channel="registered_letter",
                tone=5,
                template="med",
            ),
        ]
    )
    return scenario


def make_reminder(
    customer: Customer,
    invoices: list[Invoice],
    *,
    planned_for: date = DAY,
    status: str = Reminder.Status.PLANNED,
    channel: str = "email",
    step: Step | None = None,
    **kwargs: Any,
) -> Reminder:
    reminder = Reminder.objects.create(
        organisation=customer.organisation,
        customer=customer,
        step=step,
        channel=channel,
        planned_for=planned_for,
        status=status,
        idempotency_key=f"test-{next(_seq)}",
        **kwargs,
    )
    ReminderLine.objects.bulk_create(
        [ReminderLine(reminder=reminder, invoice=i, step_position=step.position if step else 0) for i in invoices]
    )
    return reminder


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def org_a() -> Organisation:
    return bare_org("alpha", "Alpha Conseil")


@pytest.fixture
def org_b() -> Organisation:
    return bare_org("beta", "Beta Industrie")


@pytest.fixture
def user_a(org_a: Organisation) -> User:
    return make_user("alice", org_a)


@pytest.fixture
def client_a(client: Client, user_a: User) -> Client:
    return login(client, user_a)


@pytest.fixture
def world(org_a: Organisation, org_b: Organisation) -> dict[str, Any]:
    """Two organisations with a customer, invoices and reminders each."""
    scenario = make_scenario(org_a)
    steps = list(scenario.steps.order_by("position"))
    durand = make_customer(
        org_a,
        "C001",
        "Durand Menuiserie SARL",
        siren="732829320",
        address1="12 rue des Lilas",
        postal_code="69003",
        city="Lyon",
    )
    Contact.objects.create(
        organisation=org_a, customer=durand, first_name="Paul", last_name="Durand", email="paul@durand.test",
        phone="04 72 00 00 00", is_billing=True,
    )
    big = make_invoice(durand, "F2026-001", "1234.56", DAY - timedelta(days=20), last_step_position=0,
                       next_action_date=DAY + timedelta(days=2))
    small = make_invoice(durand, "F2026-002", "100.00", DAY + timedelta(days=10))
    paid = make_invoice(durand, "F2025-090", "50.00", DAY - timedelta(days=60), amount_due=Decimal("0"),
                        status=Invoice.Status.PAID, settled_on=DAY - timedelta(days=40))
    failed = make_reminder(
        durand, [big], step=steps[1], status=Reminder.Status.FAILED,
        last_error="550 5.1.1 boîte aux lettres inconnue", attempts=3,
    )
    sent = make_reminder(
        durand, [big], planned_for=DAY - timedelta(days=10), step=steps[0], status=Reminder.Status.SENT,
        sent_at=datetime.combine(DAY - timedelta(days=10), time(9), tzinfo=PARIS), recipient="paul@durand.test",
        subject="Rappel : facture F2026-001", body_text="Bonjour,\nSauf erreur de notre part, la facture F2026-001…",
        body_html="<p>Bonjour <script>alert('x')</script></p>",
    )
    ReminderLine.objects.filter(reminder=sent).update(amount_due=Decimal("1234.56"))
    martin = make_customer(org_a, "C002", "Martin Plomberie", is_business=False)
    late = make_invoice(martin, "F2026-010", "300.00", DAY - timedelta(days=45))
    old_planned = make_reminder(martin, [late], planned_for=DAY - timedelta(days=3), step=steps[0])
    letter = make_reminder(
        martin, [late], step=steps[2], channel="registered_letter", status=Reminder.Status.SENT,
        sent_at=datetime.combine(DAY, time(0, 30), tzinfo=PARIS), recipient="Martin Plomberie\n1 rue X\n75001 Paris",
        tracking_number="1A00000000001",
    )
    old_sent = make_reminder(martin, [late], planned_for=DAY - timedelta(days=20), status=Reminder.Status.SENT)
    call = CallTask.objects.create(organisation=org_a, customer=martin, reminder=letter, due_on=DAY - timedelta(days=1))
    CallTask.objects.create(organisation=org_a, customer=martin, due_on=DAY + timedelta(days=5))
    CallTask.objects.create(organisation=org_a, customer=martin, due_on=DAY, status=CallTask.Status.DONE)
    Hold.objects.create(organisation=org_a, customer=durand, invoice=small, kind=Hold.Kind.PROMISE,
                        until=DAY + timedelta(days=7), reason="Paiement promis par téléphone")
    record(org_a, "invoice.imported", customer_id=durand.pk, invoice_id=big.pk, data={"number": big.number})
    record(org_a, "reminder.sent", customer_id=durand.pk, invoice_id=big.pk, reminder_id=sent.pk)
    record(org_a, "reminder.failed", customer_id=durand.pk, reminder_id=failed.pk, data={"error": "550"})
    record(org_a, "custom.unknown_kind", customer_id=durand.pk)

    make_scenario(org_b)
    bcust = make_customer(org_b, "B001", "Zeta Secrète SA")
    binv = make_invoice(bcust, "B-001", "999.99", DAY - timedelta(days=30))
    brem = make_reminder(bcust, [binv], status=Reminder.Status.FAILED, last_error="erreur de B")
    brem.document.save("b.pdf", ContentFile(b"%PDF-1.4 B"), save=True)
    record(org_b, "invoice.imported", customer_id=bcust.pk, invoice_id=binv.pk)
    return {
        "durand": durand, "martin": martin, "big": big, "small": small, "paid": paid, "late": late,
        "failed": failed, "sent": sent, "old_planned": old_planned, "letter": letter, "old_sent": old_sent,
        "call": call, "b_customer": bcust, "b_reminder": brem, "b_invoice": binv, "steps": steps,
    }


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def text(response: Any) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------- login required


def _web_urls() -> list[tuple[str, str]]:
    urls = []
    for pattern in web_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = f"web:{pattern.name}"
        route = str(pattern.pattern)
        kwargs: dict[str, object] = {"pk": 1} if "<int:pk>" in route else {}
        if "<slug:action>" in route:
            kwargs["action"] = "x"
        if "<slug:key>" in route:
            kwargs.update(key="relance_1", language="fr")
        if "<int:doc_pk>" in route:
            kwargs["doc_pk"] = 1
        if "<int:handover_pk>" in route:
            kwargs["handover_pk"] = 1
        if "<str:token>" in route:
            continue  # a litigation file's download link: public, the signed token is the key (test_litigation_procedure)
        urls.append((name, reverse(name, kwargs=kwargs)))
    return urls


@pytest.mark.parametrize(("name", "url"), _web_urls())
def test_every_page_redirects_anonymous_users_to_login(client: Client, name: str, url: str) -> None:
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login") + "?next="), name


def test_every_web_url_is_covered() -> None:
    names = {name for name, _ in _web_urls()}
    assert names >= {"web:today", "web:customers", "web:customer", "web:reminder", "web:reminder_pdf",
                     "web:switch_organisation"}


def test_login_page_is_french_and_logs_in(client: Client, user_a: User) -> None:
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Connexion" in text(page) and "Mot de passe" in text(page)
    bad = client.post(reverse("login"), {"username": "alice", "password": "faux"})
    assert "Identifiant ou mot de passe incorrect" in text(bad)
    ok = client.post(reverse("login"), {"username": "alice", "password": "motdepasse-solide-123"})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get("/").status_code == 200


def test_logout_is_a_post_form(client_a: Client, world: dict[str, Any]) -> None:
    page = text(client_a.get("/"))
    assert f'action="{reverse("logout")}"' in page and 'method="post"' in page
    response = client_a.post(reverse("logout"), {"next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client_a.get("/").status_code == 302


# --------------------------------------------------------------------------- scoping


def test_user_without_membership_is_refused(client: Client, org_a: Organisation) -> None:
    login(client, make_user("nobody"))
    for url in ("/", reverse("web:customers")):
        response = client.get(url)
        assert response.status_code == 403
        assert "aucune organisation" in text(response)


def test_current_organisation_helper(org_a: Organisation, org_b: Organisation) -> None:
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.exceptions import PermissionDenied

    user = make_user("multi", org_b, org_a)  # first membership: B
    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    assert current_organisation(request) == org_b
    assert request.session[SESSION_KEY] == org_b.pk
    request.session[SESSION_KEY] = org_a.pk
    assert current_organisation(request) == org_a
    request.session[SESSION_KEY] = 999_999  # not a member (or gone): back to the first
    assert current_organisation(request) == org_b
    request.user = make_user("alone")
    with pytest.raises(PermissionDenied):
        current_organisation(request)


def test_switcher_changes_organisation_only_to_a_membership(
    client: Client, world: dict[str, Any], org_a: Organisation, org_b: Organisation
) -> None:
    login(client, make_user("multi", org_a, org_b))
    page = text(client.get(reverse("web:customers")))
    assert 'name="organisation"' in page and "Beta Industrie" in page
    assert "Durand Menuiserie" in page and "Zeta Secrète" not in page

    response = client.post(reverse("web:switch_organisation"), {"organisation": org_b.pk, "next": "/clients/"})
    assert response.status_code == 302 and response["Location"] == "/clients/"
    assert client.session[SESSION_KEY] == org_b.pk
    page = text(client.get(reverse("web:customers")))
    assert "Zeta Secrète" in page and "Durand Menuiserie" not in page

    outsider = bare_org("gamma", "Gamma")
    assert client.post(reverse("web:switch_organisation"), {"organisation": outsider.pk}).status_code == 404
    assert client.post(reverse("web:switch_organisation"), {"organisation": "x"}).status_code == 404
    assert client.session[SESSION_KEY] == org_b.pk
    # an open redirect is refused
    response = client.post(reverse("web:switch_organisation"), {"organisation": org_a.pk, "next": "https://evil.test/"})
    assert response["Location"] == reverse("web:today")
    assert client.get(reverse("web:switch_organisation")).status_code == 405


def test_single_membership_has_no_switcher(client_a: Client, world: dict[str, Any]) -> None:
    page = text(client_a.get("/"))
    assert 'name="organisation"' not in page
    assert "Alpha Conseil" in page


def test_other_organisation_objects_give_404(client_a: Client, world: dict[str, Any]) -> None:
    b_customer, b_reminder = world["b_customer"], world["b_reminder"]
    assert client_a.get(reverse("web:customer", kwargs={"pk": b_customer.pk})).status_code == 404
    assert client_a.get(reverse("web:reminder", kwargs={"pk": b_reminder.pk})).status_code == 404
    assert client_a.get(reverse("web:reminder_pdf", kwargs={"pk": b_reminder.pk})).status_code == 404
    assert client_a.get(reverse("web:customer", kwargs={"pk": 987654})).status_code == 404


def test_other_organisation_data_never_listed(client_a: Client, world: dict[str, Any]) -> None:
    for url in (
        reverse("web:customers"),
        reverse("web:customers") + "?q=Zeta",
        reverse("web:customers") + "?q=B001",
        f"/?date={DAY.isoformat()}",
        reverse("web:customer", kwargs={"pk": world["durand"].pk}),
    ):
        response = client_a.get(url)
        page = text(response)
        assert "Zeta Secrète" not in page and "B-001" not in page and "erreur de B" not in page, url
        assert "999,99" not in page, url
        if "customers" in response.context:
            assert "B001" not in {c.code for c in response.context["customers"]}


# --------------------------------------------------------------------------- today


def test_today_page_lists_the_work_of_the_day(client_a: Client, world: dict[str, Any]) -> None:
    world["letter"].document.save("lettre.pdf", ContentFile(b"%PDF-1.4"), save=True)
    response = client_a.get(f"/?date={DAY.isoformat()}")
    assert response.status_code == 200
    page = text(response)
    assert "Le travail du jour" in page
    assert long_date(DAY) in page
    groups = response.context["groups"]
    by_status = {g.status: [r.pk for r in g.reminders] for g in groups}
    assert groups[0].status == "failed"  # problems first
    assert by_status["failed"] == [world["failed"].pk]
    assert world["old_planned"].pk in by_status["planned"]  # pending from before
    assert world["letter"].pk in by_status["sent"]  # planned today, sent
    assert world["old_sent"].pk not in {pk for pks in by_status.values() for pk in pks}
    assert world["sent"].pk not in {pk for pks in by_status.values() for pk in pks}

    # the failure is flagged with its error
    assert "Échec" in page
    assert "550 5.1.1 boîte aux lettres inconnue" in page
    assert "3 tentatives" in page
    assert "Relance ferme" in page  # the step label

    # letters to print, with the PDF link
    assert [r.pk for r in response.context["letters"]] == [world["letter"].pk]
    assert reverse("web:reminder_pdf", kwargs={"pk": world["letter"].pk}) in page
    assert "1A00000000001" in page

    # open call tasks due on or before the day
    assert [c.pk for c in response.context["calls"]] == [world["call"].pk]

    # header counts: the day's work (the outstanding totals are on the dashboard)
    cards = {k: re.search(rf'data-testid="count-{k}">([^<]*)<', page).group(1)  # type: ignore[union-attr]
             for k in ("reminders", "awaiting", "calls", "letters", "failed")}
    assert cards == {"reminders": str(response.context["reminder_count"]), "awaiting": "0", "calls": "1",
                     "letters": "1", "failed": "1"}
    assert reverse("web:dashboard") in page


def test_today_page_amount_per_reminder(client_a: Client, world: dict[str, Any]) -> None:
    response = client_a.get(f"/?date={DAY.isoformat()}")
    failed = next(g for g in response.context["groups"] if g.status == "failed").reminders[0]
    assert failed.n_invoices == 1
    assert failed.total == Decimal("1234.56")


def test_today_page_other_day_and_bad_date(client_a: Client, world: dict[str, Any]) -> None:
    response = client_a.get(f"/?date={(DAY - timedelta(days=20)).isoformat()}")
    planned_or_sent = {r.pk for g in response.context["groups"] for r in g.reminders}
    assert world["old_sent"].pk in planned_or_sent
    assert world["failed"].pk not in planned_or_sent
    response = client_a.get("/?date=16/03/2026")
    assert response.status_code == 200
    assert "Date illisible" in text(response)


def test_today_defaults_to_the_organisation_date(client: Client) -> None:
    org = bare_org("kiri", "Kiribati Pêche", timezone="Pacific/Kiritimati")  # UTC+14
    login(client, make_user("kiri", org))
    response = client.get("/")
    assert response.context["day"] == timezone.localdate(timezone=ZoneInfo("Pacific/Kiritimati"))
    assert response.context["is_today"]


# --------------------------------------------------------------------------- customers


def test_customer_list_amounts_and_search(client_a: Client, world: dict[str, Any]) -> None:
    response = client_a.get(reverse("web:customers"))
    assert response.status_code == 200
    page = text(response)
    rows = {c.code: c for c in response.context["customers"]}
    assert set(rows) == {"C001", "C002"}
    assert rows["C001"].amount_due == Decimal("1334.56")
    durand = rows["C001"]
    assert durand.overdue == Decimal("1234.56")
    assert f"1{NNBSP}334,56{NBSP}€" in page
    assert f"1{NNBSP}234,56{NBSP}€" in page
    today = response.context["day"]
    assert f"{(today - world['late'].due_date).days} j" in page  # oldest delay of Martin

    found = client_a.get(reverse("web:customers") + "?q=plomb")
    assert [c.code for c in found.context["customers"]] == ["C002"]
    found = client_a.get(reverse("web:customers") + "?q=c001")
    assert [c.code for c in found.context["customers"]] == ["C001"]
    none = client_a.get(reverse("web:customers") + "?q=introuvable")
    assert "Aucun client ne correspond" in text(none)


def test_customer_list_orderings(client_a: Client, world: dict[str, Any]) -> None:
    by_due = client_a.get(reverse("web:customers") + "?tri=du")
    assert [c.code for c in by_due.context["customers"]] == ["C001", "C002"]
    by_delay = client_a.get(reverse("web:customers") + "?tri=retard")
    assert [c.code for c in by_delay.context["customers"]] == ["C002", "C001"]
    assert client_a.get(reverse("web:customers") + "?tri=n'importe").status_code == 200


def test_customer_list_is_paginated_by_50(client_a: Client, org_a: Organisation) -> None:
    Customer.objects.bulk_create(
        [Customer(organisation=org_a, code=f"P{i:03}", legal_name=f"Client {i:03}") for i in range(60)]
    )
    first = client_a.get(reverse("web:customers"))
    assert len(first.context["customers"]) == 50
    assert "Page 1 sur 2" in text(first)
    second = client_a.get(reverse("web:customers") + "?page=2")
    assert len(second.context["customers"]) == 10


def test_customer_page(client_a: Client, world: dict[str, Any]) -> None:
    durand = world["durand"]
    response = client_a.get(reverse("web:customer", kwargs={"pk": durand.pk}))
    assert response.status_code == 200
    page = text(response)
    # identity and contacts
    for expected in ("Durand Menuiserie SARL", "732829320", "12 rue des Lilas", "69003 Lyon", "Professionnel",
                     "Paul Durand", "paul@durand.test"):
        assert expected in page, expected
    # invoices, amounts in French format, days late, next step
    assert "F2026-001" in page and "F2026-002" in page
    assert f"1{NNBSP}234,56{NBSP}€" in page
    assert f"1{NNBSP}334,56{NBSP}€" in page  # total due
    today = response.context["day"]
    assert f"{(today - world['big'].due_date).days} j" in page
    next_steps = response.context["next_steps"]
    assert next_steps[world["big"].pk].label == "Relance ferme"  # last_step_position 0 → step 1
    # the small invoice is under a promise: the page shows the hold, not a step
    assert world["small"].pk not in next_steps
    assert response.context["held"][world["small"].pk].kind == Hold.Kind.PROMISE
    assert world["paid"].pk not in next_steps
    assert "Relance ferme" in page
    # the paid invoice is among the settled ones
    assert "Factures soldées (1)" in page
    # holds
    assert "Promesse de règlement" in page and "Paiement promis par téléphone" in page
    # reminders with the link to their message
    assert reverse("web:reminder", kwargs={"pk": world["sent"].pk}) in page
    # timeline, newest first, French labels, unknown kind shown as its code
    labels = [e["label"] for e in response.context["timeline"]]
    assert labels == ["custom.unknown_kind", "Échec d’envoi", "Relance envoyée", "Facture importée"]
    assert "Facture importée" in page and "Relance envoyée" in page


def test_private_customer_is_shown_as_such(client_a: Client, world: dict[str, Any]) -> None:
    page = text(client_a.get(reverse("web:customer", kwargs={"pk": world["martin"].pk})))
    assert "Particulier" in page


def test_customer_page_uses_the_customer_scenario(client_a: Client, world: dict[str, Any], org_a: Organisation) -> None:
    own = Scenario.objects.create(organisation=org_a, name="Grands comptes")
    Step.objects.create(scenario=own, position=0, label="Appel courtois", offset_days=1, channel="phone", template="c")
    martin = world["martin"]
    martin.scenario = own
    martin.save()
    response = client_a.get(reverse("web:customer", kwargs={"pk": martin.pk}))
    assert response.context["next_steps"][world["late"].pk].label == "Appel courtois"


def test_next_step_skips_a_before_due_step_once_late(client_a: Client, org_a: Organisation) -> None:
    scenario = Scenario.objects.create(organisation=org_a, name="Avec préavis", is_default=True)
    Step.objects.create(scenario=scenario, position=0, label="Avis avant échéance", offset_days=-5, channel="email",
                        template="pre")
    Step.objects.create(scenario=scenario, position=1, label="Premier rappel", offset_days=3, channel="email",
                        template="r1")
    customer = make_customer(org_a, "C100", "Client Préavis")
    late = make_invoice(customer, "P-1", "10.00", DAY - timedelta(days=2))
    coming = make_invoice(customer, "P-2", "10.00", DAY + timedelta(days=20))
    response = client_a.get(reverse("web:customer", kwargs={"pk": customer.pk}))
    steps = response.context["next_steps"]
    assert steps[late.pk].label == "Premier rappel"
    assert steps[coming.pk].label == "Avis avant échéance"


# --------------------------------------------------------------------------- reminder and its letter


def test_reminder_page_shows_the_exact_message(client_a: Client, world: dict[str, Any]) -> None:
    sent = world["sent"]
    response = client_a.get(reverse("web:reminder", kwargs={"pk": sent.pk}))
    assert response.status_code == 200
    page = text(response)
    assert "paul@durand.test" in page
    assert "Rappel : facture F2026-001" in page
    assert "Sauf erreur de notre part, la facture F2026-001…" in page
    # the HTML is in a sandboxed srcdoc, escaped: never interpreted in our page
    assert 'sandbox=""' in page and "srcdoc=" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "F2026-001" in page and f"1{NNBSP}234,56{NBSP}€" in page


def test_failed_reminder_page_shows_the_error(client_a: Client, world: dict[str, Any]) -> None:
    page = text(client_a.get(reverse("web:reminder", kwargs={"pk": world["failed"].pk})))
    assert "Échec" in page and "550 5.1.1 boîte aux lettres inconnue" in page


def test_reminder_pdf(client_a: Client, world: dict[str, Any]) -> None:
    letter = world["letter"]
    url = reverse("web:reminder_pdf", kwargs={"pk": letter.pk})
    assert client_a.get(url).status_code == 404  # no document yet
    letter.document.save("lettre.pdf", ContentFile(b"%PDF-1.4 lettre"), save=True)
    response = client_a.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # consuming the stream closes the file (the test client does it outside of the request cycle)
    assert b"".join(response.streaming_content) == b"%PDF-1.4 lettre"  # type: ignore[attr-defined]
    assert response["Content-Disposition"].startswith("inline;")
    page = text(client_a.get(reverse("web:reminder", kwargs={"pk": letter.pk})))
    assert url in page


# --------------------------------------------------------------------------- no N+1


def _bulk_world(org: Organisation, start: int, stop: int, invoices: int = 5) -> None:
    """Customers ``start``…``stop - 1``, each with a contact, ``invoices`` open invoices,
    one reminder over them (planned, failed or sent; by e-mail or letter), a call task
    and two events."""
    scenario = Scenario.objects.filter(organisation=org, is_default=True).first() or make_scenario(org)
    step = scenario.steps.order_by("position").first()
    for c in range(start, stop):
        customer = make_customer(org, f"N{c:03}", f"Client en nombre {c:03}")
        Contact.objects.create(organisation=org, customer=customer, last_name=f"Contact {c}", phone="0102030405")
        invs = [
            make_invoice(customer, f"N{c:03}-{i}", "120.50", DAY - timedelta(days=10 * i - 5))
            for i in range(invoices)
        ]
        status = [Reminder.Status.PLANNED, Reminder.Status.FAILED, Reminder.Status.SENT][c % 3]
        channel = "letter" if c % 2 else "email"
        reminder = make_reminder(
            customer, invs, status=status, channel=channel, step=step, last_error="x",
            sent_at=datetime.combine(DAY, time(10), tzinfo=PARIS) if status == Reminder.Status.SENT else None,
        )
        if status == Reminder.Status.SENT and channel == "letter":
            reminder.document.save(f"n{c}.pdf", ContentFile(b"%PDF"), save=True)
        CallTask.objects.create(organisation=org, customer=customer, reminder=reminder, due_on=DAY)
        record(org, "invoice.imported", customer_id=customer.pk, invoice_id=invs[0].pk)
        record(org, "reminder.planned", customer_id=customer.pk, reminder_id=reminder.pk)


def _count_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", [f"/?date={DAY.isoformat()}", "/clients/", "/clients/?q=nombre&tri=retard"])
def test_list_pages_do_a_constant_number_of_queries(
    client_a: Client, org_a: Organisation, url: str, django_assert_max_num_queries: Any
) -> None:
    _bulk_world(org_a, 0, 6)  # every kind of row once at least: planned, failed, a letter sent, calls
    few = _count_queries(client_a, url)
    _bulk_world(org_a, 6, 30)  # 30 customers × 5 invoices
    # the day's page: 2 for its reminders (counts; the pages with their totals), 2 for the letters
    # (count, page), 3 for the calls (count, page, contacts), 1 for the outstanding totals, 1 for the
    # replies waiting for a person (the navigation's count)
    with django_assert_max_num_queries(12):
        response = client_a.get(url)
    assert response.status_code == 200
    assert len(response.context["customers"] if "customers" in response.context else response.context["letters"]) > 3
    assert _count_queries(client_a, url) == few


def test_customer_page_does_a_constant_number_of_queries(
    client_a: Client, org_a: Organisation, django_assert_max_num_queries: Any
) -> None:
    _bulk_world(org_a, 0, 1)
    customer = Customer.objects.get(organisation=org_a, code="N000")
    url = reverse("web:customer", kwargs={"pk": customer.pk})
    few = _count_queries(client_a, url)
    invoices = [make_invoice(customer, f"X-{i}", "10.00", DAY - timedelta(days=i)) for i in range(25)]
    for i, inv in enumerate(invoices):
        make_reminder(customer, [inv], planned_for=DAY - timedelta(days=i), status=Reminder.Status.SENT)
        Hold.objects.create(organisation=org_a, customer=customer, invoice=inv, kind=Hold.Kind.DISPUTE)
        record(org_a, "payment.recorded", customer_id=customer.pk, invoice_id=inv.pk)
    with django_assert_max_num_queries(28):  # page, charges, holds, timeline, profile card, collector forms
        assert client_a.get(url).status_code == 200
    assert _count_queries(client_a, url) == few


# --------------------------------------------------------------------------- filters and labels


def test_template_filters() -> None:
    from relance.web.templatetags.relance_tags import date_fr, days_late, eur

    assert eur(Decimal("1234.56")) == f"1{NNBSP}234,56{NBSP}€"
    assert eur(Decimal("0")) == f"0,00{NBSP}€"
    assert eur("12.5") == f"12,50{NBSP}€"
    assert eur(None) == "" and eur("abc") == ""
    assert date_fr(date(2026, 3, 1)) == "1er mars 2026"
    assert date_fr(date(2026, 11, 23)) == "23 novembre 2026"
    assert date_fr(None) == ""
    with timezone.override(PARIS):
        assert date_fr(datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))) == "2 mars 2026"
    assert days_late(date(2026, 3, 1), date(2026, 3, 11)) == 10
    assert days_late(date(2026, 3, 11), date(2026, 3, 1)) == 0
    assert days_late(None, date(2026, 3, 1)) == 0


def test_event_labels_are_french() -> None:
    from relance.web.labels import event_label

    for kind in ("invoice.imported", "reminder.planned", "reminder.sent", "reminder.failed", "reminder.retry",
                 "reminder.cancelled", "reminder.uncertain", "payment.recorded", "invoice.settled", "thanks.sent",
                 "litigation.opened", "hold.created"):
        assert event_label(kind) != kind, kind
    assert event_label("reminder.failed") == "Échec d’envoi"
    assert event_label("something.new") == "something.new"
