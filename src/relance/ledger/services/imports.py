"""Import customers, contacts, invoices, credit notes and payments from CSV/XLSX.

All-or-nothing: every row of every sheet is validated first; any problem rejects
the whole file (:class:`ImportRejected`, naming file, line and field). Idempotent:
a file whose content was already imported is recognised by its SHA-256 and changes
nothing; rows are matched on their natural keys (customer code, invoice number…),
so importing a newer export updates what changed and creates what is new.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum

from relance.core.formats.problems import Problem
from relance.core.formats.receivables import (
    KINDS,
    ContactRow,
    CreditNoteRow,
    CustomerRow,
    InvoiceRow,
    ParsedTable,
    PaymentRow,
    detect_kind,
    parse_table,
)
from relance.core.formats.tabular import TabularError, read_table_file
from relance.core.law import check_terms
from relance.errors import ImportRejected
from relance.events.services import NewEvent, record_many
from relance.ledger.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    ImportBatch,
    Invoice,
    Organisation,
    Payment,
)

from .balances import refresh_balances
from .payments import record_credit_note, record_payment
from .references import assign_references

KIND_ALIASES = {
    "clients": "customers", "customers": "customers", "contacts": "contacts", "factures": "invoices",
    "invoices": "invoices", "avoirs": "credit_notes", "credit_notes": "credit_notes", "paiements": "payments",
    "reglements": "payments", "payments": "payments",
}
MAX_PDF_BYTES = 20 * 1024 * 1024


@dataclass
class ImportReport:
    file: str
    already_imported: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    kinds: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "already_imported": self.already_imported, "kinds": self.kinds,
                "counts": dict(sorted(self.counts.items())), "warnings": self.warnings}


def import_file(organisation: Organisation, path: Path, kind: str | None = None, actor: str = "import") -> ImportReport:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRejected([Problem(path.name, None, None, f"fichier illisible : {exc.strerror}")]) from exc
    digest = hashlib.sha256(raw).hexdigest()
    report = ImportReport(path.name)
    if ImportBatch.objects.filter(organisation=organisation, sha256=digest).exists():
        report.already_imported = True
        return report
    if kind is not None and kind not in KIND_ALIASES:
        raise ImportRejected([Problem(path.name, None, None, f"type « {kind} » inconnu")])
    try:
        sheets = read_table_file(path)
    except TabularError as exc:
        raise ImportRejected([exc.problem]) from exc

    known = set(Customer.objects.filter(organisation=organisation).values_list("code", flat=True))
    # invoice number -> customer code, for the invoices a payment or a credit note may name
    owners = dict(Invoice.objects.filter(organisation=organisation).values_list("number", "customer__code"))
    tables: list[ParsedTable] = []
    labels: dict[int, str] = {}
    problems: list[Problem] = []
    forced = KIND_ALIASES[kind] if kind else None
    # customers first so that the other sheets of a workbook may reference them
    for sheet in sorted(sheets, key=lambda s: 0 if (forced or detect_kind(s)) == "customers" else 1):
        label = path.name if len(sheets) == 1 else f"{path.name} [{sheet.name}]"
        table = parse_table(sheet, label, forced, known)
        labels[id(table)] = label
        if table.kind == "customers":
            known |= {r.code for r in table.rows}
        tables.append(table)
        problems += table.problems
    tables.sort(key=lambda t: KINDS.index(t.kind) if t.kind in KINDS else 99)
    for table in tables:
        if table.kind == "invoices":
            owners.update({r.number: r.customer for r in table.rows})
    pdfs: dict[str, bytes] = {}
    for table in tables:
        report.warnings += _terms_warnings(organisation, table, labels.get(id(table), path.name))
    for table in tables:
        problems += _check_references(organisation, table, labels.get(id(table), path.name), path, owners, pdfs)
    if problems:
        raise ImportRejected(problems)

    with transaction.atomic():
        for table in tables:
            report.kinds.append(table.kind)
            _IMPORTERS[table.kind](organisation, table.rows, report, pdfs, actor)
        assign_references(organisation)
        ImportBatch.objects.create(
            organisation=organisation, filename=path.name, sha256=digest, kind=",".join(report.kinds),
            counts=dict(report.counts),
        )
        record_many(organisation, [NewEvent("import.completed", actor=actor, data=report.as_dict())])
    return report


def _terms_warnings(organisation: Organisation, table: ParsedTable, label: str) -> list[str]:
    """Invoices whose agreed terms exceed the legal maximum (C. com. L441-10 I): imported, but flagged."""
    warnings = []
    for row in table.rows:
        if isinstance(row, InvoiceRow):
            convention: Literal["eom_after", "eom_before"] = (
                "eom_after" if organisation.terms_convention == "eom_after" else "eom_before")
            check = check_terms(row.issue_date, row.due_date, row.delivery_date, convention)
            if check.exceeds:
                warnings.append(str(Problem(label, row.line, "échéance", check.warning or "délai excessif")))
    return warnings


def _check_references(
    organisation: Organisation, table: ParsedTable, label: str, path: Path, owners: dict[str, str],
    pdfs: dict[str, bytes],
) -> list[Problem]:
    """Checks that need the database or the other sheets: PDFs, invoices named by payments
    and credit notes (and their customer), amounts lowered below what was already paid."""
    problems = []
    allocated: dict[str, Decimal] = {}
    if table.kind == "invoices":
        allocated = {
            number: total for number, total in Allocation.objects.filter(
                organisation=organisation, invoice__number__in=[r.number for r in table.rows])
            .values_list("invoice__number").annotate(total=Sum("amount")).values_list("invoice__number", "total")
        }
    for row in table.rows:
        if isinstance(row, InvoiceRow) and allocated.get(row.number, Decimal(0)) > row.amount_incl_tax:
            problems.append(Problem(label, row.line, "montant TTC", (
                f"{row.amount_incl_tax} € est inférieur aux règlements et avoirs déjà affectés à la facture "
                f"{row.number} ({allocated[row.number]} €) : émettez un avoir plutôt que de réduire la facture")))
        if isinstance(row, InvoiceRow) and row.pdf and not row.pdf.startswith(("http://", "https://")):
            pdf_path = Path(row.pdf)
            if not pdf_path.is_absolute():
                pdf_path = path.parent / pdf_path
            try:
                data = pdf_path.read_bytes()
            except OSError:
                problems.append(Problem(label, row.line, "pdf", f"fichier PDF introuvable : {row.pdf}"))
                continue
            if not data.startswith(b"%PDF-") or len(data) > MAX_PDF_BYTES:
                problems.append(Problem(label, row.line, "pdf", f"{row.pdf} n’est pas un PDF valide"))
                continue
            pdfs[row.number] = data
        if isinstance(row, CreditNoteRow | PaymentRow) and row.invoice:
            owner = owners.get(row.invoice)
            if owner is None:
                problems.append(Problem(label, row.line, "facture", f"facture « {row.invoice} » inconnue"))
            elif owner != row.customer:
                problems.append(Problem(label, row.line, "facture", (
                    f"la facture « {row.invoice} » est celle du client « {owner} », pas de « {row.customer} »")))
    return problems


def _import_customers(org: Organisation, rows: list[CustomerRow], report: ImportReport, _: Any, actor: str) -> None:
    existing = {c.code: c for c in Customer.objects.filter(organisation=org, code__in=[r.code for r in rows])}
    fields = ["legal_name", "is_business", "siren", "siret", "vat_number", "address1", "address2", "postal_code",
              "city", "country", "language", "preferred_channel", "terms_days"]
    new, changed = [], []
    for r in rows:
        values = dict(legal_name=r.name, is_business=r.is_business, siren=r.siren, siret=r.siret, vat_number=r.vat,
                      address1=r.address1, address2=r.address2, postal_code=r.postal_code, city=r.city,
                      country=r.country or "FR", language=r.language, preferred_channel=r.channel,
                      terms_days=r.terms_days)
        current = existing.get(r.code)
        if current is None:
            new.append(Customer(organisation=org, code=r.code, **values))
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            changed.append(current)
        else:
            report.counts["customers_unchanged"] += 1
    Customer.objects.bulk_create(new, batch_size=1000)
    Customer.objects.bulk_update(changed, fields, batch_size=500)
    report.counts["customers_created"] += len(new)
    report.counts["customers_updated"] += len(changed)
    # the billing contact carried on the customer row
    contact_rows = []
    for r in rows:
        if r.email or r.phone or r.contact_name:
            # without a named contact, a consumer's name is a person's; a company's name stays whole
            if r.contact_name or not r.is_business:
                civility, first, last = _split(r.contact_name or r.name)
            else:
                civility, first, last = "", "", r.name
            contact_rows.append(ContactRow(r.line, r.code, last, first, civility, r.contact_role, r.email, r.phone,
                                           billing=True))
    _import_contacts(org, contact_rows, report, None, actor, billing_on_customer_row=True)


def _split(full: str) -> tuple[str, str, str]:
    """« Mme Claire Martin » -> (civility, first name, last name)."""
    parts = full.split()
    civility = ""
    if parts and parts[0].rstrip(".") in ("M", "Mme", "Mlle", "Mr", "Mrs", "Ms", "Dr", "Me"):
        civility = parts.pop(0)
    if len(parts) >= 2:
        return civility, parts[0], " ".join(parts[1:])
    return civility, "", " ".join(parts)


def _import_contacts(
    org: Organisation, rows: list[ContactRow], report: ImportReport, _: Any, actor: str,
    billing_on_customer_row: bool = False,
) -> None:
    """Contacts match on (customer, email or name); the billing contact carried on a customer
    row matches the customer's current billing contact, so a new address replaces the old one."""
    customers = {c.code: c for c in Customer.objects.filter(organisation=org, code__in={r.customer for r in rows})}
    existing: dict[tuple[int, str], Contact] = {}
    billing: dict[int, Contact] = {}
    for c in Contact.objects.filter(organisation=org, customer__in=customers.values()).order_by("id"):
        existing[(c.customer_id, (c.email or c.full_name).lower())] = c
        if c.is_billing:
            billing.setdefault(c.customer_id, c)
    new, changed = [], []
    for r in rows:
        customer = customers[r.customer]
        civility, first, last = r.civility, r.first_name, r.last_name
        values = dict(civility=civility, first_name=first, last_name=last, role=r.role, email=r.email, phone=r.phone,
                      is_billing=r.billing)
        key = (customer.id, (r.email or " ".join(p for p in (first, last) if p)).lower())
        current = billing.get(customer.id) if billing_on_customer_row else existing.get(key)
        if current is None:
            contact = Contact(organisation=org, customer=customer, **values)
            new.append(contact)
            existing[key] = contact
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            changed.append(current)
    Contact.objects.bulk_create(new, batch_size=1000)
    Contact.objects.bulk_update(changed, ["civility", "first_name", "last_name", "role", "email", "phone",
                                          "is_billing"], batch_size=500)
    report.counts["contacts_created"] += len(new)
    report.counts["contacts_updated"] += len(changed)


