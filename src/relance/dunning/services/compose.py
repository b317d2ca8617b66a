"""Composing a reminder's message: channel, contact, subject, text, HTML, attachments, payment
block and figures — everything it will be, without sending it.

It only reads the database (a test holds it: no INSERT, UPDATE or DELETE while composing). The
payment reference is read as the invoice or customer has it (given at creation,
``ledger.services.references``); events to record (a missing rate) are returned in ``events``
for the caller's transaction. The dispatcher composes at send time, under its locks, then
records and hands over (``dispatcher``); the approval queue composes to preview
(``approvals``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from relance.channels.addressing import Signatory, signatory_for
from relance.channels.email import build_email
from relance.channels.errors import PermanentFailure
from relance.core.policy import FORMAL_NOTICE_TEMPLATE, Channel
from relance.documents.payment_block import PAYMENT_MARKER, PaymentBlock
from relance.dunning.models import Reminder
from relance.errors import InvalidInput
from relance.events import kinds
from relance.events.services import NewEvent
from relance.holds.services.plans import instalment_outstanding
from relance.holds.services.wording import agreement_context, instalment_context, promise_context
from relance.ledger.models import Allocation, Contact, Customer, Invoice, Organisation
from relance.rates.services import RATE_MISSING_PREFIX, rate_tables

from .charges import InvoiceCharges, charges_of_invoices
from .invoice_copy import COPY_TEMPLATE
from .messages import CHARGED_TEMPLATES, Received, build_context, render
from .payment_details import payment_block_for
from .plan_messages import AGREEMENT_EMAIL_TEMPLATE, PLAN_KINDS, agreement_pdf

THANKS_TEMPLATE = "remerciement"
#: the template of the messages that are not a scenario step
KIND_TEMPLATES: dict[str, str] = {
    Reminder.Kind.THANKS: THANKS_TEMPLATE,
    Reminder.Kind.PROMISE_BROKEN: "promesse_non_tenue",
    Reminder.Kind.INSTALMENT_DUE: "echeance_a_venir",
    Reminder.Kind.INSTALMENT_MISSED: "echeance_impayee",
    Reminder.Kind.PLAN_AGREEMENT: AGREEMENT_EMAIL_TEMPLATE,
    Reminder.Kind.FORMAL_NOTICE_AGAIN: FORMAL_NOTICE_TEMPLATE,
    Reminder.Kind.INVOICE_COPY: COPY_TEMPLATE,
}


def _billing_contact(customer: Customer, want_email: bool) -> Contact | None:
    """The contact a message speaks to: the billing contact first, then the others in the order
    they were recorded; for an email, the first of them whose address is usable (an address
    returned for good, a permanent bounce, is not used any more)."""
    contacts = list(customer.contacts.all())
    ordered = sorted(contacts, key=lambda c: (not c.is_billing, c.id or 0))
    if want_email:
        return next((c for c in ordered if c.usable_email), None)
    return ordered[0] if ordered else None


def copied_contacts(org: Organisation, customer: Customer, contact: Contact | None) -> list[Contact]:
    """The customer's other contacts an email goes to in copy, when the organisation asks for it
    (``Organisation.copy_other_contacts``): those with a usable address, each address once, never
    the main recipient's."""
    if not org.copy_other_contacts or contact is None:
        return []
    seen = {contact.usable_email.lower()}
    copied = []
    for other in sorted(customer.contacts.all(), key=lambda c: (not c.is_billing, c.id or 0)):
        address = other.usable_email.lower()
        if other.pk != contact.pk and address and address not in seen:
            seen.add(address)
            copied.append(other)
    return copied


def payments_received(invoices: list[Invoice]) -> list[Received]:
    """The payments applied to ``invoices`` (not the credit notes): what a thank-you says was
    received, each with the amount applied to these invoices."""
    by_payment: dict[int, Received] = {}
    for allocation in (Allocation.objects.filter(invoice__in=[i.pk for i in invoices], payment__isnull=False)
                       .select_related("payment").order_by("payment__date", "payment_id")):
        payment = allocation.payment
        assert payment is not None
        known = by_payment.get(payment.pk)
        amount = allocation.amount + (known.amount if known else 0)
        by_payment[payment.pk] = Received(payment.date, amount, payment.reference)
    return list(by_payment.values())


