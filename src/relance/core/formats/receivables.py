"""Column mapping and validation of the customer, contact, invoice, credit-note
and payment tables (CSV or XLSX), French or English headers.

The mapping is documented in ``docs/imports-csv.md``. Parsing is pure: the caller
passes what it knows of the database (existing customer codes) and gets back
plain records plus a list of :class:`Problem`; it imports nothing when that list
is not empty.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from ..money import parse_amount
from .problems import Problem
from .tabular import Sheet

KINDS = ("customers", "contacts", "invoices", "credit_notes", "payments")
# the explicit default customer kind an import may be given (True: a business)
DEFAULT_KINDS = {"entreprise": True, "particulier": False}

# canonical field -> accepted headers (compared without accents, case, spaces, punctuation)
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "code": ("code client", "code", "customer code", "customer id", "client", "compte"),
        "name": ("raison sociale", "nom", "name", "legal name", "company", "societe"),
        "kind": ("type", "type client", "customer type", "kind"),
        "legal_form": ("forme juridique", "forme", "legal form", "company type"),
        "siren": ("siren",),
        "siret": ("siret",),
        "vat": ("tva intracommunautaire", "numero tva", "n tva", "vat", "vat number", "tva intra"),
        "address1": ("adresse", "adresse 1", "address", "address 1", "address line 1"),
        "address2": ("adresse 2", "complement", "complement d adresse", "address 2", "address line 2"),
        "postal_code": ("code postal", "cp", "postal code", "zip", "postcode"),
        "city": ("ville", "city", "town"),
        "country": ("pays", "country"),
        "language": ("langue", "language"),
        "channel": ("canal", "canal prefere", "channel", "preferred channel"),
        "terms": ("delai de paiement", "delai", "payment terms", "terms"),
        "contact_name": ("contact", "nom du contact", "contact name"),
        "contact_role": ("fonction", "fonction du contact", "role", "contact role"),
        "email": ("email", "e mail", "courriel", "adresse email", "mail"),
        "phone": ("telephone", "tel", "phone"),
    },
    "contacts": {
        "customer": ("code client", "client", "customer", "customer code"),
        "last_name": ("nom", "last name", "surname", "name"),
        "first_name": ("prenom", "first name", "given name"),
        "civility": ("civilite", "title", "salutation"),
        "role": ("fonction", "role", "job title"),
        "email": ("email", "e mail", "courriel", "mail"),
        "phone": ("telephone", "tel", "phone"),
        "billing": ("facturation", "contact facturation", "billing", "billing contact"),
    },
    "invoices": {
        "number": ("numero", "numero facture", "n facture", "facture", "invoice", "invoice number", "number"),
        "customer": ("code client", "client", "customer", "customer code"),
        "issue_date": ("date", "date facture", "date d emission", "issue date", "invoice date"),
        "due_date": ("echeance", "date d echeance", "date echeance", "due date", "due"),
        "delivery_date": ("date de livraison", "livraison", "date de prestation", "delivery date"),
        "amount_excl_tax": ("montant ht", "ht", "total ht", "amount excl tax", "net amount"),
        "tax_amount": ("tva", "montant tva", "tax", "tax amount", "vat amount"),
        "amount_incl_tax": ("montant ttc", "ttc", "total ttc", "montant", "amount incl tax", "total", "amount"),
        "currency": ("devise", "currency"),
        "description": ("libelle", "designation", "objet", "description"),
        "pdf": ("pdf", "fichier pdf", "chemin pdf", "lien pdf", "pdf path", "pdf url"),
    },
    "credit_notes": {
        "number": ("numero avoir", "avoir", "numero", "credit note", "credit note number", "number"),
        "customer": ("code client", "client", "customer", "customer code"),
        "issue_date": ("date", "date avoir", "issue date"),
        "amount_incl_tax": ("montant ttc", "ttc", "montant", "amount", "amount incl tax"),
        "invoice": ("facture", "facture d origine", "numero facture", "invoice", "invoice number"),
        "reason": ("motif", "libelle", "reason", "description"),
    },
    "payments": {
        "reference": ("reference", "ref", "reference paiement", "payment reference"),
        "customer": ("code client", "client", "customer", "customer code"),
        "date": ("date", "date de paiement", "date paiement", "payment date"),
        "amount": ("montant", "montant paye", "amount", "amount paid"),
        "invoice": ("facture", "numero facture", "invoice", "invoice number"),
        "method": ("mode", "mode de paiement", "moyen de paiement", "method", "payment method"),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("code", "name"),
    "contacts": ("customer", "last_name"),
    "invoices": ("number", "customer", "issue_date", "due_date", "amount_incl_tax"),
    "credit_notes": ("number", "customer", "issue_date", "amount_incl_tax"),
    "payments": ("reference", "customer", "date", "amount"),
}

# French header names used in messages, one per field
LABELS: dict[str, str] = {
    "code": "code client", "name": "raison sociale", "kind": "type", "legal_form": "forme juridique",
    "siren": "siren", "siret": "siret",
    "vat": "numéro TVA", "address1": "adresse", "address2": "complément", "postal_code": "code postal",
    "city": "ville", "country": "pays", "language": "langue", "channel": "canal", "terms": "délai de paiement",
    "contact_name": "contact", "contact_role": "fonction", "email": "email", "phone": "téléphone",
    "customer": "code client", "last_name": "nom", "first_name": "prénom", "civility": "civilité",
    "role": "fonction", "billing": "facturation", "number": "numéro", "issue_date": "date",
    "due_date": "échéance", "delivery_date": "date de livraison", "amount_excl_tax": "montant HT",
    "tax_amount": "TVA", "amount_incl_tax": "montant TTC", "currency": "devise", "description": "libellé",
    "pdf": "pdf", "invoice": "facture", "reason": "motif", "reference": "référence", "date": "date",
    "amount": "montant", "method": "mode",
}

SHEET_NAMES = {
    "customers": ("clients", "customers"),
    "contacts": ("contacts",),
    "invoices": ("factures", "invoices"),
    "credit_notes": ("avoirs", "credit notes", "credit_notes"),
    "payments": ("paiements", "reglements", "payments"),
}


def normalise_header(text: str) -> str:
    # accents are dropped, any other non-ASCII character (’ in « Date d’échéance », ° in « N°facture ») separates words
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.encode("ascii", "replace").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass(frozen=True)
class CustomerRow:
    line: int
    code: str
    name: str
    is_business: bool | None = None  # None: no kind in the row (the import decides, never a guess)
    legal_form: str = ""  # SAS, SARL…: kept when the column is absent or empty (entered elsewhere)
    siren: str = ""
    siret: str = ""
    vat: str = ""
    address1: str = ""
    address2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"
    language: str = "fr"
    channel: str = "email"
    terms_days: int | None = None
    contact_name: str = ""
    contact_role: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ContactRow:
    line: int
    customer: str
    last_name: str
    first_name: str = ""
    civility: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""
    billing: bool = False


@dataclass(frozen=True)
class InvoiceRow:
    line: int
    number: str
    customer: str
    issue_date: date
    due_date: date
    amount_incl_tax: Decimal
    amount_excl_tax: Decimal | None = None
    tax_amount: Decimal | None = None
    currency: str = "EUR"
    description: str = ""
    pdf: str = ""
    delivery_date: date | None = None


@dataclass(frozen=True)
class CreditNoteRow:
    line: int
    number: str
    customer: str
    issue_date: date
    amount_incl_tax: Decimal
    invoice: str = ""
    reason: str = ""


@dataclass(frozen=True)
class PaymentRow:
    line: int
    reference: str
    customer: str
    date: date
    amount: Decimal
    invoice: str = ""
    method: str = ""


Row = CustomerRow | ContactRow | InvoiceRow | CreditNoteRow | PaymentRow


@dataclass
class ParsedTable:
    kind: str
    rows: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y%m%d")


FIRST_YEAR, LAST_YEAR = 1900, 2199
MAX_AMOUNT = Decimal("999999999999.99")  # 14 digits, 2 of them decimals: the ledger's money columns


def parse_date(text: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError(f"date hors limites « {text} » (attendu entre {FIRST_YEAR} et {LAST_YEAR})")
        return value
    raise ValueError(f"date illisible « {text} » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)")


def parse_bounded_amount(text: str) -> Decimal:
    if len(text) > 40:
        raise ValueError(f"montant illisible : {text[:40]!r}…")
    value = parse_amount(text)
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"montant trop grand : {text!r} (au plus 999 999 999 999,99)")
    return value


_YES = {"oui", "o", "yes", "y", "1", "x", "vrai", "true"}
_NO = {"non", "n", "no", "0", "", "faux", "false"}


def parse_bool(text: str) -> bool:
    t = normalise_header(text)
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise ValueError(f"valeur « {text} » : attendu oui ou non")


def parse_kind(text: str) -> bool:
    """True for a business customer, False for a consumer (an empty cell is no answer: see parse_table)."""
    t = normalise_header(text)
    if t in ("entreprise", "professionnel", "pro", "b2b", "business", "company", "societe"):
        return True
    if t in ("particulier", "consommateur", "b2c", "consumer", "individual", "person"):
        return False
    raise ValueError(f"type « {text} » inconnu : attendu entreprise ou particulier")


def parse_channel(text: str) -> str:
    t = normalise_header(text)
    if t in ("", "email", "e mail", "courriel", "mail"):
        return "email"
    if t in ("courrier", "lettre", "letter", "post", "papier"):
        return "letter"
    raise ValueError(f"canal « {text} » inconnu : attendu email ou courrier")


def parse_language(text: str) -> str:
    t = normalise_header(text)
    if t in ("", "fr", "francais", "french"):
        return "fr"
    if t in ("en", "anglais", "english"):
        return "en"
    raise ValueError(f"langue « {text} » non prise en charge : attendu fr ou en")


_COUNTRY_NAMES = {
    "france": "FR", "belgique": "BE", "belgium": "BE", "suisse": "CH", "switzerland": "CH", "luxembourg": "LU",
    "allemagne": "DE", "germany": "DE", "espagne": "ES", "spain": "ES", "italie": "IT", "italy": "IT",
    "monaco": "MC", "royaume uni": "GB", "united kingdom": "GB", "pays bas": "NL", "netherlands": "NL",
    "portugal": "PT", "autriche": "AT", "austria": "AT", "irlande": "IE", "ireland": "IE",
}


def parse_country(text: str) -> str:
    """An ISO 3166 alpha-2 code (« FR ») or a common country name (« Allemagne » -> DE)."""
    value = text.strip()
    if re.fullmatch(r"[A-Za-z]{2}", value):
        return value.upper()
    code = _COUNTRY_NAMES.get(normalise_header(value))
    if code is None:
        raise ValueError(f"pays « {text} » : indiquez le code ISO à deux lettres (FR, BE, DE…)")
    return code


def parse_positive_amount(text: str) -> Decimal:
    value = parse_bounded_amount(text)
    if value <= 0:
        raise ValueError(f"le montant doit être positif (lu : {text})")
    return value


def parse_siren(text: str) -> str:
    value = fr_siren.compact(text)
    if not fr_siren.is_valid(value):
        raise ValueError(f"SIREN invalide « {text} »")
    return value


def parse_siret(text: str) -> str:
    value = fr_siret.compact(text)
    if not fr_siret.is_valid(value):
        raise ValueError(f"SIRET invalide « {text} »")
    return value


def parse_vat(text: str) -> str:
    try:
        value = eu_vat.compact(text)  # raises (in English) when there is no known country prefix
    except ValueError:
        value = ""
    if not value or not eu_vat.is_valid(value):
        raise ValueError(f"numéro de TVA invalide « {text} »")
    return value


def parse_email(text: str) -> str:
    value = text.strip()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"adresse email invalide « {text} »")
    return value


def parse_terms(text: str) -> int:
    t = normalise_header(text).replace("jours", "").replace("days", "").replace("j", "").strip()
    if not t.isdigit() or int(t) > 365:
        raise ValueError(f"délai « {text} » : attendu un nombre de jours")
    return int(t)


def map_columns(kind: str, header: list[str]) -> dict[str, int]:
    """Map canonical fields to column indexes; the first matching header wins."""
    wanted = {f: {normalise_header(a) for a in aliases} for f, aliases in COLUMNS[kind].items()}
    mapping: dict[str, int] = {}
    for index, title in enumerate(header):
        norm = normalise_header(title)
        for fld, aliases in wanted.items():
            if fld not in mapping and norm in aliases:
                mapping[fld] = index
                break
    return mapping


def detect_kind(sheet: Sheet) -> str | None:
    """Guess the kind of a table from its sheet name, then from its headers."""
    name = normalise_header(sheet.name)
    for kind, names in SHEET_NAMES.items():
        if name in names:
            return kind
    # by headers: the kind whose required fields are all present, preferring the most specific
    headers = [normalise_header(h) for h in sheet.header]
    # only invoices have a due date: an invoice table with a "Référence" or an "Avoir" column stays an invoice table
    has_due_date = "due_date" in map_columns("invoices", sheet.header)
    for kind in ("payments", "credit_notes", "invoices", "contacts", "customers"):
        mapping = map_columns(kind, sheet.header)
        if all(f in mapping for f in REQUIRED[kind]):
            if kind == "invoices" and "due_date" not in mapping:
                continue
            if kind == "credit_notes" and (has_due_date or not any("avoir" in h or "credit" in h for h in headers)):
                continue
            payment_refs = ("reference", "ref", "reference paiement", "payment reference")
            if kind == "payments" and (has_due_date or not any(h in payment_refs for h in headers)):
                continue
            customer_mapping = map_columns("customers", sheet.header)
            if kind == "contacts" and "name" in customer_mapping and "code" in customer_mapping:
                # a customers table also has "nom"; contacts tables have a "prénom" or no raison sociale
                if "first_name" not in mapping:
                    continue
            return kind
    return None


def closest_kind(sheet: Sheet) -> str | None:
    """The kind a table that :func:`detect_kind` did not recognise was most probably meant to
    be: the one with most of its required columns present (at least two, and more than any
    other kind), so that the message names the missing column rather than « unrecognised »."""
    scores = []
    for kind in ("invoices", "credit_notes", "payments", "customers", "contacts"):
        mapping = map_columns(kind, sheet.header)
        present = sum(1 for f in REQUIRED[kind] if f in mapping)
        scores.append((present / len(REQUIRED[kind]), present, kind))
    best = max(scores, key=lambda s: (s[0], s[1]))
    ties = [s for s in scores if (s[0], s[1]) == (best[0], best[1])]
    if best[1] < 2 or best[0] >= 1 or len(ties) > 1:
        return None
    return best[2]


Parser = Callable[[str], Any]

FIELD_PARSERS: dict[str, Parser] = {
    "kind": parse_kind, "country": parse_country, "siren": parse_siren, "siret": parse_siret, "vat": parse_vat,
    "language": parse_language, "channel": parse_channel, "terms": parse_terms, "email": parse_email,
    "billing": parse_bool, "issue_date": parse_date, "due_date": parse_date, "delivery_date": parse_date,
    "date": parse_date, "amount_incl_tax": parse_positive_amount, "amount_excl_tax": parse_bounded_amount,
    "tax_amount": parse_bounded_amount, "amount": parse_positive_amount,
}

RENAMES = {"kind": "is_business", "terms": "terms_days"}

ROW_TYPES: dict[str, type] = {
    "customers": CustomerRow, "contacts": ContactRow, "invoices": InvoiceRow,
    "credit_notes": CreditNoteRow, "payments": PaymentRow,
}

UNIQUE_FIELD = {"customers": "code", "invoices": "number", "credit_notes": "number", "payments": "reference"}


def parse_table(
    sheet: Sheet,
    filename: str,
    kind: str | None = None,
    known_customers: Iterable[str] = (),
    limits: Mapping[str, Mapping[str, int]] | None = None,
) -> ParsedTable:
    """Validate every row of ``sheet``; collect all problems rather than stop at the first.

    ``limits`` gives, per kind, the longest text each field may hold (the database columns'
    lengths): a longer value is a problem of its row, never a database error at writing."""
    kind = kind or detect_kind(sheet) or closest_kind(sheet)
    if kind is None:
        return ParsedTable("unknown", problems=[Problem(
            filename, 1, None,
            "impossible de reconnaître le contenu du tableau (clients, contacts, factures, avoirs ou paiements) "
            "d’après ses en-têtes : voir la correspondance des colonnes dans docs/imports-csv.md",
        )])
    result = ParsedTable(kind)
    mapping = map_columns(kind, sheet.header)
    header_line = 1
    missing = [f for f in REQUIRED[kind] if f not in mapping]
    for fld in missing:
        result.problems.append(Problem(filename, header_line, LABELS[fld], "colonne obligatoire absente"))
    if missing:
        return result
    customers = set(known_customers)
    seen: dict[str, int] = {}
    row_type = ROW_TYPES[kind]
    longest = (limits or {}).get(kind, {})
    for line, cells in sheet.rows:
        values: dict[str, Any] = {"line": line}
        row_ok = True
        for fld, index in mapping.items():
            text = cells[index] if index < len(cells) else ""
            if not text:
                if fld in REQUIRED[kind]:
                    result.problems.append(Problem(filename, line, LABELS[fld], "valeur obligatoire manquante"))
                    row_ok = False
                continue
            if fld in longest and len(text) > longest[fld]:
                result.problems.append(Problem(filename, line, LABELS[fld], (
                    f"valeur trop longue ({len(text)} caractères, au plus {longest[fld]}) : "
                    f"« {text[:40]}{'…' if len(text) > 40 else ''} »")))
                row_ok = False
                continue
            parser = FIELD_PARSERS.get(fld)
            try:
                value = parser(text) if parser else text
            except ValueError as exc:
                result.problems.append(Problem(filename, line, LABELS[fld], str(exc)))
                row_ok = False
                continue
            values[RENAMES.get(fld, fld)] = value
        if not row_ok:
            continue
        if not _check_row(kind, values, filename, line, customers, seen, result.problems):
            continue
        if kind == "customers":
            customers.add(values["code"])
        result.rows.append(row_type(**values))
    return result


def _check_row(
    kind: str,
    values: dict[str, Any],
    filename: str,
    line: int,
    customers: set[str],
    seen: dict[str, int],
    problems: list[Problem],
) -> bool:
    ok = True
    key_field = UNIQUE_FIELD.get(kind)
    if key_field:
        key = values[key_field]
        if key in seen:
            problems.append(Problem(filename, line, LABELS[key_field], f"« {key} » figure déjà ligne {seen[key]}"))
            ok = False
        else:
            seen[key] = line
    if kind != "customers" and values["customer"] not in customers:
        problems.append(Problem(filename, line, LABELS["customer"], f"client « {values['customer']} » inconnu"))
        ok = False
    if kind == "invoices":
        if values["due_date"] < values["issue_date"]:
            problems.append(Problem(filename, line, LABELS["due_date"], "l’échéance précède la date de la facture"))
            ok = False
        ht, tva = values.get("amount_excl_tax"), values.get("tax_amount")
        if ht is not None and tva is not None and ht + tva != values["amount_incl_tax"]:
            problems.append(Problem(
                filename, line, LABELS["amount_incl_tax"],
                f"HT + TVA ({ht + tva}) ne fait pas le TTC ({values['amount_incl_tax']})",
            ))
            ok = False
        if "currency" in values:
            values["currency"] = values["currency"].upper()
            if not re.fullmatch(r"[A-Z]{3}", values["currency"]):
                problems.append(Problem(filename, line, LABELS["currency"], "code devise ISO 4217 attendu (EUR)"))
                ok = False
    return ok
