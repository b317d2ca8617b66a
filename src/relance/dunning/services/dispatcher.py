"""The dispatcher: claim a planned reminder, re-check it, render, hand over, record proof.

Exactly-once, step by step (docs/architecture.md « États d’une relance »):

1. *Claim* (own transaction): ``PLANNED -> SENDING`` on a row locked with
   ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises writers), so any
   number of workers share the work and no two take the same reminder.
2. *Compose* (second transaction): the invoices are locked (``relance/locks.py``),
   re-checked — still open, still chased, not on hold — and the message is rendered from the
   current figures. A letter or a call is recorded in this same transaction (nothing leaves the
   machine before the commit; a letter's PDF is deleted if it rolls back).
3. *Hand over* (an email, third transaction, :func:`_hand_over`): the SMTP conversation is led
   step by step (``channels.email.deliver``); once the server said 354 to DATA, the invoices are
   locked and re-checked again, and ``handed_over_at`` with what goes (recipient, subject, text,
   Message-ID, PDF) is *committed*, conditional on the claim — only then is the content sent.
4. *Record* (fourth transaction): ``SENT``, ``sent_at`` = the server's 250 (real clock), the
   step's facts on the invoices, the sent event at that time — conditional, like every write
   after the claim, on the claim being still this attempt's (same ``attempts``; ``SENDING``, or
   ``UNCERTAIN`` when recovery was faster than the 250 and nobody decided yet): a worker that
   outlived its lease never records a second send, and a person's « parti » / « renvoyer » wins.

Outcomes: a failure before the hand-over (down, timeout, 4xx, drop before DATA) goes back to
``PLANNED`` with a back-off; a 5xx marks it ``FAILED``; a 4xx/5xx answered to the content is
a refusal (nothing delivered) and is treated the same. A dropped connection or no final reply
after the content is an unknown outcome: ``UNCERTAIN`` (« À vérifier »), never resent
automatically (``uncertain`` resolves it). A worker that dies leaves ``SENDING``: recovery
(``recovery.recover_orphans``, after its lease) replans it when it was never handed over and
makes it ``UNCERTAIN`` otherwise. Every outcome leaves an event. ``now`` is the business moment
(the day, the back-off); what is stamped as having happened (claim, hand-over, sent) reads the
clock (frozen on a simulated day by :func:`dispatch_now`), except the claim's
``claimed_at``: the lease runs on the real clock (``clock.wall``), compared by every worker.

Approval mode (``approvals``): a reminder « à valider » is never claimed (only ``PLANNED``
ones are); once approved it goes through the same steps and re-checks. A wording edited
for the customer (``edited_at`` set) is sent exactly as stored instead of the template; if
the invoices or amounts it quotes changed since the edit, it goes back to the queue
instead, as does an edited text with a spelling mistake nobody acknowledged when the
organisation holds them (``writing_check_holds``; :func:`_writing_check`, issue 17), in the claim's
transaction: it is never handed over, and leaves once a person approved it again. Test mode
(``Organisation.test_mode_email``): every email goes to that address,
subject prefixed « [TEST] »; letters are unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction

from relance import clock
from relance.channels.email import deliver
from relance.channels.errors import HandOverDeclined, PermanentFailure, TemporaryFailure, UncertainDelivery
from relance.channels.post import letter_pdf, require_letterhead
from relance.clock import today_for
from relance.core.escalation import rank, spacing, stage
from relance.core.policy import Channel
from relance.dunning.models import CallTask, Reminder, ReminderLine
from relance.errors import InvalidInput, OrganisationIncomplete
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.holds.models import PaymentPlan, Promise
from relance.holds.queries import Blocked, blocked
from relance.holds.services.plans import OPEN_STATES, instalment_outstanding
from relance.ledger.models import Customer, Invoice, Organisation
from relance.locks import lock_invoices, lock_organisation, lock_rows

from . import proofreading
from .compose import Composed, compose, outgoing_email
from .escalation import ESCALATING, record_received
from .plan_messages import PLAN_KINDS
from .queue import queue_send

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF = [timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3), timedelta(hours=6)]
#: a business moment further than this from the clock is a simulated one (dispatch_now)
SIMULATED = timedelta(minutes=5)
#: the event of a message sent, by kind (``reminder.sent`` otherwise)
SENT_EVENTS: dict[str, kinds.Kind] = {Reminder.Kind.THANKS: kinds.THANKS_SENT,
                                      Reminder.Kind.LITIGATION: kinds.LITIGATION_HANDOVER,
                                      Reminder.Kind.PLAN_AGREEMENT: kinds.PLAN_AGREEMENT_SENT,
                                      Reminder.Kind.INVOICE_COPY: kinds.INVOICE_COPY_SENT,
                                      Reminder.Kind.CASE_HANDOVER: kinds.CASE_HANDOVER_SENT}


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)

    def add(self, outcome: str, reminder_id: int) -> None:
        getattr(self, outcome).append(reminder_id)

    def as_dict(self) -> dict[str, Any]:
        return {k: len(v) for k, v in self.__dict__.items()}


def _claim(reminder_id: int, now: datetime) -> Reminder | None:
    with transaction.atomic():
        qs = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PLANNED)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        reminder = qs.first()
        if reminder is None or (reminder.next_attempt_at and reminder.next_attempt_at > now):
            return None
        reminder.status = Reminder.Status.SENDING
        reminder.attempts += 1
        # the real instant, even on a simulated day (``dispatch_now`` freezes the clock): the lease
        # (recovery, in any process) runs from it
        reminder.claimed_at = clock.wall()
        reminder.handed_over_at = None
        reminder.message_nonce = reminder.message_nonce or secrets.token_hex(8)  # kept for every attempt
        reminder.save(update_fields=["status", "attempts", "claimed_at", "handed_over_at", "message_nonce"])
    return reminder


def _mark_handed_over(reminder: Reminder, at: datetime, **content: Any) -> bool:
    """Commit, before the channel begins the irreversible part, that it is about to (with what
    goes: ``content``): from then on a crash leaves the reminder « à vérifier », never resent.
    Conditional on the claim: False when recovery took the reminder back (the worker was only
    slow), and then nothing must be transmitted."""
    with transaction.atomic():
        done = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, attempts=reminder.attempts,
                                       handed_over_at__isnull=True).update(handed_over_at=at, **content)
    if done:
        reminder.handed_over_at = at
    return bool(done)


def _still_chaseable(org: Organisation, reminder: Reminder, invoices: Sequence[Invoice], today: date,
                     held: Blocked | None = None) -> list[Invoice]:
    """The invoices the reminder may still be about, re-checked at send time: a payment, a
    hold (dispute, pause, stop, promise, plan) or a broken or completed plan may have come
    since it was planned. ``held``: the active holds of the customer, when already read
    (not used by the instalment reminders, which discount their own plan's holds)."""
    kind = reminder.kind
    if kind == Reminder.Kind.THANKS:
        return [i for i in invoices if i.status != Invoice.Status.OPEN]
    if kind in PLAN_KINDS:
        instalment = reminder.instalment
        if (instalment is None or instalment.plan.state != PaymentPlan.State.ACTIVE
                or instalment_outstanding(instalment) <= 0):
            return []
        if reminder.customer_id in blocked(org, [reminder.customer_id], today, except_plan_id=instalment.plan_id).customers:
            return []  # a stop or a pause of the whole customer
        return [i for i in invoices if i.status == Invoice.Status.OPEN and i.amount_due > 0]
    if kind == Reminder.Kind.PLAN_AGREEMENT:
        return _agreement_invoices(org, reminder, invoices, today)
    if kind == Reminder.Kind.INVOICE_COPY:
        return _copy_invoices(invoices)
    if kind == Reminder.Kind.CASE_HANDOVER:
        # a case's file goes to its lawyer for what is still owed and not held: a dispute or a stop
        # (insolvency proceedings) recorded since means nobody is to pursue that invoice
        if held is None:
            held = blocked(org, {i.customer_id for i in invoices}, today)
        return [i for i in invoices if i.status == Invoice.Status.OPEN and i.amount_due > 0 and not held.blocks(i)]
    if kind == Reminder.Kind.PROMISE_BROKEN and (reminder.promise is None
                                                 or reminder.promise.state != Promise.State.BROKEN):
        return []
    if held is None:
        held = blocked(org, {i.customer_id for i in invoices}, today)
    wanted = {Invoice.Dunning.ACTIVE}
    if kind in (Reminder.Kind.FORMAL_NOTICE_AGAIN, Reminder.Kind.LITIGATION):
        # a person asked for a new notice, maybe for the case; an earlier version's hand-over had
        # already moved its invoices to litigation
        wanted.add(Invoice.Dunning.LITIGATION)
    return [
        i for i in invoices
        if i.status == Invoice.Status.OPEN and i.amount_due > 0 and i.dunning_state in wanted
        and not held.blocks(i)
    ]


def _agreement_invoices(org: Organisation, reminder: Reminder, invoices: Sequence[Invoice],
                        today: date) -> list[Invoice]:
    """A plan's agreement goes while the plan is proposed or active, not to a customer whose
    reminders are all stopped or paused, and about its invoices still due."""
    plan = reminder.plan
    if plan is None or plan.state not in OPEN_STATES:
        return []
    if reminder.customer_id in blocked(org, [reminder.customer_id], today, except_plan_id=plan.pk).customers:
        return []
    return [i for i in invoices if i.status == Invoice.Status.OPEN and i.amount_due > 0]


def _copy_invoices(invoices: Sequence[Invoice]) -> list[Invoice]:
    """A copy of invoices the customer says never reached them goes for those still open — even
    while the customer is paused, stopped or the invoice disputed: the reply's own pause (the new
    delay left to the customer) must not cancel the copy it announces, and a copy asks nothing (it
    states no charge, no deadline, no law), so no hold has a reason to stop it. Only an invoice
    paid or credited since is dropped (no copy of what is settled), and with none left the copy is
    cancelled."""
    return [i for i in invoices if i.status == Invoice.Status.OPEN]


@dataclass
class Progress:
    """How far a send went: whether the hand-over was committed, the files written (removed if
    their transaction rolls back: no orphan PDF), whether SMTP accepted the message."""

    handed_over: bool = False
    accepted: bool = False
    files: list[tuple[Any, str]] = field(default_factory=list)

    def keep(self, fieldfile: Any) -> None:
        self.files.append((fieldfile.storage, fieldfile.name))

    def remove_files(self) -> None:
        for storage, name in self.files:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("fichier %s non supprimé après l’annulation de sa transaction", name)
        self.files.clear()


class _ChangedBeforeHandOver(Exception):
    """The invoices changed between the composing and the hand-over: nothing left; compose again."""


@dataclass
class Outgoing:
    """An email composed and re-checked, not yet handed over, and what recording it will need."""

    email: EmailMultiAlternatives
    customer: Customer
    keep: list[Invoice]
    dropped: list[str]
    events: list[NewEvent]
    extra: dict[str, Any]
    escalation: dict[str, Any]
    today: date


def send_reminder(reminder_id: int, now: datetime | None = None, *, _again: bool = True) -> str:
    """Send one reminder; returns the outcome (sent, cancelled, retrying, failed, uncertain,
    skipped, or returned: an edited text whose figures changed went back to the approval queue).

    ``now`` is the business moment (the day's date, the back-off); the times stamped on what
    left (``handed_over_at``, ``sent_at``, the sent event) are real ones (``clock.now()``)."""
    now = now or clock.now()
    reminder = _claim(reminder_id, now)
    if reminder is None:
        return "skipped"
    progress = Progress()
    try:
        return _attempt(reminder, now, progress, _again)
    finally:
        if not progress.handed_over:
            progress.remove_files()  # rolled back, or an email that never left: no orphan PDF


def _attempt(reminder: Reminder, now: datetime, progress: Progress, again: bool) -> str:
    reminder_id = reminder.pk
    try:
        with transaction.atomic():
            result = _send_claimed(reminder, now, progress)
        if isinstance(result, Outgoing):
            return _hand_over(reminder, now, result, progress)
        if result != "skipped":
            progress.files.clear()  # committed with their reminder
        return result
    except _ChangedBeforeHandOver:
        if again:
            _release(reminder)
            return send_reminder(reminder_id, now, _again=False)
        return "retrying" if _release(reminder, retry=True) else "skipped"
    except HandOverDeclined:
        return "skipped"  # recovery took the reminder back: it is no longer this worker's
    except UncertainDelivery as exc:
        return _record_uncertain(reminder, str(exc), "smtp_no_final_reply")
    except TemporaryFailure as exc:
        return _record_failure(reminder, now, str(exc), permanent=reminder.attempts >= MAX_ATTEMPTS)
    except (PermanentFailure, InvalidInput) as exc:
        return _record_failure(reminder, now, str(exc), permanent=True)
    except Exception as exc:
        if progress.handed_over:
            # it may have left (or did: accepted but not recorded): « à vérifier », never resent blindly
            logger.exception("relance %s : erreur après la remise au serveur", reminder.pk)
            what = "acceptée par le serveur, mais" if progress.accepted else "remise au serveur, puis"
            try:
                return _record_uncertain(reminder, f"{what} erreur à l’enregistrement : {type(exc).__name__}: "
                                                   f"{exc}", "error_after_handover")
            except Exception:
                raise exc from None  # stays SENDING, handed over: recovery makes it UNCERTAIN
        logger.exception("relance %s : erreur avant l’envoi", reminder.pk)
        return _record_failure(reminder, now, f"erreur interne avant l’envoi : {type(exc).__name__}: {exc}",
                               permanent=True)


def _lock_invoices(ids: Sequence[int]) -> list[Invoice]:
    """The reminder's invoices, locked in the project's lock order (relance/locks.py: the
    invoices by id, before the organisation row), in the message's order."""
    return sorted(lock_invoices(ids), key=lambda i: (i.due_date, i.number))


def _hand_over(reminder: Reminder, now: datetime, out: Outgoing, progress: Progress) -> str:
    """Hand the email to the channel, the hand-over committed first (with what goes, after a last
    re-check of the invoices under lock), then record it sent when the server accepted it.
    The invoices are not held across the SMTP exchange: a payment recorded meanwhile is seen by
    that last re-check, or comes after the message left."""
    org = reminder.organisation
    ids = [i.pk for i in out.keep]
    quoted = {i.pk: i.amount_due for i in out.keep}

    def handing_over() -> bool:
        with transaction.atomic():
            invoices = _lock_invoices(ids)
            fresh = Reminder.objects.get(pk=reminder.pk)  # its promise, instalment, plan as they are now
            still = _still_chaseable(org, fresh, invoices, out.today)
            if {i.pk: i.amount_due for i in still} != quoted:
                raise _ChangedBeforeHandOver
            done = _mark_handed_over(
                reminder, clock.now(), channel=reminder.channel, recipient=reminder.recipient,
                subject=reminder.subject, body_text=reminder.body_text, body_html=reminder.body_html,
                message_id=reminder.message_id, document=reminder.document.name or "",
                document_sha256=reminder.document_sha256)
        progress.handed_over = done
        return done

    deliver(out.email, on_handover=handing_over)
    progress.accepted = True
    sent_at = clock.now()  # the server accepted it: the moment it left
    with transaction.atomic():
        locked = _lock_invoices(ids)
        return _record_sent(reminder, org, out.customer, out.keep, out.dropped, out.events, out.extra,
                            out.escalation, out.today, sent_at, locked)


def _release(reminder: Reminder, *, retry: bool = False) -> bool:
    """Nothing left (the invoices changed just before the hand-over): back to PLANNED, due now
    (the caller composes it again at once). ``retry``: it changed twice in a row — due after the
    first back-off, with its task queued in this transaction (``queue.queue_send``), so that it is counted among the
    reminders waiting for a retry and sent then. False when the claim was no longer this worker's."""
    retry_at = clock.now() + BACKOFF[0] if retry else None
    with transaction.atomic():
        done = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING,
                                       attempts=reminder.attempts).update(
            status=Reminder.Status.PLANNED, next_attempt_at=retry_at, claimed_at=None, handed_over_at=None)
        if done and retry_at is not None:
            queue_send(reminder.pk, run_after=retry_at)
    return bool(done)


