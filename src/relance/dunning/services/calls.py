"""Phone calls: the day's call list, and what came of a call.

:func:`call_list` gives the open call tasks due on or before a day — one per customer for the
calls themselves — ordered by what is at stake: the sum over the customer's chaseable overdue
invoices of *amount due × days late*. Each item carries the contacts and their numbers, the
open invoices (held ones marked), the last events of the customer and a call script for the
step that asked for the call (invoice details, asking for the reason, offering a plan), in the
customer's language. Customers under a stop or a pause of the whole customer are left out:
their calls wait until it is lifted.

:func:`record_call_outcome` records the outcome in one transaction with its events: *not
reached* (a retry the next business day, up to :data:`MAX_ATTEMPTS` calls), *promise* (the
promise hold in one step), *dispute* (a dispute hold per contested invoice), *plan requested*
(a proposed plan when the schedule is given, else a task to prepare one), *wrong contact* (the
contact is flagged: an open « vérifier le contact » task names it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from relance.clock import today_for
from relance.core import formatting as fmt
from relance.core.holds import PROMISE_GRACE_BUSINESS_DAYS
from relance.core.plans import equal_schedule
from relance.dunning.models import CallTask
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import NewEvent, record_many
from relance.holds.models import Hold, PaymentPlan, Promise
from relance.holds.queries import active_holds
from relance.holds.services.holds import (
    InvoiceRef,
    dispute_reasons,
    found_or_404,
    open_dispute,
    record_promise,
    resolve_invoices,
    today_or_local,
)
from relance.holds.services.plans import propose_plan
from relance.i18n import french
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.locks import lock_customer_invoices, lock_organisation, lock_row

#: calls of one customer not reached in a row before the retries stop (a person decides)
MAX_ATTEMPTS = 3
HISTORY = 5


@dataclass(frozen=True)
class CallContact:
    id: int
    name: str
    role: str
    phone: str
    email: str
    flagged: bool


@dataclass(frozen=True)
class CallInvoice:
    id: int
    number: str
    issue_date: date
    due_date: date
    amount_due: Decimal
    currency: str
    days_late: int
    hold: str  # « Litige », « Promesse de règlement »… or empty when chased


@dataclass(frozen=True)
class HistoryItem:
    on: date
    kind: str
    label: str
    detail: str
    actor: str


@dataclass
class CallItem:
    task_id: int
    customer_id: int
    customer_code: str
    customer_name: str
    purpose: str
    attempt: int
    due_on: date
    step: str
    contacts: list[CallContact]
    phones: list[str]
    invoices: list[CallInvoice]
    total_due: Decimal
    score: Decimal  # Σ amount due × days late of the chaseable overdue invoices
    history: list[HistoryItem]
    script: list[str]
    other_tasks: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------
# The call list
# ------------------------------------------------------------------------------------------


def call_list(organisation: Organisation, day: date) -> list[CallItem]:
    """Calls (and collector tasks) due on or before ``day``, most at stake first. A constant
    number of queries whatever the number of tasks."""
    tasks = list(CallTask.objects.filter(organisation=organisation, status=CallTask.Status.OPEN, due_on__lte=day)
                 .select_related("customer", "reminder__step", "contact").prefetch_related("customer__contacts")
                 .order_by("due_on", "pk"))
    if not tasks:
        return []
    customer_ids = {t.customer_id for t in tasks}
    held_invoice: dict[int, str] = {}
    stopped: set[int] = set()
    for hold in active_holds(organisation, day).filter(customer_id__in=customer_ids):
        if hold.invoice_id is None:
            stopped.add(hold.customer_id)
        else:
            held_invoice.setdefault(hold.invoice_id, hold.get_kind_display())
    invoices: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in (Invoice.objects.filter(organisation=organisation, customer_id__in=customer_ids,
                                           status=Invoice.Status.OPEN, amount_due__gt=0).order_by("due_date", "number")):
        invoices[invoice.customer_id].append(invoice)
    flagged = set(CallTask.objects.filter(organisation=organisation, status=CallTask.Status.OPEN,
                                          purpose=CallTask.Purpose.CONTACT, contact__isnull=False,
                                          customer_id__in=customer_ids).values_list("contact_id", flat=True))
    history = _history(organisation, customer_ids)
    reasons = [r.label for r in dispute_reasons(organisation)]

    items: dict[tuple[int, str], CallItem] = {}
    for task in tasks:
        if task.customer_id in stopped:
            continue
        key = (task.customer_id, "call" if task.purpose == CallTask.Purpose.CALL else f"task-{task.pk}")
        if key in items:
            items[key].other_tasks.append(task.pk)  # one call covers them
            continue
        customer = task.customer
        rows = [CallInvoice(i.pk, i.number, i.issue_date, i.due_date, i.amount_due, i.currency, i.days_late(day),
                            held_invoice.get(i.pk, "")) for i in invoices[customer.pk]]
        chased = [r for r in rows if not r.hold and r.days_late > 0]
        contacts = [CallContact(c.pk, " ".join(x for x in (c.civility, c.full_name) if x), c.role, c.phone, c.email,
                                c.pk in flagged)
                    for c in sorted(customer.contacts.all(), key=lambda c: (c.pk in flagged, not c.is_billing, c.pk))]
        step = task.reminder.step if task.reminder and task.reminder.step else None
        who = next((c for c in contacts if c.id == task.contact_id), None)
        if task.purpose == CallTask.Purpose.CALL and (who is None or who.flagged):
            who = next((c for c in contacts if not c.flagged), None)
        items[key] = CallItem(
            task_id=task.pk, customer_id=customer.pk, customer_code=customer.code, customer_name=customer.legal_name,
            purpose=task.purpose, attempt=task.attempt, due_on=task.due_on, step=step.label if step else "",
            contacts=contacts, phones=[c.phone for c in contacts if c.phone and not c.flagged],
            invoices=rows, total_due=sum((r.amount_due for r in rows), Decimal(0)),
            score=sum((r.amount_due * r.days_late for r in chased), Decimal(0)),
            history=history.get(customer.pk, []),
            script=call_script(organisation, customer, who, chased, rows, task,
                               step.tone if step else 3, reasons, day),
        )
    return sorted(items.values(), key=lambda i: (-i.score, i.due_on, i.customer_name, i.task_id))


def _history(organisation: Organisation, customer_ids: Iterable[int]) -> dict[int, list[HistoryItem]]:
    """The last :data:`HISTORY` events of each customer, in one query (a window function)."""
    rows = (Event.objects.filter(organisation=organisation, customer_id_ref__in=list(customer_ids))
            .annotate(rank=Window(RowNumber(), partition_by=[F("customer_id_ref")], order_by=F("seq").desc()))
            .filter(rank__lte=HISTORY).order_by("customer_id_ref", "-seq"))
    out: dict[int, list[HistoryItem]] = defaultdict(list)
    for event in rows:
        at: datetime = event.occurred_at
        assert event.customer_id_ref is not None
        out[event.customer_id_ref].append(HistoryItem(today_for(organisation, at), event.kind,
                                                      kinds.label(event.kind),
                                                      _detail(event.kind, event.data), event.actor))
    return out


def _detail(kind: str, data: dict[str, Any]) -> str:
    def money(key: str) -> str:
        try:
            return fmt.money(Decimal(str(data[key])))
        except (KeyError, ArithmeticError, ValueError):
            return ""

    def day(key: str) -> str:
        try:
            return fmt.long_date(date.fromisoformat(str(data[key])))
        except (KeyError, ValueError):
            return ""

    if kind == kinds.REMINDER_SENT:
        return str(data.get("subject", ""))
    if kind == kinds.PAYMENT_RECORDED:
        return money("amount")
    if kind == kinds.PROMISE_RECORDED:
        return f"{money('amount')} pour le {day('promised_on')}"
    if kind == kinds.DISPUTE_OPENED:
        return f"{data.get('number', '')} : {data.get('label', '')}"
    if kind == kinds.CALL_RECORDED:
        outcome = str(CallTask.Result(data["outcome"]).label) if data.get("outcome") in CallTask.Result.values else ""
        return " — ".join(x for x in (outcome, str(data.get("note", ""))) if x)
    return ""


# ------------------------------------------------------------------------------------------
# The call script
# ------------------------------------------------------------------------------------------


def _total(rows: Sequence[CallInvoice], language: str) -> str:
    return fmt.money(sum((r.amount_due for r in rows), Decimal(0)), rows[0].currency if rows else "EUR", language)


def _invoice_phrase(rows: Sequence[CallInvoice], language: str) -> str:
    def money(r: CallInvoice) -> str:
        return fmt.money(r.amount_due, r.currency, language)

    if language == "en":
        if len(rows) == 1:
            r = rows[0]
            return (f"invoice {r.number} of {fmt.short_date(r.issue_date, 'en')}, {money(r)} outstanding, due on "
                    f"{fmt.long_date(r.due_date, 'en')} ({r.days_late} days ago)")
        listed = "; ".join(f"{r.number} ({money(r)}, due {fmt.short_date(r.due_date, 'en')})" for r in rows)
        return f"{len(rows)} overdue invoices, {_total(rows, 'en')} in total: {listed}"
    if len(rows) == 1:
        r = rows[0]
        return (f"la facture n° {r.number} du {fmt.short_date(r.issue_date)}, dont {money(r)} restent dus, "
                f"échue depuis le {fmt.long_date(r.due_date)} ({r.days_late} jours)")
    listed = " ; ".join(f"n° {r.number} ({money(r)}, échue le {fmt.short_date(r.due_date)})" for r in rows)
    return f"{len(rows)} factures échues, pour un total de {_total(rows, 'fr')} : {listed}"


def _plan_example(rows: Sequence[CallInvoice], day: date, language: str) -> str:
    total = sum((r.amount_due for r in rows), Decimal(0))
    if total < Decimal("0.03"):
        return ""
    first = date(day.year + day.month // 12, day.month % 12 + 1, min(day.day, 28))
    specs = equal_schedule(total, first, 3)
    currency = rows[0].currency

    def money(amount: Decimal) -> str:
        return fmt.money(amount, currency, language)

    if language == "en":
        tail = f" (the last one {money(specs[-1].amount)})" if specs[-1].amount != specs[0].amount else ""
        return f"for example 3 monthly instalments of {money(specs[0].amount)}{tail}"
    tail = f" (la dernière de {money(specs[-1].amount)})" if specs[-1].amount != specs[0].amount else ""
    return f"par exemple 3 mensualités de {money(specs[0].amount)}{tail}"


def call_script(organisation: Organisation, customer: Customer, contact: CallContact | None,
                chased: Sequence[CallInvoice], rows: Sequence[CallInvoice], task: CallTask, tone: int,
                reasons: Sequence[str], day: date) -> list[str]:
    """What to say, paragraph by paragraph, for the step's tone (1 courteous … 5 formal notice)."""
    if customer.language == "en":
        return _script_en(organisation, contact, chased, rows, task, tone, day)
    who = f" {contact.name}" if contact else ""
    if task.purpose == CallTask.Purpose.CONTACT:
        return [f"Trouver le bon interlocuteur pour le règlement des factures de {customer.legal_name}"
                + (f" : le contact {contact.name} a été signalé comme erroné." if contact and contact.flagged else ".")
                + " Mettre à jour son nom, son numéro et son adresse email dans la fiche client.",
                "Puis clore cette tâche (issue « Traité »)."]
    if task.purpose == CallTask.Purpose.PLAN:
        return [f"{customer.legal_name} a demandé un échéancier. Préparer la proposition (factures, nombre "
                f"d’échéances, dates) puis envoyer la lettre d’accord pour signature"
                + (f" — {_plan_example(rows, day, 'fr')}." if rows else "."),
                "Puis clore cette tâche (issue « Traité »)."]
    lines = [f"Bonjour{who}. Ici [votre nom], du service comptable {fmt.de(organisation.legal_name)}. "
             "Je souhaiterais parler à la personne chargée du règlement des factures."]
    if not chased:
        lines.append("Toutes les factures ouvertes de ce client sont suspendues (promesse, litige ou échéancier) : "
                     "appel de suivi seulement, rien à réclamer.")
        return lines
    lines.append(f"Je vous appelle au sujet de {_invoice_phrase(chased, 'fr')}.")
    many = len(chased) > 1
    if tone <= 2:
        lines.append(f"Avez-vous bien reçu {'ces factures' if many else 'cette facture'} ? Le règlement est-il en cours ?")
    elif tone <= 4:
        lines.append("Malgré nos relances écrites, nous n’avons pas reçu votre règlement. Pouvez-vous me dire ce qui "
                     "le retarde ?")
    else:
        lines.append("Une mise en demeure vous a été adressée par lettre recommandée. Sans règlement, le dossier sera "
                     "transmis au contentieux : je vous appelle pour l’éviter.")
    lines.append(f"Y a-t-il une difficulté avec {'ces factures' if many else 'cette facture'} ("
                 + ", ".join(r.lower() for r in reasons if r.lower() != "autre")
                 + ") ? → Si oui : enregistrer un litige avec son motif ; la facture n’est plus relancée pendant "
                 "son examen.")
    lines.append(f"À quelle date pouvez-vous régler {_total(chased, 'fr')} ? "
                 "→ Noter la date et le montant : c’est une promesse de règlement ; les relances sont suspendues "
                 f"jusqu’à cette date, plus {PROMISE_GRACE_BUSINESS_DAYS} jours ouvrés.")
    example = _plan_example(chased, day, "fr")
    lines.append("Si un règlement en une fois est difficile, proposer un échéancier"
                 + (f", {example}" if example else "") + ". → Noter « échéancier demandé » : une proposition sera "
                 "envoyée pour signature.")
    lines.append("Récapituler ce qui a été convenu et le confirmer par écrit. Rester courtois ; ne jamais annoncer "
                 "une action qui ne sera pas engagée.")
    phone = f" ({organisation.phone})" if organisation.phone else ""
    lines.append(f"Messagerie : laisser un message bref — votre nom, votre numéro{phone} et l’objet « au sujet "
                 "d’une facture » — sans montant ni détail (la messagerie peut être écoutée par d’autres).")
    return lines


