"""What a reply does to the sequence, and how it is undone.

Each effect goes through the service of the app that owns what it changes (holds: pauses,
promises, disputes; dunning: tasks), so each leaves its own events; the reply keeps the ids of
what it created (``Reply.effect``) to revert it. Every effect and revert runs in the caller's
transaction, after the customer's invoices were locked (``relance.locks``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from relance.core import formatting as fmt
from relance.core.replies.inbox import Action, Delays, EffectPlan, dispute_reason_code, named_invoices, plan_effect
from relance.dunning.models import CallTask, Reminder
from relance.dunning.services.calls import open_task, withdraw_task
from relance.dunning.services.cancelling import CANCELLABLE, cancel_pending
from relance.dunning.services.invoice_copy import copy_key, plan_invoice_copy
from relance.events.services import record_many
from relance.holds.models import Hold, Promise
from relance.holds.services.holds import (
    cancel_promise,
    dispute_reasons,
    lift,
    open_dispute,
    pause,
    record_promise,
    resolve_dispute,
)
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Invoice, Organisation
from relance.locks import lock_rows

from ..models import Mailbox, Reply

#: the pause that holds a customer's sequence while a person reads the reply
REVIEW_REASON = "Réponse du client à traiter"


def delays(mailbox: Mailbox | None) -> Delays:
    if mailbox is None:
        return Delays()
    return Delays(mailbox.paid_wait_business_days, mailbox.resend_delay_days, mailbox.plan_wait_days)


def open_numbers(reply: Reply) -> list[str]:
    if reply.customer_id is None:
        return []
    return list(Invoice.objects.filter(organisation_id=reply.organisation_id, customer_id=reply.customer_id,
                                       status=Invoice.Status.OPEN).order_by("number").values_list("number", flat=True))


def plan_for(reply: Reply, mailbox: Mailbox | None) -> EffectPlan:
    organisation = reply.organisation
    return plan_effect(reply.category, received_on=reply.received_on, promised_date=reply.promised_date,
                       return_date=reply.return_date,
                       named_invoices=named_invoices(f"{reply.subject}\n{reply.body}", open_numbers(reply)),
                       calendar=calendar_for(organisation), delays=delays(mailbox))


def _dispute_reason(organisation: Organisation, code: str) -> str:
    """``code`` when the organisation still offers it, else its first reason."""
    codes = [r.code for r in dispute_reasons(organisation)]
    return code if code in codes or not codes else codes[0]


def _day(value: date) -> str:
    return fmt.long_date(value)


def _pause(reply: Reply, until: date | None, reason: str, actor: str, today: date) -> dict[str, Any]:
    assert reply.customer is not None
    if until is not None and until < today:
        return {"note": f"pause non posée : le {_day(until)} est passé"}
    hold = pause(reply.organisation, reply.customer, until, reason=reason, actor=actor, today=today)
    return {"holds": [hold.pk]}


def _task(reply: Reply, purpose: str, note: str, actor: str, today: date) -> int:
    assert reply.customer is not None
    return open_task(reply.organisation, reply.customer, purpose=purpose, note=note, due_on=today, actor=actor).pk


def _not_received(reply: Reply, named: list[str]) -> list[Invoice]:
    """The open invoices the customer did not receive: those the reply names, else those of the
    reminder it answers, else all the customer's open invoices."""
    assert reply.customer is not None
    invoices = Invoice.objects.filter(organisation_id=reply.organisation_id, customer=reply.customer,
                                      status=Invoice.Status.OPEN).order_by("due_date", "number")
    if named:
        return list(invoices.filter(number__in=named))
    if reply.reminder_id is not None:
        answered = list(invoices.filter(reminder_lines__reminder_id=reply.reminder_id).distinct())
        if answered:
            return answered
    return list(invoices)


def _resend(reply: Reply, plan: EffectPlan, actor: str, today: date) -> dict[str, Any]:
    """« Je n’ai jamais reçu la facture »: a copy of the invoices (their PDFs) is sent by email
    through the dispatcher (``dunning.services.invoice_copy``), and the next reminder waits for the
    new delay left to the customer (a pause the copy goes through). A task « renvoyer » is opened
    only for what the copy cannot carry: no usable email address, or an invoice without its PDF."""
    customer = reply.customer
    assert customer is not None
    received = _day(reply.received_on)
    invoices = _not_received(reply, list(plan.invoice_numbers))
    copy = plan_invoice_copy(reply.organisation, customer, invoices, key=_copy_round(reply), today=today,
                             actor=actor)
    effect = _pause(reply, plan.pause_until, f"Facture non reçue (réponse du {received}) : renvoyée, "
                    "nouveau délai laissé au client", actor, today)
    copied = set(copy.lines.values_list("invoice_id", flat=True)) if copy is not None else set()
    left = [i.number for i in invoices if i.pk not in copied]
    if copy is not None:
        effect["copy"] = copy.pk
    if copy is None or left:
        numbers = ", ".join(left) or ", ".join(plan.invoice_numbers) or "les factures relancées"
        why = "pas de PDF dans relance" if copy is not None else "pas de copie possible par e-mail"
        effect["tasks"] = [_task(reply, CallTask.Purpose.CALL, f"Renvoyer {numbers} : le client dit ne pas l’avoir "
                                 f"reçue (réponse du {received} ; {why}).", actor, today)]
    return effect


def _copy_round(reply: Reply) -> str:
    """The key of the reply's copy: one per reply, and a new one only after the last was cancelled
    (« Annuler la suite » before it left, then confirmed again); a copy planned or already sent
    under the key is found again and never sent twice."""
    n = 0
    while Reminder.objects.filter(idempotency_key=copy_key(reply.organisation_id, _round_key(reply, n)),
                                  status=Reminder.Status.CANCELLED).exists():
        n += 1
    return _round_key(reply, n)