def _send_claimed(reminder: Reminder, now: datetime, progress: Progress) -> str | Outgoing:
    """Re-check under lock and compose; a letter or a call is recorded here, in this
    transaction; an email is returned to be handed over (:func:`_hand_over`)."""
    org = reminder.organisation
    today = today_for(org, now)
    invoice_ids = list(reminder.lines.values_list("invoice_id", flat=True))
    # the project's lock order (relance/locks.py): the invoices by id, before the organisation row
    invoices = _lock_invoices(invoice_ids)
    # still this worker's claim? Waiting for the invoices may have outlasted the lease: recovery
    # then replanned it and another worker may have sent it. Locked until this transaction ends
    # (a SENDING reminder is its worker's: before the organisation row), so recovery waits.
    qs = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, attempts=reminder.attempts)
    if not qs.select_for_update(of=("self",)).exists():
        return "skipped"
    keep = _still_chaseable(org, reminder, invoices, today)
    dropped = [i.number for i in invoices if i not in keep]
    if not keep:
        reminder.status = Reminder.Status.CANCELLED
        reminder.last_error = "plus aucune facture à relancer au moment de l’envoi"
        reminder.save(update_fields=["status", "last_error"])
        record_many(org, [kinds.reminder_cancelled(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                                   reason="paid_or_held_before_sending", invoices=dropped)], at=now)
        return "cancelled"
    if reminder.kind == Reminder.Kind.CASE_HANDOVER and _figures_changed(reminder, keep, dropped):
        # its text and its file state what was owed when it was prepared: never sent stale
        reminder.status = Reminder.Status.CANCELLED
        reminder.last_error = ("le dossier a changé depuis sa préparation (paiement, avoir, contestation) : "
                               "transmettez-le de nouveau")
        reminder.save(update_fields=["status", "last_error"])
        record_many(org, [kinds.reminder_cancelled(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                                   reason="case_changed_before_sending", invoices=dropped)], at=now)
        return "cancelled"
    if reminder.edited_at is not None and _figures_changed(reminder, keep, dropped):
        return _back_to_review(reminder, org, dropped, now)
    if dropped:
        ReminderLine.objects.filter(reminder=reminder).exclude(invoice__in=keep).delete()
    for line in reminder.lines.all() if reminder.kind != Reminder.Kind.THANKS else ():
        amount = next(i.amount_due for i in keep if i.id == line.invoice_id)
        if line.amount_due != amount:
            line.amount_due = amount
            line.save(update_fields=["amount_due"])

    customer = Customer.objects.prefetch_related("contacts").get(pk=reminder.customer_id)
    events: list[NewEvent] = []
    extra: dict[str, Any] = {}
    writing: dict[str, Any] = {}
    if (reminder.edited_at is not None and reminder.kind != Reminder.Kind.LITIGATION
            and reminder.channel != Channel.PHONE):
        checked = _writing_check(reminder, org, customer, now)
        if checked is None:
            return "returned"
        writing = checked
    if reminder.kind == Reminder.Kind.LITIGATION:
        return _legacy_handover(reminder, org, keep, today, now)
    escalation = _escalation_facts(reminder, keep, customer)
    if reminder.channel == Channel.PHONE:
        CallTask.objects.get_or_create(organisation=org, customer=customer, reminder=reminder,
                                       defaults={"due_on": today})
        reminder.subject = "Appel à passer"
    else:
        email, extra = _deliver_message(reminder, org, customer, keep, today, events, progress)
        extra.update(writing)
        if email is not None:
            return Outgoing(email, customer, keep, dropped, events, extra, escalation, today)
    return _record_sent(reminder, org, customer, keep, dropped, events, extra, escalation, today, clock.now(),
                        keep)