@dataclass
class Composed:
    """A message as it will go out: the channel (an email without an address becomes a letter),
    the contact, the wording (rendered from the template, or the one edited for the customer),
    the payment block and the attached invoices."""

    channel: str
    contact: Contact | None
    subject: str
    text: str
    html: str  # the body as an HTML fragment
    payment: PaymentBlock | None
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    edited: bool = False
    signer: Signatory | None = None  # who signs (None: the organisation's signatory)
    cc: list[Contact] = field(default_factory=list)  # in copy of an email


@dataclass(frozen=True)
class Shared:
    """What composing several messages at once reads once (a page of the approval queue): the
    templates by (key, language) and the charges of their invoices (:func:`charges_of_invoices`)."""

    templates: Mapping[tuple[str, str], tuple[str, str]]
    charges: Mapping[int, InvoiceCharges]
    #: who signs, by customer id (``relance.channels.addressing.signatories_for``); read on demand when absent
    signers: Mapping[int, Signatory] = field(default_factory=dict)


def template_key(reminder: Reminder) -> str:
    """The key of the template a reminder's message is written with."""
    step = reminder.step
    return KIND_TEMPLATES.get(reminder.kind) or (step.template if step else "relance_1")


def is_charged(key: str, customer: Customer) -> bool:
    """Whether the message states the charges owed to date (see :func:`_charges`): a business
    debtor's penalties and indemnities, or a consumer's interest since the formal notice (nothing
    before it: the figures are then empty)."""
    return key in CHARGED_TEMPLATES


def compose(reminder: Reminder, org: Organisation, customer: Customer, invoices: list[Invoice], today: date,
            events: list[NewEvent], shared: Shared | None = None) -> Composed:
    """Everything the message will be, without sending it (the send and the approval preview)."""
    if reminder.kind == Reminder.Kind.CASE_HANDOVER:
        return _case_handover(reminder)
    channel = reminder.channel
    contact = _billing_contact(customer, want_email=channel == Channel.EMAIL)
    if channel == Channel.EMAIL and contact is None:
        channel = Channel.LETTER  # no address any more: the letter goes instead
        contact = _billing_contact(customer, want_email=False)
    step = reminder.step
    attachments: list[tuple[str, bytes, str]] = []
    missing: list[str] = []
    if reminder.kind == Reminder.Kind.PLAN_AGREEMENT:
        attachments.append(_agreement_attachment(reminder, org, customer, channel, today))
    if reminder.kind == Reminder.Kind.INVOICE_COPY:
        attachments += _copy_attachments(channel, customer, invoices)
    elif channel == Channel.EMAIL and step is not None and step.attach_invoices:
        for invoice in invoices:
            if invoice.pdf:
                try:
                    with invoice.pdf.open("rb") as fh:
                        attachments.append((f"Facture-{invoice.number}.pdf", fh.read(), "application/pdf"))
                except OSError:
                    missing.append(invoice.number)
    payment = payment_block(reminder, org, customer, invoices)
    signer = (shared.signers[customer.pk] if shared is not None and customer.pk in shared.signers
              else signatory_for(org, customer))
    cc = copied_contacts(org, customer, contact) if channel == Channel.EMAIL else []
    if reminder.edited_at is not None:
        # the wording edited for this customer is sent exactly as stored; the payment block (and
        # its QR code) only where the edited text kept it
        html = reminder.body_html
        return Composed(channel, contact, reminder.subject, reminder.body_text, html,
                        payment if PAYMENT_MARKER in html else None, attachments, missing, edited=True,
                        signer=signer, cc=cc)
    other_due: list[Invoice] = []
    received: list[Received] = []
    if reminder.kind == Reminder.Kind.THANKS:
        other_due = list(Invoice.objects.filter(customer=customer, status=Invoice.Status.OPEN, due_date__lt=today))
        received = payments_received(invoices)
    key = template_key(reminder)
    charges = _charges(org, customer, invoices, today, key, reminder, events,
                       shared.charges if shared is not None else None)
    context = build_context(org, customer, contact, invoices, today, attachments=bool(attachments),
                            other_due=other_due, charges=charges, payment_block=payment,
                            letter=channel != Channel.EMAIL, signer=signer, received=received)
    context.update(_hold_context(reminder, customer.language, today))
    message = render(org, key, context,
                     shared.templates.get((key, customer.language)) if shared is not None else None)
    return Composed(channel, contact, message.subject, message.text, message.html, payment, attachments, missing,
                    signer=signer, cc=cc)


