"""Payment plans (*échéanciers*): propose, accept, follow, complete, break, cancel.

* :func:`propose_plan` splits what the chosen invoices still owe into instalments, equal (the
  cents remainder on the last) or custom; a schedule that does not add up, or any other bad
  input, is :class:`~relance.errors.InvalidInput` and nothing is saved. The agreement letter to
  send for signature is composed by dunning (``dunning.services.plan_messages``).
* :func:`accept_plan` (signed or accepted): the plan becomes active; one ``plan`` hold per open
  invoice pauses the normal sequence for them, and the promises on them are cancelled (the plan
  replaces them).
* The daily run (:func:`review_plans`) applies the payments received on the plan's invoices to
  the instalments in order (credit notes reduce the last ones: ``core.plans``), plans a reminder
  J−3 before each instalment and a notice J+3 after one still unpaid — announced by
  :data:`~relance.holds.signals.instalment_due`, dunning plans them through the normal
  Reminder/dispatcher path (unique idempotency keys: never twice) — and breaks the plan when an
  instalment is still unpaid ``grace_days`` after its J+3 notice was sent (whether and when it left,
  dunning answers: :data:`~relance.holds.signals.instalment_notice`): the holds end and the
  normal sequence resumes on what is still due. A notice cancelled at send time (the customer was
  stopped or paused) was never sent: the plan cannot break on it; the plan waits while the
  customer stays stopped or paused, then a new notice is planned (``instalment.notice_replanned``)
  and the grace period runs from its sending.
* Paid in full → completed. :func:`cancel_plan` → cancelled (the sequence resumes). A plan that
  ends, however, is announced (:data:`~relance.holds.signals.plan_ended`): dunning cancels its
  messages not yet sent.

Penalties: for a business debtor, late-payment penalties (C. com. L441-10) and the 40 €
indemnity (D441-5) keep accruing on what is due during a plan, as the law provides, unless the plan *waives* them
(``waive_penalties``): the waiver is conditional on the plan being honoured, stated in the
agreement letter, and lapses if the plan breaks — the later reminders then state the penalties
from the original due dates, as ``charges`` computes them. The instalment reminders state no
penalty figures. A consumer owes neither (CPCE L111-8): the agreement letter speaks only of
interest from a formal notice, and asks for no company stamp.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, QuerySet

from relance.clock import today_for
from relance.core.plans import (
    DEFAULT_GRACE_DAYS,
    InstalmentSpec,
    InstalmentStatus,
    PlanInputError,
    apply_to_instalments,
    break_after,
    equal_schedule,
    missed_notice_on,
    reminder_before,
    validate_schedule,
)
from relance.errors import Conflict, InvalidInput
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Allocation, Customer, Invoice, Organisation
from relance.locks import lock_invoices, lock_organisation, lock_row

from ..models import Hold, Instalment, PaymentPlan, PlanInvoice, Promise
from ..queries import active_disputes, blocked, in_open_plan
from ..signals import Notice, answers, instalment_due, instalment_notice, plan_ended
from .holds import (
    InvoiceRef,
    check_customer,
    close_promise,
    end_cover,
    found_or_404,
    held_from_now,
    lock_promises,
    move,
    resolve_invoices,
    today_or_local,
)

OPEN_STATES = (PaymentPlan.State.PROPOSED, PaymentPlan.State.ACTIVE)
MAX_GRACE_DAYS = 60


def propose_plan(organisation: Organisation, customer: Customer, invoices: Iterable[InvoiceRef], *,
                 instalments: Sequence[tuple[date, Decimal]] | None = None, count: int | None = None,
                 first_due: date | None = None, every_months: int = 1, waive_penalties: bool = False,
                 grace_days: int = DEFAULT_GRACE_DAYS, note: str = "", actor: str = "system",
                 today: date | None = None) -> PaymentPlan:
    """Propose a plan over ``invoices`` (numbers): custom ``instalments`` (date, amount), or
    ``count`` equal monthly instalments from ``first_due``."""
    check_customer(organisation, customer)
    today = today_or_local(organisation, today)
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise InvalidInput(f"Le délai après l’avis d’échéance impayée va de 0 à {MAX_GRACE_DAYS} jours.")
    refs = list(invoices)
    if not refs:
        raise InvalidInput("Choisissez les factures à échelonner.")
    with transaction.atomic():
        chosen = resolve_invoices(organisation, customer, refs)
        lock_organisation(organisation)
        taken = in_open_plan(chosen, OPEN_STATES)
        if taken:
            numbers = ", ".join(f"{i.number} (échéancier n° {taken[i.id]})" for i in chosen if i.id in taken)
            raise Conflict(f"Facture(s) déjà dans un échéancier proposé ou en cours : {numbers}.")
        disputed = active_disputes(chosen)
        if disputed:
            numbers = ", ".join(i.number for i in chosen if i.id in disputed)
            raise Conflict(f"Facture(s) en litige : {numbers}. Résolvez le litige avant de proposer un échéancier.")
        currencies = {i.currency for i in chosen}
        if len(currencies) > 1:
            raise InvalidInput("Un échéancier porte sur des factures d’une seule devise.")
        currency = currencies.pop()
        total = sum((i.amount_due for i in chosen), Decimal(0))
        try:
            if instalments is not None:
                specs = [InstalmentSpec(d, Decimal(a)) for d, a in instalments]
            elif count is not None and first_due is not None:
                specs = equal_schedule(total, first_due, count, every_months, currency)
            else:
                raise InvalidInput("Donnez les échéances, ou leur nombre et la date de la première.")
            validate_schedule(total, specs, today, currency)
        except PlanInputError as exc:
            raise InvalidInput(str(exc)) from exc
        watermark = Allocation.objects.aggregate(m=Max("pk"))["m"] or 0
        plan = PaymentPlan.objects.create(
            organisation=organisation, customer=customer, total=total, currency=currency,
            waive_penalties=waive_penalties, grace_days=grace_days, proposed_on=today, created_by=actor, note=note,
            allocation_watermark=watermark,
        )
        PlanInvoice.objects.bulk_create([PlanInvoice(plan=plan, invoice=i, amount_due_at_start=i.amount_due)
                                         for i in chosen])
        Instalment.objects.bulk_create([Instalment(plan=plan, position=n, due_on=s.due_on, amount=s.amount)
                                        for n, s in enumerate(specs, start=1)])
        record_many(organisation, [kinds.plan_proposed(
            customer_id=customer.pk, plan=plan.pk, invoices=[i.number for i in chosen], total=total,
            instalments=[{"due_on": s.due_on, "amount": s.amount} for s in specs],
            waive_penalties=waive_penalties, grace_days=grace_days, note=note, actor=actor)])
    return plan


def accept_plan(organisation: Organisation, plan: PaymentPlan, *, actor: str, on: date | None = None,
                signed_copy: tuple[str, bytes] | None = None) -> PaymentPlan:
    """The customer signed (or accepted) the plan: it becomes active and pauses its invoices."""
    on = today_or_local(organisation, on)
    with transaction.atomic():
        plan = lock_plan(organisation, plan)
        kind = move("plan", plan.state, PaymentPlan.State.ACTIVE)
        invoices = sorted((i for i in Invoice.objects.filter(plan_lines__plan=plan)  # locked by _lock_plan
                           if i.status == Invoice.Status.OPEN and i.amount_due > 0),
                          key=lambda i: (i.due_date, i.number))
        if not invoices:
            raise InvalidInput("Les factures de cet échéancier sont déjà soldées : il n’y a plus rien à échelonner.")
        other = in_open_plan(invoices, (PaymentPlan.State.ACTIVE,), exclude_plan=plan)
        if other:
            raise Conflict("Facture(s) déjà dans un autre échéancier en cours : "
                           + ", ".join(i.number for i in invoices if i.id in other) + ".")
        disputed = active_disputes(invoices)
        if disputed:
            raise Conflict("Facture(s) en litige : " + ", ".join(i.number for i in invoices if i.id in disputed) + ".")
        events = [close_promise(p, Promise.State.CANCELLED, on, actor, {"reason": "plan", "plan": plan.pk})
                  for p in lock_promises(Promise.objects.filter(
                      organisation=organisation, state=Promise.State.ACTIVE, holds__invoice__in=invoices))]
        plan.state, plan.accepted_on = PaymentPlan.State.ACTIVE, on
        if signed_copy is not None:
            name, content = signed_copy
            plan.signed_copy.save(f"{organisation.slug}/echeancier-{plan.pk}-signe{_suffix(name)}", ContentFile(content),
                                  save=False)
        plan.save()
        count = plan.instalments.count()
        Hold.objects.bulk_create([
            Hold(organisation=organisation, customer_id=plan.customer_id, invoice=i, kind=Hold.Kind.PLAN, plan=plan,
                 reason=f"Échéancier n° {plan.pk} ({count} échéance{'s' if count > 1 else ''})", created_by=actor)
            for i in invoices
        ])
        events.append(kinds.hold_moved(kind, customer_id=plan.customer_id, actor=actor, plan=plan.pk, accepted_on=on,
                                       invoices=[i.number for i in invoices],
                                       signed_copy=plan.signed_copy.name or ""))
        record_many(organisation, events)
        held_from_now(organisation, plan.customer_id, on, actor)
        refresh_plan(plan, on)
    return plan


def lock_plan(organisation: Organisation, plan: PaymentPlan) -> PaymentPlan:
    """Lock the plan's invoices, the organisation, then the plan (the order of ``holds``)."""
    lock_invoices(PlanInvoice.objects.filter(plan_id=plan.pk, plan__organisation=organisation)
                  .values_list("invoice_id", flat=True))
    lock_organisation(organisation)
    return found_or_404(lock_row(PaymentPlan, organisation, plan.pk), PaymentPlan)


