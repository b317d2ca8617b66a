"""Approval mode (issue #5): the reminders of a step « à valider » wait for a person.

The planner plans them ``AWAITING_APPROVAL`` instead of ``PLANNED``; the dispatcher only ever
claims planned ones, so they never go by themselves. From the review queue a collector:

* reads the message exactly as it will go out (:func:`preview`: the same composition as the
  dispatcher, the email as built for the channel; the letter as a PDF rendered on the fly and
  kept in the cache until something printed on it changes, :func:`letter_preview`), without
  side effect (rolled back); the queue shows the subject and text of each card, a page read
  together (:func:`queue_previews`: no query per card, no email built, no QR code rendered);
* edits the wording for this one customer (:func:`edit`): the edited subject and text are stored
  on the reminder and sent as they are, the HTML part derived from the text with everything
  escaped (:func:`text_to_html`); the invoices and amounts the text quotes are recorded, and a
  change before sending sends it back to the queue (dispatcher); the review page passes the
  text through the writing check (issue 17, ``proofreading``): a spelling mistake is stored only
  once the person confirmed it, and the dispatcher holds an edited text with a mistake nobody
  acknowledged (``Organisation.writing_check_holds``);
* approves (:func:`approve`, one or many): ``PLANNED``, enqueued like the day's reminders when
  due; the send-time re-checks (paid, disputed, held) apply as to any other;
* skips (:func:`skip`): ``CANCELLED`` with the reason; the sequence goes on at its next step;
* postpones (:func:`postpone`): stays awaiting, ``planned_for`` moved (never to the past).

Every action records its event (``reminder.edited``, ``reminder.approved``, ``reminder.skipped``,
``reminder.postponed``) with the actor. Queries are scoped to the organisation and, for a
collector restricted to assigned customers, to those customers.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects

import relance
from relance import clock
from relance.channels.addressing import signatories_for
from relance.channels.email import email_text
from relance.channels.errors import PermanentFailure
from relance.channels.post import letter_document, require_letterhead
from relance.clock import today_for
from relance.core.policy import Channel
from relance.documents.letter_pdf import LetterDoc, render_letter_pdf
from relance.documents.payment_block import PaymentBlock
from relance.errors import Conflict, InvalidInput, NotFound, OrganisationIncomplete, RelanceError
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.queries import Blocked, blocked
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.queries import ZERO, visible
from relance.locks import lock_invoices, lock_organisation
from relance.rates.services import rate_tables

from ..models import Reminder, ReminderLine
from . import proofreading
from .charges import charges_of_invoices
from .compose import (
    Composed,
    Shared,
    compose,
    email_recipient,
    email_subject,
    is_charged,
    outgoing_email,
    payment_block,
    template_key,
)
from .dispatcher import _still_chaseable
from .escalation import record_received
from .messages import template_sources
from .queue import queue_send

logger = logging.getLogger(__name__)

AWAITING = Reminder.Status.AWAITING_APPROVAL
#: channels whose reminder is an action, not a message: nothing to read or edit
SILENT = (Channel.PHONE, Channel.LITIGATION)
MAX_SUBJECT = 300  # Reminder.subject
MAX_BODY = 20_000
MAX_REASON = 300
#: how far a reminder can be postponed
MAX_POSTPONE = timedelta(days=366)
#: how long a rendered letter preview is kept (its key holds the day)
PREVIEW_CACHE_SECONDS = 24 * 3600
_PRE_STYLE = "font-family: Menlo, Consolas, 'Courier New', monospace; font-size: 13px; margin: 8px 0;"


# --------------------------------------------------------------------------- queue


def queue(organisation: Organisation, collector_id: int | None = None) -> QuerySet[Reminder]:
    """The reminders awaiting approval, oldest date first (their invoices and totals come with
    :func:`queue_previews`, for a page only)."""
    qs = visible(Reminder.objects.filter(organisation=organisation, status=AWAITING), collector_id, "customer__")
    return qs.select_related("customer", "step").order_by("planned_for", "customer__legal_name", "pk")


def awaiting_reminder(organisation: Organisation, pk: int, collector_id: int | None = None) -> Reminder:
    """One reminder of the organisation visible to the user (``NotFound`` otherwise), whatever
    its status: the caller tells an awaiting one from one already handled."""
    reminder = (visible(Reminder.objects.filter(organisation=organisation, pk=pk), collector_id, "customer__")
                .select_related("customer", "step", "organisation").first())
    if reminder is None:
        raise NotFound("relance introuvable")
    return reminder


def next_awaiting(organisation: Organisation, after: Reminder, collector_id: int | None = None) -> Reminder | None:
    """The reminder to review after ``after`` in the queue's order (the first one otherwise)."""
    rows = list(queue(organisation, collector_id).exclude(pk=after.pk).values_list(
        "pk", "planned_for", "customer__legal_name"))
    here = (after.planned_for, after.customer.legal_name, after.pk)
    later = [pk for pk, on, name in rows if (on, name, pk) > here]
    chosen = later[0] if later else (rows[0][0] if rows else None)
    return None if chosen is None else Reminder.objects.get(pk=chosen)


