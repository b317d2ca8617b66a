"""Holds on the dunning sequence: promises to pay, disputes, pauses and stops.

Each function is one transaction that checks its input, moves a state machine of
``relance.core.holds`` (a forbidden transition is a :class:`~relance.errors.Conflict`) and
records one event per transition. What stops the reminders is always a :class:`Hold` row
(one per covered invoice, or one for a whole customer), so the planner and the dispatcher's
send-time re-check (``relance.holds.queries``) see every kind alike. What a hold means for the
messages is dunning's business: a hold that starts sends ``signals.hold_started`` (dunning takes
the customer's held messages out of the approval queue), a broken promise ``signals.promise_broken``
(dunning plans the « promesse non tenue » message that quotes it).

* **Promise** (:func:`record_promise`): pauses the invoices it covers until the promised date
  plus ``PROMISE_GRACE_BUSINESS_DAYS`` business days. It is *kept* as soon as the promised
  amount has come in on them (or they are all settled) — seen on settlement and by the daily
  run — and *broken* on the first daily run after the grace period without it: the sequence
  resumes, starting with a « promesse non tenue » message that quotes the promise. A new
  promise on the same invoices replaces (cancels) the previous one.
* **Dispute** (:func:`open_dispute`): one per invoice, with a reason of the organisation's list
  (:func:`dispute_reasons`), a note and an optional attachment. It excludes that invoice only.
  Resolved → the sequence resumes; credited → a credit note is recorded; written off → the
  invoice is never chased again (``dunning_state = done`` and an ``invoice.written_off`` event).
* **Pause** (:func:`pause`) until a date, on an invoice or a whole customer; **stop**
  (:func:`stop`) of a whole customer (insolvency proceedings, litigation) until lifted.

Locks are taken in the project's order (``relance.locks``) — the invoices concerned
(by id), then the organisation row (as the event log does), then the hold, promise or plan — so
that these services, payments being recorded and reminders being sent never wait for each other
in a circle. No ``SELECT … FOR UPDATE`` here has a ``DISTINCT`` (PostgreSQL refuses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any, TypeVar

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model, QuerySet

from relance.clock import today_for
from relance.core import formatting as fmt
from relance.core.holds import (
    ForbiddenTransition,
    Machine,
    PromiseInputError,
    PromiseVerdict,
    promise_grace_end,
    promise_verdict,
    transition,
    validate_promise,
)
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.i18n import french
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import CreditNote, Customer, Invoice, Organisation
from relance.ledger.services.payments import record_credit_note
from relance.locks import lock_invoices, lock_organisation, lock_row, lock_rows

from ..models import DEFAULT_DISPUTE_REASONS, DisputeReason, Hold, PaymentPlan, Promise
from ..queries import active_disputes, in_open_plan
from ..signals import answers, hold_started, promise_broken

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^\w.\-]+")

InvoiceRef = Invoice | str
_M = TypeVar("_M", bound=Model)


def found_or_404(row: _M | None, model: type[_M]) -> _M:
    """The row just looked up (``relance.locks.lock_row``), or :class:`NotFound`."""
    if row is None:
        raise NotFound(f"{model._meta.verbose_name} introuvable")
    return row


def move(machine: str, source: str, target: str) -> str:
    try:
        return transition(machine, source, target)
    except ForbiddenTransition as exc:
        raise Conflict(exc.message) from exc


def today_or_local(organisation: Organisation, today: date | None) -> date:
    return today or today_for(organisation)


def check_customer(organisation: Organisation, customer: Customer) -> None:
    if customer.organisation_id != organisation.pk:
        raise NotFound("client introuvable")


def resolve_invoices(organisation: Organisation, customer: Customer, refs: Iterable[InvoiceRef], *,
                     lock: bool = True) -> list[Invoice]:
    """The customer's invoices named by number (or given), open, in due-date order; unknown
    numbers are :class:`NotFound`, settled invoices :class:`InvalidInput`."""
    refs = list(refs)
    numbers = [r.number if isinstance(r, Invoice) else str(r).strip() for r in refs]
    qs = Invoice.objects.filter(organisation=organisation, customer=customer, number__in=numbers).order_by("pk")
    if lock:
        qs = qs.select_for_update()
    found = {i.number: i for i in qs}
    unknown = [n for n in numbers if n not in found]
    if unknown:
        raise NotFound(f"facture(s) inconnue(s) pour le client {customer.code} : {', '.join(unknown)}")
    settled = [n for n in numbers if found[n].status != Invoice.Status.OPEN or found[n].amount_due <= 0]
    if settled:
        raise InvalidInput(f"facture(s) déjà soldée(s) : {', '.join(settled)}")
    return sorted({found[n] for n in numbers}, key=lambda i: (i.due_date, i.number))


def _numbers(invoices: Iterable[Invoice]) -> list[str]:
    return [i.number for i in invoices]


def held_from_now(organisation: Organisation, customer_id: int, today: date, actor: str = "system") -> None:
    """A hold has just started on the customer (its events recorded): announce it
    (:data:`signals.hold_started`), in this transaction."""
    hold_started.send(sender=Hold, organisation=organisation, customer_id=customer_id, today=today, actor=actor)


# ------------------------------------------------------------------------------------------
# Promises to pay
# ------------------------------------------------------------------------------------------


def _default_covered(organisation: Organisation, customer: Customer, today: date) -> list[Invoice]:
    open_invoices = sorted(lock_invoices(Invoice.objects.filter(
        organisation=organisation, customer=customer, status=Invoice.Status.OPEN, amount_due__gt=0,
    ).values_list("pk", flat=True)), key=lambda i: (i.due_date, i.number))
    overdue = [i for i in open_invoices if i.due_date < today]
    return overdue or open_invoices


def record_promise(organisation: Organisation, customer: Customer, promised_on: date, amount: Decimal, *,
                   via: str, obtained_by: str, invoices: Iterable[InvoiceRef] = (), note: str = "",
                   actor: str = "system", today: date | None = None) -> Promise:
    """Record a promise to pay ``amount`` by ``promised_on``, obtained ``via`` (phone, email,
    letter, portal) by ``obtained_by``. Without ``invoices``, it covers the customer's overdue
    invoices (all its open ones if none is overdue)."""
    check_customer(organisation, customer)
    today = today_or_local(organisation, today)
    if via not in Promise.Via.values:
        raise InvalidInput(f"moyen d’obtention inconnu : « {via} » (attendu : {', '.join(Promise.Via.values)})")
    if not obtained_by.strip():
        raise InvalidInput("Indiquez qui a obtenu la promesse.")
    with transaction.atomic():
        refs = list(invoices)
        covered = resolve_invoices(organisation, customer, refs) if refs else _default_covered(organisation, customer,
                                                                                                today)
        if not covered:
            raise InvalidInput(f"Le client {customer.code} n’a aucune facture à régler : pas de promesse à enregistrer.")
        lock_organisation(organisation)
        planned = in_open_plan(covered)
        if planned:
            numbers = ", ".join(i.number for i in covered if i.id in planned)
            raise Conflict(f"Facture(s) {numbers} déjà dans un échéancier en cours : c’est lui qui fixe les dates.")
        currency = covered[0].currency
        covered_due = sum((i.amount_due for i in covered), Decimal(0))
        try:
            validate_promise(promised_on, amount, covered_due, today, currency)
        except PromiseInputError as exc:
            raise InvalidInput(str(exc)) from exc
        grace_until = promise_grace_end(promised_on, calendar_for(organisation))
        replaced = lock_promises(Promise.objects.filter(
            organisation=organisation, customer=customer, state=Promise.State.ACTIVE, holds__invoice__in=covered,
        ))
        promise = Promise.objects.create(
            organisation=organisation, customer=customer, promised_on=promised_on, amount=amount, currency=currency,
            obtained_via=via, obtained_by=obtained_by.strip(), obtained_on=today, note=note, covered_due=covered_due,
            grace_until=grace_until,
        )
        events = [close_promise(p, Promise.State.CANCELLED, today, actor, {"reason": "replaced",
                                                                             "replaced_by": promise.pk})
                  for p in replaced]
        reason = (f"Promesse de {fmt.money(amount, currency)} pour le {fmt.long_date(promised_on)} "
                  f"({french(Promise.Via(promise.obtained_via).label)})")
        Hold.objects.bulk_create([
            Hold(organisation=organisation, customer=customer, invoice=i, kind=Hold.Kind.PROMISE, promise=promise,
                 until=grace_until, reason=reason, created_by=actor)
            for i in covered
        ])
        events.append(kinds.promise_recorded(
            customer_id=customer.pk, promise=promise.pk, invoices=_numbers(covered), promised_on=promised_on,
            amount=amount, via=via, obtained_by=promise.obtained_by, covered_due=covered_due, grace_until=grace_until,
            note=note, actor=actor))
        record_many(organisation, events)
        held_from_now(organisation, customer.pk, today, actor)
    return promise


def lock_promises(qs: QuerySet[Promise]) -> list[Promise]:
    """Lock the promises of ``qs`` (which may join: the ids are read first)."""
    return lock_rows(Promise, qs.values_list("pk", flat=True))


def close_promise(promise: Promise, target: str, today: date, actor: str, data: dict[str, Any]) -> NewEvent:
    kind = move(Machine.PROMISE, promise.state, target)
    promise.state = target
    promise.closed_on = today
    promise.save(update_fields=["state", "closed_on"])
    released = end_cover(promise.holds.all(), today, actor)
    return kinds.hold_moved(kind, customer_id=promise.customer_id, actor=actor, promise=promise.pk,
                            promised_on=promise.promised_on, amount=promise.amount, released=released, **data)


def end_cover(holds: QuerySet[Hold], today: date, actor: str) -> list[str]:
    """End the active cover rows of a promise or plan (``cover``: active → ended; the event of
    their promise or plan lists the invoices released). Returns their invoice numbers."""
    active = holds.filter(state=Hold.State.ACTIVE)
    released = sorted(n for n in active.values_list("invoice__number", flat=True) if n)
    move("cover", Hold.State.ACTIVE, Hold.State.ENDED)
    active.update(state=Hold.State.ENDED, ended_on=today, ended_by=actor)
    return released


def cancel_promise(organisation: Organisation, promise: Promise, *, actor: str, reason: str = "",
                   today: date | None = None) -> Promise:
    """The promise was recorded by mistake or withdrawn: the sequence resumes, no message."""
    with transaction.atomic():
        lock_invoices(Invoice.objects.filter(holds__promise_id=promise.pk).values_list("pk", flat=True))
        lock_organisation(organisation)
        promise = found_or_404(lock_row(Promise, organisation, promise.pk), Promise)
        event = close_promise(promise, Promise.State.CANCELLED, today_or_local(organisation, today), actor,
                               {"reason": reason or "cancelled"})
        record_many(organisation, [event])
    return promise


def promise_received(promise: Promise) -> tuple[Decimal, bool]:
    """(what came in on the covered invoices since the promise, whether they are all settled)."""
    rows = dict((pk, (due, status)) for pk, due, status in
                Invoice.objects.filter(holds__promise=promise).values_list("pk", "amount_due", "status"))
    due = sum((d for d, _ in rows.values()), Decimal(0))
    return promise.covered_due - due, all(s != Invoice.Status.OPEN for _, s in rows.values())


def review_promises(organisation: Organisation, today: date, *, invoice_ids: Iterable[int] | None = None,
                    only_kept: bool = False, actor: str = "system") -> list[Any]:
    """Close the active promises that are kept or broken; each broken one is announced
    (:data:`signals.promise_broken`). ``invoice_ids`` limits the review to the promises covering
    them, ``only_kept`` to the kept ones (on settlement). Returns the messages dunning planned
    in response (its ``Reminder`` rows)."""
    qs = Promise.objects.filter(organisation=organisation, state=Promise.State.ACTIVE)
    if invoice_ids is not None:
        qs = qs.filter(holds__invoice_id__in=list(invoice_ids))
    lock_invoices(Invoice.objects.filter(holds__promise__in=qs).values_list("pk", flat=True))
    lock_organisation(organisation)
    events: list[NewEvent] = []
    broken: list[Promise] = []
    for promise in lock_promises(qs):
        received, settled = promise_received(promise)
        verdict = promise_verdict(promise.amount, received, settled, today, promise.grace_until)
        if verdict == PromiseVerdict.KEPT:
            events.append(close_promise(promise, Promise.State.KEPT, today, actor, {"received": received}))
        elif verdict == PromiseVerdict.BROKEN and not only_kept:
            events.append(close_promise(promise, Promise.State.BROKEN, today, actor, {
                "received": received, "via": promise.obtained_via, "obtained_by": promise.obtained_by,
                "obtained_on": promise.obtained_on,
            }))
            broken.append(promise)
    record_many(organisation, events)
    planned: list[Any] = []
    for promise in broken:  # dunning plans the « promesse non tenue » message (if anything may be chased)
        planned += answers(promise_broken, Promise, organisation=organisation, promise=promise, today=today)
    return planned


# ------------------------------------------------------------------------------------------
# Disputes
# ------------------------------------------------------------------------------------------


def dispute_reasons(organisation: Organisation, *, active_only: bool = True) -> list[DisputeReason]:
    """The organisation's dispute reasons; the default list is installed the first time."""
    if not DisputeReason.objects.filter(organisation=organisation).exists():
        DisputeReason.objects.bulk_create(
            [DisputeReason(organisation=organisation, code=code, label=label, position=n)
             for n, (code, label) in enumerate(DEFAULT_DISPUTE_REASONS)],
            ignore_conflicts=True,
        )
    qs = DisputeReason.objects.filter(organisation=organisation)
    return list(qs.filter(is_active=True) if active_only else qs)


