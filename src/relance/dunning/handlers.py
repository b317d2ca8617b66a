"""Reactions of dunning to the ledger and to the holds, connected once in ``DunningConfig.ready``.

* The ledger: a settled invoice stops being chased at once (its reminders still planned or
  awaiting approval are cancelled) and the customer is thanked when it had been reminded;
  invoices moved to another customer take their planned reminders with them (cancelled).
* The holds (``relance.holds.signals``): a hold that starts takes the customer's held messages
  out of the approval queue; a plan that ends cancels its messages not yet sent; a broken
  promise and an instalment due get their message, planned here and returned to the sender;
  asked what became of an instalment's notice, dunning answers (``instalment_notice``).

Each runs inside the sender's transaction, which holds the invoices and the organisation row:
the reminders are written below them, in the project's lock order (``relance.locks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q

from relance.clock import today_for
from relance.core.holds import promise_broken_key
from relance.core.plans import instalment_key
from relance.core.policy import thanks_key
from relance.dunning.models import Reminder, ReminderLine, Scenario
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import Instalment, PaymentPlan, Promise
from relance.holds.signals import Notice
from relance.ledger.models import Invoice, Organisation

from .services.cancelling import CANCELLABLE, cancel_pending, withdraw_held_awaiting
from .services.chaseable import chaseable
from .services.off_scenario import plan_message
from .services.plan_messages import PLAN_KINDS

# ------------------------------------------------------------------------------------------
# The ledger
# ------------------------------------------------------------------------------------------


def stop_chasing_settled_invoices(sender: Any, organisation: Organisation, invoice_ids: list[int], on: date | None,
                                  **kwargs: Any) -> None:
    """``ledger.signals.invoices_settled``: the messages about nothing left to pay are cancelled,
    the invoices leave the sequence, and the customers who had been reminded are thanked. The
    promises and plans over these invoices were brought up to date just before
    (``holds.services.settlement``, connected first)."""
    open_lines = ReminderLine.objects.filter(reminder=OuterRef("pk"), invoice__status=Invoice.Status.OPEN)
    ours = (Reminder.objects.filter(organisation=organisation, lines__invoice_id__in=invoice_ids,
                                    kind__in=[Reminder.Kind.PROMISE_BROKEN, *PLAN_KINDS, Reminder.Kind.PLAN_AGREEMENT])
            .exclude(Exists(open_lines)).distinct())
    record_many(organisation, cancel_pending(organisation, ours, "settled", "factures réglées avant l’envoi"))
    to_cancel = list(
        Reminder.objects.filter(organisation=organisation, status__in=CANCELLABLE,
                                kind__in=[Reminder.Kind.REMINDER, Reminder.Kind.LITIGATION],
                                lines__invoice_id__in=invoice_ids)
        .exclude(Exists(open_lines)).distinct()
    )
    Reminder.objects.filter(pk__in=[r.pk for r in to_cancel]).update(
        status=Reminder.Status.CANCELLED, last_error="factures réglées avant l’envoi")
    events = [kinds.reminder_cancelled(customer_id=r.customer_id, reminder_id=r.id, reason="settled")
              for r in to_cancel]
    Invoice.objects.filter(pk__in=invoice_ids).update(dunning_state=Invoice.Dunning.DONE, next_action_date=None)

    # thank the customers whose settled invoices had been reminded (a message actually sent)
    reminded = (Invoice.objects.filter(pk__in=invoice_ids)
                .filter(Exists(ReminderLine.objects.filter(invoice=OuterRef("pk"), reminder__status=Reminder.Status.SENT,
                                                           reminder__kind=Reminder.Kind.REMINDER)))
                .select_related("customer").order_by("customer_id", "due_date"))
    default = Scenario.objects.filter(organisation=organisation, is_default=True).first()
    by_customer: dict[int, list[Invoice]] = {}
    for invoice in reminded:
        scenario = invoice.customer.scenario or default
        if scenario is None or scenario.thank_you:
            by_customer.setdefault(invoice.customer_id, []).append(invoice)
    today = on or today_for(organisation)
    for customer_id, invoices in by_customer.items():
        pending = Reminder.objects.filter(organisation=organisation, customer_id=customer_id,
                                          kind=Reminder.Kind.THANKS, status=Reminder.Status.PLANNED).first()
        if pending is None:
            key = thanks_key(organisation.id, min(i.id for i in invoices))
            pending, created = Reminder.objects.get_or_create(
                idempotency_key=key,
                defaults=dict(organisation=organisation, customer_id=customer_id, kind=Reminder.Kind.THANKS,
                              channel="email", planned_for=today),
            )
            if not created:
                continue  # this invoice was already thanked
            events.append(kinds.thanks_planned(customer_id=customer_id, reminder_id=pending.id,
                                               invoices=[i.number for i in invoices]))
        ReminderLine.objects.bulk_create(
            [ReminderLine(reminder=pending, invoice=i, step_position=-1, amount_due=i.amount_incl_tax)
             for i in invoices], ignore_conflicts=True)
    record_many(organisation, events)


def cancel_reminders_of_moved_invoices(sender: Any, organisation: Organisation, invoice_ids: list[int],
                                       from_customer_id: int, actor: str = "system", **kwargs: Any) -> None:
    """``ledger.signals.invoices_moved``: invoices now belong to another customer: the messages still planned (or awaiting
    approval) for the previous one that list them are cancelled, so nobody is chased for
    someone else's invoice; the planner plans the right customer's next step."""
    reminders = Reminder.objects.filter(organisation=organisation, customer_id=from_customer_id,
                                        lines__invoice_id__in=invoice_ids).distinct()
    record_many(organisation, cancel_pending(organisation, reminders, "invoices_moved",
                                             "factures rattachées à un autre client", actor=actor))


# ------------------------------------------------------------------------------------------
# The holds
# ------------------------------------------------------------------------------------------


def withdraw_held_from_approval(sender: Any, organisation: Organisation, customer_id: int, today: date,
                                actor: str = "system", **kwargs: Any) -> None:
    """``holds.signals.hold_started``: the customer's reminders awaiting approval whose invoices
    are now all held or settled leave the approval queue."""
    record_many(organisation, withdraw_held_awaiting(organisation, customer_id, today, actor))


def cancel_messages_of_ended_plan(sender: Any, organisation: Organisation, plan: PaymentPlan, state: str,
                                  **kwargs: Any) -> None:
    """``holds.signals.plan_ended``: the plan's instalment reminders and agreement email not yet
    sent are cancelled."""
    ours = Reminder.objects.filter(Q(instalment__plan=plan, kind__in=PLAN_KINDS)
                                   | Q(plan=plan, kind=Reminder.Kind.PLAN_AGREEMENT))
    record_many(organisation, cancel_pending(organisation, ours, f"plan_{state}", "échéancier terminé avant l’envoi"))


def plan_promise_broken_message(sender: Any, organisation: Organisation, promise: Promise, today: date,
                                **kwargs: Any) -> Reminder | None:
    """``holds.signals.promise_broken``: the « promesse non tenue » message about the promise's
    invoices that may be chased again (none: the sequence resumes later, no message)."""
    invoices = list(chaseable(organisation, today).filter(holds__promise=promise).distinct()
                    .order_by("due_date", "number"))
    if not invoices:  # nothing left to chase (disputed, paused…)
        return None
    return plan_message(organisation, promise.customer, Reminder.Kind.PROMISE_BROKEN,
                        promise_broken_key(organisation.pk, promise.pk), today, invoices, promise=promise,
                        label="Promesse non tenue")


def plan_instalment_message(sender: Any, organisation: Organisation, instalment: Instalment,
                            invoices: Sequence[Invoice], today: date, message: str, **kwargs: Any) -> Reminder | None:
    """``holds.signals.instalment_due``: the instalment's reminder (J−3), its notice (J+3), or a
    new notice when the previous one was cancelled before leaving (its own key: never twice)."""
    customer = instalment.plan.customer
    if message == "reminder":
        return plan_message(organisation, customer, Reminder.Kind.INSTALMENT_DUE,
                            instalment_key(organisation.pk, instalment.pk, "before"), today, invoices,
                            instalment=instalment, label="Rappel d’échéance")
    suffix = "missed"
    if message == "notice_again":
        count = instalment.reminders.filter(kind=Reminder.Kind.INSTALMENT_MISSED).count()
        suffix = f"missed-{count + 1}"
    return plan_message(organisation, customer, Reminder.Kind.INSTALMENT_MISSED,
                        instalment_key(organisation.pk, instalment.pk, suffix), today, invoices,
                        instalment=instalment, label="Échéance impayée")


def answer_instalment_notice(sender: Any, organisation: Organisation, instalment: Instalment,
                             **kwargs: Any) -> Notice | None:
    """``holds.signals.instalment_notice``: what became of the instalment's last J+3 notice. The plan
    breaks only on a notice that left (its grace period runs from then); one cancelled before leaving
    is planned again once the customer may be contacted."""
    last = (Reminder.objects.filter(instalment=instalment, kind=Reminder.Kind.INSTALMENT_MISSED).order_by("-pk")
            .values_list("pk", "status", "sent_at").first())
    if last is None:
        return None
    pk, status, sent_at = last
    return Notice(reminder_id=pk, sent_at=sent_at if status == Reminder.Status.SENT else None,
                  cancelled=status == Reminder.Status.CANCELLED)