def _record_sent(reminder: Reminder, org: Organisation, customer: Customer, keep: list[Invoice],
                 dropped: list[str], events: list[NewEvent], extra: dict[str, Any], escalation: dict[str, Any],
                 today: date, sent_at: datetime, locked: list[Invoice]) -> str:
    """Store what left, ``SENT`` at ``sent_at`` (real time), the facts of the step received by
    the invoices (``locked``: held by this transaction) and the events, at ``sent_at``."""
    if reminder.approved_by:
        extra["approved_by"] = reminder.approved_by
    step = reminder.step
    if step is not None and step.call_task and reminder.kind == Reminder.Kind.REMINDER:
        _, created = CallTask.objects.get_or_create(organisation=org, customer=customer, reminder=reminder,
                                                       defaults={"due_on": today})
        if created:
            events.append(kinds.call_task_created(customer_id=customer.id, reminder_id=reminder.id, due_on=today))
    # the lock order: invoices (held), the organisation, then the reminder — only while it is
    # still this attempt's: SENDING, or UNCERTAIN (recovery was faster than the server's 250)
    # and nobody decided yet. A person's « parti » (SENT) or « renvoyer » (PLANNED, maybe claimed
    # again: another attempt) wins: nothing is recorded a second time.
    lock_organisation(org)
    if not lock_rows(Reminder, [reminder.pk], attempts=reminder.attempts,
                     status__in=[Reminder.Status.SENDING, Reminder.Status.UNCERTAIN]):
        return "skipped"
    reminder.status = Reminder.Status.SENT
    reminder.sent_at = sent_at
    reminder.handed_over_at = reminder.handed_over_at or sent_at
    reminder.last_error = ""
    reminder.save()
    if reminder.kind == Reminder.Kind.PLAN_AGREEMENT and reminder.plan_id and reminder.document:
        PaymentPlan.objects.filter(pk=reminder.plan_id).update(agreement=reminder.document.name,
                                                               agreement_sha256=reminder.document_sha256)
    if escalation:
        extra["escalation"] = escalation
        record_received(org, reminder, locked, today)
    kind = SENT_EVENTS.get(reminder.kind, kinds.REMINDER_SENT)
    events.insert(0, kinds.reminder_sent(kind, customer_id=customer.id, reminder_id=reminder.id, data={
        "key": reminder.idempotency_key, "channel": reminder.channel, "recipient": reminder.recipient,
        "subject": reminder.subject, "message_id": reminder.message_id,
        "body_sha256": hashlib.sha256(reminder.body_text.encode()).hexdigest(),
        "document_sha256": reminder.document_sha256,
        "invoices": [{"number": i.number, "amount_due": i.amount_due} for i in keep],
        "dropped": dropped, "attempt": reminder.attempts, "handed_over_at": reminder.handed_over_at, **extra,
    }))
    record_many(org, events, at=sent_at)
    return "sent"