def _suffix(name: str) -> str:
    lowered = name.lower()
    return next((s for s in (".pdf", ".png", ".jpg", ".jpeg") if lowered.endswith(s)), "")


def cancel_plan(organisation: Organisation, plan: PaymentPlan, *, actor: str, reason: str = "",
                today: date | None = None) -> PaymentPlan:
    """Withdraw a proposal, or end an active plan by agreement: the normal sequence resumes."""
    today = today_or_local(organisation, today)
    with transaction.atomic():
        plan = lock_plan(organisation, plan)
        record_many(organisation, _end_plan(plan, PaymentPlan.State.CANCELLED, today, actor, {"reason": reason}))
        _announce_end(plan)
    return plan


def _end_plan(plan: PaymentPlan, target: str, today: date, actor: str, data: dict[str, Any]) -> list[NewEvent]:
    """End the plan and its cover; the event to record. Once it is recorded, the caller
    announces the end (:func:`_announce_end`)."""
    kind = move("plan", plan.state, target)
    plan.state, plan.ended_on = target, today
    plan.save(update_fields=["state", "ended_on"])
    released = end_cover(plan.holds.all(), today, actor)
    still_due = sum(Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN)
                    .values_list("amount_due", flat=True), Decimal(0))
    return [kinds.hold_moved(kind, customer_id=plan.customer_id, actor=actor, plan=plan.pk, still_due=still_due,
                             released=released, **data)]


