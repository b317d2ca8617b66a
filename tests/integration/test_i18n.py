"""The interface French first, with English available (issue #5): the main pages in both
languages (browser's Accept-Language, or the selector's cookie), the formats of each language,
what the services store staying French, and the English catalog itself: complete, without fuzzy
entries, its committed ``.mo`` compiled from its ``.po``, and every text the templates and the
Python code mark for translation present in it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from relance.clock import today_for
from relance.dunning.models import Reminder, ReminderLine
from relance.holds.models import Hold
from relance.ledger.models import Membership
from relance.web.templatetags.relance_tags import date_fr, eur, thousands
from relance.web.views_law import pct
from tests.builders import make_customer, make_invoice, make_org, make_user

PACKAGE = Path(settings.BASE_DIR)
CATALOG = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
TEMPLATES = PACKAGE / "web" / "templates"
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def french_afterwards() -> Iterator[None]:
    """The test client leaves the last request's language active in the thread: back to the default."""
    yield
    translation.deactivate()


# --------------------------------------------------------------------------- pages


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    org = make_org()
    admin = make_user("sophie", org, role=Membership.Role.ADMIN)
    customer = make_customer(org, "C001", "Durand Menuiserie SARL")
    day = today_for(org)
    invoice = make_invoice(customer, "F2026-001", "1234.56", day - timedelta(days=40), issued=day - timedelta(days=70))
    reminder = Reminder.objects.create(
        organisation=org,
        customer=customer,
        channel="email",
        planned_for=day,
        status=Reminder.Status.AWAITING_APPROVAL,
        idempotency_key="i18n-1",
    )
    ReminderLine.objects.create(reminder=reminder, invoice=invoice, step_position=0)
    return {"org": org, "admin": admin, "customer": customer}


def _customer_url(world: dict[str, Any]) -> str:
    return reverse("web:customer", kwargs={"pk": world["customer"].pk})


