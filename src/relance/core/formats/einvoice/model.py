"""What the e-invoice readers produce: one document (invoice or credit note) per file, its
parties and amounts, and the problems (fatal) and warnings (imported anyway) found on the way.

Business terms (« BT-… ») are those of the European standard EN 16931, which both syntaxes
(UN/CEFACT CII, used by Factur-X / ZUGFeRD, and OASIS UBL) carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from ..problems import Problem

DocumentKind = Literal["invoice", "credit_note"]
Syntax = Literal["CII", "UBL"]

# UNTDID 1001 document type codes (BT-3) that are imported.
# 380 commercial invoice; 384 corrective invoice (« facture rectificative »): an invoice of its own,
# its preceding invoice (BT-25) is kept; 386 prepayment invoice (« facture d’acompte »): the buyer
# owes the deposit, a receivable like any other; 389 self-billed invoice (« autofacture »): drawn up
# by the buyer in the seller's name (CGI 289 I-2), it is still the seller's receivable.
INVOICE_TYPES: dict[str, str] = {
    "380": "facture",
    "384": "facture rectificative",
    "386": "facture d’acompte",
    "389": "autofacture",
}
CREDIT_NOTE_TYPES: dict[str, str] = {"381": "avoir"}
# Refused, but named in the message so that the user understands why.
OTHER_TYPES: dict[str, str] = {
    "71": "demande de paiement",
    "82": "facture de services mesurés",
    "261": "avoir autofacturé",
    "262": "avoir global",
    "295": "facture proforma de variation de prix",
    "325": "facture proforma",
    "326": "facture partielle",
    "383": "note de débit",
    "385": "facture consolidée",
    "387": "facture de location",
    "388": "facture fiscale",
    "390": "facture de délégation",
    "393": "facture affacturée",
    "394": "facture de crédit-bail",
    "395": "facture en consignation",
    "396": "avoir affacturé",
    "471": "facture rectificative autofacturée",
    "472": "facture rectificative affacturée",
    "473": "facture rectificative autofacturée affacturée",
    "500": "facture d’acompte autofacturée",
    "501": "autofacture affacturée",
    "502": "avoir autofacturé affacturé",
    "503": "avoir sur facture d’acompte",
    "751": "information de facture pour comptabilisation",
    "875": "facture partielle de travaux",
    "876": "facture partielle définitive de travaux",
    "877": "facture définitive de travaux",
}


def document_kind(type_code: str) -> DocumentKind | None:
    if type_code in INVOICE_TYPES:
        return "invoice"
    if type_code in CREDIT_NOTE_TYPES:
        return "credit_note"
    return None


def type_problem_message(type_code: str) -> str:
    label = OTHER_TYPES.get(type_code)
    named = f"« {type_code} » ({label})" if label else f"« {type_code[:20]} »"
    return (f"type de document {named} non pris en charge : seules les factures (380, 384, 386, 389) et les "
            f"avoirs (381) sont importés ; rien n’a été deviné")


@dataclass
class Party:
    """Seller (BG-4) or buyer (BG-7). Identifiers are kept only when their check digits are right;
    a wrong one is a warning naming its element."""

    role: str  # "vendeur" / "acheteur"
    element: str  # where the party is in the document
    name: str = ""  # BT-27 / BT-44
    trading_name: str = ""  # BT-28 / BT-45
    code: str = ""  # BT-29 / BT-46 without scheme: the seller's own code for this party
    scheme_ids: list[tuple[str, str]] = field(default_factory=list)  # BT-29 / BT-46 with a scheme
    siren: str = ""
    siret: str = ""
    vat: str = ""  # BT-31 / BT-48, compact
    address1: str = ""
    address2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    electronic_address: str = ""  # BT-34 / BT-49
    electronic_scheme: str = ""
    contact_name: str = ""  # BT-56
    contact_email: str = ""  # BT-58
    contact_phone: str = ""  # BT-57

    @property
    def of_role(self) -> str:
        """« du vendeur », « de l’acheteur »."""
        return f"de l’{self.role}" if self.role[:1] in "aeiou" else f"du {self.role}"

    @property
    def display_name(self) -> str:
        return self.name or self.trading_name or "(sans nom)"

    @property
    def email(self) -> str:
        """BT-49 when its scheme is EM (e-mail), else the contact's e-mail (BT-58)."""
        if self.electronic_scheme.upper() == "EM" and "@" in self.electronic_address:
            return self.electronic_address
        return self.contact_email


@dataclass
class EInvoice:
    filename: str
    syntax: Syntax
    profile: str  # MINIMUM, BASIC WL, BASIC, EN 16931, EXTENDED, EXTENDED-CTC-FR, XRECHNUNG, PEPPOL…
    guideline: str  # BT-24 as written
    number: str  # BT-1
    type_code: str  # BT-3
    kind: DocumentKind
    issue_date: date  # BT-2
    due_date: date | None  # BT-9
    terms: str  # BT-20
    delivery_date: date | None  # BT-72
    currency: str  # BT-5
    amount_excl_tax: Decimal | None  # BT-109
    tax_amount: Decimal | None  # BT-110
    amount_incl_tax: Decimal  # BT-112 (+ BT-114 rounding)
    prepaid: Decimal  # BT-113 (or the difference between BT-112 and BT-115 when BT-113 is absent)
    amount_payable: Decimal  # BT-115
    payment_reference: str  # BT-83
    iban: str  # BT-84, compact
    preceding_invoices: list[str]  # BT-25
    seller: Party
    buyer: Party
    notes: list[str] = field(default_factory=list)  # BT-22, for the description only
    due_dates: list[date] = field(default_factory=list)  # every BT-9 seen (instalments)

    @property
    def type_label(self) -> str:
        return INVOICE_TYPES.get(self.type_code) or CREDIT_NOTE_TYPES.get(self.type_code) or self.type_code