def _announce_end(plan: PaymentPlan) -> None:
    """The plan has ended and its event is recorded: dunning cancels its messages not yet sent."""
    plan_ended.send(sender=PaymentPlan, organisation=plan.organisation, plan=plan, state=plan.state)


# ------------------------------------------------------------------------------------------
# Following an active plan
# ------------------------------------------------------------------------------------------


def _statuses(plan: PaymentPlan, instalments: Sequence[Instalment]) -> list[InstalmentStatus]:
    rows = (Allocation.objects.filter(invoice__plan_lines__plan=plan, pk__gt=plan.allocation_watermark)
            .order_by("date", "pk").values_list("date", "amount", "payment_id"))
    payments = [(d, a) for d, a, payment in rows if payment is not None]
    credited = sum((a for _, a, payment in rows if payment is None), Decimal(0))
    return apply_to_instalments([i.amount for i in instalments], payments, credited)


def refresh_plan(plan: PaymentPlan, today: date, actor: str = "system") -> None:
    """Apply the payments to the instalments; complete the plan when all are paid (or its
    invoices are all settled). Writes the events."""
    if plan.state != PaymentPlan.State.ACTIVE:
        return
    instalments = list(plan.instalments.order_by("position"))
    events: list[NewEvent] = []
    for inst, status in zip(instalments, _statuses(plan, instalments), strict=True):
        if (inst.paid_amount, inst.credited_amount, inst.paid_on) == (status.paid, status.credited, status.paid_on):
            continue
        newly = status.settled and inst.remaining > 0
        inst.paid_amount, inst.credited_amount, inst.paid_on = status.paid, status.credited, status.paid_on
        inst.save(update_fields=["paid_amount", "credited_amount", "paid_on"])
        if newly:
            events.append(kinds.instalment_paid(
                customer_id=plan.customer_id, plan=plan.pk, position=inst.position, due_on=inst.due_on,
                amount=inst.amount, paid=inst.paid_amount, credited=inst.credited_amount, paid_on=inst.paid_on))
    open_left = Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN).exists()
    completed = all(i.remaining <= 0 for i in instalments) or not open_left
    if completed:
        events += _end_plan(plan, PaymentPlan.State.COMPLETED, today, actor, {})
    record_many(plan.organisation, events)
    if completed:
        _announce_end(plan)


