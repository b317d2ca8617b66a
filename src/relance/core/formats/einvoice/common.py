"""What the CII and UBL readers share once they have located the values: the checks on the
number, the type code and the amounts, and the assembly of the EInvoice."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from stdnum import iban as std_iban

from ...formatting import money, short_date
from ...iban import compact_iban
from .model import (
    EInvoice,
    Identifier,
    Party,
    Syntax,
    document_kind,
    resolve_identifiers,
    type_problem_message,
)
from .xml import Collector, Node

MAX_NUMBER_LENGTH = 50  # Invoice.number
_CURRENCY = re.compile(r"[A-Z]{3}")


def profile_label(guideline: str) -> str:
    """A readable name for the specification identifier (BT-24)."""
    g = guideline.lower()
    checks = (
        ("extended-ctc-fr", "EXTENDED-CTC-FR"),
        ("xrechnung", "XRECHNUNG"),
        ("peppol", "PEPPOL BIS Billing 3.0"),
        ("minimum", "MINIMUM"),
        ("basicwl", "BASIC WL"),
        ("extended", "EXTENDED"),
        ("basic", "BASIC"),
        ("en16931", "EN 16931"),
    )
    for needle, label in checks:
        if needle in g:
            return label
    return guideline[:60] or "non précisé"


@dataclass
class Amounts:
    excl: Decimal | None = None  # BT-109
    tax: Decimal | None = None  # BT-110
    grand: Decimal | None = None  # BT-112
    prepaid: Decimal | None = None  # BT-113
    rounding: Decimal | None = None  # BT-114
    payable: Decimal | None = None  # BT-115
    node: Node | None = None  # the monetary summation, for problems
    path: str = ""


@dataclass
class Draft:
    """What a reader located; ``finish`` checks it and builds the EInvoice."""

    syntax: Syntax
    guideline: str = ""
    number: str = ""
    number_node: Node | None = None
    number_path: str = ""
    type_code: str = ""
    type_node: Node | None = None
    type_path: str = ""
    issue_date: date | None = None
    due_dates: list[date] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    delivery_date: date | None = None
    currency: str = ""
    currency_node: Node | None = None
    currency_path: str = ""
    amounts: Amounts = field(default_factory=Amounts)
    payment_reference: str = ""
    iban: str = ""
    iban_node: Node | None = None
    preceding: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def finish_party(c: Collector, party: Party, identifiers: list[Identifier]) -> Party:
    resolve_identifiers(party, identifiers, c.filename, c.warnings)
    if party.country and not re.fullmatch(r"[A-Z]{2}", party.country):
        c.warning(None, party.element, f"code pays du {party.role} « {party.country[:10]} » illisible : ignoré")
        party.country = ""
    return party


def finish(c: Collector, d: Draft, seller: Party | None, buyer: Party | None) -> EInvoice | None:
    number = d.number.strip()
    if not number:
        c.problem(d.number_node, d.number_path, "numéro de facture absent", "BT-1")
    elif len(number) > MAX_NUMBER_LENGTH:
        c.problem(d.number_node, d.number_path, f"numéro de facture de plus de {MAX_NUMBER_LENGTH} caractères", "BT-1")
    kind = document_kind(d.type_code)
    if not d.type_code:
        c.problem(d.type_node, d.type_path, "type de document absent", "BT-3")
    elif kind is None:
        c.problem(d.type_node, d.type_path, type_problem_message(d.type_code), "BT-3")
    currency = d.currency.strip().upper()
    if not currency:
        c.warning(d.currency_node, d.currency_path, "devise absente : l’euro est retenu", "BT-5")
        currency = "EUR"
    elif not _CURRENCY.fullmatch(currency):
        c.problem(d.currency_node, d.currency_path, f"devise illisible : « {currency[:10]} »", "BT-5")
    elif currency != "EUR":
        c.warning(d.currency_node, d.currency_path, (
            f"facture en {currency} : les montants sont repris tels quels, sans conversion en euros"), "BT-5")
    for party, bt in ((seller, "BT-27"), (buyer, "BT-44")):  # a missing party was reported by the reader
        if party is not None and not (party.name or party.trading_name):
            c.problem(None, party.element, f"{party.role} sans nom", bt)

    incl, prepaid, payable = _check_amounts(c, d.amounts, kind, currency if _CURRENCY.fullmatch(currency) else "EUR")

    due_date: date | None = None
    if d.due_dates:
        due_date = max(d.due_dates)
        if len(set(d.due_dates)) > 1:
            listed = ", ".join(short_date(x) for x in sorted(set(d.due_dates)))
            c.warning(None, d.amounts.path.rsplit("/", 1)[0] or "échéances", (
                f"plusieurs échéances ({listed}) : la dernière, le {short_date(due_date)}, est retenue"), "BT-9")
        if d.issue_date and due_date < d.issue_date:
            c.warning(None, "échéance", (
                f"échéance du {short_date(due_date)} antérieure à la date de facture du {short_date(d.issue_date)}"),
                "BT-9")

    iban = ""
    if d.iban:
        iban = compact_iban(d.iban)
        if not std_iban.is_valid(iban):
            path = d.iban_node.path if d.iban_node else "IBAN"
            c.warning(d.iban_node, path, f"IBAN du bénéficiaire « {d.iban[:40]} » invalide : ignoré", "BT-84")
            iban = ""

    if (c.problems or kind is None or d.issue_date is None or incl is None or prepaid is None or payable is None
            or seller is None or buyer is None):
        return None
    return EInvoice(
        filename=c.filename, syntax=d.syntax, profile=profile_label(d.guideline), guideline=d.guideline,
        number=number, type_code=d.type_code, kind=kind, issue_date=d.issue_date, due_date=due_date,
        terms=" ".join(t for t in d.terms if t)[:500], delivery_date=d.delivery_date, currency=currency,
        amount_excl_tax=d.amounts.excl, tax_amount=d.amounts.tax, amount_incl_tax=incl, prepaid=prepaid,
        amount_payable=payable, payment_reference=d.payment_reference.strip(), iban=iban,
        preceding_invoices=list(dict.fromkeys(p.strip() for p in d.preceding if p.strip())),
        seller=seller, buyer=buyer, notes=d.notes, due_dates=sorted(set(d.due_dates)),
    )


def _check_amounts(
    c: Collector, a: Amounts, kind: str | None, currency: str,
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(TTC kept in the ledger, prepaid, payable), or Nones after a problem.

    EN 16931 BR-CO-16: BT-115 = BT-112 − BT-113 + BT-114. The ledger's TTC is BT-112 + BT-114 so
    that what stays due after the prepayment is exactly BT-115. When BT-113 is absent but BT-115 is
    below BT-112 (the FNFE MINIMUM sample), the difference is taken as already paid, with a warning.
    """
    path = a.path

    def euros(value: Decimal) -> str:
        return money(value, currency)

    if a.grand is None:
        if not any("BT-112" in (p.field or "") for p in c.problems):  # else already said: unreadable
            c.problem(a.node, path, "montant total TTC absent", "BT-112")
        return None, None, None
    rounding = a.rounding or Decimal("0.00")
    incl = a.grand + rounding
    if rounding:
        c.warning(a.node, path, f"arrondi de {euros(rounding)} ajouté au total TTC (BT-114)", "BT-114")
    if incl <= 0:
        what = "avoir" if kind == "credit_note" else "facture"
        hint = "" if kind == "credit_note" else " : une annulation doit être émise comme un avoir (type 381)"
        c.problem(a.node, path, f"{what} de montant total nul ou négatif ({euros(incl)}){hint}", "BT-112")
        return None, None, None
    if a.prepaid is not None:
        if a.prepaid < 0 or a.prepaid > incl:
            c.problem(a.node, path, (
                f"montant déjà payé de {euros(a.prepaid)} incohérent avec le total TTC de {euros(incl)}"), "BT-113")
            return None, None, None
        expected = incl - a.prepaid
        if a.payable is not None and a.payable != expected:
            c.problem(a.node, path, (
                f"montants incohérents : net à payer {euros(a.payable)} (BT-115) ≠ total TTC {euros(a.grand)} (BT-112) "
                f"− déjà payé {euros(a.prepaid)} (BT-113)" + (f" + arrondi {euros(rounding)} (BT-114)" if rounding else "")),
                "BT-115")
            return None, None, None
        return incl, a.prepaid, expected
    if a.payable is None:
        return incl, Decimal("0.00"), incl
    if a.payable < 0 or a.payable > incl:
        c.problem(a.node, path, (
            f"net à payer de {euros(a.payable)} (BT-115) supérieur au total TTC de {euros(incl)} (BT-112) "
            f"ou négatif"), "BT-115")
        return None, None, None
    prepaid = incl - a.payable
    if prepaid:
        c.warning(a.node, path, (
            f"net à payer de {euros(a.payable)} inférieur au total TTC de {euros(incl)} sans montant déjà payé déclaré "
            f"(BT-113) : la différence de {euros(prepaid)} est traitée comme un acompte déjà versé"), "BT-115")
    return incl, prepaid, a.payable