def outgoing_email(org: Organisation, reminder: Reminder, customer: Customer,
                   composed: Composed) -> tuple[EmailMultiAlternatives, str, dict[str, Any]]:
    """The email of a composed message (the other contacts in copy, ``Composed.cc``), its
    recipient as recorded, and what the events say of it. In test mode
    (``Organisation.test_mode_email``) it goes to the test address alone instead of the
    customer's (no copy), subject prefixed « [TEST] »; the recipient records both."""
    contact = composed.contact
    assert contact is not None
    email = build_email(org, contact, email_subject(org, composed.subject), composed.text, composed.html,
                        reminder.idempotency_key, customer.language, composed.attachments, payment=composed.payment,
                        nonce=reminder.message_nonce, cc=composed.cc, signer=composed.signer)
    recipient, test = email_recipient(org, contact, composed.cc)
    if test:
        email.to = [org.test_mode_email]
        email.cc = []
        email.extra_headers["X-Relance-Test-Mode"] = "1"
    return email, recipient, test


#: no-break spaces (French typography) become ordinary ones in an email's subject
_HEADER_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


#: how a test-mode recipient names the real one (« [TEST] test@… au lieu de Claire Martin <claire@…> »)
TEST_INSTEAD_OF = " au lieu de "


def email_subject(org: Organisation, subject: str) -> str:
    """The subject as sent: prefixed « [TEST] » in test mode; a header never wraps, and a
    no-break space makes the encoded subject fold before its first word (read back « ␣Rappel »),
    so its spaces are ordinary ones."""
    subject = subject.translate(_HEADER_SPACES)
    return f"[TEST] {subject}" if org.test_mode_email else subject


def email_recipient(org: Organisation, contact: Contact,
                    cc: Sequence[Contact] = ()) -> tuple[str, dict[str, Any]]:
    """The recipient of an email as recorded — « Claire Martin <claire@…>, copie à Paul Durand
    <paul@…> » (the sent event records it) —, and what the events say of it: in test mode, the
    test address instead of the customer's, the real recipients recorded too."""
    real = f"{contact.full_name} <{contact.email}>"
    if cc:
        real += ", copie à " + ", ".join(f"{c.full_name} <{c.usable_email}>" for c in cc)
    test_address = org.test_mode_email
    if not test_address:
        return real[:300], {}  # the sent event records the recipient, copies included
    recipient = f"[TEST] {test_address}{TEST_INSTEAD_OF}{real}"[:300]
    return recipient, {"test_mode": True, "test_recipient": test_address, "real_recipient": real}


def _agreement_attachment(reminder: Reminder, org: Organisation, customer: Customer, channel: str,
                          today: date) -> tuple[str, bytes, str]:
    """The agreement letter of the reminder's plan, rendered now, as an attachment. It only
    goes by email: without an address it fails visibly (the letter is printed instead)."""
    plan = reminder.plan
    if plan is None:
        raise InvalidInput("accord d’échéancier sans échéancier")
    if channel != Channel.EMAIL or not any(c.usable_email for c in customer.contacts.all()):
        raise PermanentFailure("pas d’adresse e-mail pour envoyer l’accord d’échéancier : imprimez la lettre "
                               "d’accord et envoyez-la par courrier")
    name = f"Payment-plan-{plan.pk}.pdf" if customer.language == "en" else f"Accord-echeancier-{plan.pk}.pdf"
    return name, agreement_pdf(org, plan, today), "application/pdf"


def _copy_attachments(channel: str, customer: Customer, invoices: list[Invoice]) -> list[tuple[str, bytes, str]]:
    """The PDFs of an invoice copy. The copy is nothing without them: no email address any more, or
    a PDF that cannot be read, fails visibly (the reminder « Échec », its error saying why; a person
    sends the invoice another way or retries) instead of sending « ci-joint » with nothing joined."""
    if channel != Channel.EMAIL or not any(c.usable_email for c in customer.contacts.all()):
        raise PermanentFailure("pas d’adresse e-mail pour envoyer la copie de facture : renvoyez-la par courrier")
    attachments = []
    for invoice in invoices:
        try:
            if not invoice.pdf:
                raise OSError("no PDF")
            with invoice.pdf.open("rb") as fh:
                attachments.append((f"Facture-{invoice.number}.pdf", fh.read(), "application/pdf"))
        except OSError as exc:
            raise PermanentFailure(f"PDF de la facture n° {invoice.number} introuvable : la copie n’est pas "
                                   "envoyée, renvoyez la facture vous-même") from exc
    return attachments