def _round_key(reply: Reply, n: int) -> str:
    return f"copie:{reply.pk}" if n == 0 else f"copie:{reply.pk}:{n}"


def apply(reply: Reply, plan: EffectPlan, *, actor: str, today: date, all_invoices: bool = False) -> dict[str, Any]:
    """Carry ``plan`` out for ``reply``; what was created, for :func:`revert`. ``all_invoices``:
    a person confirmed a dispute on every open invoice of the customer (none was named)."""
    customer = reply.customer
    assert customer is not None
    organisation: Organisation = reply.organisation
    received = _day(reply.received_on)
    action = plan.action
    if action is Action.PAUSE_PAID:
        effect = _pause(reply, plan.pause_until, f"Le client dit avoir payé (réponse du {received}) : "
                        "en attente du relevé bancaire", actor, today)
        effect["waits_until"] = plan.pause_until.isoformat() if plan.pause_until else None
        return effect
    if action is Action.RESEND:
        return _resend(reply, plan, actor, today)
    if action is Action.DISPUTE:
        disputed = list(plan.invoice_numbers)
        if not disputed and all_invoices:
            disputed = open_numbers(reply)
        reason = _dispute_reason(organisation, dispute_reason_code(reply.evidence))
        holds = []
        for invoice in Invoice.objects.filter(organisation=organisation, customer=customer, number__in=disputed,
                                              status=Invoice.Status.OPEN).order_by("number"):
            holds.append(open_dispute(organisation, invoice, reason,
                                      note=f"Réponse du {received} : {'; '.join(reply.evidence)}"[:2000],
                                      actor=actor, today=today).pk)
        return {"holds": holds, "disputes": holds}
    if action is Action.PROMISE:
        assert plan.promised_on is not None
        refs = list(plan.invoice_numbers)
        due = list(Invoice.objects.filter(organisation=organisation, customer=customer, status=Invoice.Status.OPEN,
                                          amount_due__gt=0))
        if refs:
            due = [i for i in due if i.number in refs]
        else:  # what record_promise covers without invoices named: the overdue ones, else all
            due = [i for i in due if i.due_date < today] or due
        amount = sum((i.amount_due for i in due), Decimal(0))
        promise = record_promise(organisation, customer, plan.promised_on, amount, via=Promise.Via.EMAIL,
                                 obtained_by=f"réponse du {received}"[:150], invoices=refs,
                                 note="; ".join(reply.evidence)[:2000], actor=actor, today=today)
        return {"promise": promise.pk}
    if action is Action.PLAN:
        task = _task(reply, CallTask.Purpose.PLAN, f"Le client demande un échéancier ou un délai (réponse du "
                     f"{received}) : proposez-en un.", actor, today)
        effect = _pause(reply, plan.pause_until, f"Demande d’échéancier (réponse du {received}) : le temps de le "
                        "proposer", actor, today)
        return {**effect, "tasks": [task]}
    if action is Action.ABSENT:
        assert plan.pause_until is not None
        until = reply.return_date
        return _pause(reply, plan.pause_until, f"Absent jusqu’au {_day(until)} (réponse automatique)" if until
                      else "Absent (réponse automatique)", actor, today)
    if action is Action.CONTACT:
        task = _task(reply, CallTask.Purpose.CONTACT, f"Le destinataire dit ne pas être la bonne personne "
                     f"(réponse du {received}) : mettez le contact à jour.", actor, today)
        return {"tasks": [task]}
    return {}


def revert(reply: Reply, *, actor: str, today: date) -> list[str]:
    """Undo what :func:`apply` created for ``reply`` (what is already over stays as it is); the
    list of what could not be undone, in French."""
    organisation = reply.organisation
    effect = reply.effect or {}
    left: list[str] = []
    note = f"annulé : la réponse du {_day(reply.received_on)} a été reclassée"
    disputes = set(effect.get("disputes", []))
    for hold in Hold.objects.filter(organisation=organisation, pk__in=effect.get("holds", [])).order_by("pk"):
        if hold.state != Hold.State.ACTIVE:
            left.append(f"{hold.get_kind_display()} déjà terminée")
        elif hold.pk in disputes:
            resolve_dispute(organisation, hold, actor=actor, note=note, today=today)
        else:
            lift(organisation, hold, actor=actor, note=note, today=today)
    if effect.get("promise"):
        promise = Promise.objects.filter(organisation=organisation, pk=effect["promise"]).first()
        if promise is not None and promise.state == Promise.State.ACTIVE:
            cancel_promise(organisation, promise, actor=actor, reason=note, today=today)
        elif promise is not None:
            left.append(f"promesse déjà {promise.get_state_display().lower()}")
    if effect.get("copy"):
        # the copy's row locked (below the organisation, held by the caller): a worker claiming it
        # now waits, or has claimed it already and it is left as it goes
        copy = Reminder.objects.filter(organisation=organisation, pk=effect["copy"]).first()
        if copy is not None and lock_rows(Reminder, [copy.pk], status__in=CANCELLABLE):
            record_many(organisation, cancel_pending(organisation, Reminder.objects.filter(pk=copy.pk), "reply_undone",
                                                     "la réponse a été reclassée avant l’envoi de la copie", actor))
        elif copy is not None:
            copy.refresh_from_db(fields=["status"])
            if copy.status != Reminder.Status.CANCELLED:
                left.append(f"copie de facture déjà {copy.get_status_display().lower()}")
    for task in effect.get("tasks", []):
        if not withdraw_task(organisation, task, actor=actor, note=note, today=today):
            left.append(f"tâche n° {task} déjà faite")
    return left