def _reason(organisation: Organisation, reason: DisputeReason | str) -> DisputeReason:
    reasons = dispute_reasons(organisation)
    code = reason.code if isinstance(reason, DisputeReason) else str(reason)
    found = next((r for r in reasons if r.code == code), None)
    if found is None or (isinstance(reason, DisputeReason) and reason.organisation_id != organisation.pk):
        known = ", ".join(f"{r.code} ({r.label})" for r in reasons)
        raise InvalidInput(f"motif de litige inconnu : « {code} » (motifs : {known})")
    return found


def _safe_name(name: str) -> str:
    stem = _SAFE_NAME.sub("_", PurePath(name).name).strip("._") or "piece-jointe"
    return stem[:100]


def open_dispute(organisation: Organisation, invoice: Invoice, reason: DisputeReason | str, *, note: str = "",
                 attachment: tuple[str, bytes] | None = None, actor: str = "system",
                 today: date | None = None) -> Hold:
    """Open a dispute on one invoice: it is no longer chased; the customer's other invoices are."""
    today = today_or_local(organisation, today)
    if invoice.organisation_id != organisation.pk:
        raise NotFound("facture introuvable")
    if attachment is not None and len(attachment[1]) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(f"pièce jointe trop volumineuse (au plus {MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo)")
    with transaction.atomic():
        found = _reason(organisation, reason)
        (invoice,) = resolve_invoices(organisation, invoice.customer, [invoice.number])
        lock_organisation(organisation)
        if in_open_plan([invoice], (PaymentPlan.State.PROPOSED, PaymentPlan.State.ACTIVE)):
            raise Conflict(f"La facture {invoice.number} fait partie d’un échéancier : annulez-le avant d’ouvrir "
                           "un litige.")
        if active_disputes([invoice]):
            raise Conflict(f"La facture {invoice.number} est déjà en litige.")
        hold = Hold(organisation=organisation, customer_id=invoice.customer_id, invoice=invoice,
                    kind=Hold.Kind.DISPUTE, dispute_reason=found, reason=found.label, note=note, created_by=actor)
        if attachment is not None:
            name, content = attachment
            hold.attachment.save(f"{organisation.slug}/{today.isoformat()}-{_safe_name(name)}", ContentFile(content),
                                 save=False)
        hold.save()
        record_many(organisation, [kinds.dispute_opened(
            customer_id=invoice.customer_id, invoice_id=invoice.pk, hold=hold.pk, number=invoice.number,
            reason=found.code, label=found.label, note=note, attachment=hold.attachment.name or "",
            amount_due=invoice.amount_due, actor=actor)])
        held_from_now(organisation, invoice.customer_id, today, actor)
    return hold


