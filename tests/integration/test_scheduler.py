"""The worker's scheduler (relance.operations.scheduler), on a pinned clock (time-machine): each
organisation's day at its hour in its time zone, not before; today's day caught up after downtime,
never the missed ones; never a day twice (two concurrent ticks on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection, connections

from relance.dunning.models import Reminder
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.services.imports import import_file
from relance.operations import scheduler
from relance.operations.models import DayRun
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _locmem(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RELANCE_HEARTBEAT_DIR = str(tmp_path / "workers")


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Paris (UTC+1 in November), as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


@pytest.fixture
def org(tmp_path):
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
        ("F-002", "C002", "2026-10-01", "2026-10-31", "480,50"),
    ])))
    return org


MONDAY = date(2026, 11, 23)


def tick_at(moment: datetime, worker: str = "w1") -> scheduler.TickReport:
    with time_machine.travel(moment, tick=False):
        return scheduler.tick(worker)


def test_runs_at_the_hour_not_before(org):
    assert tick_at(paris(MONDAY, 6, 59)).ran == []
    assert not DayRun.objects.exists()
    assert not Reminder.objects.exists()

    report = tick_at(paris(MONDAY, 7, 0))
    assert [(r["organisation"], r["day"], r["outcome"]) for r in report.ran] == [("atelier", "2026-11-23", "done")]
    run = DayRun.objects.get()
    assert (run.day, run.status, run.attempts, run.missed_days) == (MONDAY, DayRun.Status.DONE, 1, [])
    assert run.report["plan"]["reminders"]  # the day's plan, as « relance run » makes it
    reminders = list(Reminder.objects.all())
    assert reminders and {r.planned_for for r in reminders} == {MONDAY}
    assert all(r.status == Reminder.Status.SENT for r in reminders)
    ran = Event.objects.get(organisation=org, kind="schedule.day_ran")
    assert ran.data["day"] == "2026-11-23" and ran.data["sent"] == len(reminders)

    # later ticks of the same day (this worker or another) do not run it again
    assert tick_at(paris(MONDAY, 7, 1)).ran == []
    assert tick_at(paris(MONDAY, 18, 0), worker="w2").ran == []
    assert DayRun.objects.count() == 1 and Reminder.objects.count() == len(reminders)
    assert not verify_chain(org)


def test_the_organisation_hour_and_time_zone(org):
    org.run_at, org.timezone = time(9, 30), "America/Cayenne"  # UTC-3
    org.save()
    assert tick_at(datetime(2026, 11, 23, 12, 29, tzinfo=UTC)).ran == []  # 09:29 in Cayenne
    assert tick_at(datetime(2026, 11, 23, 12, 30, tzinfo=UTC)).ran[0]["day"] == "2026-11-23"


def test_a_worker_started_after_the_hour_runs_today_at_once(org):
    report = tick_at(paris(MONDAY, 15, 0))
    assert [r["outcome"] for r in report.ran] == ["done"]
    assert DayRun.objects.get().day == MONDAY


def test_no_run_on_weekends_and_holidays(org):
    assert tick_at(paris(date(2026, 11, 21), 10)).ran == []  # Saturday
    assert tick_at(paris(date(2026, 12, 25), 10)).ran == []  # Christmas, a Friday
    assert not DayRun.objects.exists()


def test_after_three_days_down_only_today_runs_and_the_missed_days_are_said(org):
    tick_at(paris(date(2026, 11, 18), 7, 5))  # Wednesday: ran
    # the worker is down from Wednesday evening to Monday 10:00: Thursday, Friday missed (weekend not counted)
    report = tick_at(paris(MONDAY, 10, 0))
    assert [(r["day"], r["missed_days"]) for r in report.ran] == [("2026-11-23", ["2026-11-19", "2026-11-20"])]
    assert sorted(DayRun.objects.values_list("day", flat=True)) == [date(2026, 11, 18), MONDAY]
    assert set(Reminder.objects.filter(created_at__gte=paris(MONDAY, 0)).values_list("planned_for", flat=True)) <= {MONDAY}
    event = Event.objects.get(organisation=org, kind="schedule.day_ran", data__day="2026-11-23")
    assert event.data["missed_days"] == ["2026-11-19", "2026-11-20"] and event.data["missed_count"] == 2


def test_a_day_whose_worker_died_is_resumed_after_its_lease(org):
    start = paris(MONDAY, 7, 0)
    DayRun.objects.create(organisation=org, day=MONDAY, worker="dead", started_at=start,
                          lease_until=start + scheduler.LEASE)
    assert tick_at(start + timedelta(minutes=2), worker="w2").ran == []  # still held: its lease runs
    report = tick_at(start + scheduler.LEASE + timedelta(minutes=1), worker="w2")
    assert [(r["outcome"], r["attempt"]) for r in report.ran] == [("done", 2)]
    run = DayRun.objects.get()
    assert (run.status, run.worker) == (DayRun.Status.DONE, "w2")


def test_a_live_worker_keeps_its_day(org):
    start = paris(MONDAY, 7, 0)
    run = DayRun.objects.create(organisation=org, day=MONDAY, worker="alive", started_at=start,
                                lease_until=start + scheduler.LEASE)
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert scheduler.renew_leases("alive") == 0  # not running in this process: not renewed
        assert scheduler.renew_leases("other", ids=[run.pk]) == 0  # not its day
        assert scheduler.renew_leases("alive", ids=[run.pk]) == 1
    assert tick_at(start + scheduler.LEASE + timedelta(minutes=1), worker="w2").ran == []
    # stopping cleanly, it gives its day back: the next tick resumes it at once
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        assert scheduler.release("alive") == 1
    assert [r["outcome"] for r in tick_at(start + timedelta(minutes=7, seconds=1), worker="w2").ran] == ["done"]


def test_a_failed_day_is_tried_again_later(org):
    org.timezone = "Europe/Atlantis"  # unknown zone: the day's run fails (the scheduler reads it as Paris)
    org.save()
    report = tick_at(paris(MONDAY, 7, 0))
    assert [r["outcome"] for r in report.ran] == ["failed"]
    run = DayRun.objects.get()
    assert run.status == DayRun.Status.FAILED and "Atlantis" in run.error
    assert Event.objects.filter(organisation=org, kind="schedule.day_failed").count() == 1
    assert tick_at(paris(MONDAY, 7, 10)).ran == []  # not before RETRY_AFTER
    org.timezone = "Europe/Paris"
    org.save()
    report = tick_at(paris(MONDAY, 7, 16))
    assert [(r["outcome"], r["attempt"]) for r in report.ran] == [("done", 2)]


def test_emails_held_by_a_down_smtp_server_leave_the_same_day(org, settings, capsys):
    """A blip at the day's hour: the SMTP server does not answer at 07:00, the day is not done; at 07:15 it
    answers again and the next tick sends the day's emails (not the next business day)."""
    from tests.smtp_server import SMTPServer, free_port

    port = free_port()  # nothing listens there yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 3
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    report = tick_at(paris(MONDAY, 7, 0))
    assert [r["outcome"] for r in report.ran] == ["held"]
    run = DayRun.objects.get()
    assert run.status == DayRun.Status.FAILED and "email" in run.report["held"] and "envois retenus" in run.error
    assert run.lease_until == paris(MONDAY, 7, 0) + scheduler.RETRY_AFTER
    emails = Reminder.objects.filter(channel="email")
    assert emails.exists() and not emails.exclude(status=Reminder.Status.PLANNED).exists()  # planned, waiting
    from relance.operations.doctor import check_schedule

    said = check_schedule(org, paris(MONDAY, 7, 5))
    assert not said.ok and "a des envois retenus" in said.message and "toutes les 15 minutes" in said.message
    from relance.cli.main import main

    with time_machine.travel(paris(MONDAY, 7, 5), tick=False):
        assert main(["schedule"]) == 0
    assert "dernière : 23 novembre 2026, envois retenus, nouvel essai toutes les 15 minutes" in capsys.readouterr().out
    assert tick_at(paris(MONDAY, 7, 10)).ran == []  # not before RETRY_AFTER
    server = SMTPServer(port).start()
    try:
        report = tick_at(paris(MONDAY, 7, 15))
        assert [(r["outcome"], r["attempt"]) for r in report.ran] == [("done", 2)]
        assert len(server.received) == emails.count() > 0
    finally:
        server.stop()
    assert not emails.exclude(status=Reminder.Status.SENT).exists()
    assert DayRun.objects.get().status == DayRun.Status.DONE
    assert Event.objects.filter(organisation=org, kind="schedule.day_held").count() == 1
    assert Event.objects.filter(organisation=org, kind="schedule.day_ran").count() == 1
    assert tick_at(paris(MONDAY, 7, 31)).ran == []  # done: not again


