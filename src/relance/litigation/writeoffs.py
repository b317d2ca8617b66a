"""Write-offs for the accountant: the invoices of the cases closed « Irrécouvrable », with what
they still owed split into its excl.-tax and VAT parts, as a CSV and as FEC-style lines of the
write-off entry to import into the accounting software.

The entry, per invoice (balanced: debits = credit):

=========  =====================================================  ============  ==========
account    label                                                  debit         credit
=========  =====================================================  ============  ==========
654        Pertes sur créances irrécouvrables                     HT
44571      TVA collectée (TVA à récupérer, CGI art. 272, 1)       TVA
411        the customer (auxiliary account: its code)                           TTC
=========  =====================================================  ============  ==========

The VAT part is prorated from the invoice's own amounts (``tax_amount`` / ``amount_incl_tax``,
or ``amount_incl_tax - amount_excl_tax``): what remains due is assumed to carry VAT in the same
proportion as the invoice. An invoice without its VAT amount is written off TTC to 654 and
flagged (``vat_known`` false) — its VAT can't be recovered without knowing it.

What is written off is what the invoice still owes when the export is made (``amount_due``);
an invoice settled since the closing is left out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from relance.core import litigation as machine
from relance.ledger.models import Customer, Invoice, Organisation

from .exports import BOM, csv_amount, csv_date
from .models import CaseInvoice, LitigationCase

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: Default accounts of the write-off entry (plan comptable général).
LOSS_ACCOUNT = ("654", "Pertes sur créances irrécouvrables")
VAT_ACCOUNT = ("44571", "TVA collectée")
CUSTOMER_ACCOUNT = ("411", "Clients")
JOURNAL = ("OD", "Opérations diverses")

VAT_NOTE = """\
Récupération de la TVA sur les créances irrécouvrables

La TVA collectée sur une vente ou une prestation restée définitivement impayée peut être
récupérée (imputée sur la TVA due ou remboursée) : Code général des impôts, art. 272, 1.

Conditions :
- la créance doit être définitivement irrécouvrable (décision de justice, clôture de la
  liquidation judiciaire pour insuffisance d’actif, etc.) ; un simple retard de paiement,
  une procédure en cours ou la transmission du dossier ne suffisent pas ;
- la facture initiale doit avoir été rectifiée au préalable : émettre au débiteur une facture
  rectificative (un avoir) portant sur la TVA à récupérer, et la conserver comme justificatif ;
- la récupération porte sur la TVA réellement collectée et reversée : pour une prestation de
  services dont la TVA est exigible à l’encaissement, la TVA d’une facture jamais encaissée n’a
  pas été reversée et il n’y a rien à récupérer (l’écriture porte alors sur le compte de TVA en
  attente utilisé par votre comptabilité, pas sur le 44571).

Ces lignes sont proposées à votre expert-comptable, qui en vérifie les conditions avant de les
comptabiliser ; relance ne tient pas votre comptabilité.
"""

FEC_COLUMNS = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
               "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
               "ValidDate", "Montantdevise", "Idevise")

CSV_COLUMNS = ("Dossier", "Clôturé le", "Code client", "Client", "SIREN", "Facture", "Date de facture", "Échéance",
               "Montant TTC de la facture", "Perte TTC", "dont HT", "dont TVA à récupérer", "Devise", "TVA connue")


@dataclass(frozen=True)
class WriteOff:
    invoice: Invoice
    customer: Customer
    case: LitigationCase
    closed_on: date
    amount: Decimal  # TTC written off: what the invoice still owes
    excl_tax: Decimal
    vat: Decimal
    vat_known: bool

    def as_dict(self) -> dict[str, Any]:
        i, c = self.invoice, self.customer
        return {"case": self.case.pk, "closed_on": self.closed_on.isoformat(), "invoice": i.number,
                "issue_date": i.issue_date.isoformat(), "due_date": i.due_date.isoformat(),
                "customer": {"code": c.code, "name": c.legal_name, "siren": c.siren or None},
                "amount_incl_tax": f"{i.amount_incl_tax:.2f}", "written_off": f"{self.amount:.2f}",
                "excl_tax": f"{self.excl_tax:.2f}", "vat": f"{self.vat:.2f}", "vat_known": self.vat_known,
                "currency": i.currency}


def split(amount: Decimal, invoice: Invoice) -> tuple[Decimal, Decimal, bool]:
    """``amount`` (TTC, part of the invoice) as (HT, VAT, VAT known), prorated from the invoice."""
    total = Decimal(invoice.amount_incl_tax)
    if invoice.tax_amount is not None:
        tax = Decimal(invoice.tax_amount)
    elif invoice.amount_excl_tax is not None:
        tax = total - Decimal(invoice.amount_excl_tax)
    else:
        return amount, ZERO, False
    vat = (amount * tax / total).quantize(CENT, ROUND_HALF_UP) if total else ZERO
    return amount - vat, vat, True


def writeoffs(organisation: Organisation, since: date, until: date) -> list[WriteOff]:
    """The invoices still owing something of the cases closed « Irrécouvrable » between ``since``
    and ``until`` (both included), by closing day, case and invoice number (one query)."""
    lines = (CaseInvoice.objects
             .filter(case__organisation=organisation, case__state=machine.State.CLOSED,
                     case__outcome=machine.Outcome.IRRECOVERABLE, case__closed_on__gte=since,
                     case__closed_on__lte=until, invoice__amount_due__gt=0)
             .select_related("case", "invoice", "invoice__customer")
             .order_by("case__closed_on", "case_id", "invoice__number"))
    result = []
    for line in lines:
        invoice = line.invoice
        amount = Decimal(invoice.amount_due).quantize(CENT)
        excl, vat, known = split(amount, invoice)
        assert line.case.closed_on is not None  # a closed case has its date (check constraint)
        result.append(WriteOff(invoice, invoice.customer, line.case, line.case.closed_on, amount, excl, vat, known))
    return result


def writeoffs_csv(organisation: Organisation, since: date, until: date) -> str:
    """The write-offs as a CSV (``;``, UTF-8 with BOM, decimal comma, dates JJ/MM/AAAA, like
    ``exports.cases_csv``). The VAT note (:data:`VAT_NOTE`) goes alongside, not inside."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for w in writeoffs(organisation, since, until):
        i, c = w.invoice, w.customer
        writer.writerow([str(w.case.pk), csv_date(w.closed_on), c.code, c.legal_name, c.siren, i.number,
                         csv_date(i.issue_date), csv_date(i.due_date), csv_amount(i.amount_incl_tax),
                         csv_amount(w.amount), csv_amount(w.excl_tax), csv_amount(w.vat), i.currency,
                         "oui" if w.vat_known else "non"])
    return out.getvalue()


