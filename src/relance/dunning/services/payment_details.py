"""The payment details a message gives (« Payer en un scan »): its RF reference and payment block.

Read only: the references were assigned when the invoices and customers were created
(``ledger.services.references``); one still missing is not made up here — the block then goes
without a reference (the QR code carries the invoice numbers as its text instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from relance.core.references import PaymentReferenceError, make_rf_lenient
from relance.documents.payment_block import PaymentBlock, make_payment_block
from relance.ledger.models import Customer, Invoice, Organisation


def payment_reference_for(customer: Customer, invoices: Sequence[Invoice]) -> str:
    """The reference the customer quotes on the transfer: the invoice's when the message is about one
    invoice, the customer's when it lists several (the bank matcher recognises both).

    Unsaved objects (template previews) get one computed on the spot; saved ones without a
    reference get none (nothing is written while a message is composed)."""
    holder: Invoice | Customer = invoices[0] if len(invoices) == 1 else customer
    if holder.payment_reference or holder.pk is not None:
        return holder.payment_reference
    try:
        return make_rf_lenient(invoices[0].number if isinstance(holder, Invoice) else f"C{customer.code}")
    except PaymentReferenceError:
        return ""


def payment_block_for(organisation: Organisation, customer: Customer, invoices: Sequence[Invoice],
                      amount: Decimal | None = None) -> PaymentBlock:
    """The payment block of a reminder about ``invoices`` (QR code and transfer details), in the
    customer's language. The amount is what remains due on these invoices, unless the message asks
    for another one (``amount``: an instalment of a payment plan, say)."""
    currencies = {i.currency for i in invoices} or {"EUR"}
    contact = " — ".join(x for x in (organisation.phone, organisation.reply_to_email or organisation.sender_email) if x)
    return make_payment_block(
        beneficiary=organisation.legal_name,
        iban=organisation.iban,
        bic=organisation.bic,
        amount=sum((i.amount_due for i in invoices), Decimal(0)) if amount is None else amount,
        currency=currencies.pop() if len(currencies) == 1 else "",
        reference=payment_reference_for(customer, invoices),
        language=customer.language,
        contact=contact,
        invoice_numbers=[i.number for i in invoices],
    )
