"""The scheduler: each organisation's day (plan, then send: ``operations.daily.run_day``, the
service of ``relance run``) at its hour (``Organisation.run_at``) in its time zone, on its business days.

Rules, each tested (tests/integration/test_scheduler.py):

* **At the hour, not before.** A day is due once the organisation's local time has reached ``run_at``,
  on a business day of its calendar (weekends and public holidays have no run, like the demo's history).
* **Catch-up after downtime, today only.** A worker started at 15:00 that missed 07:00 runs today's day
  at once. A worker down for three days runs today only: reminders are dated the day they leave, and a
  collector expects today's letters, not three back-dated days. The business days missed are recorded
  on the day's row (``DayRun.missed_days``), in the day's event and in the worker's log — never run.
  The planner's own rules catch the invoices up (each step keeps its spacing, no burst).
* **Never twice.** One ``DayRun`` row per organisation and day (unique constraint), created in the
  claiming transaction: of two workers, the second one's insert fails and it finds the day taken.
* **A killed worker loses nothing.** The worker holding a day renews its lease every minute
  (:func:`renew_leases`, from the worker's minute thread). A worker killed in the middle stops renewing
  it; once the lease has run out, the next tick of any worker resumes the day. Resuming is safe:
  the planner's reminders have idempotency keys (one per customer, step and day) and the dispatcher
  claims each reminder before sending it; reminders caught mid-send are recovered by
  ``dunning.services.recovery.recover_orphans``. A day that failed (an exception) is tried again
  every :data:`RETRY_AFTER` until the day ends.
* **A held channel is not a day done.** When the pre-flight checks hold a channel back (the SMTP server
  does not answer at 07:00), the day plans everything and sends the other channels, but it is left
  FAILED (``report["held"]``, the reason in ``error``) with ``lease_until = now + RETRY_AFTER``: the
  next ticks run it again — planning and sending are idempotent — until the checks pass, and the held
  reminders leave the same day (not on the next scheduled day). The event ``schedule.day_held`` is
  recorded when the held channels change, not at every retry.
* **Replies read on their own interval.** After the days and the digests, every mailbox whose
  interval has passed is read (``relance.replies.services.fetch``); the messages are stored once
  whatever happens to the worker (idempotent on their Message-ID).
* **The digest once.** After the day ran, the collectors' digest is sent once
  (``operations.digest.send_digest``), claimed the same way (a conditional update with a lease).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, connections, transaction

from relance import clock
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Organisation
from relance.ledger.queries import organisation_zone

from .models import DayRun

logger = logging.getLogger("relance.scheduler")

#: a day's worker renews its lease every minute; a day whose lease ran out lost its worker
LEASE = timedelta(minutes=5)
#: a day that failed is tried again after this
RETRY_AFTER = timedelta(minutes=15)
#: a digest claimed longer ago than this and not marked sent lost its worker: it is sent again
DIGEST_LEASE = timedelta(minutes=10)
#: at most this many missed days are listed on a day's row (the count is always exact)
MISSED_LISTED = 31
TICK_SECONDS = 60


@dataclass
class TickReport:
    ran: list[dict[str, Any]] = field(default_factory=list)  # one per day this tick ran (or tried)
    digests: list[dict[str, Any]] = field(default_factory=list)
    mailboxes: list[dict[str, Any]] = field(default_factory=list)  # the mailboxes read (relance.replies)

    def as_dict(self) -> dict[str, Any]:
        return {"ran": self.ran, "digests": self.digests, "mailboxes": self.mailboxes}


def due_day(organisation: Organisation, now: datetime) -> date | None:
    """Today's date of the organisation if its day is due at ``now`` (its hour passed, a business day)."""
    local = now.astimezone(organisation_zone(organisation))
    if local.time() < organisation.run_at:
        return None
    if not calendar_for(organisation).is_business_day(local.date()):
        return None
    return local.date()