def has_message(reminder: Reminder) -> bool:
    return reminder.kind != Reminder.Kind.LITIGATION and reminder.channel not in SILENT


# --------------------------------------------------------------------------- preview


@dataclass
class Preview:
    """What will go out, as far as can be known before sending."""

    channel: str
    subject: str = ""
    text: str = ""
    html: str = ""  # a whole HTML document, for a sandboxed iframe
    recipient: str = ""
    test_mode: bool = False
    edited: bool = False
    attachments: list[str] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    # what it was planned about: how many invoices, and what remained due on them then
    n_invoices: int = 0
    total: Decimal = ZERO
    problem: str = ""
    # where an edit starts from: the edited wording, else the rendered one (without the [TEST]
    # prefix nor the signature, which the channel adds)
    draft_subject: str = ""
    draft_text: str = ""

    @property
    def is_letter(self) -> bool:
        return self.channel in (Channel.LETTER, Channel.REGISTERED_LETTER)

    @property
    def has_message(self) -> bool:
        return bool(self.html or self.text)


def _lines(reminder: Reminder) -> list[tuple[Invoice, Decimal]]:
    """The reminder's invoices, each with what remained due on it when it was planned."""
    planned: dict[int, Decimal | None] = dict(reminder.lines.values_list("invoice_id", "amount_due"))
    invoices = Invoice.objects.filter(pk__in=list(planned)).order_by("due_date", "number")
    return [(i, amount if (amount := planned[i.pk]) is not None else i.amount_due) for i in invoices]


def _current(reminder: Reminder, organisation: Organisation, today: date,
             invoices: list[Invoice] | None = None, held: Blocked | None = None) -> tuple[list[Invoice], list[str]]:
    """The invoices the reminder is still about today (the dispatcher's re-check), and the
    numbers of those it would drop. ``invoices`` and ``held``: its invoices and the holds of its
    customer, when already read."""
    if invoices is None:
        invoices = [i for i, _ in _lines(reminder)]
    keep = _still_chaseable(organisation, reminder, invoices, today, held)
    return keep, [i.number for i in invoices if i not in keep]


def _composed(reminder: Reminder, organisation: Organisation, today: date, *, batch: _Batch | None = None,
              full: bool = True) -> tuple[Composed | None, Preview]:
    """The message of ``reminder`` as the dispatcher would compose it today, and its preview.
    ``full``: the email as built for the channel (its HTML with the QR code); otherwise only
    the subject and the text, exactly as they will go out. ``batch``: what a page of the queue
    read once for all its cards."""
    lines = _lines(reminder) if batch is None else batch.lines.get(reminder.pk, [])
    keep, dropped = _current(reminder, organisation, today, [i for i, _ in lines],
                             batch.held if batch is not None else None)
    result = Preview(reminder.channel, edited=reminder.edited_at is not None, invoices=keep, dropped=dropped,
                     n_invoices=len(lines), total=sum((amount for _, amount in lines), ZERO))
    if not keep:
        result.problem = "Plus aucune facture à relancer (réglées, en litige ou suspendues) : elle serait annulée à l’envoi."
        return None, result
    if not has_message(reminder):
        return None, result
    customer = (reminder.customer if batch is not None
                else Customer.objects.prefetch_related("contacts").get(pk=reminder.customer_id))
    try:
        composed = compose(reminder, organisation, customer, keep, today, [], batch.shared if batch else None)
    except (PermanentFailure, RelanceError) as exc:
        result.problem = exc.message if isinstance(exc, RelanceError) else str(exc)
        return None, result
    result.channel = composed.channel
    result.subject, result.text = composed.subject, composed.text
    result.draft_subject, result.draft_text = composed.subject, composed.text
    result.attachments = [name for name, _, _ in composed.attachments]
    if composed.channel == Channel.EMAIL:
        _email_preview(result, organisation, reminder, customer, composed, full)
    else:
        result.recipient = ", ".join(x for x in (customer.legal_name, customer.address1, customer.postal_code,
                                                 customer.city) if x)
        if full:
            result.html = _letter_html(composed, customer.language)
        try:  # the letter would be refused at sending: the approver sees why now
            require_letterhead(organisation)
        except OrganisationIncomplete as exc:
            result.problem = exc.message
    return composed, result


