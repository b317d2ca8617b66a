"""Payment plans (*échéanciers*): propose, accept, follow, complete, break, cancel.

* :func:`propose_plan` splits what the chosen invoices still owe into instalments, equal (the
  cents remainder on the last) or custom; a schedule that does not add up, or any other bad
  input, is :class:`~relance.errors.InvalidInput` and nothing is saved. :func:`agreement_letter`
  renders the agreement letter (PDF) to send for signature.
* :func:`accept_plan` (signed or accepted): the plan becomes active; one ``plan`` hold per open
  invoice pauses the normal sequence for them, and the promises on them are cancelled (the plan
  replaces them).
* The daily run (:func:`review_plans`) applies the payments received on the plan's invoices to
  the instalments in order (credit notes reduce the last ones: ``core.plans``), plans a reminder
  J−3 before each instalment and a notice J+3 after one still unpaid, through the normal
  Reminder/dispatcher path (unique idempotency keys: never twice), and breaks the plan when an
  instalment is still unpaid ``grace_days`` after its J+3 notice was sent: the holds end and the
  normal sequence resumes on what is still due. A notice cancelled at send time (the customer was
  stopped or paused) was never sent: the plan cannot break on it; the plan waits while the
  customer stays stopped or paused, then a new notice is planned (``instalment.notice_replanned``)
  and the grace period runs from its sending.
* :func:`send_agreement` sends the agreement letter by email (PDF attached) through the
  dispatcher, once per plan and day; without an email address it is printed instead.
* Paid in full → completed. :func:`cancel_plan` → cancelled (the sequence resumes).

Penalties: for a business debtor, late-payment penalties (C. com. L441-10) and the 40 €
indemnity (D441-5) keep accruing on what is due during a plan, as the law provides, unless the plan *waives* them
(``waive_penalties``): the waiver is conditional on the plan being honoured, stated in the
agreement letter, and lapses if the plan breaks — the later reminders then state the penalties
from the original due dates, as ``charges`` computes them. The instalment reminders state no
penalty figures. A consumer owes neither (CPCE L111-8): the agreement letter speaks only of
interest from a formal notice, and asks for no company stamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q, QuerySet

from relance.channels.post import customer_party, legal_footer, organisation_party, require_letterhead
from relance.core import formatting as fmt
from relance.core.plans import (
    DEFAULT_GRACE_DAYS,
    InstalmentSpec,
    InstalmentStatus,
    PlanInputError,
    agreement_key,
    apply_to_instalments,
    break_after,
    equal_schedule,
    instalment_key,
    missed_notice_on,
    reminder_before,
    validate_schedule,
)
from relance.documents.letter_pdf import LetterDoc
from relance.documents.plan_letter import SCHEDULE_MARKER, PlanAgreementDoc, ScheduleRow, render_plan_agreement_pdf
from relance.dunning.models import Reminder, ReminderLine
from relance.errors import Conflict, InvalidInput
from relance.events.services import NewEvent, record_many
from relance.holds.models import Hold, Instalment, PaymentPlan, PlanInvoice, Promise
from relance.ledger.models import Allocation, Contact, Customer, Invoice, Organisation

from .context import calendar_for
from .holds import (
    InvoiceRef,
    active_disputes,
    blocked,
    cancel_pending,
    check_customer,
    close_promise,
    end_cover,
    in_open_plan,
    lock,
    lock_invoices,
    lock_promises,
    move,
    plan_message,
    resolve_invoices,
    serialise,
    today_or_local,
    withdraw_held_awaiting,
)
from .messages import build_context, render

AGREEMENT_TEMPLATE = "accord_echeancier"
#: the covering email of the agreement letter sent as a PDF attachment
AGREEMENT_EMAIL_TEMPLATE = "accord_echeancier_envoi"
OPEN_STATES = (PaymentPlan.State.PROPOSED, PaymentPlan.State.ACTIVE)
PLAN_KINDS = (Reminder.Kind.INSTALMENT_DUE, Reminder.Kind.INSTALMENT_MISSED)
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
        serialise(organisation)
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
        record_many(organisation, [NewEvent("plan.proposed", customer_id=customer.pk, actor=actor, data={
            "plan": plan.pk, "invoices": [i.number for i in chosen], "total": total,
            "instalments": [{"due_on": s.due_on, "amount": s.amount} for s in specs],
            "waive_penalties": waive_penalties, "grace_days": grace_days, "note": note,
        })])
    return plan


def accept_plan(organisation: Organisation, plan: PaymentPlan, *, actor: str, on: date | None = None,
                signed_copy: tuple[str, bytes] | None = None) -> PaymentPlan:
    """The customer signed (or accepted) the plan: it becomes active and pauses its invoices."""
    on = today_or_local(organisation, on)
    with transaction.atomic():
        plan = _lock_plan(organisation, plan)
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
        events.append(NewEvent(kind, customer_id=plan.customer_id, actor=actor, data={
            "plan": plan.pk, "accepted_on": on, "invoices": [i.number for i in invoices],
            "signed_copy": plan.signed_copy.name or ""}))
        events += withdraw_held_awaiting(organisation, plan.customer_id, on, actor)
        record_many(organisation, events)
        refresh_plan(plan, on)
    return plan


def _lock_plan(organisation: Organisation, plan: PaymentPlan) -> PaymentPlan:
    """Lock the plan's invoices, the organisation, then the plan (the order of ``holds``)."""
    lock_invoices(PlanInvoice.objects.filter(plan_id=plan.pk, plan__organisation=organisation)
                  .values_list("invoice_id", flat=True))
    serialise(organisation)
    locked: PaymentPlan = lock(PaymentPlan, organisation, plan.pk)
    return locked