def _import_invoices(
    org: Organisation, rows: list[InvoiceRow], report: ImportReport, pdfs: dict[str, bytes], actor: str,
) -> None:
    customers = dict(Customer.objects.filter(organisation=org, code__in={r.customer for r in rows})
                     .values_list("code", "id"))
    existing = {i.number: i for i in Invoice.objects.filter(organisation=org, number__in=[r.number for r in rows])}
    new, changed = [], []
    for r in rows:
        values: dict[str, Any] = dict(
            customer_id=customers[r.customer], issue_date=r.issue_date, due_date=r.due_date,
            delivery_date=r.delivery_date, amount_excl_tax=r.amount_excl_tax, tax_amount=r.tax_amount,
            amount_incl_tax=r.amount_incl_tax, currency=r.currency, description=r.description,
            pdf_url=r.pdf if r.pdf.startswith(("http://", "https://")) else "",
        )
        current = existing.get(r.number)
        if current is None:
            new.append(Invoice(organisation=org, number=r.number, amount_due=r.amount_incl_tax, **values))
        elif any(getattr(current, k) != v for k, v in values.items()):
            if current.due_date != r.due_date:
                current.next_action_date = None  # the planner reschedules it
            for k, v in values.items():
                setattr(current, k, v)
            changed.append(current)
        else:
            report.counts["invoices_unchanged"] += 1
    Invoice.objects.bulk_create(new, batch_size=1000)
    Invoice.objects.bulk_update(changed, ["customer_id", "issue_date", "due_date", "delivery_date",
                                          "amount_excl_tax", "tax_amount", "amount_incl_tax", "currency",
                                          "description", "pdf_url", "next_action_date"], batch_size=500)
    if changed:
        refresh_balances(org, [i.id for i in changed], actor=actor)
    if pdfs:
        for invoice in Invoice.objects.filter(organisation=org, number__in=list(pdfs)):
            invoice.pdf.save(f"{org.slug}/{invoice.number}.pdf", ContentFile(pdfs[invoice.number]), save=True)
    created = Invoice.objects.filter(organisation=org, number__in=[i.number for i in new]).values(
        "id", "number", "customer_id", "amount_incl_tax", "due_date")
    record_many(org, [
        NewEvent("invoice.imported", customer_id=i["customer_id"], invoice_id=i["id"], actor=actor,
                 data={"number": i["number"], "amount": i["amount_incl_tax"], "due_date": i["due_date"]})
        for i in created
    ])
    report.counts["invoices_created"] += len(new)
    report.counts["invoices_updated"] += len(changed)