def _email_preview(result: Preview, organisation: Organisation, reminder: Reminder, customer: Customer,
                   composed: Composed, full: bool) -> None:
    if full:
        email, result.recipient, test = outgoing_email(organisation, reminder, customer, composed)
        result.subject, result.text = str(email.subject), str(email.body)
        result.html = _with_inline_images(email)
    else:  # what ``outgoing_email`` gives, without building the email nor rendering its QR code
        assert composed.contact is not None
        result.recipient, test = email_recipient(organisation, composed.contact, composed.cc)
        result.subject = email_subject(organisation, composed.subject)
        result.text = email_text(organisation, composed.text, composed.payment, composed.signer)
    result.test_mode = bool(test)


def _letter_html(composed: Composed, language: str) -> str:
    body = composed.html
    if composed.payment is not None and composed.payment.has_qr:
        data = base64.b64encode(composed.payment.qr_png()).decode("ascii")
        body = body.replace(f"cid:{composed.payment.qr_cid}", f"data:image/png;base64,{data}")
    return (f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            "<style>body{font-family:Georgia,serif;font-size:14px;line-height:1.45;color:#1d2330}"
            "table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #d8dce3}"
            "td.payment-qr img{width:150px;height:150px}"
            f"</style></head><body>{body}</body></html>")


def _with_inline_images(email: EmailMultiAlternatives) -> str:
    """The HTML part of ``email`` with its inline images (``cid:``) as data URLs: the preview
    shows the QR code without fetching anything."""
    html = next((str(content) for content, mimetype in email.alternatives if mimetype == "text/html"), "")
    for image in getattr(email, "inline_images", []):
        data = base64.b64encode(image.content).decode("ascii")
        html = html.replace(f"cid:{image.cid}", f"data:image/{image.subtype};base64,{data}")
    return html


def preview(organisation: Organisation, reminder: Reminder, today: date | None = None) -> Preview:
    """The message as the dispatcher would send it today (email as built, test mode included).
    Composing only reads (``compose``): nothing to undo."""
    today = today or today_for(organisation)
    _composed_message, result = _composed(reminder, organisation, today)
    return result


@dataclass(frozen=True)
class _Batch:
    """What the cards of a queue page share, read once: their invoices (with what remained due
    on each when planned), the holds of their customers, the templates and the charges."""

    lines: dict[int, list[tuple[Invoice, Decimal]]]
    held: Blocked
    shared: Shared


def _read_batch(organisation: Organisation, reminders: Sequence[Reminder], today: date) -> _Batch:
    by_pk = {r.pk: r for r in reminders}
    lines: dict[int, list[tuple[Invoice, Decimal]]] = {pk: [] for pk in by_pk}
    for line in ReminderLine.objects.filter(reminder_id__in=list(by_pk)).select_related("invoice"):
        invoice = line.invoice
        invoice.customer = by_pk[line.reminder_id].customer  # the same customer: no query to read it
        lines[line.reminder_id].append((invoice, invoice.amount_due if line.amount_due is None else line.amount_due))
    for rows in lines.values():
        rows.sort(key=lambda row: (row[0].due_date, row[0].number))
    prefetch_related_objects([r.customer for r in reminders], "contacts")
    held = blocked(organisation, {r.customer_id for r in reminders}, today)
    templated = [r for r in reminders if has_message(r) and r.edited_at is None]
    charged = [i for r in templated if is_charged(template_key(r), r.customer) for i, _ in lines[r.pk]]
    return _Batch(lines, held, Shared(
        templates=template_sources(organisation, {(template_key(r), r.customer.language) for r in templated}),
        charges=charges_of_invoices(organisation, charged, today, rate_tables()) if charged else {},
        signers=signatories_for(organisation, [r.customer for r in reminders]),
    ))


