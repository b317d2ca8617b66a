"""The demo's web app in a real browser opens on the demo's day (issue #12: it showed « Relances du
jour 0 » on the real date): the header names the day, « Le travail du jour » counts its reminders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model

from relance import clock
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.ledger.models import Membership
from relance.ledger.services.imports import import_file
from tests.browser.conftest import login
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DEMO = date(2026, 11, 23)


@pytest.fixture
def demo_folder_process(tmp_path: Path, settings: Any) -> Iterator[None]:
    """The server process of a demo folder: its clock pinned on the demo day, the real date months later."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(datetime(2027, 3, 5, 10, 0, tzinfo=UTC), tick=True):
        org = make_org()
        import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
        import_file(org, write(tmp_path, "factures.csv", invoices_csv([
            ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
            ("F-002", "C002", "2026-10-01", "2026-10-31", "480,50"),
        ])))
        plan_day(org, DEMO)
        sent = dispatch_now(org, datetime(2026, 11, 23, 11, 0, tzinfo=UTC)).sent
        assert len(sent) == 2
        user = get_user_model().objects.create_user("demo", password="motdepasse-solide-42")
        Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
        clock.pin_day(DEMO)
        try:
            yield
        finally:
            clock.pin_day(None)


def test_the_demo_opens_on_its_day(page: Any, live_server: Any, demo_folder_process: None) -> None:
    login(page, live_server.url, "demo", "motdepasse-solide-42")
    page.goto(f"{live_server.url}/")
    assert page.locator(".demo-day").inner_text() == "Démo : journée du 23 novembre 2026"
    assert page.get_by_test_id("count-reminders").inner_text() == "2"
    assert "23 novembre 2026 (aujourd’hui)" in page.content()