def test_the_digest_is_sent_once_after_the_day(org, settings):
    from django.contrib.auth import get_user_model
    from django.core import mail

    from relance.ledger.models import Membership

    if scheduler._digest_sender() is None:
        pytest.skip("relance.operations.digest absent")
    user = get_user_model().objects.create_user("claire", email="claire@atelier-dubois.test", password="x")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    report = tick_at(paris(MONDAY, 7, 0))
    assert [d["sent"] for d in report.digests] == [True]
    assert DayRun.objects.get().digest_sent_at is not None
    digests = [m for m in mail.outbox if "claire@atelier-dubois.test" in " ".join(m.to)]
    assert len(digests) == 1
    assert tick_at(paris(MONDAY, 7, 5)).digests == []


def test_two_concurrent_ticks_run_the_day_once(org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers: PostgreSQL (SQLite serialises every writer)")
    barrier = threading.Barrier(4)
    reports: list[scheduler.TickReport] = []
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            reports.append(scheduler.tick(name))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with time_machine.travel(paris(MONDAY, 7, 0), tick=False):
        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not errors
    assert sorted(len(r.ran) for r in reports) == [0, 0, 0, 1]
    assert DayRun.objects.count() == 1
    assert Event.objects.filter(organisation=org, kind="schedule.day_ran").count() == 1
    sent = Reminder.objects.filter(status=Reminder.Status.SENT)
    assert sent.count() == Reminder.objects.count() > 0
    assert not verify_chain(org)