def queue_previews(organisation: Organisation, reminders: Sequence[Reminder], today: date | None = None) -> list[Preview]:
    """The previews of a page of the queue (:func:`queue` rows), read together: a constant
    number of queries whatever the number of cards. Each gives the subject, the recipient and
    the text exactly as they will go out (the edited text when edited), without building the
    email nor its QR code: the review page (:func:`preview`) shows those."""
    if not reminders:
        return []
    today = today or today_for(organisation)
    batch = _read_batch(organisation, reminders, today)
    return [_composed(r, organisation, today, batch=batch, full=False)[1] for r in reminders]


def letter_preview_document(organisation: Organisation, reminder: Reminder, today: date | None = None) -> LetterDoc:
    """Everything the letter would print today (``InvalidInput`` if it is not a letter)."""
    today = today or today_for(organisation)
    composed, result = _composed(reminder, organisation, today, full=False)
    customer = Customer.objects.get(pk=reminder.customer_id)
    if composed is None or composed.channel == Channel.EMAIL:
        raise InvalidInput(result.problem or "cette relance ne part pas par courrier")
    return letter_document(organisation, customer, composed.contact, composed.subject, composed.html, today,
                           reminder.idempotency_key[:12].upper(), composed.channel == Channel.REGISTERED_LETTER,
                           reminder.tracking_number, payment=composed.payment)


def preview_cache_key(reminder: Reminder, doc: LetterDoc) -> str:
    """The cache key of a letter preview: the reminder, its state, the day and a digest of
    everything printed (wording, invoices and amounts, addresses, payment block, logo file), so
    that any change gives a fresh PDF."""
    logo = os.stat(doc.logo_path) if doc.logo_path and os.path.exists(doc.logo_path) else None
    printed = repr((doc, (logo.st_mtime_ns, logo.st_size) if logo else None, relance.__version__))
    digest = hashlib.sha256(printed.encode()).hexdigest()
    edited = reminder.edited_at.isoformat() if reminder.edited_at else "-"
    return f"relance:apercu-courrier:{reminder.pk}:{reminder.status}:{edited}:{doc.on.isoformat()}:{digest}"


def letter_preview(organisation: Organisation, reminder: Reminder, today: date | None = None) -> bytes:
    """The letter as a PDF rendered now, not stored (``InvalidInput`` if it is not a letter).
    Rendering takes a few hundred milliseconds: the PDF is kept in the cache for the day under
    :func:`preview_cache_key`, and served from there until something printed on it changes."""
    doc = letter_preview_document(organisation, reminder, today)
    key = preview_cache_key(reminder, doc)
    pdf = cache.get(key)
    if not isinstance(pdf, bytes):
        pdf = render_letter_pdf(doc)
        cache.set(key, pdf, PREVIEW_CACHE_SECONDS)
    return pdf


# --------------------------------------------------------------------------- wording


def _paragraphs(text: str) -> str:
    parts = []
    for block in re.split(r"\n[ \t]*\n", text):
        block = block.strip("\n")
        if not block.strip():
            continue
        lines = block.split("\n")
        if all(line.startswith("  ") for line in lines):
            # the invoice table of the text version (indented columns): kept aligned
            parts.append(f'<pre style="{_PRE_STYLE}">{escape(block)}</pre>')
        else:
            parts.append("<p>" + "<br>\n".join(escape(line) for line in lines) + "</p>")
    return "\n".join(parts)


def text_to_html(text: str, payment: PaymentBlock | None = None) -> str:
    """The HTML part of an edited text: every character of the text escaped, paragraphs and line
    breaks kept. Where the text kept the payment block word for word, the HTML carries the
    block itself (with its QR code)."""
    block = payment.text() if payment is not None else ""
    if payment is not None and block and block in text:
        before, _, after = text.partition(block)
        return "\n".join(x for x in (_paragraphs(before), str(payment.html()), _paragraphs(after)) if x)
    return _paragraphs(text)


def _clean_body(body: str) -> str:
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


# --------------------------------------------------------------------------- actions


def _lock(organisation: Organisation, ids: Iterable[int], collector_id: int | None) -> list[Reminder]:
    """The visible reminders among ``ids``, locked; any status (the caller checks). The
    organisation row is locked first, as holds and settlements do before they cancel
    reminders (invoices, organisation, reminders): an approval racing a new hold on
    PostgreSQL waits instead of deadlocking."""
    lock_organisation(organisation)
    wanted = list(visible(Reminder.objects.filter(organisation=organisation, pk__in=list(ids)), collector_id,
                          "customer__").values_list("pk", flat=True))
    return list(Reminder.objects.select_for_update(of=("self",)).filter(pk__in=wanted)
                .select_related("customer", "step").order_by("pk"))


