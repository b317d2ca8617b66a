"""The demo's web app opens on the demo's day, not on the real date: a demo folder pins the
process's clock (relance.clock.pin_day, from .relance-demo-day) and the header says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from relance import clock
from relance.clock import today_for
from relance.datadir import DEMO_DAY_FILE
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.ledger.models import Organisation
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, make_user, write

pytestmark = pytest.mark.django_db
DEMO = date(2026, 11, 23)
#: the « real » date of these tests: long after the demo's day
REAL = datetime(2027, 3, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo_day() -> Iterator[None]:
    clock.pin_day(DEMO)
    try:
        yield
    finally:
        clock.pin_day(None)


@pytest.fixture
def real_date() -> Iterator[None]:
    with time_machine.travel(REAL, tick=False):
        yield


@pytest.fixture
def client_of(tmp_path, real_date, settings) -> Client:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    rows = [("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00")]
    import_file(org, write(tmp_path, "factures.csv", invoices_csv(rows)))
    plan_day(org, DEMO)
    assert dispatch_now(org, datetime(2026, 11, 23, 11, 0, tzinfo=UTC)).sent  # sent on the demo's day
    client = Client()
    client.force_login(make_user("claire", org))
    return client


def reminders_of_the_day(html: str) -> int:
    found = re.search(r'data-testid="count-reminders">\s*(\d+)', html)
    assert found, "count-reminders absent"
    return int(found.group(1))


def test_the_demo_opens_on_its_day(client_of, demo_day):
    assert today_for(Organisation.objects.get()) == DEMO
    html = client_of.get(reverse("web:today")).content.decode()
    assert "Démo : journée du 23 novembre 2026" in html
    assert "23 novembre 2026 (aujourd’hui)" in html
    assert reminders_of_the_day(html) == 1


def test_without_a_demo_day_the_real_date_rules(client_of):
    html = client_of.get(reverse("web:today")).content.decode()
    assert "Démo" not in html
    assert reminders_of_the_day(html) == 0  # 5 March 2027: none that day (the demo's « Relances du jour 0 »)


PARIS = ZoneInfo("Europe/Paris")


def paris_time(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("real", [datetime(2027, 3, 5, 9, 0, tzinfo=UTC),  # 10:00 in Paris
                                  datetime(2027, 3, 4, 23, 30, tzinfo=UTC),  # 00:30 in Paris, still the 4th in UTC
                                  datetime(2027, 3, 5, 22, 30, tzinfo=UTC)])  # 23:30 in Paris
def test_the_pinned_clock_keeps_the_time_of_day(real):
    with time_machine.travel(real, tick=False):
        clock.pin_day(DEMO)
        try:
            moment = clock.now()
            assert clock.pinned_day() == DEMO
        finally:
            clock.pin_day(None)
    assert paris_time(moment) == f"2026-11-23 {real.astimezone(PARIS):%H:%M}"
    with clock.frozen(datetime(2026, 1, 2, 12, tzinfo=UTC)):  # a replay's frozen instant still wins
        assert clock.now().date() == date(2026, 1, 2)


def test_past_midnight_the_pinned_clock_goes_on_and_leases_keep_working():
    """A demo worker running across midnight: its clock goes on to the next day instead of wrapping back to
    00:00 of the demo's day, so a lease taken at 23:58 runs out at 00:03, not 24 hours later."""
    from datetime import timedelta

    from relance.operations.scheduler import LEASE

    with time_machine.travel(datetime(2027, 3, 5, 22, 58, tzinfo=UTC), tick=False) as traveller:  # 23:58 in Paris
        clock.pin_day(DEMO)
        try:
            taken = clock.now()
            lease_until = taken + LEASE
            traveller.move_to(datetime(2027, 3, 5, 23, 4, tzinfo=UTC))  # 00:04 in Paris
            later = clock.now()
            shown = clock.pinned_day()
        finally:
            clock.pin_day(None)
    assert paris_time(taken) == "2026-11-23 23:58" and paris_time(later) == "2026-11-24 00:04"
    assert later - taken == timedelta(minutes=6) and later > lease_until  # the dead worker's lease ran out
    assert shown == date(2026, 11, 24)


def test_a_demo_folder_pins_the_processes_that_run_on_it(tmp_path: Path):
    folder = tmp_path / "demo-output"
    folder.mkdir()
    (folder / DEMO_DAY_FILE).write_text("2026-11-23\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELANCE_") and k != "DATABASE_URL"}
    code = ("from django.conf import settings; from relance import clock; "
            "from zoneinfo import ZoneInfo; "
            "print(clock.pinned_day(), clock.now().astimezone(ZoneInfo('Europe/Paris')).date(), settings.EMAIL_BACKEND)")
    out = subprocess.run([str(Path(sys.executable).parent / "relance"), "--dir", str(folder), "shell", "-c", code],
                         env=env, capture_output=True, text=True, timeout=120, check=True).stdout.split()[-3:]
    # and its emails keep going to .eml files: « relance --dir demo-output run » mails no one
    assert out == ["2026-11-23", "2026-11-23", "relance.channels.eml_backend.EmlBackend"]