def _script_en(organisation: Organisation, contact: CallContact | None, chased: Sequence[CallInvoice],
               rows: Sequence[CallInvoice], task: CallTask, tone: int, day: date) -> list[str]:
    if task.purpose == CallTask.Purpose.CONTACT:
        return ["Find the right person for invoice payments"
                + (f": the contact {contact.name} was reported wrong." if contact and contact.flagged else ".")
                + " Update the name, number and email address on the customer's page.", "Then close this task."]
    if task.purpose == CallTask.Purpose.PLAN:
        return ["The customer asked for a payment plan. Prepare the proposal and send the agreement letter for "
                "signature" + (f" — {_plan_example(rows, day, 'en')}." if rows else "."), "Then close this task."]
    who = f" {contact.name}" if contact else ""
    lines = [f"Hello{who}. This is [your name] from the accounts department of {organisation.legal_name}. "
             "May I speak to the person in charge of paying invoices?"]
    if not chased:
        return [*lines, "All this customer's open invoices are on hold (promise, dispute or plan): follow-up call "
                        "only, nothing to ask for."]
    lines.append(f"I am calling about {_invoice_phrase(chased, 'en')}.")
    if tone <= 2:
        lines.append("Have you received it? Is the payment on its way?")
    elif tone <= 4:
        lines.append("Despite our written reminders, we have not received your payment. What is holding it up?")
    else:
        lines.append("A formal notice was sent to you by registered letter. Without payment, the file will be handed "
                     "over for legal action: I am calling to avoid that.")
    lines.append("Is anything wrong with the invoice (not received, amount, goods or service, already paid)? → If "
                 "so: record a dispute with its reason.")
    lines.append(f"When can you pay {_total(chased, 'en')}? → "
                 "Record the date and amount as a payment promise.")
    example = _plan_example(chased, day, "en")
    lines.append("If paying at once is difficult, offer a payment plan" + (f", {example}" if example else "")
                 + ". → Record « plan requested ».")
    lines.append("Sum up what was agreed and confirm it in writing. Stay courteous.")
    return lines