def _lock_one(organisation: Organisation, pk: int, collector_id: int | None) -> Reminder:
    rows = _lock(organisation, [pk], collector_id)
    if not rows:
        raise NotFound("relance introuvable")
    reminder = rows[0]
    if reminder.status != AWAITING:
        raise Conflict(f"cette relance n’est plus à valider (état : {reminder.get_status_display().lower()})")
    return reminder


def edit(organisation: Organisation, pk: int, subject: str, body: str, *, actor: str,
         collector_id: int | None = None, today: date | None = None, check_writing: bool = False,
         writing_confirmed: bool = False) -> Reminder:
    """Store the wording for this one customer: sent exactly as stored. The invoices and the
    amounts it is written on are recorded on the reminder's lines.

    ``check_writing`` (the review page): the text goes through the writing check (issue 17,
    :func:`writing_review`); with a spelling mistake it is stored only when
    ``writing_confirmed``, else :class:`~.proofreading.WritingToConfirm` and nothing changes.
    The ``reminder.edited`` event records the problems found and, when confirmed, the digest
    of the text acknowledged: the dispatcher does not hold that text again."""
    subject = " ".join(subject.split())  # one line: no header injection, no stray spaces
    body = _clean_body(body)
    problems = []
    if not subject:
        problems.append("l’objet est vide")
    if len(subject) > MAX_SUBJECT:
        problems.append(f"l’objet dépasse {MAX_SUBJECT} caractères")
    if not body.strip():
        problems.append("le texte est vide")
    if len(body) > MAX_BODY:
        problems.append(f"le texte dépasse {MAX_BODY:_} caractères".replace("_", "\u202f"))
    if problems:
        raise InvalidInput("texte non enregistré : " + " ; ".join(problems))
    today = today or today_for(organisation)
    with transaction.atomic():
        reminder = _lock_one(organisation, pk, collector_id)
        if not has_message(reminder):
            raise InvalidInput("cette relance n’envoie pas de message : rien à rédiger")
        keep, dropped = _current(reminder, organisation, today)
        if not keep:
            raise Conflict("plus aucune facture à relancer : écartez cette relance")
        ReminderLine.objects.filter(reminder=reminder).exclude(invoice__in=keep).delete()
        for invoice in keep:
            ReminderLine.objects.filter(reminder=reminder, invoice=invoice).update(amount_due=invoice.amount_due)
        customer = Customer.objects.prefetch_related("contacts").get(pk=reminder.customer_id)
        writing: dict[str, Any] = {}
        if check_writing:
            found = writing_review(organisation, customer, subject, body)
            if found is not None and found.has_spelling and not writing_confirmed:
                raise proofreading.WritingToConfirm(found)
            if found is not None and found.found:
                writing["writing_problems"] = found.recorded()
                writing["text_sha256"] = found.digest()
                if found.has_spelling:
                    writing["writing_confirmed"] = True
        payment = payment_block(reminder, organisation, customer, keep)
        before = hashlib.sha256(reminder.body_text.encode()).hexdigest() if reminder.edited_at else None
        reminder.subject, reminder.body_text = subject, body
        reminder.body_html = text_to_html(body, payment)
        reminder.edited_by, reminder.edited_at = actor[:150], clock.now()
        reminder.last_error = ""
        reminder.save(update_fields=["subject", "body_text", "body_html", "edited_by", "edited_at", "last_error"])
        record_many(organisation, [kinds.reminder_edited(
            customer_id=reminder.customer_id, reminder_id=reminder.pk, previous_body_sha256=before, actor=actor,
            subject=subject, body_sha256=hashlib.sha256(body.encode()).hexdigest(),
            invoices=[{"number": i.number, "amount_due": i.amount_due} for i in keep], dropped=dropped, **writing)])
    return reminder


def writing_review(organisation: Organisation, customer: Customer, subject: str,
                   body: str) -> proofreading.Review | None:
    """The writing check of a text written for ``customer`` (its names and its contacts'
    accepted), as :func:`edit` stores it; ``None`` when the checker failed."""
    return proofreading.safe_review(organisation, " ".join(subject.split()), _clean_body(body), customer.language,
                                    extra_words=proofreading.customer_names(customer))


