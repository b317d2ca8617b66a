"""The two court documents a case produces: the *requête en injonction de payer* (C. proc. civ.
1405 to 1425) and the file handed to a commissaire de justice for the *procédure simplifiée de
recouvrement des petites créances* (CPCE L125-1, R125-1 s.), as PDF (WeasyPrint, templates in
``templates/litigation/``).

**The request** carries every mention of art. 1407 (and 57, 54), with the same fields in the same
order as the official forms (Cerfa 12946 for the tribunal de commerce, 12948 for the tribunal
judiciaire; their wording is not reproduced): the court addressed; the creditor (a company: form,
name, registered office, SIREN, represented by; a natural person: name, profession, domicile,
nationality, date and place of birth); the debtor (a company: name, form, registered office,
SIREN; a person: name and domicile); the precise amount with its breakdown and the basis of each
element (:meth:`relance.litigation.claim.Claim.elements`: the same amounts, to the cent, as the
evidence file and the case page), invoice by invoice; the formal notices; the request to the
judge; the bordereau of the numbered pieces; place, date and signature. The court is the one the
user recorded on the case (``court_kind``, ``court_name``, ``court_address``): never guessed; when
the kind is blank the one art. 1406 points to is used (:func:`relance.core.injonction.suggest_court`)
and the name and address are left « à compléter ». Whatever cannot be filled is printed
« à compléter » and listed in :attr:`CourtDocument.missing`.

A consumer debtor is always before the tribunal judiciaire (a case recorded for the tribunal de
commerce is drawn for the tribunal judiciaire, its name left « à compléter »), and neither
document names C. com. L441-10, D441-5 or the 40 € indemnity for them (the claim's elements for
a consumer never do: interest at the legal or contractual rate only).

**The small-claims file** (≤ 5 000 € in principal and interest, else :class:`InvalidInput`): the
parties, the amount and its breakdown, the basis, the pieces, the commissaire de justice it is
addressed to (the case's recipient when it is one), and the rules of the procedure: costs borne by
the creditor alone, one month for the debtor to accept (silence is a refusal), prescription
suspended by the debtor's agreement, titre exécutoire issued by the commissaire on agreement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from relance.core.formatting import long_date, money, number, short_date
from relance.core.injonction import (
    COURT_LABELS,
    SMALL_CLAIM_BASIS,
    CourtFacts,
    CourtKind,
    PartyFacts,
    PartyKind,
    court_problems,
    missing_mentions,
    small_claim_check,
    suggest_court,
)
from relance.documents.letter_pdf import LocalOnlyFetcher
from relance.errors import InvalidInput
from relance.ledger.models import Customer, Organisation

from ..claim import Claim, ClaimLine, Piece, claim_for
from ..models import HandoverRecipient, LitigationCase

TEMPLATES_DIR = Path(__file__).parent.parent / "templates" / "litigation"
TO_COMPLETE = "à compléter"


@dataclass
class CourtDocument:
    title: str
    pdf: bytes
    #: mentions that could not be filled (the document shows « à compléter » there), in French
    missing: list[str]
    #: what the user should look at before filing: the court's name, a rate missing from the claim
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Facts of the parties
# --------------------------------------------------------------------------------------------


def _address(holder: Organisation | Customer) -> tuple[str, ...]:
    city = " ".join(p for p in (holder.postal_code.strip(), holder.city.strip()) if p)
    lines = [line.strip() for line in (holder.address1, holder.address2) if line.strip()]
    if not lines:  # a city alone is not an address
        return ()
    lines.append(city)
    if holder.country and holder.country != "FR":
        lines.append(holder.country)
    return tuple(line for line in lines if line)


def creditor_facts(organisation: Organisation) -> PartyFacts:
    representative = ", ".join(p for p in (organisation.signature_name.strip(), organisation.signature_title.strip()) if p)
    return PartyFacts(organisation.legal_name, True, organisation.legal_form, organisation.siren, _address(organisation),
                      representative if organisation.signature_name.strip() else "", organisation.country)


def debtor_facts(customer: Customer) -> PartyFacts:
    siren = customer.siren or customer.siret[:9]
    return PartyFacts(customer.legal_name, customer.is_business, customer.legal_form, siren, _address(customer),
                      country=customer.country)


def _siren(value: str) -> str:
    digits = value.replace(" ", "")
    return " ".join(digits[i:i + 3] for i in range(0, len(digits), 3)) if len(digits) == 9 else value


def _party_rows(party: PartyFacts, *, applicant: bool, court_request: bool) -> list[tuple[str, str]]:
    """(field, value) of a party as the forms ask them; ``""`` is printed « à compléter »."""
    address = ", ".join(party.address)
    if party.kind is PartyKind.COMPANY:
        rows = [("Dénomination", party.name), ("Forme juridique", party.legal_form), ("Siège social", address),
                ("SIREN", _siren(party.siren))]
        if applicant:
            rows.append(("Représentée par", party.representative))
        return rows
    rows = [("Nom et prénoms", party.name)]
    if applicant and court_request:
        # not known to relance (54 3° a): printed « à compléter »
        rows += [("Profession", ""), ("Nationalité", ""), ("Date et lieu de naissance", "")]
    rows.append(("Domicile", address))
    if party.kind is PartyKind.INDIVIDUAL_BUSINESS:
        rows.append(("SIREN", _siren(party.siren)))
    return rows


# --------------------------------------------------------------------------------------------
# The claim, as printed
# --------------------------------------------------------------------------------------------


def _rate(value: Any) -> str:
    return f"{number(value)}\u00a0%"


def _accrual(line: ClaimLine) -> str:
    """« du 2 septembre 2026 au 23 novembre 2026, au taux de 12,15 % »: how the late charge of an
    invoice was counted (its periods, from the computation itself)."""
    charges = line.charges
    if charges is None:
        return ""
    result = charges.penalties or charges.clause or charges.interest
    if result is None or not result.periods or not (line.penalties or line.interest):
        return ""
    start, end = result.periods[0].start, result.periods[-1].end
    rates = " puis ".join(_rate(r) for r in charges.rates)
    return f"du {long_date(start)} au {long_date(end)}, au taux annuel de {rates}"


def _claim_context(claim: Claim) -> dict[str, Any]:
    cur = claim.currency
    rows = []
    for line in claim.lines:
        invoice = line.invoice
        rows.append({
            "number": invoice.number, "issued": short_date(invoice.issue_date), "due": short_date(invoice.due_date),
            "amount": money(invoice.amount_incl_tax, cur), "principal": money(line.principal, cur),
            "late": money(line.penalties if claim.business else line.interest, cur),
            "recovery": money(line.indemnity + line.complement, cur), "total": money(line.total, cur),
            "accrual": _accrual(line),
        })
    return {
        "business": claim.business,
        "as_of": long_date(claim.as_of),
        "elements": [{"label": label, "amount": money(amount, cur), "basis": basis}
                     for label, amount, basis in claim.elements()],
        "total": money(claim.total, cur),
        "rows": rows,
        "totals": {"principal": money(claim.principal, cur),
                   "late": money(claim.penalties if claim.business else claim.interest, cur),
                   "recovery": money(claim.indemnity + claim.complement, cur), "total": money(claim.total, cur)},
        "late_label": "Pénalités de retard" if claim.business else "Intérêts de retard",
    }


def _notices(organisation: Organisation, case: LitigationCase) -> list[str]:
    """The formal notices of the case's invoices, each once: « lettre recommandée avec demande
    d’avis de réception du 12 octobre 2026 (n° 1A…), reçue le 14 octobre 2026 (factures …) »."""
    zone = ZoneInfo(organisation.timezone or "Europe/Paris")
    found: dict[int, tuple[Any, list[str]]] = {}
    for line in case.lines.select_related("formal_notice", "invoice").order_by("invoice__due_date", "invoice__number"):
        if line.formal_notice is not None:
            found.setdefault(line.formal_notice.pk, (line.formal_notice, []))[1].append(line.invoice.number)
    texts = []
    for notice, numbers in sorted(found.values(), key=lambda item: (item[0].sent_at or item[0].planned_for, item[0].pk)):
        sent = notice.sent_at.astimezone(zone).date() if notice.sent_at else notice.planned_for
        text = f"mise en demeure par lettre recommandée avec demande d’avis de réception du {long_date(sent)}"
        if notice.tracking_number:
            text += f" (n°\u00a0{notice.tracking_number})"
        if notice.received_on:
            text += f", reçue le {long_date(notice.received_on)}"
        texts.append(f"{text} (facture{'s' if len(numbers) > 1 else ''} {', '.join(numbers)})")
    return texts


def _pieces(pieces: Sequence[Piece]) -> list[dict[str, Any]]:
    return [{"number": p.number, "title": p.title, "on": long_date(p.on) if p.on else ""}
            for p in sorted(pieces, key=lambda p: p.number)]


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def render_html(template: str, context: dict[str, Any]) -> str:
    return _env().get_template(template).render(to_complete=TO_COMPLETE, **context)


def _pdf(html: str) -> bytes:
    fonts = FontConfiguration()
    fetcher = LocalOnlyFetcher()  # nothing is ever fetched: no image, no font from outside
    css = CSS(filename=str(TEMPLATES_DIR / "court.css"), font_config=fonts, url_fetcher=fetcher)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)
    return pdf


def _title(prefix: str, customer: Customer) -> str:
    return f"{prefix} — {customer.legal_name}"[:200]


# --------------------------------------------------------------------------------------------
# The documents
# --------------------------------------------------------------------------------------------


def _claim_or_refuse(organisation: Organisation, case: LitigationCase, as_of: date) -> Claim:
    if case.organisation_id != organisation.pk:
        raise InvalidInput("Ce dossier de contentieux n’appartient pas à cette organisation.")
    claim = claim_for(organisation, case, as_of)
    if claim.total <= 0:
        raise InvalidInput(f"Le dossier n° {case.pk} ne porte plus aucune somme due au {long_date(as_of)}.")
    return claim


def _common(organisation: Organisation, case: LitigationCase, claim: Claim, pieces: Sequence[Piece], *,
            court_request: bool) -> dict[str, Any]:
    creditor, debtor = creditor_facts(organisation), debtor_facts(case.customer)
    return {
        "creditor": creditor, "debtor": debtor,
        "creditor_rows": _party_rows(creditor, applicant=True, court_request=court_request),
        "debtor_rows": _party_rows(debtor, applicant=False, court_request=court_request),
        "claim": _claim_context(claim),
        "notices": _notices(organisation, case),
        "pieces": _pieces(pieces),
        "place": organisation.city.strip(),
        "signatory": organisation.signature_name.strip(),
        "signatory_title": organisation.signature_title.strip(),
        "reference": f"Dossier de contentieux n° {case.pk}",
    }


def build_request(organisation: Organisation, case: LitigationCase, as_of: date, pieces: Sequence[Piece]) -> CourtDocument:
    """The *requête en injonction de payer* of ``case`` with the amounts owed on ``as_of`` and
    ``pieces`` in its bordereau. A consumer's case recorded for the tribunal de commerce is drawn
    for the tribunal judiciaire, its name « à compléter » (and said in ``missing``); a debtor
    abroad is warned about (the French procedure does not reach them: European order for
    payment). Raises :class:`InvalidInput` when nothing is owed."""
    claim = _claim_or_refuse(organisation, case, as_of)
    creditor, debtor = creditor_facts(organisation), debtor_facts(case.customer)
    advice = suggest_court(creditor, debtor)
    kind = CourtKind(case.court_kind) if case.court_kind else advice.kind
    court = CourtFacts(kind, case.court_name.strip(), case.court_address.strip())
    problems = court_problems(court, debtor, as_of)
    wrong_court = ""
    if kind is CourtKind.COMMERCE and debtor.kind is PartyKind.PERSON:
        # never before a commercial court: the tribunal judiciaire, whose name the user enters
        wrong_court, problems = problems[0], []  # the rest was about the wrong court
        kind = CourtKind.JUDICIAIRE
        court = CourtFacts(kind)
    warnings = list(problems) + [f"décompte : {w}" for w in claim.warnings]
    if not case.court_kind:
        warnings.insert(0, f"Juridiction non choisie sur le dossier : {advice.reason}.")
    if debtor.country and debtor.country != "FR":
        warnings.insert(0, "Le débiteur est domicilié hors de France : la requête en injonction de payer française "
                           "ne s’applique pas à lui (voir l’injonction de payer européenne).")
    missing = missing_mentions(creditor, debtor, court, pieces=len(pieces), place=organisation.city,
                               signatory=organisation.signature_name)
    if wrong_court:
        missing.insert(0, wrong_court)
    context = _common(organisation, case, claim, pieces, court_request=True)
    context["court"] = {
        "kind": kind.value if kind else "",
        "kind_label": ("tribunal des activités économiques" if "activités économiques" in court.name.lower()
                       else COURT_LABELS[kind]) if kind else "",
        "name": court.name,
        "address": court.address.splitlines() if court.address else [],
        "reference": case.court_reference.strip(),
    }
    html = render_html("request.html", context)
    return CourtDocument(_title("Requête en injonction de payer", case.customer), _pdf(html), missing, warnings)


def small_claim_allowed(claim: Claim) -> bool:
    """Whether ``claim`` fits the procédure simplifiée de recouvrement des petites créances
    (≤ 5 000 € in principal and interest, penalties counted as interest)."""
    return small_claim_check(claim.principal, claim.penalties + claim.interest, claim.as_of, claim.currency).eligible


def build_small_claim(organisation: Organisation, case: LitigationCase, as_of: date,
                      pieces: Sequence[Piece]) -> CourtDocument:
    """The file for a commissaire de justice to run the *procédure simplifiée de recouvrement des
    petites créances* of ``case`` (CPCE L125-1, R125-1 s.). Raises :class:`InvalidInput` when the
    claim exceeds 5 000 € in principal and interest, or when nothing is owed."""
    claim = _claim_or_refuse(organisation, case, as_of)
    check = small_claim_check(claim.principal, claim.penalties + claim.interest, as_of, claim.currency)
    if not check.eligible:
        raise InvalidInput(f"Procédure simplifiée de recouvrement des petites créances impossible : {check.reason}.")
    creditor, debtor = creditor_facts(organisation), debtor_facts(case.customer)
    missing = missing_mentions(creditor, debtor, None, pieces=len(pieces), place=organisation.city,
                               signatory=organisation.signature_name)
    recipient = case.recipient if case.recipient and case.recipient.kind == HandoverRecipient.Kind.BAILIFF else None
    if recipient is None:
        missing.insert(0, "Commissaire de justice : aucun n’est désigné comme destinataire du dossier.")
    elif not recipient.address.strip():
        missing.insert(0, f"Commissaire de justice : adresse de {recipient.name} non renseignée.")
    context = _common(organisation, case, claim, pieces, court_request=False)
    context.update({
        "bailiff": {"name": recipient.name if recipient else "",
                    "address": recipient.address.splitlines() if recipient and recipient.address else [],
                    "reference": recipient.reference if recipient else ""},
        "check": {"counted": money(check.counted, claim.currency), "limit": money(check.limit, claim.currency)},
        "basis_procedure": SMALL_CLAIM_BASIS,
    })
    html = render_html("small_claim.html", context)
    return CourtDocument(_title("Procédure simplifiée de recouvrement des petites créances", case.customer), _pdf(html),
                         missing, [f"décompte : {w}" for w in claim.warnings])
