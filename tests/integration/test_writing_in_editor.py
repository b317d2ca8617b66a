"""The writing check in the template editor (issue 17): the preview underlines the problems of
the *rendered* text (the variables filled are never flagged) and lists them with their
suggestions; saving a template with a spelling mistake asks to confirm, then saves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.clock import today_for
from relance.dunning.models import MessageTemplate
from relance.dunning.services import editing, proofreading
from relance.events import kinds
from relance.events.models import Event
from relance.ledger.models import Customer, Membership, Organisation
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, member_client, write

pytestmark = pytest.mark.django_db

SUBJECT = "Rappel : facture {{ numeros_factures }}"
GOOD = ("{{ salutation }}\n\nSauf erreur de notre part, la facture {{ numeros_factures }} de {{ client.nom }} "
        "reste impayée à ce jour.\n\n{{ tableau_factures }}\n\nNous vous remercions de bien vouloir la régler.\n\n"
        "Bien cordialement,\n{{ signataire.nom }}")
TYPO = GOOD.replace("la facture {{", "la facure {{")
MARK = re.compile(r'<mark class="writing-orthographe" title="([^"]*)">facure</mark>')


@pytest.fixture
def org(tmp_path: Path, pinned_clock: Any) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("FA-1", "C001", "2026-09-01", "2026-10-01", "1200,00"), ("FA-2", "C002", "2026-10-01", "2026-10-31", "80,00")])))
    return org


@pytest.fixture
def admin(org: Organisation) -> Client:
    return member_client(org, "boss", Membership.Role.ADMIN)


def _url(key: str = "relance_1") -> str:
    return reverse("web:template", kwargs={"key": key, "language": "fr"})


def _spelling(review: proofreading.Review | None) -> list[str]:
    assert review is not None
    return [f.problem.text for f in review.spelling]


def test_the_rendered_text_is_checked_and_its_variables_are_not_flagged(org: Organisation) -> None:
    customer = Customer.objects.get(organisation=org, code="C001")
    for on in (None, customer):  # sample data, then a real customer's names and invoices
        rendered, review = editing.preview_checked(org, "relance_1", "fr", today_for(org), customer=on,
                                                   subject=SUBJECT, body=GOOD)
        assert "{{" not in rendered.text
        assert _spelling(review) == [], rendered.text
        rendered, review = editing.preview_checked(org, "relance_1", "fr", today_for(org), customer=on,
                                                   subject=SUBJECT, body=TYPO)
        assert _spelling(review) == ["facure"]
        assert review is not None
        problem = review.spelling[0].problem
        assert rendered.text[problem.offset:problem.offset + problem.length] == "facure"


def test_the_preview_underlines_the_mistakes_and_lists_them(org: Organisation, admin: Client) -> None:
    MessageTemplate.objects.create(organisation=org, key="relance_1", language="fr", subject=SUBJECT, body=TYPO)
    response = admin.get(_url())
    assert response.status_code == 200
    page = response.content.decode()
    found = MARK.search(page)
    assert found, "the mistake is underlined in the preview"
    assert found.group(1)  # its message, read on hover
    problems = page[page.index('data-testid="writing-problems"'):]
    problems = problems[:problems.index("</ul>")]
    assert "« facure »" in problems and "facture" in problems.split("« facure »", 1)[1]  # the suggestion
    # the names the template was rendered with are not underlined
    assert not re.search(r"<mark[^>]*>(Boulangerie|Martin|Sophie|Laurent)</mark>", page)
    # the page keeps its Content-Security-Policy: no inline script
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page))


def test_the_live_preview_returns_the_problems_as_segments(org: Organisation, admin: Client) -> None:
    url = reverse("web:template_preview", kwargs={"key": "relance_1", "language": "fr"})
    data = admin.post(url, {"subject": SUBJECT, "body": TYPO}).json()
    assert [p["text"] for p in data["problems"] if p["kind"] == "orthographe"] == ["facure"]
    assert data["spelling"] == 1
    assert "".join(s["text"] for s in data["segments"]) == data["text"]
    faulty = [s for s in data["segments"] if s.get("kind") == "orthographe"]
    assert [s["text"] for s in faulty] == ["facure"] and faulty[0]["title"]
    clean = admin.post(url, {"subject": SUBJECT, "body": GOOD}).json()
    assert [p for p in clean["problems"] if p["kind"] == "orthographe"] == []


def test_saving_a_mistake_asks_to_confirm_then_saves(org: Organisation, admin: Client) -> None:
    response = admin.post(_url(), {"subject": SUBJECT, "body": TYPO, "action": "save"})
    assert response.status_code == 200  # the form again, nothing saved
    page = response.content.decode()
    assert "Enregistrer malgré les fautes signalées" in page and 'name="confirmer_fautes"' in page
    assert MARK.search(page)
    assert "la facure {{ numeros_factures }}" in page  # the text typed is kept
    assert not MessageTemplate.objects.filter(organisation=org).exists()
    assert not Event.objects.filter(organisation=org, kind=kinds.TEMPLATE_SAVED).exists()

    response = admin.post(_url(), {"subject": SUBJECT, "body": TYPO, "action": "save", "confirmer_fautes": "1"})
    assert response.status_code == 302
    assert editing.template_source(org, "relance_1", "fr") == (SUBJECT, TYPO)
    event = Event.objects.get(organisation=org, kind=kinds.TEMPLATE_SAVED)
    assert [p["text"] for p in event.data["writing_problems"]] == ["facure"]
    assert event.actor.endswith("boss")

    # the second button confirms as well
    response = admin.post(_url("relance_2"), {"subject": SUBJECT, "body": TYPO, "action": "save_anyway"})
    assert response.status_code == 302
    assert MessageTemplate.objects.filter(organisation=org, key="relance_2").exists()


def test_a_correct_template_saves_at_once(org: Organisation, admin: Client) -> None:
    response = admin.post(_url(), {"subject": SUBJECT, "body": GOOD, "action": "save"})
    assert response.status_code == 302
    assert editing.template_source(org, "relance_1", "fr") == (SUBJECT, GOOD)
    event = Event.objects.get(organisation=org, kind=kinds.TEMPLATE_SAVED)
    assert "writing_problems" not in event.data


def test_the_service_refuses_an_unconfirmed_mistake(org: Organisation) -> None:
    with pytest.raises(proofreading.WritingToConfirm) as err:
        editing.save_template(org, "relance_1", "fr", SUBJECT, TYPO, actor="t", check_writing=True)
    assert [f.problem.text for f in err.value.review.spelling] == ["facure"]
    assert not MessageTemplate.objects.filter(organisation=org).exists()
    # scripts and older callers that do not ask for the check save as before
    editing.save_template(org, "relance_1", "fr", SUBJECT, TYPO, actor="t")
    assert MessageTemplate.objects.filter(organisation=org).count() == 1


def test_the_organisations_accepted_words_are_not_flagged(org: Organisation) -> None:
    body = GOOD.replace("Nous vous remercions", "Votre abonnement Zorblax reste actif. Nous vous remercions")
    review = editing.proofread(org, "relance_1", "fr", today_for(org), subject=SUBJECT, body=body)
    assert _spelling(review) == ["Zorblax"]
    org.accepted_words = "Zorblax\n"
    org.save(update_fields=["accepted_words"])
    review = editing.proofread(org, "relance_1", "fr", today_for(org), subject=SUBJECT, body=body)
    assert _spelling(review) == []


def test_marked_text_is_escaped() -> None:
    from relance.writing import Problem

    text = "<b>facure</b> & co"
    html = proofreading.marked(text, [Problem("facure", 3, 6, "orthographe", "Mot « inconnu »", ("facture",))])
    assert html == ('&lt;b&gt;<mark class="writing-orthographe" title="Mot « inconnu » (facture)">facure</mark>'
                    "&lt;/b&gt; &amp; co")


def test_the_writing_settings_on_the_templates_page(org: Organisation, admin: Client) -> None:
    url = reverse("web:templates")
    page = admin.get(url).content.decode()
    assert 'data-testid="writing-settings"' in page and 'name="writing_check_holds" value="1" checked' in page
    response = admin.post(url, {"accepted_words": " Zorblax \n\nZorblax\nKiwiPro\n"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.accepted_words == "Zorblax\nKiwiPro" and org.writing_check_holds is False
    event = Event.objects.get(organisation=org, kind=kinds.ORGANISATION_WRITING_SETTINGS)
    assert event.data == {"accepted_words": ["Zorblax", "KiwiPro"], "holds": False}
    assert admin.post(url, {"accepted_words": "Zorblax\nKiwiPro"}).status_code == 302  # unchanged: no event
    assert Event.objects.filter(organisation=org, kind=kinds.ORGANISATION_WRITING_SETTINGS).count() == 1
    body = GOOD.replace("Nous vous remercions", "Votre abonnement Zorblax reste actif. Nous vous remercions")
    assert _spelling(editing.proofread(org, "relance_1", "fr", today_for(org), subject=SUBJECT, body=body)) == []
    # a collector reads them, never changes them
    collector = member_client(org, "claire", Membership.Role.COLLECTOR)
    assert "Zorblax" in collector.get(url).content.decode()
    assert collector.post(url, {"accepted_words": "", "writing_check_holds": "1"}).status_code == 403
    org.refresh_from_db()
    assert org.accepted_words == "Zorblax\nKiwiPro"