# ------------------------------------------------------------------------------------------
# Recording an outcome
# ------------------------------------------------------------------------------------------


@dataclass
class CallRecord:
    task: CallTask
    retry: CallTask | None = None
    follow_up: CallTask | None = None
    promise: Promise | None = None
    disputes: list[Hold] = field(default_factory=list)
    plan: PaymentPlan | None = None


def _task_for(organisation: Organisation, target: CallTask | Customer, today: date) -> CallTask:
    if isinstance(target, CallTask):
        task = found_or_404(lock_row(CallTask, organisation, target.pk), CallTask)
        if task.status != CallTask.Status.OPEN:
            raise Conflict(f"L’appel n° {task.pk} est déjà enregistré ({task.outcome or task.get_status_display()}).")
        return task
    if target.organisation_id != organisation.pk:
        raise NotFound("client introuvable")
    task = (CallTask.objects.select_for_update().filter(organisation=organisation, customer=target,
                                                        status=CallTask.Status.OPEN, purpose=CallTask.Purpose.CALL,
                                                        due_on__lte=today).order_by("due_on", "pk").first()
            or CallTask(organisation=organisation, customer=target, due_on=today))  # a call nobody planned
    return task


def record_call_outcome(
    organisation: Organisation,
    target: CallTask | Customer,
    outcome: str,
    *,
    actor: str,
    note: str = "",
    today: date | None = None,
    contact: Contact | None = None,
    promised_on: date | None = None,
    amount: Decimal | None = None,
    invoices: Iterable[InvoiceRef] = (),
    via: str = Promise.Via.PHONE,
    reason: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    retry_on: date | None = None,
    instalments: Sequence[tuple[date, Decimal]] | None = None,
    count: int | None = None,
    first_due: date | None = None,
    every_months: int = 1,
    waive_penalties: bool = False,
) -> CallRecord:
    """Record what came of a call to ``target`` (a call task, or a customer called without
    one), with what it implies, in one transaction; any bad input leaves nothing behind."""
    today = today_or_local(organisation, today)
    if outcome not in CallTask.Result.values:
        raise InvalidInput(f"issue d’appel inconnue : « {outcome} » (attendu : {', '.join(CallTask.Result.values)})")
    refs = list(invoices)
    customer_id = (CallTask.objects.filter(organisation=organisation, pk=target.pk).values_list("customer_id", flat=True)
                   .first() if isinstance(target, CallTask) else target.pk)
    with transaction.atomic():
        # the lock order (relance/locks.py): what a promise, a dispute or a plan may write — the
        # customer's invoices — then the organisation row, then the call task
        lock_customer_invoices(organisation, [customer_id] if customer_id else [])
        lock_organisation(organisation)
        task = _task_for(organisation, target, today)
        customer = task.customer
        if contact is not None and (contact.organisation_id != organisation.pk or contact.customer_id != customer.pk):
            raise NotFound("contact introuvable pour ce client")
        contact = contact or task.contact
        record = CallRecord(task)
        data: dict[str, Any] = {}
        events: list[NewEvent] = []
        if outcome == CallTask.Result.NOT_REACHED:
            retry_on = retry_on or calendar_for(organisation).on_or_after(today + timedelta(days=1))
            if retry_on < today:
                raise InvalidInput(f"La date du prochain essai ({fmt.long_date(retry_on)}) est déjà passée.")
            if task.attempt < MAX_ATTEMPTS:
                record.retry = CallTask.objects.create(organisation=organisation, customer=customer, due_on=retry_on,
                                                       contact=contact, attempt=task.attempt + 1)
                events.append(kinds.call_task_created(customer_id=customer.pk, due_on=retry_on, actor=actor,
                                                      task=record.retry.pk, attempt=record.retry.attempt,
                                                      reason=outcome))
            else:
                data["retries"] = "stopped"  # a person decides what comes next
        elif outcome == CallTask.Result.PROMISE:
            if promised_on is None or amount is None:
                raise InvalidInput("Une promesse de règlement a une date et un montant.")
            record.promise = record_promise(organisation, customer, promised_on, amount, via=via, obtained_by=actor,
                                            invoices=refs, note=note, actor=actor, today=today)
            data["promise"] = record.promise.pk
        elif outcome == CallTask.Result.DISPUTE:
            if not refs:
                raise InvalidInput("Indiquez la ou les factures contestées.")
            if not reason:
                raise InvalidInput("Indiquez le motif du litige.")
            for invoice in resolve_invoices(organisation, customer, refs):
                record.disputes.append(open_dispute(organisation, invoice, reason, note=note, attachment=attachment,
                                                    actor=actor, today=today))
            data["disputes"] = [h.pk for h in record.disputes]
        elif outcome == CallTask.Result.PLAN_REQUESTED:
            if instalments is not None or (count is not None and first_due is not None):
                chosen = refs or [i.number for i in Invoice.objects.filter(
                    organisation=organisation, customer=customer, status=Invoice.Status.OPEN, amount_due__gt=0,
                    due_date__lt=today)]
                record.plan = propose_plan(organisation, customer, chosen, instalments=instalments, count=count,
                                           first_due=first_due, every_months=every_months,
                                           waive_penalties=waive_penalties, note=note, actor=actor, today=today)
                data["plan"] = record.plan.pk
            else:
                record.follow_up = _follow_up(organisation, customer, CallTask.Purpose.PLAN, None, note, today, actor,
                                              events)
        elif outcome == CallTask.Result.WRONG_CONTACT:
            record.follow_up = _follow_up(organisation, customer, CallTask.Purpose.CONTACT, contact, note, today, actor,
                                          events)
            events.append(kinds.contact_flagged(customer_id=customer.pk, contact=contact.pk if contact else None,
                                                name=contact.full_name if contact else "",
                                                phone=contact.phone if contact else "", note=note, actor=actor))
        label = french(CallTask.Result(outcome).label)
        task.status, task.result, task.note, task.contact = CallTask.Status.DONE, outcome, note, contact
        task.outcome = (f"{label} — {note}" if note else label)[:200]
        task.done_on, task.done_by = today, actor
        task.save()
        others = [] if task.purpose != CallTask.Purpose.CALL else list(  # the same call answers them
            CallTask.objects.filter(organisation=organisation, customer=customer, status=CallTask.Status.OPEN,
                                    purpose=CallTask.Purpose.CALL, due_on__lte=today)
            .exclude(pk__in=[task.pk, *([record.retry.pk] if record.retry else [])]).values_list("pk", flat=True))
        CallTask.objects.filter(pk__in=others).update(status=CallTask.Status.DONE, result=outcome, done_on=today,
                                                      done_by=actor, outcome=f"couvert par l’appel n° {task.pk}"[:200])
        events.insert(0, kinds.call_recorded(customer_id=customer.pk, task=task.pk, outcome=outcome, note=note,
                                             attempt=task.attempt, contact=contact.pk if contact else None,
                                             also_closed=others, actor=actor, **data))
        record_many(organisation, events)
    return record


