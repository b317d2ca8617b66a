"""The case page of « Contentieux » in a real browser, wide (1280 px) and on a phone (390 px):
everything fits the width (no sideways scrolling), the forms are reachable, and a screenshot of
each width is kept in ``test-artifacts/browser/`` to look at (issue #16)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from relance.clock import today_for
from relance.ledger.models import Invoice, Membership
from relance.litigation.models import CaseDocument, HandoverRecipient, LitigationCase
from relance.litigation.services import open_cases, set_court
from relance.rates.services import add_rate
from tests.browser.conftest import ARTIFACTS, login
from tests.builders import make_customer, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "motdepasse-solide-42"
PDF = b"%PDF-1.4\n% ordonnance\n%%EOF\n"


@pytest.fixture
def world(tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    today = today_for(org)
    for semester in {f"{d.year}-S{1 if d.month <= 6 else 2}" for d in (today - timedelta(days=160), today)}:
        add_rate(semester, ecb="2.15", source="hypothèse de test", actor="test")
    customer = make_customer(org, "C001", "Boulangerie Martin SARL", siren="732829320", address1="12 rue des Lilas",
                             postal_code="69003", city="Lyon")
    invoices = [Invoice.objects.create(organisation=org, customer=customer, number=f"FA-2026-01{k:02}",
                                       issue_date=today - timedelta(days=130 + k), due_date=today - timedelta(days=100 + k),
                                       amount_incl_tax=Decimal(amount), amount_due=Decimal(amount))
                for k, amount in enumerate(("1200.00", "230.50", "4875.20"))]
    (case,) = open_cases(org, today, {customer.pk: [i.pk for i in invoices]}, step_label="Transmission au contentieux")
    set_court(org, case, court_kind="commerce", court_name="Tribunal de commerce de Lyon",
              court_address="44 rue de Bonnel, 69003 Lyon", actor="test")
    CaseDocument.objects.create(case=case, kind=CaseDocument.Kind.ORDER,
                                title="Ordonnance d’injonction de payer du président du tribunal de commerce",
                                sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF),
                                file=ContentFile(PDF, name="ordonnance.pdf"))
    HandoverRecipient.objects.create(organisation=org, kind="lawyer", name="Maître Durand, avocat au barreau de Lyon",
                                     email="durand@avocats.test")
    user = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    return {"org": org, "case": case, "day": today}


# The elements of the page's content (the header's navigation is the site's, not this page's)
# sticking out on the right, except inside a box that scrolls by itself (a wide table's wrapper).
WIDER = """() => {
  const clipped = e => { for (let a = e.parentElement; a && a.tagName !== 'MAIN'; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true; } return false; };
  return [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e))
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right))
    .slice(0, 12);
}"""


def _wider(page: Any) -> list[str]:
    """What sticks out of the page's content on the right (empty: it fits its width)."""
    return list(page.evaluate(WIDER))


def test_the_case_page_at_1280_and_390_pixels(page: Any, live_server: Any, world: dict[str, Any]) -> None:
    case: LitigationCase = world["case"]
    login(page, live_server.url, "claire", PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/contentieux/{case.pk}/")
        assert "Principal (factures restant dues)" in page.get_by_test_id("claim").inner_text()
        assert "Art. 1406" in page.get_by_test_id("court-rule").inner_text()
        assert page.get_by_test_id("form-step-request_filed").is_visible()
        assert page.get_by_role("button", name="Produire le dossier et la requête").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"litigation_case_{width}.png"), full_page=True)
        assert not _wider(page), f"the case page scrolls sideways at {width} px: {_wider(page)}"
        page.goto(f"{live_server.url}/contentieux/")
        assert f"n° {case.pk}" in page.get_by_test_id("litigation-cases").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"litigation_list_{width}.png"), full_page=True)
        assert not _wider(page), f"the list scrolls sideways at {width} px: {_wider(page)}"

    # the request filed from the phone: the court is already there, only the reference is asked
    page.goto(f"{live_server.url}/contentieux/{case.pk}/")
    form = page.get_by_test_id("form-step-request_filed")
    form.get_by_label("Référence au greffe (n° RG)").fill("2026F01234")
    form.get_by_role("button").click()
    assert "Étape enregistrée : Requête déposée." in page.locator("body").inner_text()
    case.refresh_from_db()
    assert case.state == "request_filed" and case.court_reference == "2026F01234"
    assert case.request_filed_on == world["day"]
