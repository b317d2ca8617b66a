"""Read the organisation's mailbox: every new message stored once (:mod:`.receive`), the position
kept so that the next reading starts after it.

* **Position.** ``Mailbox.last_uid`` advances after each message is stored (its own transaction):
  a worker killed in the middle reads again only what it had not stored, and a message read
  twice is found by its key (:func:`.receive.message_key`), never stored twice.
* **A first reading** starts with the messages of the last :data:`HISTORY_DAYS` days (the
  server's internal date): a mailbox configured today does not turn years of old mail into replies.
* **UIDVALIDITY** (RFC 9051 §2.3.1.1): when the server's value changes, the UIDs no longer mean
  what they meant; the folder is read again from :data:`HISTORY_DAYS` days before the last
  reading, and the keys keep what was already stored from being stored twice.
* **Read-only**: the folder is examined, never selected for writing, and the messages are read
  with ``BODY.PEEK[]`` (no \\Seen flag) — except the optional move of the stored messages to
  the « traité » folder (``Mailbox.processed_folder``).
* **A failure** (server down, password refused) is kept on the mailbox (``last_error``) and
  recorded once as an event (not at every reading while it lasts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from relance import clock
from relance.clock import today_for, zone_of
from relance.core.replies.bounces import OUR_MESSAGE_ID
from relance.core.replies.envelope import read_envelope
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Organisation

from ..imap import ImapSettings, MailboxUnavailable, open_mailbox
from ..models import Mailbox, Reply
from .receive import MAX_STORED_BYTES, receive

#: a first reading starts with the messages of the last two weeks (the replies to recent reminders)
HISTORY_DAYS = 14


@dataclass
class FetchReport:
    organisation: str
    stored: int = 0
    duplicates: int = 0
    bounces: int = 0
    to_attach: int = 0
    to_review: int = 0
    applied: int = 0
    moved: int = 0
    ours: int = 0  # copies of our own reminders found in the folder: not replies, not stored
    uidvalidity_changed: bool = False
    started_after_uid: int | None = None  # a first reading: the messages up to this UID are older, not read
    error: str = ""
    replies: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def settings_of(mailbox: Mailbox) -> ImapSettings:
    return ImapSettings(host=mailbox.host, port=mailbox.port, security=mailbox.security, username=mailbox.username,
                        password=mailbox.password, folder=mailbox.folder or "INBOX",
                        processed_folder=mailbox.processed_folder, cafile=mailbox.cafile)


def _failed(mailbox: Mailbox, error: str, report: FetchReport) -> FetchReport:
    report.error = error
    with transaction.atomic():
        fresh = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        first = fresh.last_error != error
        fresh.last_error, fresh.last_fetch_at = error, clock.now()
        fresh.save(update_fields=["last_error", "last_fetch_at"])
        if first:
            record_many(mailbox.organisation, [kinds.mailbox_failed(error=error)])
    return report


def fetch(organisation: Organisation, *, limit: int = 500) -> FetchReport:
    """Read the new messages of ``organisation``'s mailbox (at most ``limit`` in one reading)."""
    report = FetchReport(organisation.slug)
    mailbox = Mailbox.objects.filter(organisation=organisation).first()
    if mailbox is None:
        report.error = "aucune boîte de réception configurée"
        return report
    stored_uids: list[int] = []
    try:
        settings = settings_of(mailbox)
    except ValueError as exc:
        return _failed(mailbox, f"réglages de la boîte de réception : {exc}", report)
    try:
        with open_mailbox(settings) as box:
            after = mailbox.last_uid
            if mailbox.uidvalidity is not None and mailbox.uidvalidity != box.uidvalidity:
                report.uidvalidity_changed = True
            if report.uidvalidity_changed or mailbox.uidvalidity is None:
                # a first reading (or the UIDs renumbered): from HISTORY_DAYS before the last reading
                # (or today), not years of old mail; what was already stored is found by its key
                since = (mailbox.last_fetch_at.astimezone(zone_of(organisation)).date() if mailbox.last_fetch_at
                         else today_for(organisation)) - timedelta(days=HISTORY_DAYS)
                after = box.last_uid_before(since)
                report.started_after_uid = after
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=box.uidvalidity, last_uid=after)
            for message in box.new_messages(after, max_bytes=MAX_STORED_BYTES, limit=limit):
                if _ours(message.raw):  # a copy of one of our own reminders (a BCC, a server's own copy)
                    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=message.uid)
                    report.ours += 1
                    continue
                problems = (message.problem,) if message.problem else ()
                received = receive(organisation, message.raw, source="imap", uidvalidity=box.uidvalidity,
                                   uid=message.uid, problems=problems)
                Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=message.uid)
                stored_uids.append(message.uid)
                _count(report, received.reply, received.created)
            if mailbox.processed_folder and stored_uids:
                box.move_processed(stored_uids)
                report.moved = len(stored_uids)
    except MailboxUnavailable as exc:
        return _failed(mailbox, str(exc), report)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=clock.now(), last_error="")
    if report.stored or report.uidvalidity_changed:
        fresh = Mailbox.objects.get(pk=mailbox.pk)
        record_many(organisation, [kinds.mailbox_fetched(
            stored=report.stored, duplicates=report.duplicates, bounces=report.bounces, uidvalidity=fresh.uidvalidity,
            last_uid=fresh.last_uid, uidvalidity_changed=report.uidvalidity_changed)])
    return report


def _ours(raw: bytes) -> bool:
    """The message is one of our reminders itself (its own Message-ID is ours), not an answer to one."""
    envelope = read_envelope(raw)
    return bool(envelope.message_id) and bool(OUR_MESSAGE_ID.fullmatch(f"<{envelope.message_id}>"))


def _count(report: FetchReport, reply: Reply, created: bool) -> None:
    if not created:
        report.duplicates += 1
        return
    report.stored += 1
    report.replies.append(reply.pk)
    if reply.kind == Reply.Kind.BOUNCE:
        report.bounces += 1
    elif reply.state == Reply.State.TO_ATTACH:
        report.to_attach += 1
    elif reply.state == Reply.State.TO_REVIEW:
        report.to_review += 1
    else:
        report.applied += 1


def due_mailboxes(now: datetime) -> list[Mailbox]:
    """The enabled mailboxes whose last reading is older than their interval."""
    due = []
    for mailbox in Mailbox.objects.filter(enabled=True).select_related("organisation").order_by("pk"):
        last = mailbox.last_fetch_at
        if last is None or now - last >= timedelta(minutes=max(1, mailbox.every_minutes)):
            due.append(mailbox)
    return due


def fetch_due(now: datetime | None = None) -> list[FetchReport]:
    """The worker's reading: every mailbox that is due (``Mailbox.every_minutes``)."""
    return [fetch(m.organisation) for m in due_mailboxes(now or clock.now())]
