"""The agreement letter of a payment plan (*échéancier*), to send for signature.

It is an ordinary letter of :mod:`relance.documents.letter_pdf` (window envelope, legal footer,
signature of the creditor) whose body is the message written by the organisation's template
(``accord_echeancier``). The schedule, its terms and a « bon pour accord » box for the debtor
(``templates/documents/plan_agreement.html``) take the place of :data:`SCHEDULE_MARKER` in that
body (the template writes ``{{ echeancier.tableau }}``), or follow it when the marker is absent.
Nothing here touches the database: the caller hands over formatted text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import jinja2
from markupsafe import Markup

from .letter_pdf import TEMPLATES_DIR, LetterDoc, letter_html, render_letter_pdf

#: what ``{{ echeancier.tableau }}`` renders to in the agreement letter's message
SCHEDULE_MARKER = "%%ECHEANCIER%%"

_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "position": "Échéance",
        "due": "Date",
        "amount": "Montant",
        "total": "Total",
        "terms": "Conditions",
        "acceptance_title": "Bon pour accord",
        "acceptance": "Je soussigné(e), agissant pour le compte de",
        "acceptance_end": ", accepte l’échéancier ci-dessus et ses conditions.",
        "place_date": "Fait à ………………………………, le ……………………",
        "signatory": "Nom et qualité du signataire : ……………………………………………………",
        "signature": "Signature (et cachet), précédée de la mention manuscrite « Bon pour accord » :",
        "acceptance_consumer": "Je soussigné(e)",
        "signatory_consumer": "Nom et prénom : ……………………………………………………",
        "signature_consumer": "Signature, précédée de la mention manuscrite « Bon pour accord » :",
    },
    "en": {
        "position": "Instalment",
        "due": "Date",
        "amount": "Amount",
        "total": "Total",
        "terms": "Terms",
        "acceptance_title": "Agreed",
        "acceptance": "I, the undersigned, acting on behalf of",
        "acceptance_end": ", accept the schedule above and its terms.",
        "place_date": "Signed at ………………………………, on ……………………",
        "signatory": "Name and position of the signatory: ……………………………………………………",
        "signature": "Signature (and company stamp), preceded by the handwritten words “Agreed”:",
        "acceptance_consumer": "I, the undersigned,",
        "signatory_consumer": "Full name: ……………………………………………………",
        "signature_consumer": "Signature, preceded by the handwritten words “Agreed”:",
    },
}


@dataclass(frozen=True)
class ScheduleRow:
    position: int
    due: str
    amount: str


@dataclass(frozen=True)
class PlanAgreementDoc:
    """``letter.body_html`` is the trusted, already escaped message; everything else is plain
    text and escaped here."""

    letter: LetterDoc
    rows: tuple[ScheduleRow, ...]
    total: str
    terms: tuple[str, ...]
    debtor: str
    note: str = ""
    #: a business signs « for » its company, with its stamp; a consumer signs for themself
    business: bool = True


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def schedule_html(doc: PlanAgreementDoc) -> str:
    """The schedule, terms and acceptance box (an HTML fragment)."""
    words = dict(_WORDS.get(doc.letter.language, _WORDS["fr"]))
    if not doc.business:  # a consumer: no company to act for, no stamp
        for key in ("acceptance", "signatory", "signature"):
            words[key] = words[f"{key}_consumer"]
    return _env().get_template("plan_agreement.html").render(doc=doc, words=words)


def _full_letter(doc: PlanAgreementDoc) -> LetterDoc:
    body, schedule = doc.letter.body_html, Markup(schedule_html(doc))
    for marker in (f"<p>{SCHEDULE_MARKER}</p>", SCHEDULE_MARKER):
        if marker in body:
            return replace(doc.letter, body_html=body.replace(marker, schedule, 1))
    return replace(doc.letter, body_html=body + "\n" + schedule)


def plan_agreement_html(doc: PlanAgreementDoc) -> str:
    """The whole letter as given to WeasyPrint (for tests and debugging)."""
    return letter_html(_full_letter(doc))


def render_plan_agreement_pdf(doc: PlanAgreementDoc) -> bytes:
    return render_letter_pdf(_full_letter(doc))