def next_run(organisation: Organisation, now: datetime) -> datetime:
    """The next instant at which the organisation's day is due and not yet run (for the status command)."""
    zone = organisation_zone(organisation)
    calendar = calendar_for(organisation)
    day = now.astimezone(zone).date()
    done = set(DayRun.objects.filter(organisation=organisation, day__gte=day, status=DayRun.Status.DONE)
               .values_list("day", flat=True))
    for _ in range(400):
        if calendar.is_business_day(day) and day not in done:
            moment = datetime.combine(day, organisation.run_at, tzinfo=zone)
            return max(moment, now)
        day += timedelta(days=1)
    raise AssertionError("no business day in 400 days")  # pragma: no cover


def missed_days(organisation: Organisation, day: date) -> list[date]:
    """Business days between the organisation's last scheduled day and ``day`` (none before its first)."""
    last = (DayRun.objects.filter(organisation=organisation, day__lt=day).order_by("-day")
            .values_list("day", flat=True).first())
    if last is None:
        return []
    calendar = calendar_for(organisation)
    return [last + timedelta(days=n) for n in range(1, (day - last).days)
            if calendar.is_business_day(last + timedelta(days=n))]


def claim(organisation: Organisation, day: date, now: datetime, worker: str) -> DayRun | None:
    """Take the organisation's day for ``worker``, or None when it is done or held by a live worker.

    The row is created inside the claiming transaction: the unique constraint makes a concurrent
    claim fail (PostgreSQL blocks the second insert until the first commits, then raises), and the
    loser reads the row locked (``FOR UPDATE``; SQLite's IMMEDIATE transactions serialise writers)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                missed = missed_days(organisation, day)
                return DayRun.objects.create(
                    organisation=organisation, day=day, worker=worker, started_at=now, lease_until=now + LEASE,
                    missed_days=[d.isoformat() for d in missed[-MISSED_LISTED:]],
                    report={"missed_count": len(missed)} if missed else {})
        except IntegrityError:
            pass
        run = DayRun.objects.select_for_update().get(organisation=organisation, day=day)
        if run.status == DayRun.Status.DONE or run.lease_until > now:
            return None
        # its worker died (RUNNING past the lease) or it failed and its retry time came: resume it
        run.status, run.worker, run.lease_until = DayRun.Status.RUNNING, worker, now + LEASE
        run.attempts += 1
        run.save(update_fields=["status", "worker", "lease_until", "attempts"])
        return run


#: the days this process is running now (their leases are renewed; a day whose run died is not)
_active: set[int] = set()
_active_lock = threading.Lock()


def renew_leases(worker: str, now: datetime | None = None, ids: Iterable[int] | None = None) -> int:
    """Called every minute by the worker: the days it is running (``ids``, default those of this process)
    stay its own while it lives. A day whose run ended without being recorded is not renewed: another
    tick takes it over once its lease has run out."""
    now = now or clock.now()
    if ids is None:
        with _active_lock:
            ids = set(_active)
    ids = list(ids)
    if not ids:
        return 0
    return DayRun.objects.filter(pk__in=ids, status=DayRun.Status.RUNNING, worker=worker).update(lease_until=now + LEASE)


def release(worker: str, now: datetime | None = None) -> int:
    """A worker stopping cleanly gives back the days it was running: the next tick resumes them at once."""
    now = now or clock.now()
    return DayRun.objects.filter(status=DayRun.Status.RUNNING, worker=worker).update(lease_until=now)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    plan = report.get("plan") or {}
    dispatch = report.get("dispatch") or {}
    planned = plan.get("reminders")
    return {"planned": len(planned) if isinstance(planned, list) else planned,
            **{k: dispatch.get(k) for k in ("sent", "cancelled", "retrying", "failed", "uncertain") if k in dispatch},
            **({"held": report["held"]} if report.get("held") else {})}


def run_claimed(run: DayRun) -> str:
    """Run a claimed day (plan, then send in this process); ``done``, ``held`` or ``failed``."""
    with _active_lock:
        _active.add(run.pk)
    try:
        return _run_claimed(run)
    finally:
        with _active_lock:
            _active.discard(run.pk)


def _run_claimed(run: DayRun) -> str:
    from relance.events import kinds
    from relance.events.services import record_many
    from relance.operations.daily import run_day

    from .doctor import preflight

    org = run.organisation
    missed = list(run.missed_days)
    missed_count = int(run.report.get("missed_count", len(missed))) if run.report else len(missed)
    if missed_count:
        logger.warning("%s : %d journée(s) ouvrée(s) manquée(s) (worker arrêté), du %s au %s ; elles ne sont pas "
                       "rattrapées : seule la journée du %s est lancée, ses relances sont datées de ce jour",
                       org.slug, missed_count, missed[0], missed[-1], run.day.isoformat())
    try:
        # the checks of « relance run »: a channel that would go out broken (no SMTP server, no letterhead)
        # is held back, its reminders planned and left waiting
        held = preflight(org).held_channels(org.slug)
        report = _plain(run_day(org, run.day, queue=False, skip_channels=tuple(held)).as_dict())
    except Exception as exc:
        logger.exception("%s : la journée du %s a échoué", org.slug, run.day)
        now = clock.now()
        DayRun.objects.filter(pk=run.pk).update(status=DayRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000],
                                                lease_until=now + RETRY_AFTER)
        record_many(org, [kinds.schedule_day_failed(day=run.day, attempt=run.attempts, error=str(exc)[:500],
                                                    retry_at=now + RETRY_AFTER)])
        return "failed"
    if missed_count:
        report["missed_count"] = missed_count
    if held:
        return _held(run, report, held)
    summary = _summary(report)
    DayRun.objects.filter(pk=run.pk).update(status=DayRun.Status.DONE, finished_at=clock.now(), report=report, error="")
    record_many(org, [kinds.schedule_day_ran(day=run.day, attempt=run.attempts, worker=run.worker, missed_days=missed,
                                             missed_count=missed_count, summary=summary)])
    logger.info("%s : journée du %s lancée par le planificateur (%s)", org.slug, run.day, summary)
    return "done"


def _held(run: DayRun, report: dict[str, Any], held: dict[str, str]) -> str:
    """Channels held back by the pre-flight checks: the day is not done, it runs again after RETRY_AFTER."""
    from relance.events import kinds
    from relance.events.services import record_many

    org = run.organisation
    now = clock.now()
    retry_at = now + RETRY_AFTER
    report["held"] = held
    error = "envois retenus : " + " ; ".join(f"{channel} — {reason}" for channel, reason in held.items())
    previously = (run.report or {}).get("held")
    DayRun.objects.filter(pk=run.pk).update(status=DayRun.Status.FAILED, error=error[:4000], lease_until=retry_at,
                                            report=report)
    if previously != held:
        record_many(org, [kinds.schedule_day_held(day=run.day, attempt=run.attempts, worker=run.worker, held=held,
                                                  retry_at=retry_at, summary=_summary(report))])
    logger.warning("%s : envois retenus le %s (%s) ; nouvel essai à %s", org.slug, run.day, held,
                   retry_at.isoformat(timespec="minutes"))
    return "held"


def _digest_sender() -> Callable[[Organisation, date], Any] | None:
    try:
        from relance.operations import digest
    except ImportError:  # pragma: no cover - the digest module arrives with « relance doctor »
        return None
    sender: Callable[[Organisation, date], Any] | None = getattr(digest, "send_digest", None)
    return sender


def send_pending_digests(now: datetime, report: TickReport) -> None:
    """The digest of each day that ran and has none yet (today's days only), once."""
    sender = _digest_sender()
    if sender is None:
        return
    pending = (DayRun.objects.filter(status=DayRun.Status.DONE, digest_sent_at__isnull=True,
                                     day__gte=(now - timedelta(days=1)).date())
               .select_related("organisation"))
    for run in pending:
        taken = DayRun.objects.filter(pk=run.pk, digest_sent_at__isnull=True).filter(
            _stale_digest_claim(now)).update(digest_claimed_at=now)
        if not taken:
            continue
        try:
            sender(run.organisation, run.day)
        except Exception as exc:
            logger.exception("%s : résumé du %s non envoyé", run.organisation.slug, run.day)
            report.digests.append({"organisation": run.organisation.slug, "day": run.day.isoformat(),
                                   "sent": False, "error": str(exc)[:300]})
            continue
        DayRun.objects.filter(pk=run.pk).update(digest_sent_at=clock.now())
        report.digests.append({"organisation": run.organisation.slug, "day": run.day.isoformat(), "sent": True})


def _stale_digest_claim(now: datetime) -> Any:
    from django.db.models import Q

    return Q(digest_claimed_at__isnull=True) | Q(digest_claimed_at__lt=now - DIGEST_LEASE)


def tick(worker: str | None = None) -> TickReport:
    """One pass: run every organisation's day that is due and not taken, then the pending digests.
    Reads the time from :mod:`relance.clock` (pinned by time-machine in the tests)."""
    from .heartbeat import default_worker_id

    worker = worker or default_worker_id()
    report = TickReport()
    now = clock.now()
    for org in Organisation.objects.order_by("pk"):
        day = due_day(org, now)
        if day is None:
            continue
        known = DayRun.objects.filter(organisation=org, day=day).values_list("status", "lease_until").first()
        if known is not None and (known[0] == DayRun.Status.DONE or known[1] > now):
            continue  # a plain read first: no failed insert every minute once the day is taken
        run = claim(org, day, now, worker)
        if run is None:
            continue
        outcome = run_claimed(run)
        report.ran.append({"organisation": org.slug, "day": day.isoformat(), "outcome": outcome,
                           "attempt": run.attempts, "missed_days": list(run.missed_days)})
    send_pending_digests(clock.now(), report)
    read_mailboxes(clock.now(), report)
    return report


def read_mailboxes(now: datetime, report: TickReport) -> None:
    """The customers' replies: each mailbox whose interval has passed (``Mailbox.every_minutes``) is
    read; one that fails is recorded on its mailbox and does not stop the others."""
    from relance.replies.services.fetch import due_mailboxes, fetch

    for mailbox in due_mailboxes(now):
        try:
            report.mailboxes.append(fetch(mailbox.organisation).as_dict())
        except Exception:  # a bug reading one mailbox must not stop the others, nor the days
            logger.exception("relance worker : relève de la boîte de %s en erreur", mailbox.organisation.slug)


# --- the worker's background threads -------------------------------------------------------------------


def _minute_jobs(worker: str) -> None:
    """The worker's sign of life, the leases of its days, and the recovery of dead workers' sends."""
    from .heartbeat import beat

    now = clock.now()
    beat(worker, now)
    renew_leases(worker, now)
    from relance.dunning.services.recovery import recover_orphans

    recover_orphans()  # real time (clock.wall()): claims are stamped with it, even in a demo folder


def _loop(name: str, job: Callable[[], Any], stop: threading.Event, every: float, first_wait: float = 0) -> None:
    if first_wait and stop.wait(first_wait):
        return
    while not stop.is_set():
        close_old_connections()
        try:
            job()
        except Exception:  # the worker lives on: the next pass tries again
            logger.exception("relance worker : %s en erreur", name)
            connections.close_all()
        stop.wait(every)
    connections.close_all()


def start_background(worker: str, *, scheduler: bool = True, every: float = TICK_SECONDS,
                     first_wait: float = 0) -> threading.Event:
    """Start the worker's two daemon threads beside the task queue: the minute jobs (heartbeat, leases,
    recovery) and the scheduler's tick (which runs the days and may take long). Set the returned event to
    stop them. Nothing lives only in memory: a kill -9 at any point is recovered by the next tick."""
    stop = threading.Event()
    threads = [threading.Thread(target=_loop, args=("battement", lambda: _minute_jobs(worker), stop, every, first_wait),
                                name="relance-minute", daemon=True)]
    if scheduler:
        threads.append(threading.Thread(target=_loop, args=("planificateur", lambda: tick(worker), stop, every),
                                        name="relance-scheduler", daemon=True))
    for thread in threads:
        thread.start()
    return stop