def _lock_plans(qs: QuerySet[PaymentPlan]) -> list[PaymentPlan]:
    ids = set(qs.values_list("pk", flat=True))
    return list(PaymentPlan.objects.select_for_update().select_related("customer", "organisation")
                .filter(pk__in=ids).order_by("pk"))


def refresh_plans_for(organisation: Organisation, invoice_ids: Iterable[int], today: date) -> None:
    """On settlement (the payment holds the invoices and the organisation already)."""
    for plan in _lock_plans(PaymentPlan.objects.filter(organisation=organisation, state=PaymentPlan.State.ACTIVE,
                                                       lines__invoice_id__in=list(invoice_ids))):
        refresh_plan(plan, today)


def _last_notice(organisation: Organisation, inst: Instalment) -> Notice | None:
    """The instalment's last J+3 notice, as dunning (which plans and sends it) answers
    :data:`~relance.holds.signals.instalment_notice`: whether it left and when, or was cancelled
    before leaving. Holds knows neither dunning's reminders nor their kinds and statuses."""
    return next(iter(answers(instalment_notice, Instalment, organisation=organisation, instalment=inst)), None)


def _sent_on(notice: Notice, organisation: Organisation) -> date | None:
    """The local date the notice left on (the grace period runs from it), ``None`` if it did not."""
    return today_for(organisation, notice.sent_at) if notice.sent_at is not None else None