def _case_handover(reminder: Reminder) -> Composed:
    """A litigation case's file emailed to the lawyer, commissaire de justice or agency it is
    handed to: written when planned (``litigation.services.handover``: subject, text, the recipient
    as « Name <address> », and the file — one ZIP — as the reminder's document), sent as written.
    No payment block, no late-payment law: it speaks to a professional about the debtor. The
    file that cannot be read fails visibly rather than leaving without it."""
    stored = reminder.recipient
    if stored.startswith("[TEST] ") and TEST_INSTEAD_OF in stored:  # a retry in test mode: the real one
        stored = stored.split(TEST_INSTEAD_OF, 1)[1]
    name, _, rest = stored.rpartition(" <")
    address = rest.rstrip(">").strip()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise PermanentFailure("pas d’adresse e-mail valable pour le destinataire du dossier") from exc
    parts = name.rsplit(" ", 1)
    contact = Contact(first_name=parts[0] if len(parts) == 2 else "", last_name=parts[-1], email=address)
    attachments: list[tuple[str, bytes, str]] = []
    if reminder.document:
        try:
            with reminder.document.open("rb") as fh:
                content = fh.read()
        except OSError as exc:
            raise PermanentFailure("le dossier à joindre est introuvable : produisez-le de nouveau") from exc
        if hashlib.sha256(content).hexdigest() != reminder.document_sha256:
            raise PermanentFailure("le dossier à joindre a changé depuis sa production : il n’est pas envoyé")
        attachments.append(((reminder.document.name or "dossier.zip").rsplit("/", 1)[-1], content, "application/zip"))
    subject = reminder.subject.removeprefix("[TEST] ")  # as written, even after a test-mode attempt
    return Composed(Channel.EMAIL, contact, subject, reminder.body_text, reminder.body_html, None,
                    attachments, [], edited=True)


def payment_block(reminder: Reminder, org: Organisation, customer: Customer,
                   invoices: list[Invoice]) -> PaymentBlock | None:
    """The payment block (EPC QR code and transfer details) of the message: none in a thank-you;
    an instalment message asks for what remains due on the instalment, not on the invoices."""
    if reminder.kind in (Reminder.Kind.THANKS, Reminder.Kind.PLAN_AGREEMENT):
        return None  # nothing to pay yet: the agreement sets the dates
    amount = None
    if reminder.kind in PLAN_KINDS and reminder.instalment is not None:
        amount = instalment_outstanding(reminder.instalment)
    return payment_block_for(org, customer, invoices, amount=amount)


def _hold_context(reminder: Reminder, language: str, today: date) -> dict[str, Any]:
    """The variables a promise-broken or instalment message quotes (docs/templates.md)."""
    if reminder.kind == Reminder.Kind.PROMISE_BROKEN and reminder.promise is not None:
        return {"promesse": promise_context(reminder.promise, language)}
    if reminder.kind in PLAN_KINDS and reminder.instalment is not None:
        return instalment_context(reminder.instalment, language, today)
    if reminder.kind == Reminder.Kind.PLAN_AGREEMENT and reminder.plan is not None:
        return agreement_context(reminder.plan, language, today)
    return {}


def _charges(org: Organisation, customer: Customer, invoices: list[Invoice], today: date, key: str,
             reminder: Reminder, events: list[NewEvent],
             known: Mapping[int, InvoiceCharges] | None = None) -> dict[int, InvoiceCharges]:
    """Charges to date for the steps that state them (business penalties and indemnities, a
    consumer's interest from the formal notice).

    A missing rate is never guessed: the formal notice, which must state the figures, fails
    with the message saying which rate to add (and is requeued when it is added); a plain
    reminder goes without figures, and the gap is recorded as an event."""
    if not is_charged(key, customer):
        return {}
    if known is not None and all(i.id in known for i in invoices):
        charges = {i.id: known[i.id] for i in invoices}
    else:
        charges = charges_of_invoices(org, invoices, today, rate_tables())
    missing = next((c.missing for c in charges.values() if c.missing is not None), None)
    if missing is None:
        return charges
    if key == "mise_en_demeure":
        raise PermanentFailure(f"{RATE_MISSING_PREFIX} : {missing}")
    events.append(kinds.law_rate_missing(customer_id=customer.id, reminder_id=reminder.id, message=str(missing)))
    return {}