def _end_hold(hold: Hold, target: str, today: date, actor: str, data: dict[str, Any]) -> NewEvent:
    kind = move(hold.machine, hold.state, target)
    hold.state, hold.ended_on, hold.ended_by = target, today, actor
    hold.save(update_fields=["state", "ended_on", "ended_by"])
    return kinds.hold_moved(kind, customer_id=hold.customer_id, invoice_id=hold.invoice_id, actor=actor,
                            hold=hold.pk, **({"number": hold.invoice.number} if hold.invoice else {}), **data)


def _lock_hold(organisation: Organisation, hold: Hold, *, hold_kinds: Sequence[str] = (), customer_invoices: bool = False
               ) -> Hold:
    """Lock the hold's invoice (or all its customer's open invoices), the organisation, the hold."""
    found = Hold.objects.filter(organisation=organisation, pk=hold.pk).values_list("invoice_id", "customer_id").first()
    if found is None:
        raise NotFound("suspension introuvable")
    invoice_id, customer_id = found
    if customer_invoices:  # a credit note is allocated over the customer's open invoices: lock them as it will
        lock_invoices(Invoice.objects.filter(customer_id=customer_id, status=Invoice.Status.OPEN)
                      .values_list("pk", flat=True))
    lock_invoices([invoice_id] if invoice_id else [])
    lock_organisation(organisation)
    hold = found_or_404(lock_row(Hold, organisation, hold.pk), Hold)
    if hold_kinds and hold.kind not in hold_kinds:
        raise InvalidInput("cette suspension n’est pas un litige" if hold_kinds == (Hold.Kind.DISPUTE,) else
                           "seules une pause ou un arrêt des relances se lèvent ; un litige se résout, "
                           "une promesse ou un échéancier s’annule")
    return hold