def _clean(text: str) -> str:
    """No separator nor line break inside a FEC field."""
    return " ".join(text.replace("\t", " ").replace("|", " ").split())


def fec_lines(organisation: Organisation, since: date, until: date, *,
              loss_account: tuple[str, str] = LOSS_ACCOUNT, vat_account: tuple[str, str] = VAT_ACCOUNT,
              customer_account: tuple[str, str] = CUSTOMER_ACCOUNT, journal: tuple[str, str] = JOURNAL,
              first_number: int = 1, prefix: str = "IRR") -> list[dict[str, str]]:
    """The write-off entries as FEC lines (one entry per invoice, numbered ``IRR1``, ``IRR2``…
    from ``first_number``; the accounting software renumbers on import)."""
    result: list[dict[str, str]] = []
    for n, w in enumerate(writeoffs(organisation, since, until), start=first_number):
        i, c = w.invoice, w.customer
        label = _clean(f"Créance irrécouvrable {i.number} {c.legal_name} (contentieux n° {w.case.pk})"
                       + ("" if w.vat_known else " TVA inconnue"))[:200]
        common = {"JournalCode": journal[0], "JournalLib": journal[1], "EcritureNum": f"{prefix}{n}",
                  "EcritureDate": w.closed_on.strftime("%Y%m%d"), "PieceRef": _clean(i.number),
                  "PieceDate": i.issue_date.strftime("%Y%m%d"), "EcritureLib": label, "EcritureLet": "",
                  "DateLet": "", "ValidDate": "", "Montantdevise": "", "Idevise": "" if i.currency == "EUR" else i.currency}
        entry = [(loss_account, "", "", w.excl_tax, ZERO)]
        if w.vat:
            entry.append((vat_account, "", "", w.vat, ZERO))
        entry.append((customer_account, _clean(c.code), _clean(c.legal_name), ZERO, w.amount))
        for (account, account_label), aux, aux_label, debit, credit in entry:
            result.append({**common, "CompteNum": account, "CompteLib": account_label, "CompAuxNum": aux,
                           "CompAuxLib": aux_label, "Debit": csv_amount(debit), "Credit": csv_amount(credit)})
    return result


def writeoffs_fec(organisation: Organisation, since: date, until: date, **accounts: Any) -> str:
    """FEC-style file of the write-off entries (LPF art. A47 A-1 columns): TAB-separated, header
    line first, dates AAAAMMJJ, decimal comma, CRLF. UTF-8 without BOM. Keyword arguments are
    those of :func:`fec_lines` (accounts, journal, numbering)."""
    lines = ["\t".join(FEC_COLUMNS)]
    for row in fec_lines(organisation, since, until, **accounts):
        lines.append("\t".join(row[c] for c in FEC_COLUMNS))
    return "\r\n".join(lines) + "\r\n"
