"""Exports of the litigation cases for whoever pursues them (collection agency, lawyer,
commissaire de justice): one line per invoice of each case in CSV, one object per case in
JSON.

CSV format, chosen for the spreadsheets and import screens of French agencies (Excel opened
on a French system reads it with a double click):

* separator ``;``, fields quoted only when needed, lines ended by CRLF;
* UTF-8 with a BOM (without it Excel reads UTF-8 as Windows-1252 and garbles « é »);
* amounts with a decimal comma and no thousands separator (``1430,50``), as in a FEC;
* dates ``JJ/MM/AAAA``; an absent value is an empty field;
* one header line, French column names (:data:`CSV_COLUMNS`).

JSON: amounts as decimal strings (``"1430.50"``, never floats), dates ISO ``AAAA-MM-JJ``,
``null`` when absent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from relance.core import litigation as machine
from relance.ledger.models import Customer, Organisation

from . import queries
from .models import LitigationCase

BOM = "\ufeff"

CSV_COLUMNS = (
    "Dossier", "État", "Ouvert le", "Code client", "Client", "SIREN", "Adresse", "Code postal", "Ville", "Pays",
    "Facture", "Date de facture", "Échéance", "Montant TTC", "Reste dû à l’ouverture", "Reste dû aujourd’hui",
    "Devise", "Mise en demeure du", "N° de recommandé", "Avis de réception du", "Transmis à", "Transmis le",
    "Juridiction", "Nom de la juridiction", "Référence au greffe", "Issue", "Clôturé le",
)


def csv_amount(amount: Decimal | None) -> str:
    """``1430,50``: decimal comma, no thousands separator, two decimals."""
    if amount is None:
        return ""
    return f"{Decimal(amount):.2f}".replace(".", ",")


def csv_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _json_amount(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{Decimal(amount):.2f}"


def _address(customer: Customer) -> str:
    return ", ".join(part for part in (customer.address1, customer.address2) if part)


def handed_to(case: LitigationCase) -> str:
    """To whom the case went: its recipient, else the name typed when it was handed over."""
    return case.recipient.name if case.recipient_id and case.recipient else case.handled_by


def _rows(organisation: Organisation, state: str, collector_id: int | None) -> list[queries.CaseRow]:
    found = queries.cases(organisation, state, collector_id).select_related("customer", "recipient")
    return queries.rows(organisation, found)


def _case_facts(row: queries.CaseRow) -> dict[str, Any]:
    c, customer = row.case, row.case.customer
    return {
        "case": c.pk, "state": c.state, "state_label": machine.state_label(c.state), "opened_on": c.opened_on,
        "customer": {"code": customer.code, "name": customer.legal_name, "siren": customer.siren or None,
                     "siret": customer.siret or None, "vat_number": customer.vat_number or None,
                     "is_business": customer.is_business, "address1": customer.address1,
                     "address2": customer.address2, "postal_code": customer.postal_code, "city": customer.city,
                     "country": customer.country},
        "handed_to": handed_to(c) or None, "filed_on": c.filed_on,
        "recipient_reference": c.recipient.reference if c.recipient_id and c.recipient else None,
        "court": {"kind": c.court_kind or None, "name": c.court_name or None, "address": c.court_address or None,
                  "reference": c.court_reference or None},
        "request_filed_on": c.request_filed_on, "order_issued_on": c.order_issued_on, "served_on": c.served_on,
        "outcome": c.outcome or None, "closed_on": c.closed_on, "currency": row.currency,
    }


def cases_json(organisation: Organisation, state: str = "", collector_id: int | None = None) -> list[dict[str, Any]]:
    """One object per case (its invoices nested), amounts as decimal strings, dates ISO."""
    result = []
    for row in _rows(organisation, state, collector_id):
        facts = _case_facts(row)
        for key in ("opened_on", "filed_on", "request_filed_on", "order_issued_on", "served_on", "closed_on"):
            facts[key] = facts[key].isoformat() if facts[key] else None
        facts["total_at_opening"] = _json_amount(row.total_at_opening)
        facts["total_due_now"] = _json_amount(row.total_due_now)
        facts["invoices"] = [{
            "number": line.invoice.number, "issue_date": line.invoice.issue_date.isoformat(),
            "due_date": line.invoice.due_date.isoformat(),
            "amount_incl_tax": _json_amount(line.invoice.amount_incl_tax),
            "amount_due_at_opening": _json_amount(line.amount_due_at_opening),
            "amount_due": _json_amount(line.invoice.amount_due), "currency": line.invoice.currency,
            "formal_notice": None if line.notice is None else {
                "sent_on": line.notice.sent_on.isoformat(), "tracking_number": line.notice.tracking_number or None,
                "received_on": line.notice.received_on.isoformat() if line.notice.received_on else None},
        } for line in row.lines]
        result.append(facts)
    return result


def _csv_lines(rows: Iterable[queries.CaseRow]) -> Iterable[list[str]]:
    for row in rows:
        c, customer = row.case, row.case.customer
        head = [str(c.pk), machine.state_label(c.state), csv_date(c.opened_on), customer.code, customer.legal_name,
                customer.siren, _address(customer), customer.postal_code, customer.city, customer.country]
        tail = [handed_to(c), csv_date(c.filed_on), c.get_court_kind_display() if c.court_kind else "", c.court_name,
                c.court_reference, c.get_outcome_display() if c.outcome else "", csv_date(c.closed_on)]
        for line in row.lines:
            i, n = line.invoice, line.notice
            yield [*head, i.number, csv_date(i.issue_date), csv_date(i.due_date), csv_amount(i.amount_incl_tax),
                   csv_amount(line.amount_due_at_opening), csv_amount(i.amount_due), i.currency,
                   csv_date(n.sent_on) if n else "", n.tracking_number if n else "",
                   csv_date(n.received_on) if n else "", *[str(t) for t in tail]]


def cases_csv(organisation: Organisation, state: str = "", collector_id: int | None = None) -> str:
    """The cases as a CSV for an agency: one line per invoice of each case (see the module's
    docstring for the format), BOM included."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_lines(_rows(organisation, state, collector_id)))
    return out.getvalue()