def _dispute(organisation: Organisation, hold: Hold, customer_invoices: bool = False) -> Hold:
    return _lock_hold(organisation, hold, hold_kinds=(Hold.Kind.DISPUTE,), customer_invoices=customer_invoices)


def _disputed_invoice(hold: Hold) -> Invoice:
    if hold.invoice_id is None:
        raise InvalidInput("ce litige porte sur tout le client, pas sur une facture : résolvez-le")
    return Invoice.objects.get(pk=hold.invoice_id)  # locked by _lock_hold


def resolve_dispute(organisation: Organisation, hold: Hold, *, actor: str, note: str = "",
                    today: date | None = None) -> Hold:
    """The dispute is settled without a credit note: the sequence resumes for the invoice."""
    with transaction.atomic():
        hold = _dispute(organisation, hold)
        record_many(organisation, [_end_hold(hold, Hold.State.RESOLVED, today_or_local(organisation, today), actor,
                                             {"note": note})])
    return hold


def credit_dispute(organisation: Organisation, hold: Hold, *, number: str, amount: Decimal | None = None,
                   on: date | None = None, actor: str, note: str = "") -> CreditNote:
    """Close the dispute with a credit note on the disputed invoice (its whole amount due by
    default). What a partial credit note leaves due is chased again."""
    on = today_or_local(organisation, on)
    with transaction.atomic():
        hold = _dispute(organisation, hold, customer_invoices=True)
        move(Machine.DISPUTE, hold.state, Hold.State.CREDITED)  # refuse before writing anything
        invoice = _disputed_invoice(hold)
        amount = invoice.amount_due if amount is None else amount
        if amount > invoice.amount_due:
            raise InvalidInput(f"L’avoir ({fmt.money(amount, invoice.currency)}) dépasse le reste dû de la facture "
                               f"{invoice.number} ({fmt.money(invoice.amount_due, invoice.currency)}).")
        credit = record_credit_note(organisation, invoice.customer, number, on, amount, invoice_number=invoice.number,
                                    reason=f"Litige : {hold.reason}"[:300], actor=actor)
        invoice.refresh_from_db()
        record_many(organisation, [_end_hold(hold, Hold.State.CREDITED, on, actor, {
            "credit_note": number, "amount": amount, "amount_due": invoice.amount_due, "note": note})])
    return credit


