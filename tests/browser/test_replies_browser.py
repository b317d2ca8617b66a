"""The « Boîte de réception » in a real browser (issue 15): a collector opens the inbox from the
navigation, opens a customer's reply, changes its category and confirms; the new state shows, and
Chromium reports no console error nor Content-Security-Policy violation. A message whose HTML carries
a script shows in its sandboxed frame without the script ever running."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance import clock
from relance.clock import today_for
from relance.dunning.models import CallTask
from relance.ledger.models import Membership, Organisation
from relance.ledger.services.imports import import_file
from relance.replies.models import Mailbox, Reply
from relance.replies.services.receive import receive
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "motdepasse-solide-42"


def eml(key: str, text: str, html: str) -> bytes:
    when = clock.now() - timedelta(hours=1)
    headers = ["From: Claire Martin <claire.martin@boulangerie-martin.test>", "To: recouvrement@atelier-dubois.test",
               "Subject: RE: Relance facture FA-1", f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
               f"Message-ID: <{key}@mail.test>", "MIME-Version: 1.0",
               'Content-Type: multipart/alternative; boundary="sep"']
    parts = ["--sep", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", text,
             "--sep", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", html,
             "--sep--", ""]
    return ("\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(parts)).encode()


@pytest.fixture
def world(tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org: Organisation = make_org()
    today = today_for(org)
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    due = today - timedelta(days=20)
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("FA-1", "C001", (due - timedelta(days=30)).isoformat(), due.isoformat(), "1200,00")])))
    Mailbox.objects.create(organisation=org, host="127.0.0.1", username="recouvrement", password="x")
    text = "Le montant de la facture FA-1 ne correspond pas au devis signé, merci de corriger."
    pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    html = f"<p><b>{text}</b></p><p><img alt=\"logo\" src=\"{pixel}\"></p>"
    reply = receive(org, eml("litige", text, html)).reply
    assert (reply.category, reply.state) == ("litige", "a_traiter")
    user = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    return {"org": org, "reply": reply}


def _watch(page: Any) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    dialogs: list[str] = []

    def on_console(msg: Any) -> None:
        if "favicon.ico" in (msg.location or {}).get("url", ""):
            return  # the browser asks for /favicon.ico by itself; the application has none
        if msg.type == "error" or "Content Security Policy" in msg.text:
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return errors, dialogs


def test_a_reply_is_reclassified_and_confirmed(page: Any, live_server: Any, world: dict[str, Any]) -> None:
    errors, dialogs = _watch(page)
    reply: Reply = world["reply"]
    login(page, live_server.url, "claire", PASSWORD)
    nav = page.get_by_test_id("nav-replies")
    assert nav.inner_text().split() == ["Réponses", "1"]  # one reply waits for a person
    nav.click()
    page.get_by_role("heading", name="Boîte de réception").wait_for()
    row = page.get_by_test_id(f"reply-{reply.pk}")
    assert "Boulangerie Martin SARL" in row.inner_text() and "Litige" in row.inner_text()
    assert page.get_by_test_id(f"reply-state-{reply.pk}").inner_text() == "À traiter"
    row.get_by_role("link", name="RE: Relance facture FA-1").click()

    assert "Litige ouvert sur FA-1" in page.get_by_test_id("effect-proposed").inner_text()
    frame = page.frame_locator("iframe[data-testid=reply-html]")
    frame.get_by_text("ne correspond pas au devis").wait_for()  # the HTML version, in its sandboxed frame
    assert page.get_by_test_id("reply-html").get_attribute("sandbox") == ""

    form = page.get_by_test_id("form-confirm")
    form.get_by_label("Catégorie").select_option(label="Demande d’échéancier")
    form.get_by_role("button", name="Confirmer", exact=True).click()

    assert "Réponse traitée (« Demande d’échéancier »)" in page.get_by_role("status").inner_text()
    assert page.get_by_test_id(f"reply-state-{reply.pk}").inner_text() == "Traitée"
    assert page.get_by_test_id("category-label").inner_text() == "Demande d’échéancier"
    assert "Échéancier à proposer" in page.get_by_test_id("effect-applied").inner_text()
    assert page.get_by_test_id("nav-replies").inner_text().split() == ["Réponses"]  # nothing waits any more
    reply.refresh_from_db()
    assert (reply.predicted, reply.category, reply.state) == ("litige", "echeancier", "traitee")
    assert CallTask.objects.filter(customer=reply.customer, purpose="plan", status="open").count() == 1

    page.get_by_role("link", name="Boîte de réception").click()
    assert "1 réponse vue par une personne, 0" in page.get_by_test_id("accuracy").inner_text()
    assert errors == [] and dialogs == []


def test_a_script_in_the_message_never_runs(page: Any, live_server: Any, world: dict[str, Any]) -> None:
    errors, dialogs = _watch(page)
    html = ("<p id=\"x\">Bonjour, facture FA-1 réglée.</p><script>alert('piège');"
            "parent.document.title='piégé'</script><img src=\"x\" onerror=\"alert('image')\">"
            "<form action=\"https://ailleurs.example/\"><button>Envoyer</button></form>")
    reply = receive(world["org"], eml("script", "Bonjour, facture FA-1 réglée.", html)).reply
    login(page, live_server.url, "claire", PASSWORD)
    page.goto(f"{live_server.url}/reponses/{reply.pk}/")
    frame = page.frame_locator("iframe[data-testid=reply-html]")
    frame.get_by_text("Bonjour, facture FA-1 réglée.").wait_for()
    assert "piégé" not in page.title() and dialogs == []
    page.wait_for_timeout(300)
    assert dialogs == []
    # what the browser blocked is reported from the sandboxed frame only: its scripts (no allow-scripts)
    # and the image of our own address (the frame's policy, « img-src data: », stricter than the page's)
    assert any("Blocked script execution in 'about:srcdoc'" in e for e in errors), errors
    assert all("about:srcdoc" in e or '"img-src data:"' in e for e in errors), errors