def _escalation_facts(reminder: Reminder, invoices: Sequence[Invoice], customer: Customer) -> dict[str, Any]:
    """What the sent event records of a scenario step, for ``relance audit`` (``core.escalation_audit``):
    the step's rank, stage, offset and spacing, whether the reader is a consumer, and for each invoice
    its due date and the reminders it had received before this one (what « nos précédentes
    relances » may claim: the message states the smallest of them, ``relances_precedentes``)."""
    step = reminder.step
    if step is None or reminder.kind not in ESCALATING:
        return {}
    spec = step.spec()
    siblings = list(step.scenario.steps.all())
    return {
        "step_id": step.pk, "position": spec.position, "offset_days": spec.offset_days, "rank": rank(spec),
        "stage": int(stage(spec)), "template": step.template,
        "spacing_days": spacing([s.spec() for s in siblings], spec, reminder.organisation.min_gap_days),
        "consumer": not customer.is_business, "reissue": reminder.kind == Reminder.Kind.FORMAL_NOTICE_AGAIN,
        "claimed_prior": min((i.reminders_received for i in invoices), default=0),
        "invoices": [{"number": i.number, "due_date": i.due_date, "prior": i.reminders_received} for i in invoices],
    }


def _legacy_handover(reminder: Reminder, org: Organisation, invoices: list[Invoice], today: date,
                     now: datetime) -> str:
    """A hand-over planned as a message by an earlier version: it opens the litigation case
    instead, and the reminder is cancelled (a hand-over is never « Envoyée »)."""
    from relance.dunning.signals import hand_over

    hand_over(org, today, {reminder.customer_id: [i.pk for i in invoices]})
    reminder.status = Reminder.Status.CANCELLED
    reminder.last_error = "remplacée par un dossier contentieux"
    reminder.save(update_fields=["status", "last_error"])
    record_many(org, [kinds.reminder_cancelled(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                               reason="litigation_case_opened")], at=now)
    return "cancelled"