def revert(organisation: Organisation, pk: int, *, actor: str, collector_id: int | None = None) -> Reminder:
    """Drop the edited wording: the template's applies again, rendered at sending time."""
    with transaction.atomic():
        reminder = _lock_one(organisation, pk, collector_id)
        if reminder.edited_at is None:
            return reminder
        before = hashlib.sha256(reminder.body_text.encode()).hexdigest()
        reminder.subject = reminder.body_text = reminder.body_html = reminder.edited_by = ""
        reminder.edited_at = None
        reminder.save(update_fields=["subject", "body_text", "body_html", "edited_by", "edited_at"])
        record_many(organisation, [kinds.reminder_edited(customer_id=reminder.customer_id, reminder_id=reminder.pk,
                                                         previous_body_sha256=before, reverted=True, actor=actor)])
    return reminder


def approve(organisation: Organisation, ids: Iterable[int], *, actor: str, collector_id: int | None = None,
            today: date | None = None) -> list[Reminder]:
    """Approve the awaiting reminders among ``ids`` (the others are left as they are): they
    become ``PLANNED`` and, when due, are put on the task queue as the day's run does.
    Returns the approved ones."""
    today = today or today_for(organisation)
    now = clock.now()
    with transaction.atomic():
        approved = [r for r in _lock(organisation, ids, collector_id) if r.status == AWAITING]
        for reminder in approved:
            reminder.status = Reminder.Status.PLANNED
            reminder.approved_by, reminder.approved_at = actor[:150], now
            reminder.next_attempt_at, reminder.last_error = None, ""
            reminder.save(update_fields=["status", "approved_by", "approved_at", "next_attempt_at", "last_error"])
        record_many(organisation, [
            kinds.reminder_approved(customer_id=r.customer_id, reminder_id=r.pk, planned_for=r.planned_for,
                                    channel=r.channel, edited=r.edited_at is not None, bulk=len(approved) > 1,
                                    actor=actor)
            for r in approved
        ])
        due = [r.pk for r in approved if r.planned_for <= today]
        queue_send(due)  # part of this transaction (services/queue.py)
    return approved


def skip(organisation: Organisation, pk: int, reason: str, *, actor: str,
         collector_id: int | None = None) -> Reminder:
    """Do not send this reminder: ``CANCELLED`` with the reason. Its step counts as passed over for
    its invoices (``escalation.record_received``, ``skipped``): nothing was received, so the next
    message does not speak of it, and the sequence goes on at the next step's date."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("indiquez pourquoi cette relance est écartée")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"motif trop long (au plus {MAX_REASON} caractères)")
    with transaction.atomic():
        # the project's lock order (relance/locks.py): its invoices first (record_received
        # writes them), then the organisation row, then the reminder
        lock_invoices(ReminderLine.objects.filter(reminder__organisation=organisation, reminder_id=pk)
                      .values_list("invoice_id", flat=True))
        reminder = _lock_one(organisation, pk, collector_id)
        reminder.status = Reminder.Status.CANCELLED
        reminder.last_error = f"écartée à la validation : {reason}"[:2000]
        reminder.save(update_fields=["status", "last_error"])
        invoices = list(Invoice.objects.filter(pk__in=reminder.lines.values("invoice_id"), status=Invoice.Status.OPEN))
        record_received(organisation, reminder, invoices, today_for(organisation), skipped=True)
        record_many(organisation, [kinds.reminder_skipped(customer_id=reminder.customer_id, reminder_id=reminder.pk,
                                                          reason=reason, actor=actor)])
    return reminder


def postpone(organisation: Organisation, pk: int, on: date, *, actor: str, collector_id: int | None = None,
             today: date | None = None) -> Reminder:
    """Move the date of an awaiting reminder; it stays awaiting (never to a past date)."""
    today = today or today_for(organisation)
    if on < today:
        raise InvalidInput("impossible de reporter une relance à une date passée")
    if on > today + MAX_POSTPONE:
        raise InvalidInput("report d’au plus un an")
    with transaction.atomic():
        reminder = _lock_one(organisation, pk, collector_id)
        before = reminder.planned_for
        reminder.planned_for = on
        reminder.save(update_fields=["planned_for"])
        record_many(organisation, [kinds.reminder_postponed(customer_id=reminder.customer_id, reminder_id=reminder.pk,
                                                            from_=before, to=on, actor=actor)])
    return reminder
