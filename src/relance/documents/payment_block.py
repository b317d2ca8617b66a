"""« Payer en un scan »: the payment block printed on every reminder letter and email.

The block gives the customer everything needed to pay by SEPA credit transfer: the EPC QR code
(EPC069-12, BCD version 002, see :mod:`relance.core.references`) that a banking app reads to fill
in the transfer, and the same details in plain text (beneficiary, IBAN, BIC, amount, RF reference)
for those who type them.

Who computes what:

* :class:`PaymentBlock` is built by the code (``dunning.services.payment_details.payment_block_for``) from
  the organisation's bank details and the invoices of the message. Only the code turns it into a
  QR image (:meth:`PaymentBlock.qr_png`), attached to the email (``cid:``) or embedded in the letter.
* Message templates see :func:`payment_context` (plain data) and place ``{{ bloc_paiement }}``,
  rendered by :func:`payment_text` or :func:`payment_html`. A template can move the block or word
  around it; it cannot change the QR code, which never comes from template data.

No QR code, and no error, when the organisation has no IBAN, when the amount is outside what the
EPC allows (0,01 € to 999 999 999,99 €), when the invoices are not in euros or when the bank
details are refused by the EPC rules: the text then says how to pay.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

from markupsafe import Markup

from relance.core import formatting as fmt
from relance.core.money import to_cents
from relance.core.references import (
    EPC_MAX_AMOUNT,
    EPC_MIN_AMOUNT,
    PaymentReferenceError,
    epc_payload,
    epc_qr_png,
    format_rf,
    is_valid_rf,
)

#: Present on the HTML block: a layout that finds it does not add the block a second time.
PAYMENT_MARKER = 'data-relance="paiement"'
#: How the HTML block starts (one line, so that paragraph splitting leaves it whole).
PAYMENT_HTML_START = '<table class="payment"'
#: Pixels per QR module in the PNG (about 300 px wide: sharp on screen and on paper).
QR_SCALE = 6
#: Displayed width of the QR code in emails, in CSS pixels (letters set it in mm in documents.css).
QR_EMAIL_PX = 150

_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "colon": "\u00a0: ",
        "open": "«\u00a0",
        "close": "\u00a0»",
        "transfer": "Règlement par virement",
        "other": "Règlement",
        "beneficiary": "Bénéficiaire",
        "amount": "Montant",
        "reference": "Référence à indiquer",
        "hint": "Scannez ce QR code avec l’application de votre banque\u00a0: bénéficiaire, montant et référence "
                "sont remplis pour vous.",
        "alt": "QR code de paiement par virement SEPA",
        "how_ref": "Merci de régler selon les modalités indiquées sur la facture, en rappelant cette référence.",
        "how_plain": "Merci de régler selon les modalités indiquées sur la facture, en rappelant le numéro de facture.",
        "question": "Pour toute question sur le règlement",
        "invoices": "Facture",
        "invoices_plural": "Factures",
        "no_iban": "pas d’IBAN dans les coordonnées de l’organisation",
        "currency": "factures en une autre devise que l’euro",
        "too_small": "montant nul",
        "too_large": "montant supérieur au maximum d’un QR code de paiement (999 999 999,99 €)",
    },
    "en": {
        "colon": ": ",
        "open": "“",
        "close": "”",
        "transfer": "Payment by bank transfer",
        "other": "Payment",
        "beneficiary": "Beneficiary",
        "amount": "Amount",
        "reference": "Reference to quote",
        "hint": "Scan this QR code with your banking app: the beneficiary, amount and reference are filled in "
                "for you.",
        "alt": "Payment QR code for a SEPA credit transfer",
        "how_ref": "Please pay as stated on the invoice, quoting this reference.",
        "how_plain": "Please pay as stated on the invoice, quoting the invoice number.",
        "question": "For any question about payment",
        "invoices": "Invoice",
        "invoices_plural": "Invoices",
        "no_iban": "no IBAN in the organisation’s details",
        "currency": "invoices in a currency other than the euro",
        "too_small": "zero amount",
        "too_large": "amount above the maximum of a payment QR code (€999,999,999.99)",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["fr"])


def group_iban(iban: str) -> str:
    """``FR7630006000011234567890189`` → ``FR76 3000 6000 0112 3456 7890 189``."""
    compact = re.sub(r"\s", "", iban).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _display_reference(reference: str) -> str:
    return format_rf(reference) if is_valid_rf(reference) else reference


@dataclass(frozen=True)
class PaymentBlock:
    """What a reminder says about paying it; built by the code, never from template data."""

    language: str
    beneficiary: str
    iban: str  # compact, "" when the organisation has none
    bic: str  # compact, may be ""
    amount: Decimal
    currency: str
    reference: str  # compact RF reference (or the invoice's own reference), may be ""
    contact: str = ""  # phone and address to ask about payment
    payload: str = ""  # the EPC payload; "" when there is no QR code
    qr_problem: str = ""  # why there is no QR code (for people, in the block's language)

    @property
    def has_qr(self) -> bool:
        return bool(self.payload)

    @property
    def qr_cid(self) -> str:
        """Content-ID of the QR image: derived from the payload, so two different codes never share it."""
        if not self.payload:
            return ""
        return f"paiement-{hashlib.sha256(self.payload.encode('utf-8')).hexdigest()[:16]}@relance"

    def qr_png(self, scale: int = QR_SCALE) -> bytes:
        """The QR code as PNG (error correction M, 4-module quiet zone); empty without a QR code."""
        return epc_qr_png(self.payload, scale=scale) if self.payload else b""

    def context(self) -> dict[str, Any]:
        return payment_context(self)

    def text(self) -> str:
        return payment_text(self.context())

    def html(self) -> Markup:
        return payment_html(self.context())


def _unstructured(reference: str, invoice_numbers: Sequence[str], language: str) -> str:
    """Remittance text when the reference is not an RF one (an e-invoice's own reference, say)."""
    if reference:
        return reference[:140]
    if not invoice_numbers:
        return ""
    words = _words(language)
    label = words["invoices"] if len(invoice_numbers) == 1 else words["invoices_plural"]
    text = f"{label} {', '.join(invoice_numbers)}"
    return text if len(text) <= 140 else text[:139] + "…"


def make_payment_block(
    *,
    beneficiary: str,
    iban: str,
    bic: str,
    amount: Decimal,
    currency: str,
    reference: str,
    language: str = "fr",
    contact: str = "",
    invoice_numbers: Sequence[str] = (),
) -> PaymentBlock:
    """The block for one message. Never raises for a payment detail: without a QR code it says why
    (:attr:`PaymentBlock.qr_problem`) and the text still tells how to pay."""
    words = _words(language)
    iban_c = re.sub(r"\s", "", iban).upper()
    bic_c = re.sub(r"\s", "", bic).upper()
    reference_c = re.sub(r"\s", "", reference).upper() if is_valid_rf(reference) else reference.strip()
    amount = to_cents(amount)
    payload = ""
    problem = ""
    if not iban_c:
        problem = words["no_iban"]
    elif currency != "EUR":
        problem = words["currency"]
    elif amount < EPC_MIN_AMOUNT:
        problem = words["too_small"]
    elif amount > EPC_MAX_AMOUNT:
        problem = words["too_large"]
    else:
        structured = is_valid_rf(reference_c)
        text = "" if structured else _unstructured(reference_c, invoice_numbers, language)
        name = " ".join(beneficiary.split())[:70].strip()
        # The BIC is optional in the EPC version 002: a malformed one is left out rather than losing the code.
        for bic_try in dict.fromkeys((bic_c, "")):
            try:
                payload = epc_payload(name=name, iban=iban_c, bic=bic_try, amount=amount,
                                      reference=reference_c if structured else "", text=text)
                problem = ""
                break
            except PaymentReferenceError as exc:
                problem = str(exc)
    return PaymentBlock(
        language=language if language in _WORDS else "fr",
        beneficiary=beneficiary.strip(),
        iban=iban_c,
        bic=bic_c,
        amount=amount,
        currency=currency or "EUR",
        reference=reference_c,
        contact=contact.strip(),
        payload=payload,
        qr_problem=problem,
    )


def payment_context(block: PaymentBlock | None, language: str = "fr") -> dict[str, Any]:
    """The plain data templates see as ``paiement`` (all texts already formatted)."""
    if block is None:
        return {"qr": False, "virement": False, "beneficiaire": "", "iban": "", "bic": "", "montant": "",
                "reference": "", "contact": "", "qr_cid": "", "langue": language}
    return {
        "qr": block.has_qr,
        "virement": bool(block.iban),
        "beneficiaire": block.beneficiary,
        "iban": group_iban(block.iban),
        "bic": block.bic,
        "montant": fmt.money(block.amount, block.currency, block.language),
        "reference": _display_reference(block.reference),
        "contact": block.contact,
        "qr_cid": block.qr_cid,
        "langue": block.language,
    }


def _lines(data: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]], str]:
    """(title, [(label, value)], note) shared by the text and HTML versions: the transfer details,
    or, without an IBAN, the amount and reference with a note saying how to pay."""
    words = _words(str(data.get("langue", "fr")))
    reference = str(data.get("reference", ""))
    pairs: list[tuple[str, str]] = []
    if data.get("virement"):
        pairs += [(words["beneficiary"], str(data.get("beneficiaire", ""))), ("IBAN", str(data.get("iban", "")))]
        if data.get("bic"):
            pairs.append(("BIC", str(data["bic"])))
    pairs.append((words["amount"], str(data.get("montant", ""))))
    if reference:
        pairs.append((words["reference"], f"{words['open']}{reference}{words['close']}"))
    if data.get("virement"):
        return words["transfer"], pairs, ""
    note = words["how_ref"] if reference else words["how_plain"]
    if data.get("contact"):
        note += f" {words['question']}{words['colon']}{data['contact']}."
    return words["other"], pairs, note