def _suffix(name: str) -> str:
    lowered = name.lower()
    return next((s for s in (".pdf", ".png", ".jpg", ".jpeg") if lowered.endswith(s)), "")


def cancel_plan(organisation: Organisation, plan: PaymentPlan, *, actor: str, reason: str = "",
                today: date | None = None) -> PaymentPlan:
    """Withdraw a proposal, or end an active plan by agreement: the normal sequence resumes."""
    today = today_or_local(organisation, today)
    with transaction.atomic():
        plan = _lock_plan(organisation, plan)
        record_many(organisation, _end_plan(plan, PaymentPlan.State.CANCELLED, today, actor, {"reason": reason}))
    return plan


def _end_plan(plan: PaymentPlan, target: str, today: date, actor: str, data: dict[str, Any]) -> list[NewEvent]:
    kind = move("plan", plan.state, target)
    plan.state, plan.ended_on = target, today
    plan.save(update_fields=["state", "ended_on"])
    released = end_cover(plan.holds.all(), today, actor)
    ours = Reminder.objects.filter(Q(instalment__plan=plan, kind__in=PLAN_KINDS)
                                   | Q(plan=plan, kind=Reminder.Kind.PLAN_AGREEMENT))
    events = cancel_pending(plan.organisation, ours, f"plan_{target}", "échéancier terminé avant l’envoi")
    still_due = sum(Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN)
                    .values_list("amount_due", flat=True), Decimal(0))
    return [NewEvent(kind, customer_id=plan.customer_id, actor=actor,
                     data={"plan": plan.pk, "still_due": still_due, "released": released, **data}), *events]


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
            events.append(NewEvent("instalment.paid", customer_id=plan.customer_id, data={
                "plan": plan.pk, "position": inst.position, "due_on": inst.due_on, "amount": inst.amount,
                "paid": inst.paid_amount, "credited": inst.credited_amount, "paid_on": inst.paid_on}))
    open_left = Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN).exists()
    if all(i.remaining <= 0 for i in instalments) or not open_left:
        events += _end_plan(plan, PaymentPlan.State.COMPLETED, today, actor, {})
    record_many(plan.organisation, events)


def _lock_plans(qs: QuerySet[PaymentPlan]) -> list[PaymentPlan]:
    ids = set(qs.values_list("pk", flat=True))
    return list(PaymentPlan.objects.select_for_update().select_related("customer", "organisation")
                .filter(pk__in=ids).order_by("pk"))