def write_off_dispute(organisation: Organisation, hold: Hold, *, actor: str, note: str = "",
                      today: date | None = None) -> Hold:
    """Give up the disputed invoice: it stays in the ledger as it is, and is never chased again."""
    today = today_or_local(organisation, today)
    with transaction.atomic():
        hold = _dispute(organisation, hold)
        invoice = _disputed_invoice(hold)
        event = _end_hold(hold, Hold.State.WRITTEN_OFF, today, actor, {"note": note})
        Invoice.objects.filter(pk=invoice.pk).update(dunning_state=Invoice.Dunning.DONE, next_action_date=None)
        record_many(organisation, [event, kinds.invoice_written_off(
            customer_id=invoice.customer_id, invoice_id=invoice.pk, number=invoice.number,
            amount_due=invoice.amount_due, hold=hold.pk, note=note, actor=actor)])
    return hold


# ------------------------------------------------------------------------------------------
# Pauses and stops
# ------------------------------------------------------------------------------------------


def pause(organisation: Organisation, customer: Customer, until: date | None, *, reason: str,
          invoice: Invoice | None = None, actor: str = "system", today: date | None = None) -> Hold:
    """Pause the reminders of one invoice, or of the whole customer, until ``until`` (included),
    or until lifted when ``until`` is ``None`` (a reply waiting for a person: ``relance.replies``)."""
    check_customer(organisation, customer)
    today = today_or_local(organisation, today)
    if until is not None and until < today:
        raise InvalidInput(f"La date de fin de pause ({fmt.long_date(until)}) est déjà passée.")
    if not reason.strip():
        raise InvalidInput("Indiquez le motif de la pause.")
    with transaction.atomic():
        if invoice is not None:
            (invoice,) = resolve_invoices(organisation, customer, [invoice.number])
        lock_organisation(organisation)
        hold = Hold.objects.create(organisation=organisation, customer=customer, invoice=invoice,
                                   kind=Hold.Kind.PAUSE, until=until, reason=reason.strip()[:300], note=reason,
                                   created_by=actor)
        record_many(organisation, [kinds.pause_started(
            customer_id=customer.pk, invoice_id=invoice.pk if invoice else None, hold=hold.pk, until=until,
            reason=reason, number=invoice.number if invoice else "", actor=actor)])
        held_from_now(organisation, customer.pk, today, actor)
    return hold


