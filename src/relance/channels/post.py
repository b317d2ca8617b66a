"""Sending by post: a letter (simple or registered) laid out as PDF for a window envelope
(``relance.documents.letter_pdf``), and what its letterhead requires of the organisation."""

from __future__ import annotations

from datetime import date

from relance.documents.letter_pdf import LetterDoc, Party, render_letter_pdf
from relance.documents.payment_block import PaymentBlock
from relance.errors import OrganisationIncomplete
from relance.ledger.models import Contact, Customer, Organisation

from .addressing import Signatory, addressee, signatory_for


def letterhead_missing(org: Organisation) -> list[str]:
    """What a letter needs of its sender and the organisation lacks: a postal address (street,
    postal code, town), a signatory, a SIREN (C. com. R123-237: on every business letter)."""
    missing = []
    if not (org.address1.strip() and org.postal_code.strip() and org.city.strip()):
        missing.append("d’adresse postale complète (adresse, code postal, ville)")
    if not org.signature_name.strip():
        missing.append("de signataire")
    if not org.siren.strip():
        missing.append("de SIREN")
    return missing


def require_letterhead(org: Organisation) -> None:
    """Refuse, before anything is made, a letter of an organisation that cannot sign it."""
    missing = letterhead_missing(org)
    if missing:
        raise OrganisationIncomplete(
            missing,
            f"dans l’administration, page « Organisations › {org.legal_name} » (/admin/ledger/organisation/{org.pk}/"
            "change/ : adresse, SIREN, signataire), puis relancez l’envoi (« Renvoyer » ou relance retry)",
        )


def organisation_party(org: Organisation) -> Party:
    lines = tuple(x for x in (org.address1, org.address2, f"{org.postal_code} {org.city}".strip()) if x)
    extra = tuple(x for x in (
        f"SIREN {org.siren[:3]} {org.siren[3:6]} {org.siren[6:]}" if org.siren else "",
        f"Tél. {org.phone}" if org.phone else "",
        org.reply_to_email or org.sender_email,
    ) if x)
    return Party(org.legal_name, lines, extra=extra)


def customer_party(customer: Customer, contact: Contact | None, language: str) -> Party:
    """The recipient block: a company, « À l’attention de Madame Claire Lefèvre, Directrice
    financière » (the contact, by title, name and function), its address; a consumer, by name."""
    lines = tuple(x for x in (customer.address1, customer.address2,
                              f"{customer.postal_code} {customer.city}".strip()) if x)
    attention = ""
    if contact and customer.is_business and contact.full_name.strip():
        who = addressee(contact, language)
        role = f", {contact.role.strip()}" if contact.role.strip() else ""
        attention = f"À l’attention de {who}{role}" if language == "fr" else f"For the attention of {who}{role}"
    name = customer.legal_name
    if not customer.is_business and contact and contact.full_name.strip():
        name = addressee(contact, language)
    return Party(name, lines, attention=attention)


def legal_footer(org: Organisation) -> str:
    parts = [org.legal_name]
    if org.legal_form:
        parts.append(org.legal_form)
    if org.siren:
        parts.append(f"SIREN {org.siren}")
    if org.vat_number:
        parts.append(f"TVA {org.vat_number}")
    address = ", ".join(x for x in (org.address1, f"{org.postal_code} {org.city}".strip()) if x)
    if address:
        parts.append(address)
    return " — ".join(parts)


def letter_document(
    org: Organisation,
    customer: Customer,
    contact: Contact | None,
    subject: str,
    body_html: str,
    on: date,
    reference: str,
    registered: bool,
    tracking_number: str = "",
    payment: PaymentBlock | None = None,
    signer: Signatory | None = None,
) -> LetterDoc:
    """Everything printed on the letter of a reminder (refused for an organisation that lacks
    its address, signatory or SIREN: :func:`require_letterhead`). It is signed by ``signer``,
    by default the customer's collector, else the organisation's signatory."""
    require_letterhead(org)
    if signer is None:
        signer = signatory_for(org, customer)
    language = customer.language
    fr = language == "fr"
    return LetterDoc(
        sender=organisation_party(org),
        recipient=customer_party(customer, contact, language),
        place=org.city,
        on=on,
        subject=("Objet\u00a0: " if fr else "Subject: ") + subject,
        references=(
            (f"Vos références\u00a0: client {customer.code}" if fr else f"Your reference: customer {customer.code}"),
            (f"Nos références\u00a0: {reference}" if fr else f"Our reference: {reference}"),
        ),
        body_html=body_html,
        signature_name=signer.name,
        signature_title=signer.title,
        registered=registered,
        tracking_number=tracking_number,
        language=language,
        logo_path=org.logo.path if org.logo else "",
        footer=legal_footer(org),
        payment=payment,
    )


def letter_pdf(
    org: Organisation,
    customer: Customer,
    contact: Contact | None,
    subject: str,
    body_html: str,
    on: date,
    reference: str,
    registered: bool,
    tracking_number: str = "",
    payment: PaymentBlock | None = None,
    signer: Signatory | None = None,
) -> bytes:
    return render_letter_pdf(letter_document(org, customer, contact, subject, body_html, on, reference, registered,
                                             tracking_number, payment, signer))