def _deliver_message(reminder: Reminder, org: Organisation, customer: Customer, invoices: list[Invoice],
                     today: date, events: list[NewEvent],
                     progress: Progress) -> tuple[EmailMultiAlternatives | None, dict[str, Any]]:
    """Compose; an email is returned to be handed over, a letter is made and stored here (its
    PDF removed if the transaction rolls back); returns it and what the sent event adds."""
    composed = compose(reminder, org, customer, invoices, today, events)
    channel = reminder.channel = composed.channel
    contact, payment = composed.contact, composed.payment
    reminder.subject, reminder.body_text, reminder.body_html = composed.subject, composed.text, composed.html
    extra: dict[str, Any] = {"edited_by": reminder.edited_by} if composed.edited else {}
    if channel == Channel.EMAIL:
        email, reminder.recipient, test = outgoing_email(org, reminder, customer, composed)
        extra.update(test)
        if composed.cc and not test:  # who was in copy, as a list (the recipient text names them too)
            extra["cc"] = [c.usable_email for c in composed.cc]
        reminder.subject = str(email.subject)  # as sent ([TEST] in test mode)
        reminder.message_id = email.extra_headers["Message-ID"]
        if composed.missing:
            events.append(kinds.reminder_attachment_missing(customer_id=customer.id, reminder_id=reminder.id,
                                                            invoices=composed.missing))
        if reminder.kind == Reminder.Kind.PLAN_AGREEMENT:
            extra.update(_keep_agreement(reminder, org, composed, today, progress))
        if reminder.kind in (Reminder.Kind.INVOICE_COPY, Reminder.Kind.CASE_HANDOVER):  # what was joined, for the proof
            extra["attachments"] = [{"name": name, "sha256": hashlib.sha256(content).hexdigest()}
                                    for name, content, _ in composed.attachments]
        return email, extra
    else:
        registered = channel == Channel.REGISTERED_LETTER
        try:
            require_letterhead(org)  # before anything is made, and before the hand-over
        except OrganisationIncomplete as exc:
            raise PermanentFailure(exc.message) from exc
        pdf = letter_pdf(org, customer, contact, composed.subject, composed.html, today,
                         reminder.idempotency_key[:12].upper(), registered, reminder.tracking_number,
                         payment=payment)
        reminder.document.save(
            f"{org.slug}/{today.isoformat()}/{customer.code}-{reminder.idempotency_key[:12]}.pdf",
            ContentFile(pdf), save=False,
        )
        progress.keep(reminder.document)
        reminder.document_sha256 = hashlib.sha256(pdf).hexdigest()
        reminder.recipient = ", ".join(x for x in (customer.legal_name, customer.postal_code, customer.city) if x)
    return None, extra