def review_plans(organisation: Organisation, today: date) -> list[Any]:
    """The daily run: bring the active plans up to date, ask for the instalment reminders (J−3)
    and notices (J+3) (:data:`~relance.holds.signals.instalment_due`), break the plans whose notice
    went unheeded. Returns the messages dunning planned in response (its ``Reminder`` rows)."""
    calendar = calendar_for(organisation)
    planned: list[Any] = []
    active = PaymentPlan.objects.filter(organisation=organisation, state=PaymentPlan.State.ACTIVE)
    lock_invoices(PlanInvoice.objects.filter(plan__in=active).values_list("invoice_id", flat=True))
    lock_organisation(organisation)
    for plan in _lock_plans(active):
        refresh_plan(plan, today)
        if plan.state != PaymentPlan.State.ACTIVE:
            continue
        invoices = list(Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN, amount_due__gt=0)
                        .order_by("due_date", "number"))
        events: list[NewEvent] = []
        broken = False
        messaged = False  # one instalment message per plan and day
        for inst in plan.instalments.order_by("position"):
            if inst.remaining <= 0:
                continue
            if inst.missed_on is not None:
                notice = _last_notice(organisation, inst)
                sent_on = _sent_on(notice, organisation) if notice else None
                if sent_on is not None and today > break_after(sent_on, plan.grace_days):
                    events += _end_plan(plan, PaymentPlan.State.BROKEN, today, "system", {
                        "position": inst.position, "due_on": inst.due_on, "remaining": inst.remaining,
                        "notice_sent_on": sent_on})
                    broken = True
                    break
                if not messaged and notice is not None and _notice_to_replan(organisation, plan, notice, today):
                    reminder = _replan_notice(organisation, plan, inst, notice, invoices, today, events)
                    planned += [reminder] if reminder else []
                    messaged = True
                continue
            if messaged:
                continue
            if inst.reminded_on is None and reminder_before(inst.due_on, calendar) <= today <= inst.due_on:
                planned += answers(instalment_due, Instalment, organisation=organisation, instalment=inst,
                                   invoices=invoices, today=today, message="reminder")
                inst.reminded_on = today
                inst.save(update_fields=["reminded_on"])
                messaged = True
            elif today >= missed_notice_on(inst.due_on, calendar):
                planned += answers(instalment_due, Instalment, organisation=organisation, instalment=inst,
                                   invoices=invoices, today=today, message="notice")
                inst.missed_on = today
                inst.save(update_fields=["missed_on"])
                messaged = True
                events.append(kinds.instalment_missed(customer_id=plan.customer_id, plan=plan.pk,
                                                      position=inst.position, due_on=inst.due_on,
                                                      remaining=inst.remaining))
        record_many(organisation, events)
        if broken:
            _announce_end(plan)
    return planned


def _notice_to_replan(organisation: Organisation, plan: PaymentPlan, notice: Notice, today: date) -> bool:
    """A J+3 notice cancelled at send time (a stop or a pause of the whole customer came
    first) was never sent, so the plan cannot break on it: once the customer may be contacted
    again, a new notice is planned and the grace period runs from its sending. While the
    customer stays stopped or paused, the plan waits (neither broken nor reminded). A failed
    notice is left to a person (« Renvoyer »)."""
    if not notice.cancelled:
        return False
    held = blocked(organisation, [plan.customer_id], today, except_plan_id=plan.pk)
    return plan.customer_id not in held.customers


def _replan_notice(organisation: Organisation, plan: PaymentPlan, inst: Instalment,
                   cancelled: Notice, invoices: list[Invoice], today: date,
                   events: list[NewEvent]) -> Any:
    reminder = next(iter(answers(instalment_due, Instalment, organisation=organisation, instalment=inst,
                                 invoices=invoices, today=today, message="notice_again")), None)
    inst.missed_on = today
    inst.save(update_fields=["missed_on"])
    events.append(kinds.instalment_notice_replanned(
        customer_id=plan.customer_id, reminder_id=cancelled.reminder_id, plan=plan.pk, position=inst.position,
        due_on=inst.due_on, remaining=inst.remaining, cancelled_notice=cancelled.reminder_id,
        notice=reminder.pk if reminder else None))
    return reminder


def instalment_outstanding(instalment: Instalment) -> Decimal:
    """What is still due on the instalment now (read-only: the send-time re-check)."""
    plan = instalment.plan
    instalments = list(plan.instalments.order_by("position"))
    statuses = _statuses(plan, instalments)
    return next(s.remaining for i, s in zip(instalments, statuses, strict=True) if i.pk == instalment.pk)
