"""The messages of a payment plan, which dunning composes and sends: the instalment reminders
(J−3) and notices (J+3) that ``holds.signals.instalment_due`` asks for (planned in
``dunning.handlers``), and the agreement letter — composed from the organisation's message
template ``accord_echeancier`` (PDF, kept on the plan: :func:`agreement_letter`) or sent by email
through the dispatcher (:func:`send_agreement`). The plan itself (its states, instalments and
cover) is ``relance.holds.services.plans``; the letter's variables are
``relance.holds.services.wording``.
"""

from __future__ import annotations

import hashlib
from datetime import date

from django.core.files.base import ContentFile
from django.db import transaction

from relance.channels.addressing import signatory_for
from relance.channels.post import customer_party, legal_footer, organisation_party, require_letterhead
from relance.clock import today_for
from relance.core import formatting as fmt
from relance.core.plans import agreement_key
from relance.documents.letter_pdf import LetterDoc
from relance.documents.plan_letter import SCHEDULE_MARKER, PlanAgreementDoc, ScheduleRow, render_plan_agreement_pdf
from relance.dunning.models import Reminder, ReminderLine
from relance.errors import Conflict, InvalidInput
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import PaymentPlan
from relance.holds.services.holds import found_or_404
from relance.holds.services.plans import OPEN_STATES, lock_plan
from relance.holds.services.wording import plan_context, plan_terms
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.locks import lock_organisation, lock_row

from .messages import build_context, render
from .queue import queue_send

AGREEMENT_TEMPLATE = "accord_echeancier"
#: the covering email of the agreement letter sent as a PDF attachment
AGREEMENT_EMAIL_TEMPLATE = "accord_echeancier_envoi"
#: the messages about an instalment
PLAN_KINDS = (Reminder.Kind.INSTALMENT_DUE, Reminder.Kind.INSTALMENT_MISSED)


def agreement_document(organisation: Organisation, plan: PaymentPlan, today: date) -> PlanAgreementDoc:
    require_letterhead(organisation)
    customer = plan.customer
    language = customer.language
    contact = customer.billing_contact
    invoices = list(Invoice.objects.filter(plan_lines__plan=plan).order_by("due_date", "number"))
    signer = signatory_for(organisation, customer)
    context = build_context(organisation, customer, contact, invoices, today, letter=True, signer=signer)
    context["echeancier"] = {**plan_context(plan, language, today), "tableau": SCHEDULE_MARKER}
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
        signature_name=signer.name,
        signature_title=signer.title,
        language=language,
        logo_path=organisation.logo.path if organisation.logo else "",
        footer=legal_footer(organisation),
    )
    rows = tuple(ScheduleRow(i.position, fmt.short_date(i.due_on, language),
                             fmt.money(i.amount, plan.currency, language))
                 for i in plan.instalments.order_by("position"))
    return PlanAgreementDoc(letter=letter, rows=rows, total=fmt.money(plan.total, plan.currency, language),
                            terms=plan_terms(plan, language), debtor=customer.legal_name, note=plan.note,
                            business=customer.is_business)


def agreement_letter(organisation: Organisation, plan: PaymentPlan, *, actor: str = "system",
                     today: date | None = None) -> bytes:
    """Render the agreement letter (PDF) to send for signature, keep it on the plan (with its
    SHA-256) and record it."""
    today = today or today_for(organisation)
    with transaction.atomic():
        lock_organisation(organisation)
        plan = found_or_404(lock_row(PaymentPlan, organisation, plan.pk), PaymentPlan)
        if plan.state not in OPEN_STATES:
            raise Conflict(f"L’échéancier n° {plan.pk} est {plan.get_state_display().lower()} : plus de lettre "
                           "d’accord à envoyer.")
        pdf = render_plan_agreement_pdf(agreement_document(organisation, plan, today))
        plan.agreement.save(f"{organisation.slug}/echeancier-{plan.pk}-{today.isoformat()}.pdf", ContentFile(pdf),
                            save=False)
        plan.agreement_sha256 = hashlib.sha256(pdf).hexdigest()
        plan.save(update_fields=["agreement", "agreement_sha256"])
        record_many(organisation, [kinds.plan_agreement_issued(customer_id=plan.customer_id, plan=plan.pk,
                                                               document=plan.agreement.name or "",
                                                               sha256=plan.agreement_sha256, actor=actor)])
    return pdf


# ------------------------------------------------------------------------------------------
# Sending the agreement letter by email
# ------------------------------------------------------------------------------------------


class NoEmailAddress(InvalidInput):
    """The customer has no email address: the agreement letter is printed and posted instead."""


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
    today = today or today_for(organisation)
    with transaction.atomic():
        plan = lock_plan(organisation, plan)
        if plan.state not in OPEN_STATES:
            raise Conflict(f"L’échéancier n° {plan.pk} est {plan.get_state_display().lower()} : plus d’accord "
                           "à envoyer.")
        customer = Customer.objects.get(pk=plan.customer_id)
        if not Contact.objects.filter(customer=customer, email_bounced_at__isnull=True).exclude(email="").exists():
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
            record_many(organisation, [kinds.plan_agreement_planned(
                customer_id=customer.pk, reminder_id=reminder.pk, plan=plan.pk, invoices=[i.number for i in invoices],
                total=plan.total, actor=actor)])
            queue_send(reminder.pk)
    return reminder, created