def refresh_plans_for(organisation: Organisation, invoice_ids: Iterable[int], today: date) -> None:
    """On settlement (the payment holds the invoices and the organisation already)."""
    for plan in _lock_plans(PaymentPlan.objects.filter(organisation=organisation, state=PaymentPlan.State.ACTIVE,
                                                       lines__invoice_id__in=list(invoice_ids))):
        refresh_plan(plan, today)


def _sent_on(reminder: Reminder, organisation: Organisation) -> date | None:
    if reminder.status != Reminder.Status.SENT or reminder.sent_at is None:
        return None
    sent: datetime = reminder.sent_at
    return sent.astimezone(ZoneInfo(organisation.timezone)).date()


def review_plans(organisation: Organisation, today: date) -> list[Reminder]:
    """The daily run: bring the active plans up to date, plan the instalment reminders (J−3)
    and notices (J+3), break the plans whose notice went unheeded. Returns the reminders planned."""
    calendar = calendar_for(organisation)
    planned: list[Reminder] = []
    active = PaymentPlan.objects.filter(organisation=organisation, state=PaymentPlan.State.ACTIVE)
    lock_invoices(PlanInvoice.objects.filter(plan__in=active).values_list("invoice_id", flat=True))
    serialise(organisation)
    for plan in _lock_plans(active):
        refresh_plan(plan, today)
        if plan.state != PaymentPlan.State.ACTIVE:
            continue
        invoices = list(Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN, amount_due__gt=0)
                        .order_by("due_date", "number"))
        events: list[NewEvent] = []
        messaged = False  # one instalment message per plan and day
        for inst in plan.instalments.order_by("position"):
            if inst.remaining <= 0:
                continue
            if inst.missed_on is not None:
                notice = inst.reminders.filter(kind=Reminder.Kind.INSTALMENT_MISSED).order_by("-pk").first()
                sent_on = _sent_on(notice, organisation) if notice else None
                if sent_on is not None and today > break_after(sent_on, plan.grace_days):
                    events += _end_plan(plan, PaymentPlan.State.BROKEN, today, "system", {
                        "position": inst.position, "due_on": inst.due_on, "remaining": inst.remaining,
                        "notice_sent_on": sent_on})
                    break
                if not messaged and notice is not None and _notice_to_replan(organisation, plan, notice, today):
                    reminder = _replan_notice(organisation, plan, inst, notice, invoices, today, events)
                    planned += [reminder] if reminder else []
                    messaged = True
                continue
            if messaged:
                continue
            if inst.reminded_on is None and reminder_before(inst.due_on, calendar) <= today <= inst.due_on:
                reminder = plan_message(organisation, plan.customer, Reminder.Kind.INSTALMENT_DUE,
                                        instalment_key(organisation.pk, inst.pk, "before"), today, invoices,
                                        instalment=inst, label="Rappel d’échéance")
                inst.reminded_on = today
                inst.save(update_fields=["reminded_on"])
                planned += [reminder] if reminder else []
                messaged = True
            elif today >= missed_notice_on(inst.due_on, calendar):
                reminder = plan_message(organisation, plan.customer, Reminder.Kind.INSTALMENT_MISSED,
                                        instalment_key(organisation.pk, inst.pk, "missed"), today, invoices,
                                        instalment=inst, label="Échéance impayée")
                inst.missed_on = today
                inst.save(update_fields=["missed_on"])
                planned += [reminder] if reminder else []
                messaged = True
                events.append(NewEvent("instalment.missed", customer_id=plan.customer_id, data={
                    "plan": plan.pk, "position": inst.position, "due_on": inst.due_on, "remaining": inst.remaining}))
        record_many(organisation, events)
    return planned


def _notice_to_replan(organisation: Organisation, plan: PaymentPlan, notice: Reminder, today: date) -> bool:
    """A J+3 notice cancelled at send time (a stop or a pause of the whole customer came
    first) was never sent, so the plan cannot break on it: once the customer may be contacted
    again, a new notice is planned and the grace period runs from its sending. While the
    customer stays stopped or paused, the plan waits (neither broken nor reminded). A failed
    notice is left to a person (« Renvoyer »)."""
    if notice.status != Reminder.Status.CANCELLED:
        return False
    held = blocked(organisation, [plan.customer_id], today, except_plan_id=plan.pk)
    return plan.customer_id not in held.customers


