"""One message in: stored once, attached, classified, and its effect applied or proposed.

Rules (each tested, ``tests/integration/test_replies_receive.py``):

* **Stored once.** The key is the Message-ID (or the SHA-256 of the bytes): a message read
  again (the mailbox's UIDVALIDITY changed, a copy in another folder, the same .eml given twice)
  is found, never stored or applied twice; two workers racing on it meet the unique constraint.
* **Never lost.** A message that cannot be read (broken MIME, unknown charset, over the size
  limit) is still stored with its bytes and the problem, « à traiter » for a person.
* **Held while unread.** A reply attached to a customer and waiting for a person holds the
  customer's sequence (a pause until lifted, :data:`~.effects.REVIEW_REASON`): a reminder
  planned before the reply arrived is cancelled at send time by the dispatcher's re-check of the
  holds, and none is planned until the reply is handled.
* **Automatic or proposed.** A category the organisation set as automatic
  (``Mailbox.automatic``) applies its effect at once, unless the effect needs a person (a
  promise without a date, a dispute naming no invoice); otherwise it is proposed.
* **Bounces** go to ``dunning.services.bounces.record_bounce``: the reminder « non distribuée »,
  the address flagged, the next step by letter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from relance import clock
from relance.clock import zone_of
from relance.core.replies import classify
from relance.core.replies.bounces import Bounce, our_message_ids, read_bounce
from relance.core.replies.envelope import Envelope, read_envelope
from relance.core.replies.inbox import DEFAULT_AUTOMATIC, ReplyState, move
from relance.core.replies.message import UnreadableMessage, read_message
from relance.errors import RelanceError
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Organisation
from relance.locks import lock_customer_invoices

from ..models import Mailbox, Reply
from .attach import Attachment, attach
from .effects import REVIEW_REASON, apply, plan_for
from .review import hold_for_review

#: a message over this size is kept truncated (its header and the start of its body)
MAX_STORED_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class Received:
    reply: Reply
    created: bool


def message_key(envelope: Envelope, sha256: str) -> str:
    return (f"<{envelope.message_id}>" if envelope.message_id else f"sha256:{sha256}")[:300]


def _received_at(envelope: Envelope, now: datetime) -> datetime:
    # the Date header says when the customer wrote; a date in the future (a wrong clock) is not believed
    return envelope.date if envelope.date is not None and envelope.date <= now else now


def receive(organisation: Organisation, raw: bytes, *, source: str = "imap", uidvalidity: int | None = None,
            uid: int | None = None, problems: tuple[str, ...] = (), now: datetime | None = None,
            actor: str = "system") -> Received:
    """Store ``raw`` (an RFC 5322 message) for ``organisation`` and act on it; the existing reply
    when this message was already received."""
    now = now or clock.now()
    sha = hashlib.sha256(raw).hexdigest()
    envelope = read_envelope(raw)
    key = message_key(envelope, sha)
    existing = Reply.objects.filter(organisation=organisation, message_key=key).first()
    if existing is not None:
        return Received(existing, False)
    mailbox = Mailbox.objects.filter(organisation=organisation).first()
    received_at = _received_at(envelope, now)
    received_on = received_at.astimezone(zone_of(organisation)).date()
    if len(raw) > MAX_STORED_BYTES:
        problems = (*problems, f"message de {len(raw) / 1_048_576:.1f} Mo : seuls ses {MAX_STORED_BYTES // 1_048_576} "
                               "premiers Mo sont conservés ; l’original reste dans la messagerie")
    reply = Reply(organisation=organisation, message_key=key, source=source, uidvalidity=uidvalidity, uid=uid,
                  sha256=sha, size=len(raw), received_at=received_at, received_on=received_on,
                  sender=(envelope.sender or "")[:300], problems=list(problems))
    bounce = read_bounce(raw)
    if bounce is not None and (bounce.recipients or bounce.our_message_id):
        return _store_bounce(organisation, reply, raw, bounce, actor)
    try:
        message = read_message(raw)
        reply.subject, reply.body, reply.auto_submitted = message.subject[:300], message.body, message.auto_submitted
    except UnreadableMessage as exc:
        reply.problems = [*reply.problems, str(exc)]
    result = classify(reply.body, received_on=received_on, subject=reply.subject,
                      auto_submitted=reply.auto_submitted)
    reply.predicted = reply.category = result.category
    reply.confidence = Decimal(str(round(result.confidence, 3)))
    reply.evidence = list(result.evidence)
    reply.promised_date, reply.return_date = result.promised_date, result.return_date
    found = attach(organisation, envelope)
    return _store(organisation, reply, raw, found, mailbox, actor, received_on)


def _received_event(reply: Reply) -> NewEvent:
    bounce = reply.kind == Reply.Kind.BOUNCE  # a bounce has no category
    return kinds.reply_received(
        reply=reply.pk, customer_id=reply.customer_id, reminder_id=reply.reminder_id, message_key=reply.message_key,
        sha256=reply.sha256, sender=reply.sender, subject=reply.subject, category="" if bounce else reply.category,
        confidence="0" if bounce else str(reply.confidence), evidence=[] if bounce else reply.evidence,
        state=reply.state, attached_by=reply.attached_by, kind=reply.kind, problems=reply.problems)


def _save_raw(reply: Reply, raw: bytes) -> None:
    reply.raw.save(f"{reply.organisation.slug}/{reply.sha256}.eml", ContentFile(raw[:MAX_STORED_BYTES]), save=False)


def _store(organisation: Organisation, reply: Reply, raw: bytes, found: Attachment, mailbox: Mailbox | None,
           actor: str, today: date) -> Received:
    reply.customer, reply.reminder, reply.attached_by = found.customer, found.reminder, found.by
    if found.candidates:
        reply.problems = [*reply.problems, f"adresse partagée par {len(found.candidates)} clients : à rattacher"]
    try:
        with transaction.atomic():
            if reply.customer is not None:
                lock_customer_invoices(organisation, [reply.customer.pk])
            plan = plan_for(reply, mailbox) if reply.customer is not None else None
            automatic = (plan is not None and not plan.needs_person and not reply.problems
                         and reply.category in (mailbox.automatic if mailbox is not None else DEFAULT_AUTOMATIC))
            state = (ReplyState.TO_ATTACH if reply.customer is None
                     else ReplyState.APPLIED if automatic else ReplyState.TO_REVIEW)
            move(None, state)
            reply.state = state
            _save_raw(reply, raw)
            reply.save()
            record_many(organisation, [_received_event(reply)])
            if state == ReplyState.APPLIED and plan is not None:
                try:
                    with transaction.atomic():
                        reply.effect = {**apply(reply, plan, actor=actor, today=today),
                                        "action": plan.action.value, "automatic": True}
                        reply.save(update_fields=["effect"])
                except RelanceError as exc:  # the ledger says no (an invoice in a plan…): a person decides
                    reply.effect = {}
                    reply.state = ReplyState.TO_REVIEW
                    reply.problems = [*reply.problems, f"suite non appliquée : {exc.message}"]
                    reply.save(update_fields=["effect", "state", "problems"])
                    state = ReplyState.TO_REVIEW
            if state == ReplyState.TO_REVIEW:
                hold_for_review(reply, actor=actor, today=today)
    except IntegrityError:
        # another worker stored the same message first
        reply.raw.delete(save=False) if reply.raw else None
        return Received(Reply.objects.get(organisation=organisation, message_key=reply.message_key), False)
    return Received(reply, True)


def _store_bounce(organisation: Organisation, reply: Reply, raw: bytes, bounce: Bounce, actor: str) -> Received:
    from relance.dunning.services.bounces import record_bounce

    reply.kind = Reply.Kind.BOUNCE
    reply.subject = "Message non distribué"
    ids = [bounce.our_message_id] if bounce.our_message_id else our_message_ids(raw.decode("latin-1"))
    reply.bounce = {"permanent": bounce.permanent, "final": bounce.final, "recipients": list(bounce.recipients),
                    "status": bounce.status, "diagnostic": bounce.diagnostic[:500], "reason": bounce.reason,
                    "our_message_ids": ids[:5]}
    reply.body = bounce.diagnostic[:5000]
    reply.problems = [*reply.problems, *bounce.problems]
    try:
        with transaction.atomic():
            outcome = record_bounce(organisation, our_message_ids=ids, recipients=bounce.recipients,
                                    permanent=bounce.permanent, final=bounce.final, reason=bounce.reason,
                                    status=bounce.status, diagnostic=bounce.diagnostic, received_at=reply.received_at,
                                    actor=actor)
            reply.bounce["outcome"] = outcome.outcome
            if outcome.reminder_id is not None:
                reply.reminder_id = outcome.reminder_id
                reply.customer_id = outcome.customer_id
                reply.attached_by = Reply.AttachedBy.THREAD
            reply.state = ReplyState.APPLIED if outcome.reminder_id is not None else ReplyState.TO_ATTACH
            _save_raw(reply, raw)
            reply.save()
            record_many(organisation, [_received_event(reply)])
    except IntegrityError:
        return Received(Reply.objects.get(organisation=organisation, message_key=reply.message_key), False)
    return Received(reply, True)


__all__ = ["MAX_STORED_BYTES", "REVIEW_REASON", "Received", "receive"]