@dataclass
class EinvoiceResult:
    """One file read: the document (None when a problem prevents it), the fatal problems, the
    warnings, and for a Factur-X / ZUGFeRD PDF the PDF itself and the name of its XML attachment."""

    filename: str
    document: EInvoice | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    container: Literal["pdf", "xml", ""] = ""
    pdf: bytes | None = None
    attachment: str = ""

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems


class EinvoiceFormatError(Exception):
    """Raised inside a reader for a fatal problem; turned into a Problem by the caller."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


# --- identifiers -------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s.\-/]")


def digits_only(value: str) -> str:
    return _SEPARATORS.sub("", value)


def compact_vat(value: str) -> str:
    try:
        return str(eu_vat.compact(value))
    except Exception:  # stdnum raises its own errors on junk; the raw value is then reported
        return value.strip().upper()


def siren_from_vat(vat: str) -> str:
    """The SIREN inside a French VAT number (``FR`` + 2-character key + SIREN)."""
    if vat.startswith("FR") and len(vat) == 13 and vat[4:].isdigit():
        return vat[4:]
    return ""


@dataclass(frozen=True)
class Identifier:
    """An identifier as found in the document: value, scheme (ISO 6523 ICD or VA…), element."""

    value: str
    scheme: str
    element: str
    kind: Literal["legal", "party", "endpoint", "vat"]
    line: int | None = None


def resolve_identifiers(party: Party, found: list[Identifier], filename: str, warnings: list[Problem]) -> None:
    """Fill ``party.siren``, ``siret`` and ``vat`` from what the document declares.

    ICD 0002 is SIREN (some writers put a SIRET there: 14 digits), 0009 SIRET, 0225 the French
    e-invoicing address (SIREN[_suffix]). A legal registration (BT-30 / BT-47) without scheme
    counts when it is 9 or 14 digits in a French party. A wrong check digit gives a warning naming
    the element and the identifier is not kept; the SIREN part of a wrong SIRET is kept when it is
    right itself (the key of a SIRET also covers the establishment number).
    """
    french = party.country in ("", "FR")
    sirens: list[tuple[int, str, str]] = []  # (rank, siren, element): a lower rank wins
    ranks = {"legal": 0, "party": 1, "vat": 2, "endpoint": 4}
    for ident in found:
        raw = ident.value.strip()
        if not raw:
            continue
        if ident.kind == "vat":
            vat = compact_vat(raw)
            if eu_vat.is_valid(vat):
                if not party.vat:
                    party.vat = vat
                if siren_from_vat(vat):
                    sirens.append((ranks["vat"], siren_from_vat(vat), ident.element))
            else:
                warnings.append(Problem(filename, ident.line, ident.element, (
                    f"numéro de TVA intracommunautaire {party.of_role} « {raw[:40]} » invalide : ignoré")))
            continue
        scheme = ident.scheme.strip()
        value = digits_only(raw)
        if scheme == "0225":
            value = digits_only(raw.split("_", 1)[0])
            if len(value) == 9 and value.isdigit() and fr_siren.is_valid(value):
                sirens.append((ranks["endpoint"], value, ident.element))
            continue
        legal_no_scheme = ident.kind == "legal" and not scheme and french
        if not (scheme in ("0002", "0009") or legal_no_scheme):
            continue
        if len(value) == 14 and value.isdigit() and scheme in ("0002", "0009", ""):
            if fr_siret.is_valid(value):
                party.siret = party.siret or value
                sirens.append((ranks[ident.kind], value[:9], ident.element))
            else:
                warnings.append(Problem(filename, ident.line, ident.element, (
                    f"SIRET {party.of_role} « {raw[:40]} » invalide (clé de contrôle) : ignoré")))
                if fr_siren.is_valid(value[:9]):
                    sirens.append((3, value[:9], ident.element))
        elif len(value) == 9 and value.isdigit() and scheme in ("0002", ""):
            if fr_siren.is_valid(value):
                sirens.append((ranks[ident.kind], value, ident.element))
            else:
                warnings.append(Problem(filename, ident.line, ident.element, (
                    f"SIREN {party.of_role} « {raw[:40]} » invalide (clé de contrôle) : ignoré")))
        elif scheme in ("0002", "0009"):
            label = "SIRET" if scheme == "0009" else "SIREN"
            warnings.append(Problem(filename, ident.line, ident.element, (
                f"{label} {party.of_role} « {raw[:40]} » invalide (longueur) : ignoré")))
    sirens.sort(key=lambda s: s[0])
    if sirens:
        party.siren = sirens[0][1]
        for _, other, element in sirens[1:]:
            if other != party.siren:
                warnings.append(Problem(filename, None, element, (
                    f"l’identifiant {party.of_role} ({other}) ne correspond pas à son SIREN {party.siren} : "
                    f"le SIREN {party.siren} est retenu")))
                break