def _keep_agreement(reminder: Reminder, org: Organisation, composed: Composed, today: date,
                    progress: Progress) -> dict[str, Any]:
    """Store the agreement letter attached, before it is handed over: on the reminder (the proof
    of what went, committed with the hand-over); the plan's « accord.pdf » becomes this letter
    once it is sent (:func:`_record_sent`, or « parti » for an uncertain one)."""
    _, pdf, _ = composed.attachments[0]
    reminder.document.save(f"{org.slug}/{today.isoformat()}/accord-echeancier-{reminder.plan_id}-"
                           f"{reminder.idempotency_key[:12]}.pdf", ContentFile(pdf), save=False)
    progress.keep(reminder.document)
    reminder.document_sha256 = hashlib.sha256(pdf).hexdigest()
    return {"plan": reminder.plan_id, "attachment": composed.attachments[0][0]}


def _figures_changed(reminder: Reminder, keep: list[Invoice], dropped: list[str]) -> bool:
    """Whether the invoices or amounts an edited text quotes changed since the edit (the edit
    recorded them on the reminder's lines)."""
    if dropped:
        return True
    amounts = {i.id: i.amount_due for i in keep}
    return any(amounts.get(invoice_id) != amount
               for invoice_id, amount in reminder.lines.values_list("invoice_id", "amount_due"))