def _follow_up(organisation: Organisation, customer: Customer, purpose: str, contact: Contact | None, note: str,
               today: date, actor: str, events: list[NewEvent]) -> CallTask:
    task = CallTask.objects.create(organisation=organisation, customer=customer, due_on=today, purpose=purpose,
                                   contact=contact, note=note)
    events.append(kinds.call_task_created(customer_id=customer.pk, due_on=today, actor=actor, task=task.pk,
                                          purpose=purpose, contact=contact.pk if contact else None))
    return task


def open_task(organisation: Organisation, customer: Customer, *, purpose: str, note: str, due_on: date,
              actor: str = "system", contact: Contact | None = None) -> CallTask:
    """A task for a person (a call, a plan to prepare, a contact to check…), evented: the service
    other apps open tasks with (``relance.replies``). In the caller's transaction, after its
    invoices were locked (``relance.locks``)."""
    if purpose not in CallTask.Purpose.values:
        raise InvalidInput(f"objet de tâche inconnu : « {purpose} »")
    with transaction.atomic():
        lock_organisation(organisation)
        events: list[NewEvent] = []
        task = _follow_up(organisation, customer, purpose, contact, note, due_on, actor, events)
        record_many(organisation, events)
    return task


def withdraw_task(organisation: Organisation, task_id: int, *, actor: str, note: str, today: date) -> bool:
    """Close an open task that is no longer needed (what asked for it was undone), evented as a
    call recorded « Traité » with the note; ``False`` when it was already done."""
    with transaction.atomic():
        lock_organisation(organisation)
        task = lock_row(CallTask, organisation, task_id)
        if task is None or task.status != CallTask.Status.OPEN:
            return False
        task.status, task.result, task.done_on, task.done_by = (CallTask.Status.DONE, CallTask.Result.DONE, today,
                                                                actor[:150])
        task.outcome = note[:200]
        task.save(update_fields=["status", "result", "done_on", "done_by", "outcome"])
        record_many(organisation, [kinds.call_recorded(
            customer_id=task.customer_id, task=task.pk, outcome=CallTask.Result.DONE, note=note, attempt=task.attempt,
            contact=task.contact_id, also_closed=[], actor=actor, withdrawn=True)])
    return True