def _url(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda world: reverse(name)


#: page, its URL, texts of the French page and their English counterparts (same order)
PAGES: list[tuple[str, Callable[[dict[str, Any]], str], tuple[str, ...], tuple[str, ...]]] = [
    (
        "today",
        _url("web:today"),
        ("Le travail du jour", "Relances du jour", "Courriers à imprimer"),
        ("Today’s work", "Today’s reminders", "Letters to print"),
    ),
    (
        "dashboard",
        _url("web:dashboard"),
        ("Balance âgée", "Plus de 90 jours", "Relances prévues aujourd’hui"),
        ("Aged balance", "Over 90 days", "Reminders planned today"),
    ),
    (
        "customers",
        _url("web:customers"),
        ("Factures ouvertes", "Trier par", "Retard max."),
        ("Open invoices", "Sort by", "Max. days late"),
    ),
    (
        "customer",
        _customer_url,
        ("Factures à payer", "Suivi du recouvrement", "Promesse de règlement", "Reste dû", f"1{NNBSP}234,56{NBSP}€"),
        ("Unpaid invoices", "Collection follow-up", "Promise to pay", "Outstanding", "€1,234.56"),
    ),
    (
        "calls",
        _url("web:calls"),
        ("Appels du jour", "Aucun appel à passer aujourd’hui."),
        ("Today’s calls", "No calls to make today."),
    ),
    (
        "approvals",
        _url("web:approvals"),
        ("Relances à valider", "Valider la sélection"),
        ("Reminders to approve", "Approve the selection"),
    ),
    (
        "scenarios",
        _url("web:scenarios"),
        ("Scénarios de relance", "Modèles de messages", "Nouveau scénario"),
        ("Reminder scenarios", "Message templates", "New scenario"),
    ),
    (
        "bank",
        _url("web:bank"),
        ("Comptes de l’organisation", "Importer un relevé", "Aucun relevé importé."),
        ("The organisation’s accounts", "Import a statement", "No statements imported."),
    ),
    (
        "members",
        _url("web:members"),
        ("Ajouter un membre", "Visibilité des clients", "Administrateur"),
        ("Add a member", "Customer visibility", "Administrator"),
    ),
    (
        "calculator",
        _url("web:calculator"),
        ("Pénalités de retard", "Intérêts au taux légal", "Paiements partiels"),
        ("Late-payment penalties", "Interest at the statutory rate", "Part payments"),
    ),
]
#: the navigation and the footer of every page
FRAME = (
    ("Travail du jour", "Tableau de bord", "Se déconnecter", "logiciel libre"),
    ("Today’s work", "Dashboard", "Sign out", "free software"),
)


def _page(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize(("name", "url", "french", "english"), PAGES, ids=[p[0] for p in PAGES])
def test_main_pages_in_french_by_default_and_in_english_on_request(
    client: Client,
    world: dict[str, Any],
    name: str,
    url: Callable[[dict[str, Any]], str],
    french: tuple[str, ...],
    english: tuple[str, ...],
) -> None:
    client.force_login(world["admin"])
    target = url(world)
    fr_page = _page(client, target)
    en_page = _page(client, target, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert '<html lang="fr">' in fr_page and '<html lang="en">' in en_page
    for fr_text, en_text in zip(french + FRAME[0], english + FRAME[1], strict=True):
        assert fr_text in fr_page, (name, fr_text)
        assert en_text not in fr_page, (name, en_text)
        assert en_text in en_page, (name, en_text)
        assert fr_text not in en_page, (name, fr_text)


def test_a_french_browser_or_an_unknown_language_gets_french(client: Client, world: dict[str, Any]) -> None:
    client.force_login(world["admin"])
    for header in ("fr-FR,fr;q=0.9", "de-DE,de;q=0.9"):
        page = _page(client, reverse("web:today"), HTTP_ACCEPT_LANGUAGE=header)
        assert '<html lang="fr">' in page and "Le travail du jour" in page


def test_login_page_in_both_languages(client: Client, world: dict[str, Any]) -> None:
    fr_page = _page(client, reverse("login"))
    en_page = _page(client, reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Connexion" in fr_page and "Mot de passe" in fr_page and "Sign in" not in fr_page
    assert "Sign in" in en_page and "Password" in en_page and "Mot de passe" not in en_page
    bad = client.post(reverse("login"), {"username": "sophie", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Incorrect username or password" in bad.content.decode()


def test_the_selector_switches_the_language_and_it_is_remembered(client: Client, world: dict[str, Any]) -> None:
    client.force_login(world["admin"])
    page = _page(client, reverse("web:customers"))
    assert 'action="/i18n/setlang/"' in page and '<option value="en" lang="en">English</option>' in page
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("web:customers")})
    assert response.status_code == 302 and response["Location"] == reverse("web:customers")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    # the cookie wins over the browser's French
    page = _page(client, reverse("web:customers"), HTTP_ACCEPT_LANGUAGE="fr")
    assert '<html lang="en">' in page and "Open invoices" in page
    assert '<option value="en" lang="en" selected>English</option>' in page
    client.post(reverse("set_language"), {"language": "fr", "next": reverse("web:customers")})
    assert "Factures ouvertes" in _page(client, reverse("web:customers"), HTTP_ACCEPT_LANGUAGE="en")


def test_messages_in_english_and_records_in_french(client: Client, world: dict[str, Any]) -> None:
    """A collector working in English stops the reminders: the message is English, the hold's
    reason (stored, shown to everyone) is French like every record."""
    client.force_login(world["admin"])
    customer = world["customer"]
    url = reverse("web:customer_action", kwargs={"pk": customer.pk, "action": "arret"})
    response = client.post(
        url, {"cause": Hold.StopCause.INSOLVENCY, "note": "jugement du 3 mars"}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    page = response.content.decode()
    assert "Reminders stopped for this customer." in page
    assert "Reminders stopped" in page and "Insolvency proceedings" in page  # the form's causes, translated
    hold = Hold.objects.get(customer=customer, kind=Hold.Kind.STOP)
    assert hold.reason == "Procédure collective — jugement du 3 mars"
    translation.deactivate()
    assert hold.get_kind_display() == "Arrêt des relances"  # outside a request: French


# --------------------------------------------------------------------------- formats


def test_formats_follow_the_active_language() -> None:
    amount, day = Decimal("1234.56"), date(2026, 11, 23)
    assert eur(amount) == f"1{NNBSP}234,56{NBSP}€"
    assert date_fr(day) == "23 novembre 2026" and date_fr(date(2026, 11, 1)) == "1er novembre 2026"
    assert thousands(9454) == f"9{NNBSP}454"
    assert pct(Decimal("12.125")) == f"12,125{NBSP}%"
    with translation.override("en"):
        assert eur(amount) == "€1,234.56"
        assert eur(amount, "USD") == "US$1,234.56"
        assert date_fr(day) == "23 November 2026" and date_fr(date(2026, 11, 1)) == "1 November 2026"
        assert thousands(9454) == "9,454"
        assert pct(Decimal("12.125")) == "12.125%"
    with translation.override("fr"):
        assert eur(amount) == f"1{NNBSP}234,56{NBSP}€"


# --------------------------------------------------------------------------- the catalog


def _key(message: Any) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _strings(catalog: Catalog) -> dict[tuple[str | None, str], Any]:
    return {_key(m): m.string for m in catalog if m.id}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with CATALOG.open("rb") as source:
        return read_po(source, locale="en", domain="django")


def test_the_catalog_has_no_empty_or_fuzzy_translation(catalog: Catalog) -> None:
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(_key(message))
    assert len(catalog) > 700
    assert problems == []


def test_placeholders_are_kept_in_the_translations(catalog: Catalog) -> None:
    placeholder = re.compile(r"%\([a-z_]+\)s|%%")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        expected = sorted(set(placeholder.findall(ids[-1])))
        for string in strings:
            assert sorted(set(placeholder.findall(string))) == expected, (message.id, string)


def test_the_committed_mo_is_the_compiled_po(catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    compiled = read_mo(buffer)
    with CATALOG.with_suffix(".mo").open("rb") as committed_file:
        committed = read_mo(committed_file)
    assert _strings(committed) == _strings(compiled)
    assert committed.plural_forms == "nplurals=2; plural=(n != 1);"


def test_english_is_served_from_the_committed_catalog(db: None) -> None:
    with translation.override("en"):
        assert translation.gettext("Le travail du jour") == "Today’s work"
        assert translation.pgettext("menu", "Taux") == "Rates"
        assert translation.ngettext("%(n)s facture", "%(n)s factures", 2) % {"n": 2} == "2 invoices"
        assert str(Reminder.Status.AWAITING_APPROVAL.label) == "To approve"
    with translation.override("fr"):
        assert str(Reminder.Status.AWAITING_APPROVAL.label) == "À valider"


KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}


def _marked(source: str) -> set[tuple[str | None, str]]:
    """The literal msgids (with their context) marked for translation in Python source."""
    found = set()
    for _line, funcname, message, _comments in extract_python(io.BytesIO(source.encode()), KEYWORDS, [], {}):
        parts = message if isinstance(message, tuple) else (message,)
        if funcname.startswith(("pgettext", "npgettext")):
            context, msgid = parts[0], parts[1]
        else:
            context, msgid = None, parts[0]
        if isinstance(msgid, str) and msgid:
            found.add((context, msgid))
    return found


def test_every_template_text_has_an_english_translation(catalog: Catalog) -> None:
    translated = {key for key, string in _strings(catalog).items() if string}
    templates = sorted(TEMPLATES.rglob("*.html"))
    marked: set[tuple[str | None, str]] = set()
    for path in templates:
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        marked |= _marked("\n".join(line.lstrip() for line in code.splitlines()))
    assert len(templates) > 30 and len(marked) > 500
    assert sorted(marked - translated, key=str) == []


def test_every_python_text_marked_for_translation_has_an_english_translation(catalog: Catalog) -> None:
    translated = {key for key, string in _strings(catalog).items() if string}
    ignored = ("tests", "migrations", "core")
    marked: set[tuple[str | None, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if not any(part in ignored for part in path.relative_to(PACKAGE).parts):
            marked |= _marked(path.read_text(encoding="utf-8"))
    assert len(marked) > 300
    assert sorted(marked - translated, key=str) == []