def _replan_notice(organisation: Organisation, plan: PaymentPlan, inst: Instalment, cancelled: Reminder,
                   invoices: list[Invoice], today: date, events: list[NewEvent]) -> Reminder | None:
    count = inst.reminders.filter(kind=Reminder.Kind.INSTALMENT_MISSED).count()
    reminder = plan_message(organisation, plan.customer, Reminder.Kind.INSTALMENT_MISSED,
                            instalment_key(organisation.pk, inst.pk, f"missed-{count + 1}"), today, invoices,
                            instalment=inst, label="Échéance impayée")
    inst.missed_on = today
    inst.save(update_fields=["missed_on"])
    events.append(NewEvent("instalment.notice_replanned", customer_id=plan.customer_id, reminder_id=cancelled.pk,
                           data={"plan": plan.pk, "position": inst.position, "due_on": inst.due_on,
                                 "remaining": inst.remaining, "cancelled_notice": cancelled.pk,
                                 "notice": reminder.pk if reminder else None}))
    return reminder


def instalment_outstanding(instalment: Instalment) -> Decimal:
    """What is still due on the instalment now (read-only: the send-time re-check)."""
    plan = instalment.plan
    instalments = list(plan.instalments.order_by("position"))
    statuses = _statuses(plan, instalments)
    return next(s.remaining for i, s in zip(instalments, statuses, strict=True) if i.pk == instalment.pk)


# ------------------------------------------------------------------------------------------
# Wording: message variables and the agreement letter
# ------------------------------------------------------------------------------------------


def _plan_context(plan: PaymentPlan, language: str, today: date) -> dict[str, Any]:
    instalments = list(plan.instalments.order_by("position"))
    rows = [{"numero": i.position, "date": fmt.long_date(i.due_on, language),
             "date_courte": fmt.short_date(i.due_on, language), "montant": fmt.money(i.amount, plan.currency, language),
             "reste": fmt.money(max(i.remaining, Decimal(0)), plan.currency, language), "reglee": i.remaining <= 0}
            for i in instalments]
    remaining = sum((max(i.remaining, Decimal(0)) for i in instalments), Decimal(0))
    sep = ":" if language == "en" else " :"
    table = "\n".join(f"{r['numero']}. {r['date_courte']}{sep} {r['montant']}" for r in rows)
    grace = f"{plan.grace_days} jours" if language != "en" else f"{plan.grace_days} days"
    return {
        "numero": plan.pk,
        "total": fmt.money(plan.total, plan.currency, language),
        "nombre_echeances": len(rows),
        "echeances": rows,
        "tableau": table,
        "reste_du": fmt.money(remaining, plan.currency, language),
        "renonciation_penalites": plan.waive_penalties,
        "delai": grace,
        "date_proposition": fmt.long_date(plan.proposed_on, language),
        "date_accord": fmt.long_date(plan.accepted_on, language) if plan.accepted_on else "",
    }


def instalment_context(instalment: Instalment, language: str, today: date) -> dict[str, Any]:
    """The ``echeancier`` and ``echeance`` variables of the instalment templates."""
    plan = instalment.plan
    deadline = break_after(today, plan.grace_days)
    return {
        "echeancier": _plan_context(plan, language, today),
        "echeance": {
            "numero": instalment.position,
            "date": fmt.long_date(instalment.due_on, language),
            "montant": fmt.money(instalment.amount, plan.currency, language),
            "reste": fmt.money(max(instalment.remaining, Decimal(0)), plan.currency, language),
            "date_limite": fmt.long_date(deadline, language),
        },
    }


def _consumer_interest_term(plan: PaymentPlan, language: str) -> str:
    """A consumer owes no penalties nor recovery fees (CPCE L111-8): only interest from the
    formal notice, at the legal rate (C. civ. 1231-6, 1344-1) or the contract's clause (1231-5)."""
    if language == "en":
        return ("Provided this schedule is strictly honoured, no late-payment interest will be claimed from you."
                if plan.waive_penalties else
                "The amounts remaining due bear interest only from a formal notice to pay (articles 1231-6 and "
                "1344-1 of the French Civil Code).")
    return ("Sous réserve du strict respect de cet échéancier, aucun intérêt de retard ne vous sera réclamé."
            if plan.waive_penalties else
            "Les sommes restant dues ne produisent intérêts qu’à compter d’une mise en demeure de payer (articles "
            "1231-6 et 1344-1 du Code civil).")