def _back_to_review(reminder: Reminder, org: Organisation, dropped: list[str], now: datetime) -> str:
    """An edited text would quote wrong figures: it goes back to the approval queue, unsent."""
    reminder.status = Reminder.Status.AWAITING_APPROVAL
    reminder.last_error = ("les factures ou montants ont changé depuis la modification du texte : "
                           "relisez-le avant de valider de nouveau")
    reminder.approved_by, reminder.approved_at = "", None
    reminder.save(update_fields=["status", "last_error", "approved_by", "approved_at"])
    record_many(org, [kinds.reminder_review_needed(customer_id=reminder.customer_id, reminder_id=reminder.id,
                                                   reason="figures_changed", dropped=dropped)], at=now)
    return "returned"


def _writing_check(reminder: Reminder, org: Organisation, customer: Customer, now: datetime) -> dict[str, Any] | None:
    """The writing check of a text a person edited (issue 17), in the claim's transaction: with
    a spelling mistake that nobody acknowledged (``proofreading.acknowledged``) and
    ``Organisation.writing_check_holds``, the reminder goes back « à valider », unsent, the
    problems in a ``reminder.held_for_writing`` event and ``last_error`` saying why; returns
    ``None`` then. Otherwise returns what the sent event records of the problems found (nothing
    when none). A checker that fails holds nothing (logged)."""
    found = proofreading.safe_review(org, reminder.subject, reminder.body_text, customer.language,
                                     extra_words=proofreading.customer_names(customer))
    if found is None or not found.found:
        return {}
    text_sha256 = found.digest()
    spelling = found.spelling
    if spelling and org.writing_check_holds and not proofreading.acknowledged(reminder, text_sha256):
        words = ", ".join(dict.fromkeys(f"« {f.problem.text} »" for f in spelling[:5]))
        n = len(spelling)
        reminder.status = Reminder.Status.AWAITING_APPROVAL
        reminder.last_error = (f"{n} faute{'s' if n > 1 else ''} d’orthographe dans le texte modifié ({words}) : "
                               "corrigez-le, ou validez-le de nouveau pour l’envoyer tel quel")[:2000]
        reminder.approved_by, reminder.approved_at = "", None
        reminder.save(update_fields=["status", "last_error", "approved_by", "approved_at"])
        record_many(org, [kinds.reminder_held_for_writing(
            customer_id=reminder.customer_id, reminder_id=reminder.id, problems=found.recorded(),
            text_sha256=text_sha256, attempt=reminder.attempts)], at=now)
        return None
    return {"writing_problems": found.recorded(), "writing_text_sha256": text_sha256}


def _record_failure(reminder: Reminder, now: datetime, error: str, *, permanent: bool) -> str:
    with transaction.atomic():
        # only while still this worker's claim (a SENDING reminder is its worker's: locked before
        # the organisation row, which nobody else does); otherwise recovery took it back meanwhile
        fresh = (Reminder.objects.select_for_update(of=("self",))
                 .filter(pk=reminder.pk, status=Reminder.Status.SENDING, attempts=reminder.attempts).first())
        if fresh is None:
            return "skipped"
        fresh.last_error = error[:2000]
        if permanent:
            fresh.status = Reminder.Status.FAILED
            fresh.next_attempt_at = None
            kind, outcome = kinds.REMINDER_FAILED, "failed"
        else:
            fresh.status = Reminder.Status.PLANNED
            # from the failure, on the clock (not from the moment a late task was enqueued with)
            fresh.next_attempt_at = clock.now() + BACKOFF[min(fresh.attempts - 1, len(BACKOFF) - 1)]
            kind, outcome = kinds.REMINDER_RETRY, "retrying"
        fresh.handed_over_at = None  # a definite failure: nothing left
        fresh.save(update_fields=["status", "last_error", "next_attempt_at", "handed_over_at"])
        record_many(fresh.organisation, [kinds.reminder_failed(
            kind, customer_id=fresh.customer_id, reminder_id=fresh.id, error=fresh.last_error,
            attempt=fresh.attempts, next_attempt_at=fresh.next_attempt_at)], at=now)
        if fresh.next_attempt_at is not None:
            queue_send(fresh.pk, run_after=fresh.next_attempt_at)  # in this transaction (database queue)
    return outcome