def _import_credit_notes(org: Organisation, rows: list[CreditNoteRow], report: ImportReport, _: Any, actor: str) -> None:
    existing = set(CreditNote.objects.filter(organisation=org, number__in=[r.number for r in rows])
                   .values_list("number", flat=True))
    customers = {c.code: c for c in Customer.objects.filter(organisation=org, code__in={r.customer for r in rows})}
    for r in rows:
        if r.number in existing:
            report.counts["credit_notes_unchanged"] += 1
            continue
        record_credit_note(org, customers[r.customer], r.number, r.issue_date, r.amount_incl_tax, r.invoice,
                           r.reason, actor)
        report.counts["credit_notes_created"] += 1


def _import_payments(org: Organisation, rows: list[PaymentRow], report: ImportReport, _: Any, actor: str) -> None:
    existing = set(Payment.objects.filter(organisation=org, reference__in=[r.reference for r in rows])
                   .values_list("reference", flat=True))
    customers = {c.code: c for c in Customer.objects.filter(organisation=org, code__in={r.customer for r in rows})}
    for r in sorted(rows, key=lambda r: (r.date, r.line)):
        if r.reference in existing:
            report.counts["payments_unchanged"] += 1
            continue
        record_payment(org, customers[r.customer], r.reference, r.date, r.amount,
                       [r.invoice] if r.invoice else [], r.method, actor)
        report.counts["payments_created"] += 1


_IMPORTERS: dict[str, Any] = {
    "customers": _import_customers,
    "contacts": _import_contacts,
    "invoices": _import_invoices,
    "credit_notes": _import_credit_notes,
    "payments": _import_payments,
}