def _terms(plan: PaymentPlan, language: str) -> tuple[str, ...]:
    business = plan.customer.is_business
    if language == "en":
        penalties = (
            "Provided this schedule is strictly honoured, we waive the late-payment interest and the fixed recovery "
            "fee (articles L441-10 and D441-5 of the French Commercial Code); should it not be, they become due "
            "again from the original due dates." if plan.waive_penalties else
            "Late-payment interest (article L441-10 of the French Commercial Code) continues to accrue on the "
            "amounts remaining due until full payment.") if business else _consumer_interest_term(plan, language)
        return (
            "Each payment is applied to the earliest instalment not yet paid.",
            penalties,
            f"Should an instalment remain unpaid {plan.grace_days} days after the notice we will send you, this "
            "schedule will lapse and the whole balance will become immediately due.",
        )
    penalties = (
        "Sous réserve du strict respect de cet échéancier, nous renonçons aux pénalités de retard et à l’indemnité "
        "forfaitaire pour frais de recouvrement (articles L441-10 et D441-5 du Code de commerce) ; à défaut, elles "
        "redeviendront exigibles depuis les échéances d’origine." if plan.waive_penalties else
        "Les pénalités de retard prévues à l’article L441-10 du Code de commerce continuent de courir sur les sommes "
        "restant dues jusqu’à complet paiement.") if business else _consumer_interest_term(plan, language)
    return (
        "Chaque règlement s’impute sur la plus ancienne échéance non encore réglée.",
        penalties,
        f"À défaut de règlement d’une échéance {plan.grace_days} jours après l’avis que nous vous adresserons, "
        "le présent échéancier sera caduc et la totalité du solde deviendra immédiatement exigible.",
    )


def agreement_document(organisation: Organisation, plan: PaymentPlan, today: date) -> PlanAgreementDoc:
    require_letterhead(organisation)
    customer = plan.customer
    language = customer.language
    contact = customer.billing_contact
    invoices = list(Invoice.objects.filter(plan_lines__plan=plan).order_by("due_date", "number"))
    context = build_context(organisation, customer, contact, invoices, today)
    context["echeancier"] = {**_plan_context(plan, language, today), "tableau": SCHEDULE_MARKER}
    message = render(organisation, AGREEMENT_TEMPLATE, context)
    fr = language != "en"
    letter = LetterDoc(
        sender=organisation_party(organisation),
        recipient=customer_party(customer, contact, language),
        place=organisation.city,
        on=today,
        subject=("Objet : " if fr else "Subject: ") + message.subject,
        references=((f"Vos références : client {customer.code}" if fr else f"Your reference: customer {customer.code}"),
                    (f"Nos références : échéancier n° {plan.pk}" if fr else f"Our reference: payment plan {plan.pk}")),
        body_html=message.html,
        signature_name=organisation.signature_name,
        signature_title=organisation.signature_title,
        language=language,
        logo_path=organisation.logo.path if organisation.logo else "",
        footer=legal_footer(organisation),
    )
    rows = tuple(ScheduleRow(i.position, fmt.short_date(i.due_on, language),
                             fmt.money(i.amount, plan.currency, language))
                 for i in plan.instalments.order_by("position"))
    return PlanAgreementDoc(letter=letter, rows=rows, total=fmt.money(plan.total, plan.currency, language),
                            terms=_terms(plan, language), debtor=customer.legal_name, note=plan.note,
                            business=customer.is_business)