def _record_uncertain(reminder: Reminder, error: str, reason: str) -> str:
    """The message may have left (dropped or unanswered after its content): « À vérifier », for
    a person (``dunning.services.uncertain``); never resent automatically."""
    with transaction.atomic():
        fresh = (Reminder.objects.select_for_update(of=("self",))
                 .filter(pk=reminder.pk, status=Reminder.Status.SENDING, attempts=reminder.attempts).first())
        if fresh is None:
            return "skipped"  # no longer this worker's (recovery, then maybe a person, decided)
        fresh.status = Reminder.Status.UNCERTAIN
        fresh.last_error = error[:2000]
        fresh.next_attempt_at = None
        fresh.save(update_fields=["status", "last_error", "next_attempt_at"])
        record_many(fresh.organisation, [kinds.reminder_uncertain(
            customer_id=fresh.customer_id, reminder_id=fresh.id, reason=reason, error=fresh.last_error,
            attempt=fresh.attempts, handed_over_at=fresh.handed_over_at, recipient=fresh.recipient,
            message_id=fresh.message_id)], at=clock.now())
    return "uncertain"


def mark_stale(now: datetime | None = None) -> list[int]:
    """Reminders stuck in SENDING (a worker died mid-way): those never handed over go back to
    PLANNED, the others become UNCERTAIN (:func:`relance.dunning.services.recovery.recover_orphans`);
    returns the uncertain ones."""
    from .recovery import recover_orphans

    return recover_orphans(now, enqueue=False).uncertain


def due_reminders(organisation: Organisation | None, now: datetime, skip_channels: Sequence[str] = ()) -> list[int]:
    """``skip_channels``: channels held back by the pre-flight checks (relance.operations.doctor):
    their reminders stay planned, unclaimed."""
    organisations = [organisation] if organisation is not None else list(Organisation.objects.all())
    ids = []
    for org in organisations:
        qs = Reminder.objects.filter(status=Reminder.Status.PLANNED, organisation=org,
                                     planned_for__lte=today_for(org, now))
        if skip_channels:
            qs = qs.exclude(channel__in=list(skip_channels))
        ids += [rid for rid, next_at in qs.order_by("id").values_list("id", "next_attempt_at")
                if next_at is None or next_at <= now]
    return ids


def dispatch_now(organisation: Organisation | None = None, now: datetime | None = None,
                 skip_channels: Sequence[str] = ()) -> DispatchReport:
    """Send every due reminder in this process, in order (tests, the demo, ``--no-queue``).

    ``now`` far from the clock (:data:`SIMULATED`: a simulated day of a test or a replay) is
    shown by the clock during the sends, so that what they stamp as real (``sent_at``, the
    claim) is that day; otherwise the clock runs and each send is stamped when it left."""
    simulated = now is not None and abs(now - clock.now()) > SIMULATED
    now = now or clock.now()
    report = DispatchReport()
    with clock.frozen(now) if simulated else nullcontext():
        for rid in mark_stale(clock.wall()):  # real time: the lease runs from the claim's real instant
            report.add("uncertain", rid)
        for rid in due_reminders(organisation, now, skip_channels):
            outcome = send_reminder(rid, now)
            if outcome not in ("skipped", "returned"):
                report.add(outcome, rid)
    return report


def enqueue_due(organisation: Organisation | None = None, now: datetime | None = None,
                skip_channels: Sequence[str] = ()) -> list[int]:
    """Put every due reminder on the durable task queue; workers send them."""
    from .recovery import recover_orphans

    now = now or clock.now()
    recover_orphans(clock.wall(), enqueue=False)  # the replanned ones are due: enqueued below
    ids = due_reminders(organisation, now, skip_channels)
    queue_send(ids, at=now)
    return ids


def outcome_report(ids: Sequence[int]) -> DispatchReport:
    report = DispatchReport()
    mapping: dict[str, str] = {
        Reminder.Status.SENT: "sent", Reminder.Status.CANCELLED: "cancelled", Reminder.Status.FAILED: "failed",
        Reminder.Status.UNCERTAIN: "uncertain", Reminder.Status.PLANNED: "retrying",
    }
    for rid, status in Reminder.objects.filter(pk__in=list(ids)).values_list("id", "status"):
        if status in mapping:
            report.add(mapping[status], rid)
    return report