def payment_text(data: Mapping[str, Any] | None) -> str:
    """The block in the plain-text email (the QR code is in the HTML part)."""
    if not data or not data.get("montant"):
        return ""
    words = _words(str(data.get("langue", "fr")))
    title, pairs, note = _lines(data)
    out = [f"{title}{words['colon'].rstrip()}"]
    out += [f"  {label}{words['colon']}{value}" for label, value in pairs]
    if note:
        out.append(f"  {note}")
    return "\n".join(out)


def payment_html(data: Mapping[str, Any] | None) -> Markup:
    """The block as one line of HTML: a table (email clients lay tables out reliably) with the QR code
    as ``<img src="cid:…">``. Emails attach the image under that Content-ID; letters embed it."""
    if not data or not data.get("montant"):
        return Markup("")
    words = _words(str(data.get("langue", "fr")))
    title, pairs, note = _lines(data)
    details = [f'<div class="payment-title">{escape(title)}</div>']
    details += [
        f'<div class="payment-line"><span class="payment-label">{escape(label)}{escape(words["colon"])}</span>'
        f'<span class="payment-value">{escape(value)}</span></div>'
        for label, value in pairs
    ]
    if note:
        details.append(f'<div class="payment-how">{escape(note)}</div>')
    cells = ""
    if data.get("qr") and data.get("qr_cid"):
        cells += (
            f'<td class="payment-qr"><img src="cid:{escape(str(data["qr_cid"]))}" alt="{escape(words["alt"])}" '
            f'width="{QR_EMAIL_PX}" height="{QR_EMAIL_PX}"></td>'
        )
        details.append(f'<div class="payment-hint">{escape(words["hint"])}</div>')
    cells += f'<td class="payment-details">{"".join(details)}</td>'
    return Markup(f'{PAYMENT_HTML_START} {PAYMENT_MARKER} role="presentation"><tr>{cells}</tr></table>')