def agreement_letter(organisation: Organisation, plan: PaymentPlan, *, actor: str = "system",
                     today: date | None = None) -> bytes:
    """Render the agreement letter (PDF) to send for signature, keep it on the plan (with its
    SHA-256) and record it."""
    today = today_or_local(organisation, today)
    with transaction.atomic():
        serialise(organisation)
        plan = lock(PaymentPlan, organisation, plan.pk)
        if plan.state not in OPEN_STATES:
            raise Conflict(f"L’échéancier n° {plan.pk} est {plan.get_state_display().lower()} : plus de lettre "
                           "d’accord à envoyer.")
        pdf = render_plan_agreement_pdf(agreement_document(organisation, plan, today))
        plan.agreement.save(f"{organisation.slug}/echeancier-{plan.pk}-{today.isoformat()}.pdf", ContentFile(pdf),
                            save=False)
        plan.agreement_sha256 = hashlib.sha256(pdf).hexdigest()
        plan.save(update_fields=["agreement", "agreement_sha256"])
        record_many(organisation, [NewEvent("plan.agreement_issued", customer_id=plan.customer_id, actor=actor, data={
            "plan": plan.pk, "document": plan.agreement.name, "sha256": plan.agreement_sha256})])
    return pdf


# ------------------------------------------------------------------------------------------
# Sending the agreement letter by email
# ------------------------------------------------------------------------------------------


class NoEmailAddress(InvalidInput):
    """The customer has no email address: the agreement letter is printed and posted instead."""


def agreement_context(plan: PaymentPlan, language: str, today: date) -> dict[str, Any]:
    """The ``echeancier`` variables of the covering email (``accord_echeancier_envoi``)."""
    return {"echeancier": _plan_context(plan, language, today)}


def agreement_pdf(organisation: Organisation, plan: PaymentPlan, today: date) -> bytes:
    """The agreement letter as it stands today (rendered, not stored)."""
    return render_plan_agreement_pdf(agreement_document(organisation, plan, today))


def send_agreement(organisation: Organisation, plan: PaymentPlan, *, actor: str,
                   today: date | None = None) -> tuple[Reminder, bool]:
    """Send the agreement letter (PDF) to the customer's email address, through the dispatcher:
    a ``plan_agreement`` reminder planned for today and put on the task queue; the dispatcher
    renders the letter, attaches it, sends once and records ``plan.agreement_sent``.

    Idempotent per plan and day: asking again the same day (a double click) finds the first
    one, returned with ``False``, and sends nothing more. :class:`NoEmailAddress` when the
    customer has no email address (print the letter instead)."""
    today = today_or_local(organisation, today)
    with transaction.atomic():
        plan = _lock_plan(organisation, plan)
        if plan.state not in OPEN_STATES:
            raise Conflict(f"L’échéancier n° {plan.pk} est {plan.get_state_display().lower()} : plus d’accord "
                           "à envoyer.")
        customer = Customer.objects.get(pk=plan.customer_id)
        if not Contact.objects.filter(customer=customer).exclude(email="").exists():
            raise NoEmailAddress(f"Le client {customer.code} n’a pas d’adresse e-mail : imprimez la lettre d’accord "
                                 "et envoyez-la par courrier.")
        invoices = list(Invoice.objects.filter(plan_lines__plan=plan, status=Invoice.Status.OPEN, amount_due__gt=0)
                        .order_by("due_date", "number"))
        if not invoices:
            raise InvalidInput("Les factures de cet échéancier sont déjà soldées : il n’y a plus d’accord à envoyer.")
        reminder, created = Reminder.objects.get_or_create(
            idempotency_key=agreement_key(organisation.pk, plan.pk, today),
            defaults=dict(organisation=organisation, customer=customer, kind=Reminder.Kind.PLAN_AGREEMENT,
                          channel="email", planned_for=today, plan=plan),
        )
        if created:
            ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=-1,
                                                           amount_due=i.amount_due) for i in invoices])
            record_many(organisation, [NewEvent("plan.agreement_planned", customer_id=customer.pk,
                                                reminder_id=reminder.pk, actor=actor, data={
                                                    "plan": plan.pk, "invoices": [i.number for i in invoices],
                                                    "total": plan.total})])
            transaction.on_commit(lambda: _enqueue(reminder.pk), robust=True)
    return reminder, created


def _enqueue(reminder_id: int) -> None:
    from relance.dunning.tasks import send_reminder_task  # the tasks module imports the dispatcher

    send_reminder_task.enqueue(reminder_id)
