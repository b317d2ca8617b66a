"""Litigation cases: opened by the planner's hand-over step, handed to someone, closed.

* :func:`open_cases` — called by the planner, inside its transaction, with the invoices of
  each customer handed over today. One case per customer and day: a second call the same
  day adds to that day's case only the invoices it does not hold yet (event
  ``litigation.invoices_added``), and an invoice already in an open or filed case is never
  put in another one. Each invoice gets its formal notice attached (the latest registered
  letter sent about it) and leaves the automatic sequence (``dunning_state = litigation``).
* :func:`file_case` — the case is handed to a lawyer, a bailiff or a collection agency.
* :func:`close_case` — the case ends with an outcome; « abandonné » also ends the chase of
  its invoices still open (``dunning_state = done``).

Every transition goes through ``relance.core.litigation`` (a forbidden one is a
:class:`~relance.errors.Conflict`) and records its event in the same transaction. Locks are
taken in the ledger's order — the invoices (by id), then the organisation row (as the event
log does), then the case — so that these services, payments and the dispatcher never wait for
each other in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from relance.clock import today_for
from relance.core import litigation as machine
from relance.dunning.models import Reminder, ReminderLine
from relance.dunning.services.escalation import formal_notice_q
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Invoice, Organisation
from relance.locks import lock_invoices, lock_organisation, lock_rows

from ..models import CaseInvoice, LitigationCase

SYSTEM = "system"
ZERO = Decimal("0.00")


def _move(source: str, target: str) -> str:
    try:
        return machine.transition(source, target)
    except machine.ForbiddenTransition as exc:
        raise Conflict(exc.message) from exc


# ------------------------------------------------------------------------------------------
# Opening
# ------------------------------------------------------------------------------------------


def formal_notices(organisation: Organisation, invoice_ids: Iterable[int]) -> dict[int, Reminder]:
    """For each invoice, the latest formal notice *sent* whose lines list it (one query): the same
    predicate as the escalation rules (``formal_notice_q``)."""
    lines = (ReminderLine.objects.filter(formal_notice_q("reminder__"), invoice_id__in=list(invoice_ids),
                                         reminder__organisation=organisation,
                                         reminder__status=Reminder.Status.SENT)
             .select_related("reminder")
             .order_by("invoice_id", F("reminder__sent_at").desc(nulls_last=True), "-reminder__planned_for",
                       "-reminder_id"))
    found: dict[int, Reminder] = {}
    for line in lines:
        found.setdefault(line.invoice_id, line.reminder)
    return found


def notice_facts(reminder: Reminder | None, organisation: Organisation) -> dict[str, Any] | None:
    """What the event log keeps of a formal notice: enough to find and prove it."""
    if reminder is None:
        return None
    return {
        "reminder": reminder.pk,
        "sent_on": today_for(organisation, reminder.sent_at) if reminder.sent_at else reminder.planned_for,
        "tracking_number": reminder.tracking_number,
        "received_on": reminder.received_on,
        "document": reminder.document.name or "",
        "document_sha256": reminder.document_sha256,
    }


def _line_facts(line: CaseInvoice, invoice: Invoice, notice: Reminder | None,
                organisation: Organisation) -> dict[str, Any]:
    return {"invoice": invoice.pk, "number": invoice.number, "due_date": invoice.due_date,
            "amount_due": line.amount_due_at_opening, "currency": invoice.currency,
            "formal_notice": notice_facts(notice, organisation)}


def open_cases(organisation: Organisation, today: date, handovers: Mapping[int, Sequence[int]], *,
               step_label: str = "") -> list[LitigationCase]:
    """handovers: customer_id -> invoice ids handed over today. One case per customer and day
    (idempotent: calling twice the same day with the same invoices opens nothing new; an invoice
    already in an open or filed case is never put in a second one). Each invoice gets its formal
    notice attached: the latest SENT Reminder of channel 'registered_letter' whose lines list it
    (with its tracking_number, received_on, document (PDF) and document_sha256 as proof).
    Sets the invoices' dunning_state to Invoice.Dunning.LITIGATION and next_action_date None.
    Records one `litigation.opened` event per case (customer_id, data: case id, invoice numbers,
    amounts due, formal notice reminder ids/dates/tracking numbers/received_on).

    Returns the cases that received invoices in this call (opened, or that day's case extended:
    ``litigation.invoices_added``), by customer id. Invoices no longer open (paid or credited
    since) are left out: there is nothing to hand over. An invoice of another organisation or
    customer is :class:`~relance.errors.InvalidInput` (a caller's bug: nothing is written).
    """
    wanted = {customer_id: list(dict.fromkeys(ids)) for customer_id, ids in handovers.items() if ids}
    if not wanted:
        return []
    all_ids = [i for ids in wanted.values() for i in ids]
    with transaction.atomic():
        invoices = {i.pk: i for i in lock_invoices(all_ids)}
        lock_organisation(organisation)
        for customer_id, ids in wanted.items():
            strays = [i for i in ids if i not in invoices or invoices[i].organisation_id != organisation.pk
                      or invoices[i].customer_id != customer_id]
            if strays:
                raise InvalidInput(f"factures {strays} : pas des factures du client {customer_id} de l’organisation "
                                   f"{organisation.slug}")
        taken = set(CaseInvoice.objects.filter(invoice_id__in=all_ids, case__state__in=machine.LIVE_STATES)
                    .values_list("invoice_id", flat=True))
        notices = formal_notices(organisation, all_ids)
        same_day_ids = LitigationCase.objects.filter(
            organisation=organisation, customer_id__in=list(wanted), opened_on=today,
            state=LitigationCase.State.OPENED).values_list("pk", flat=True)
        same_day = {c.customer_id: c for c in lock_rows(LitigationCase, list(same_day_ids),
                                                         state=LitigationCase.State.OPENED)}
        touched: list[LitigationCase] = []
        events: list[NewEvent] = []
        moved: list[int] = []
        for customer_id in sorted(wanted):
            fresh = [invoices[i] for i in wanted[customer_id]
                     if i not in taken and invoices[i].status == Invoice.Status.OPEN]
            if not fresh:
                continue
            fresh.sort(key=lambda i: (i.due_date, i.number))
            case = same_day.get(customer_id)
            created = case is None
            if case is None:
                case = LitigationCase.objects.create(organisation=organisation, customer_id=customer_id,
                                                     state=machine.INITIAL, opened_on=today, created_by=SYSTEM)
            lines = CaseInvoice.objects.bulk_create([
                CaseInvoice(case=case, invoice=i, amount_due_at_opening=i.amount_due, formal_notice=notices.get(i.pk))
                for i in fresh])
            facts = [_line_facts(line, i, notices.get(i.pk), organisation) for line, i in zip(lines, fresh, strict=True)]
            data: dict[str, Any] = {
                "case": case.pk, "opened_on": case.opened_on, "step": step_label,
                "numbers": [i.number for i in fresh], "invoices": facts,
                "total_due": sum((line.amount_due_at_opening for line in lines), ZERO),
                "without_formal_notice": [i.number for i in fresh if i.pk not in notices],
            }
            kind = machine.OPENED_EVENT if created else machine.INVOICES_ADDED_EVENT
            events.append(kinds.litigation_moved(kind, customer_id=customer_id, **data))
            moved += [i.pk for i in fresh]
            touched.append(case)
        if moved:
            Invoice.objects.filter(pk__in=moved).update(dunning_state=Invoice.Dunning.LITIGATION, next_action_date=None)
        record_many(organisation, events)
    return touched


# ------------------------------------------------------------------------------------------
# Filing and closing
# ------------------------------------------------------------------------------------------


def lock_case(organisation: Organisation, case: LitigationCase | int, *, with_invoices: bool) -> LitigationCase:
    """Lock the case's invoices (when they may change), the organisation, then the case."""
    pk = case.pk if isinstance(case, LitigationCase) else case
    if not LitigationCase.objects.filter(organisation=organisation, pk=pk).exists():
        raise NotFound(f"dossier de contentieux n° {pk} introuvable")
    if with_invoices:
        lock_invoices(CaseInvoice.objects.filter(case_id=pk).values_list("invoice_id", flat=True))
    lock_organisation(organisation)
    return lock_rows(LitigationCase, [pk], organisation=organisation)[0]


def _refuse(exc: machine.CaseInputError) -> InvalidInput:
    return InvalidInput(str(exc))


def file_case(organisation: Organisation, case: LitigationCase | int, *, actor: str, on: date, handled_by: str = "",
              note: str = "") -> LitigationCase:
    """The case is handed to ``handled_by`` (lawyer, bailiff, collection agency) on ``on``."""
    with transaction.atomic():
        case = lock_case(organisation, case, with_invoices=False)
        kind = _move(case.state, LitigationCase.State.FILED)
        try:
            machine.validate_filing(on, case.opened_on, today_for(organisation), handled_by)
        except machine.CaseInputError as exc:
            raise _refuse(exc) from exc
        case.state, case.filed_on, case.handled_by = LitigationCase.State.FILED, on, handled_by.strip()[:200]
        if note.strip():
            case.note = append_note(case.note, note)
        case.save(update_fields=["state", "filed_on", "handled_by", "note"])
        record_many(organisation, [kinds.litigation_moved(kind, customer_id=case.customer_id, actor=actor, case=case.pk,
                                                          filed_on=on, handled_by=case.handled_by,
                                                          note=note.strip())])
    return case


def close_case(organisation: Organisation, case: LitigationCase | int, *, outcome: str, actor: str, on: date,
               note: str = "") -> LitigationCase:
    """The case ends with ``outcome``. « abandoned » and « irrecoverable »: its invoices still
    open are never chased again (``dunning_state = done``; the irrecoverable ones are the
    write-offs, ``litigation.writeoffs``); any other outcome leaves the invoices as they are (a
    payment settles them through the ledger)."""
    with transaction.atomic():
        case = lock_case(organisation, case, with_invoices=True)
        kind = _move(case.state, LitigationCase.State.CLOSED)
        try:
            chosen = machine.validate_closing(outcome, on, case.opened_on, today_for(organisation), note,
                                              latest_step_on(case))
        except machine.CaseInputError as exc:
            raise _refuse(exc) from exc
        close_locked(organisation, case, kind, chosen, on, actor, note)
    return case


def latest_step_on(case: LitigationCase) -> date | None:
    """The date of the case's latest step after its opening (hand-over, request, order, service)."""
    days = [d for d in (case.filed_on, case.request_filed_on, case.order_issued_on, case.served_on) if d]
    return max(days) if days else None


def close_locked(organisation: Organisation, case: LitigationCase, kind: str, chosen: machine.Outcome, on: date,
                 actor: str, note: str, **more: Any) -> None:
    """Close ``case`` (locked with its invoices by the caller) and record ``litigation.closed``."""
    given_up: list[dict[str, Any]] = []
    if chosen in machine.GIVES_UP:
        still_open = list(Invoice.objects.filter(litigation_lines__case=case, status=Invoice.Status.OPEN)
                          .order_by("due_date", "number"))
        Invoice.objects.filter(pk__in=[i.pk for i in still_open]).update(
            dunning_state=Invoice.Dunning.DONE, next_action_date=None)
        given_up = [{"invoice": i.pk, "number": i.number, "amount_due": i.amount_due} for i in still_open]
    case.state, case.closed_on, case.outcome = LitigationCase.State.CLOSED, on, chosen.value
    if note.strip():
        case.note = append_note(case.note, note)
    case.save(update_fields=["state", "closed_on", "outcome", "note"])
    record_many(organisation, [kinds.litigation_moved(kind, customer_id=case.customer_id, actor=actor, case=case.pk,
                                                      closed_on=on, outcome=chosen.value, note=note.strip(),
                                                      abandoned_invoices=given_up, **more)])


def append_note(existing: str, note: str) -> str:
    return f"{existing.rstrip()}\n\n{note.strip()}" if existing.strip() else note.strip()


def on_handover_due(sender: Any, organisation: Organisation, today: date, handovers: Mapping[int, Sequence[int]],
                    step_label: str = "", **kwargs: Any) -> list[LitigationCase]:
    """Receiver of ``dunning.signals.handover_due``: the cases opened (or extended) today."""
    return open_cases(organisation, today, handovers, step_label=step_label)