def stop(organisation: Organisation, customer: Customer, cause: str, *, reason: str = "", actor: str = "system",
         today: date | None = None) -> Hold:
    """Stop every reminder of the customer until lifted (insolvency proceedings: the claim is
    declared to the court-appointed representative instead; litigation: the case is with a lawyer)."""
    check_customer(organisation, customer)
    if cause not in Hold.StopCause.values:
        raise InvalidInput(f"cause d’arrêt inconnue : « {cause} » (attendu : {', '.join(Hold.StopCause.values)})")
    with transaction.atomic():
        lock_organisation(organisation)
        if Hold.objects.filter(customer=customer, kind=Hold.Kind.STOP, state=Hold.State.ACTIVE).exists():
            raise Conflict(f"Les relances du client {customer.code} sont déjà arrêtées.")
        label = french(Hold.StopCause(cause).label)
        hold = Hold.objects.create(organisation=organisation, customer=customer, kind=Hold.Kind.STOP, stop_cause=cause,
                                   reason=(f"{label} — {reason}" if reason.strip() else label)[:300], note=reason,
                                   created_by=actor)
        record_many(organisation, [kinds.stop_started(customer_id=customer.pk, hold=hold.pk, cause=cause,
                                                      reason=reason, actor=actor)])
        held_from_now(organisation, customer.pk, today_or_local(organisation, today), actor)
    return hold


def lift(organisation: Organisation, hold: Hold, *, actor: str, note: str = "", today: date | None = None) -> Hold:
    """Lift a pause (before its date) or a stop: the sequence resumes."""
    with transaction.atomic():
        hold = _lock_hold(organisation, hold, hold_kinds=(Hold.Kind.PAUSE, Hold.Kind.STOP))
        record_many(organisation, [_end_hold(hold, Hold.State.LIFTED, today_or_local(organisation, today), actor,
                                             {"note": note})])
    return hold


def expire_pauses(organisation: Organisation, today: date) -> int:
    """Pauses whose date has passed become ``expired`` (the daily run)."""
    lock_organisation(organisation)
    ended = list(Hold.objects.select_for_update(of=("self",)).select_related("invoice").filter(
        organisation=organisation, kind=Hold.Kind.PAUSE, state=Hold.State.ACTIVE, until__lt=today).order_by("pk"))
    record_many(organisation, [_end_hold(h, Hold.State.EXPIRED, today, "system", {"until": h.until}) for h in ended])
    return len(ended)
