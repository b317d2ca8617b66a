"""The end of the sequence in a real browser: an invoice walked by the daily job to its formal
notice and hand-over shows in « Contentieux »; the collector hands the case to a lawyer, closes
it, and asks for a second formal notice from the invoice page (issue #10)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from relance.clock import today_for
from relance.dunning.models import Reminder
from relance.ledger.models import Invoice, Membership
from relance.ledger.services.imports import import_file
from relance.litigation.models import LitigationCase
from relance.operations.daily import run_day
from relance.rates.services import add_rate
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def world(tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = make_org()
    today = today_for(org)
    for semester in {f"{d.year}-S{1 if d.month <= 6 else 2}" for d in (today - timedelta(days=160), today)}:
        add_rate(semester, ecb="2.15", source="hypothèse de test", actor="test")
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    due = today - timedelta(days=130)
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("FA-1", "C001", (due - timedelta(days=30)).isoformat(), due.isoformat(), "1200,00")])))
    day = today - timedelta(days=90)
    while day <= today:  # the daily job, every day: the invoice walks its whole scenario
        run_day(org, day, queue=False)
        day += timedelta(days=1)
    user = get_user_model().objects.create_user("claire", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    return {"org": org, "invoice": Invoice.objects.get(number="FA-1")}


def test_a_case_is_handed_over_closed_and_a_second_notice_asked_for(page: Any, live_server: Any,
                                                                      world: dict[str, Any]) -> None:
    case = LitigationCase.objects.get()
    invoice = world["invoice"]
    assert invoice.dunning_state == Invoice.Dunning.LITIGATION
    notice = Reminder.objects.get(channel="registered_letter")
    login(page, live_server.url, "claire", PASSWORD)
    page.get_by_role("link", name="Contentieux").first.click()
    assert "FA-1" in page.locator("table").first.inner_text()
    page.get_by_role("link", name=f"n° {case.pk}").click()
    assert "FA-1" in page.get_by_test_id("case-invoices").inner_text()
    notices = page.get_by_test_id("formal-notices").inner_text()
    assert "Mise en demeure du" in notices  # the proof the case holds

    form = page.get_by_test_id("form-file")
    form.get_by_label("Transmis à").fill("Maître Durand, avocat")
    form.get_by_role("button", name="Marquer comme transmis").click()
    assert page.get_by_test_id("handled-by").inner_text() == "Maître Durand, avocat"
    case.refresh_from_db()
    assert case.state == LitigationCase.State.FILED

    page.goto(f"{live_server.url}/factures/{invoice.pk}/")
    block = page.get_by_test_id("formal-notice")
    assert "Mise en demeure envoyée le" in block.inner_text()
    block.get_by_label("Motif d’une nouvelle mise en demeure").fill("pli avisé non réclamé, nouvelle adresse")
    block.get_by_role("button", name="Envoyer une nouvelle mise en demeure").click()
    assert "Nouvelle mise en demeure prévue" in page.locator("body").inner_text()
    again = Reminder.objects.get(kind=Reminder.Kind.FORMAL_NOTICE_AGAIN)
    assert again.pk != notice.pk and again.channel == "registered_letter"

    page.goto(f"{live_server.url}/contentieux/{case.pk}/")
    close = page.get_by_test_id("form-close")
    close.get_by_label("Issue").select_option(label="Abandonné")
    close.get_by_role("button", name="Clôturer").click()
    assert page.get_by_test_id("outcome").inner_text() == "Abandonné"
    invoice.refresh_from_db()
    assert invoice.dunning_state == Invoice.Dunning.DONE
