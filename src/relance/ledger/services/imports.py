"""Import customers, contacts, invoices, credit notes and payments from CSV/XLSX.

All-or-nothing: every row of every sheet is validated first; any problem rejects
the whole file (:class:`ImportRejected`, naming file, line and field). Idempotent:
a file whose content was already imported is recognised by its SHA-256 and changes
nothing; rows are matched on their natural keys (customer code, invoice number…),
so importing a newer export updates what changed and creates what is new.

Writing, once the whole file is valid (issue 12: imports never hold their locks across a
whole file of payments, and follow the lock order of ``locks.py``):

* customers, contacts and invoices: one transaction — the invoices the file changes are
  locked first (by id), then the organisation row, so a sheet of invoices lands whole;
* credit notes and payments: one short transaction each (``record_credit_note``,
  ``record_payment``: the customer's invoices, then the organisation row), so a payment file
  never waits in a circle with reminders being sent;
* the file is recorded as imported (``ImportBatch``, ``import.completed``) last.

A write interrupted half-way (a crash, a killed process) leaves what was committed; the same
file imported again resumes: what is there is « inchangé » (payments and credit notes by their
reference or number), the rest is written, and the file is then recorded.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.core.formats.problems import Problem, os_error_text
from relance.core.formats.receivables import (
    DEFAULT_KINDS,
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
from relance.core.formats.tabular import MAX_BYTES, TabularError, read_csv, read_xlsx, zip_bomb_problem
from relance.core.law import check_terms
from relance.errors import AlreadyRecorded, Conflict, ImportRejected, ImportStopped
from relance.events import kinds
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
from relance.locks import customer_invoice_ids, lock_invoices, lock_organisation

from .balances import refresh_balances
from .contacts import clear_bounce
from .payments import record_credit_note, record_payment
from .references import assign_references

_T = TypeVar("_T")

KIND_ALIASES = {
    "clients": "customers", "customers": "customers", "contacts": "contacts", "factures": "invoices",
    "invoices": "invoices", "avoirs": "credit_notes", "credit_notes": "credit_notes", "paiements": "payments",
    "reglements": "payments", "payments": "payments",
}
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 10_000
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024  # uncompressed: a « ZIP bomb » is refused before it is read
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
# the folder (one sub-folder per organisation, named by its slug) where the administrator lets
# imports read the PDFs that a table names; unset, only an uploaded archive (or, on the command
# line, the imported file's own folder) provides them
IMPORT_DIR_ENV = "RELANCE_IMPORT_DIR"
CHUNK = 900  # values per IN (…) list: SQLite and PostgreSQL both refuse endless lists

COUNT_LABELS = {
    "customers_created": gettext_lazy("client(s) créé(s)"),
    "customers_updated": gettext_lazy("client(s) mis à jour"),
    "customers_unchanged": gettext_lazy("client(s) inchangé(s)"),
    "contacts_created": gettext_lazy("contact(s) créé(s)"),
    "contacts_updated": gettext_lazy("contact(s) mis à jour"),
    "invoices_created": gettext_lazy("facture(s) créée(s)"),
    "invoices_updated": gettext_lazy("facture(s) mise(s) à jour"),
    "invoices_unchanged": gettext_lazy("facture(s) inchangée(s)"),
    "credit_notes_created": gettext_lazy("avoir(s) créé(s)"),
    "credit_notes_unchanged": gettext_lazy("avoir(s) déjà connu(s)"),
    "payments_created": gettext_lazy("paiement(s) créé(s)"),
    "payments_unchanged": gettext_lazy("paiement(s) déjà connu(s)"),
}


@dataclass
class ImportReport:
    file: str
    already_imported: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    kinds: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    default_kind: str | None = None  # « entreprise » or « particulier », given for this import
    defaulted: int = 0  # customer rows that took it

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "already_imported": self.already_imported, "kinds": self.kinds,
                "counts": dict(sorted(self.counts.items())), "warnings": self.warnings,
                "default_kind": self.default_kind, "defaulted": self.defaulted}

    def as_text(self, with_warnings: bool = True) -> str:
        if self.already_imported:
            return _("%(name)s : déjà importé, rien n’a changé.") % {"name": self.file}
        counts = ", ".join(f"{n} {COUNT_LABELS.get(k, k)}" for k, n in sorted(self.counts.items()) if n)
        out = [_("%(name)s importé : %(counts)s.") % {"name": self.file, "counts": counts or _("rien de nouveau")}]
        if self.default_kind:
            out.append(_("Type de client par défaut donné pour cet import : %(kind)s (%(n)s ligne(s) sans type).")
                       % {"kind": self.default_kind, "n": self.defaulted})
        if with_warnings:
            out += [_("Attention : %(warning)s") % {"warning": w} for w in self.warnings]
        return "\n".join(out)


def _chunks(values: Iterable[_T], size: int | None = None) -> Iterator[list[_T]]:
    size = size or CHUNK
    batch: list[_T] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _limits() -> dict[str, dict[str, int]]:
    """The longest text each table field may hold: the length of the column it is written to."""
    def length(model: type[Model], name: str) -> int:
        value = getattr(model._meta.get_field(name), "max_length", None)
        assert value is not None
        return int(value)

    contact = {"last_name": length(Contact, "last_name"), "first_name": length(Contact, "first_name"),
               "civility": length(Contact, "civility"), "role": length(Contact, "role"),
               "email": length(Contact, "email"), "phone": length(Contact, "phone")}
    return {
        "customers": {
            "code": length(Customer, "code"), "name": length(Customer, "legal_name"),
            "vat": length(Customer, "vat_number"), "address1": length(Customer, "address1"),
            "address2": length(Customer, "address2"), "postal_code": length(Customer, "postal_code"),
            "city": length(Customer, "city"), "contact_name": contact["last_name"],
            "contact_role": contact["role"], "email": contact["email"], "phone": contact["phone"],
            "siren": 40, "siret": 40, "legal_form": length(Customer, "legal_form"),
        },
        "contacts": {"customer": length(Customer, "code"), **contact},
        "invoices": {"number": length(Invoice, "number"), "customer": length(Customer, "code"),
                     "description": length(Invoice, "description"), "pdf": length(Invoice, "pdf_url")},
        "credit_notes": {"number": length(CreditNote, "number"), "customer": length(Customer, "code"),
                         "invoice": length(Invoice, "number"), "reason": length(CreditNote, "reason")},
        "payments": {"reference": length(Payment, "reference"), "customer": length(Customer, "code"),
                     "invoice": length(Invoice, "number"), "method": length(Payment, "method")},
    }


@dataclass
class _Source:
    """What an import may read: the table, and the PDFs it names (from the archive, or from
    the folders allowed for this import)."""
    name: str
    raw: bytes
    is_xlsx: bool
    archive: zipfile.ZipFile | None = None
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    folders: list[Path] = field(default_factory=list)

    def pdf(self, reference: str) -> bytes | None:
        """The bytes of the PDF named ``reference``, or ``None`` when it is missing *or* not allowed
        (the caller says the same thing in both cases: no oracle on the server's files)."""
        relative = _safe_relative(reference)
        if relative is None:
            return None
        if self.archive is not None:
            info = self.members.get(relative)
            if info is None or info.file_size > MAX_PDF_BYTES:
                return None
            try:
                with self.archive.open(info) as member:
                    return member.read(MAX_PDF_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):  # damaged, encrypted…
                return None
        for folder in self.folders:
            try:
                base = folder.resolve(strict=True)
                target = (base / relative).resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            if not target.is_relative_to(base) or not target.is_file():
                continue  # a symbolic link out of the folder is no better than « ../ »
            try:
                with target.open("rb") as fh:
                    return fh.read(MAX_PDF_BYTES + 1)
            except OSError:
                continue
        return None


def _safe_relative(reference: str) -> str | None:
    """``reference`` as a clean relative POSIX path, or ``None`` when it could leave its folder
    (absolute, drive letter, ``..``, empty or odd characters)."""
    text = reference.strip().replace("\\", "/")
    if not text or "\x00" in text or text.startswith("/") or re.match(r"^[A-Za-z]:", text) or ":" in text:
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def import_dir(organisation: Organisation) -> Path | None:
    """The organisation's folder under ``RELANCE_IMPORT_DIR``, when the administrator set one."""
    root = os.environ.get(IMPORT_DIR_ENV, "").strip()
    return Path(root) / organisation.slug if root else None


def _open_source(organisation: Organisation, path: Path, raw: bytes, own_folder: bool) -> _Source:
    folders = [f for f in (import_dir(organisation),) if f is not None]
    if own_folder:
        folders.append(path.parent)
    if path.suffix.lower() != ".zip":
        return _Source(path.name, raw, path.suffix.lower() in (".xlsx", ".xlsm"), folders=folders)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportRejected([Problem(path.name, None, None, "archive ZIP illisible (fichier abîmé ou pas un ZIP)")]) \
            from exc
    bomb = zip_bomb_problem(infos, max_members=MAX_ARCHIVE_MEMBERS, max_bytes=MAX_ARCHIVE_BYTES)
    if bomb is not None:  # from the declared sizes, before anything is decompressed
        raise ImportRejected([Problem(path.name, None, None, f"archive ZIP refusée avant lecture : {bomb}")])
    members = {}
    for info in infos:
        clean = _safe_relative(info.filename)
        if clean is not None and not info.is_dir():
            members[clean] = info
    tables = [n for n in members if n.lower().endswith(TABLE_SUFFIXES) and not n.startswith("__MACOSX/")]
    if len(tables) != 1:
        raise ImportRejected([Problem(path.name, None, None, (
            "l’archive doit contenir exactement un tableau (.csv ou .xlsx) et les PDF qu’il désigne ; "
            f"tableaux trouvés : {len(tables)}"))])
    info = members[tables[0]]
    try:
        with archive.open(info) as member:
            table = member.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ImportRejected([Problem(path.name, None, None, f"« {tables[0]} » illisible dans l’archive")]) from exc
    name = f"{path.name}/{tables[0]}"
    return _Source(name, table, tables[0].lower().endswith((".xlsx", ".xlsm")), archive, members)


def import_file(
    organisation: Organisation, path: Path, kind: str | None = None, actor: str = "import", *,
    default_kind: str | None = None, collector_id: int | None = None, own_folder: bool = True,
) -> ImportReport:
    """Import one CSV/XLSX table, or a ZIP archive holding one table and the PDFs it names.

    ``default_kind`` (« entreprise » or « particulier ») is the kind of the new customers whose
    row gives none; without it such a row is refused: the kind is never guessed.
    ``collector_id`` restricts the import to that collector's assigned customers (the pages'
    own rule). ``own_folder`` lets the table name PDFs in its own folder (command line only)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRejected([Problem(path.name, None, None, f"fichier illisible : {os_error_text(exc)}")]) from exc
    digest = hashlib.sha256(raw).hexdigest()
    report = ImportReport(path.name, default_kind=default_kind)
    if kind is not None and kind not in KIND_ALIASES:
        raise ImportRejected([Problem(path.name, None, None, f"type « {kind} » inconnu")])
    if default_kind is not None and default_kind not in DEFAULT_KINDS:
        raise ImportRejected([Problem(path.name, None, None, (
            f"type de client par défaut « {default_kind} » inconnu : attendu entreprise ou particulier"))])
    if ImportBatch.objects.filter(organisation=organisation, sha256=digest).exists():
        report.already_imported = True
        return report
    if len(raw) > MAX_BYTES:
        raise ImportRejected([Problem(path.name, None, None, f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo)")])
    source = _open_source(organisation, path, raw, own_folder)
    try:
        sheets = read_xlsx(source.raw, source.name) if source.is_xlsx else [read_csv(source.raw, source.name)]
    except TabularError as exc:
        raise ImportRejected(exc.problems) from exc
    if not any(sheet.rows for sheet in sheets):
        raise ImportRejected([Problem(source.name, None, None,
                                      "aucune ligne de données sous les en-têtes : rien n’a été importé")])

    existing_kinds = dict(Customer.objects.filter(organisation=organisation).values_list("code", "is_business"))
    known = set(existing_kinds)
    allowed: set[str] | None = None
    if collector_id is not None:
        allowed = set(Customer.objects.filter(organisation=organisation, collector_id=collector_id)
                      .values_list("code", flat=True))
    limits = _limits()
    tables: list[ParsedTable] = []
    labels: dict[int, str] = {}
    problems: list[Problem] = []
    forced = KIND_ALIASES[kind] if kind else None
    # customers first so that the other sheets of a workbook may reference them
    for sheet in sorted(sheets, key=lambda s: 0 if (forced or detect_kind(s)) == "customers" else 1):
        if not sheet.rows and len(sheets) > 1:
            report.warnings.append(_("%(sheet)s : aucune ligne sous les en-têtes, feuille ignorée")
                                   % {"sheet": f"{source.name} [{sheet.name}]"})
            continue
        label = source.name if len(sheets) == 1 else f"{source.name} [{sheet.name}]"
        table = parse_table(sheet, label, forced, known, limits)
        labels[id(table)] = label
        if table.kind == "customers":
            table.rows = _resolve_kinds(table, label, existing_kinds, default_kind, report)
            known |= {r.code for r in table.rows}
        tables.append(table)
        problems += table.problems
    sheets.clear()  # the cells are parsed: a file of a million rows need not stay in memory twice
    source.raw = b""
    tables.sort(key=lambda t: KINDS.index(t.kind) if t.kind in KINDS else 99)
    # invoice number -> customer code, for the invoices the file names (payments, credit notes)
    named = {r.invoice for t in tables for r in t.rows if isinstance(r, CreditNoteRow | PaymentRow) and r.invoice}
    named |= {r.number for t in tables for r in t.rows if isinstance(r, InvoiceRow)}
    owners: dict[str, str] = {}
    for batch in _chunks(sorted(named)):
        owners.update(Invoice.objects.filter(organisation=organisation, number__in=batch)
                      .values_list("number", "customer__code"))
    if allowed is not None:
        problems += _scope_problems(tables, labels, allowed, owners)
    for table in tables:
        if table.kind == "invoices":
            owners.update({r.number: r.customer for r in table.rows})
    pdfs: dict[str, bytes] = {}
    for table in tables:
        report.warnings += _terms_warnings(organisation, table, labels.get(id(table), path.name))
    for table in tables:
        problems += _check_references(organisation, table, labels.get(id(table), path.name), source, owners, pdfs)
    if problems:
        raise ImportRejected(problems)

    report.kinds = [table.kind for table in tables]
    master = [table for table in tables if table.kind not in _ONE_BY_ONE]
    if master:
        with transaction.atomic():
            _lock_master(organisation, master)
            for table in master:
                _IMPORTERS[table.kind](organisation, table.rows, report, pdfs, actor)
            assign_references(organisation)
    for table in tables:
        if table.kind in _ONE_BY_ONE:
            _IMPORTERS[table.kind](organisation, table.rows, report, pdfs, actor)  # a transaction each
    with transaction.atomic():
        lock_organisation(organisation)
        if not ImportBatch.objects.filter(organisation=organisation, sha256=digest).exists():
            ImportBatch.objects.create(
                organisation=organisation, filename=path.name[:300], sha256=digest, kind=",".join(report.kinds),
                counts=dict(report.counts),
            )
        record_many(organisation, [kinds.import_completed(report=report.as_dict(), actor=actor)])
    return report


#: what is written one row per transaction (each its customer's invoices, then the organisation)
_ONE_BY_ONE = ("credit_notes", "payments")


def _lock_master(organisation: Organisation, tables: list[ParsedTable]) -> None:
    """The lock order (``locks.py``) for customers, contacts and invoices: the existing invoices
    the file names, and those their balances may reach (their customers', old and new), by id;
    then the organisation row, before any customer or invoice is written."""
    numbers = sorted({r.number for t in tables if t.kind == "invoices" for r in t.rows})
    codes = {r.customer for t in tables if t.kind == "invoices" for r in t.rows}
    ids: set[int] = set()
    customer_ids: set[int] = {c.pk for c in _customers_by_code(organisation, codes).values()} if codes else set()
    for batch in _chunks(numbers):
        for pk, customer_id in Invoice.objects.filter(organisation=organisation, number__in=batch).values_list(
                "pk", "customer_id"):
            ids.add(pk)
            customer_ids.add(customer_id)
    if ids:
        ids.update(customer_invoice_ids(organisation, customer_ids))
        lock_invoices(ids)
    lock_organisation(organisation)


def _resolve_kinds(
    table: ParsedTable, label: str, existing: dict[str, bool], default_kind: str | None, report: ImportReport,
) -> list[Any]:
    """Each customer row's kind: its own; else, for a known customer, the kind it already has;
    else the import's explicit default; else the row is refused. A business without SIREN or
    SIRET is imported with a warning (its identity cannot be checked, nor its letters complete)."""
    rows: list[Any] = []
    unidentified: list[str] = []
    for row in table.rows:
        if row.is_business is None:
            if row.code in existing:
                row = replace(row, is_business=existing[row.code])
            elif default_kind is not None:
                row = replace(row, is_business=DEFAULT_KINDS[default_kind])
                report.defaulted += 1
            else:
                table.problems.append(Problem(label, row.line, "type", (
                    "type de client manquant : indiquez entreprise ou particulier (colonne « Type »), ou "
                    "donnez un type par défaut pour cet import (--type-par-defaut entreprise|particulier, "
                    "ou le champ « Type de client par défaut » de la page Importer)")))
                continue
        if row.is_business and not row.siren and not row.siret:
            unidentified.append(f"{row.code} (ligne {row.line})")
        rows.append(row)
    if unidentified:
        shown = ", ".join(unidentified[:10]) + (f" et {len(unidentified) - 10} autre(s)" if len(unidentified) > 10 else "")
        report.warnings.append(f"{label} : {len(unidentified)} entreprise(s) sans SIREN ni SIRET, à compléter : {shown}")
    return rows


def _scope_problems(
    tables: list[ParsedTable], labels: dict[int, str], allowed: set[str], owners: dict[str, str],
) -> list[Problem]:
    """A collector limited to the customers assigned to them may only touch those customers."""
    problems = []
    refused = "client « {} » hors des clients qui vous sont attribués : vous ne pouvez pas le modifier"
    for table in tables:
        label = labels.get(id(table), "")
        for row in table.rows:
            code = row.code if isinstance(row, CustomerRow) else row.customer
            if code not in allowed:
                problems.append(Problem(label, row.line, "code client", refused.format(code)))
                continue
            if isinstance(row, InvoiceRow) and owners.get(row.number, code) not in allowed:
                problems.append(Problem(label, row.line, "numéro", (
                    f"la facture « {row.number} » est celle d’un client qui ne vous est pas attribué")))
    return problems


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
    organisation: Organisation, table: ParsedTable, label: str, source: _Source, owners: dict[str, str],
    pdfs: dict[str, bytes],
) -> list[Problem]:
    """Checks that need the database or the other sheets: PDFs, invoices named by payments
    and credit notes (and their customer), amounts lowered below what was already paid."""
    problems = []
    allocated: dict[str, Decimal] = {}
    if table.kind == "invoices":
        for batch in _chunks(r.number for r in table.rows):
            allocated.update(
                Allocation.objects.filter(organisation=organisation, invoice__number__in=batch)
                .values_list("invoice__number").annotate(total=Sum("amount")).values_list("invoice__number", "total"))
    for row in table.rows:
        if isinstance(row, InvoiceRow) and allocated.get(row.number, Decimal(0)) > row.amount_incl_tax:
            problems.append(Problem(label, row.line, "montant TTC", (
                f"{row.amount_incl_tax} € est inférieur aux règlements et avoirs déjà affectés à la facture "
                f"{row.number} ({allocated[row.number]} €) : émettez un avoir plutôt que de réduire la facture")))
        if isinstance(row, InvoiceRow) and row.pdf and not row.pdf.startswith(("http://", "https://")):
            data = source.pdf(row.pdf)
            if data is None:
                problems.append(Problem(label, row.line, "pdf", (
                    f"PDF « {row.pdf} » introuvable ou non autorisé : le chemin doit être relatif (sans « .. ») et "
                    "désigner un fichier de l’archive ZIP importée ou du dossier d’import configuré")))
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
    existing = {c.code: c for batch in _chunks(r.code for r in rows)
                for c in Customer.objects.filter(organisation=org, code__in=batch)}
    fields = ["legal_name", "is_business", "legal_form", "siren", "siret", "vat_number", "address1", "address2",
              "postal_code", "city", "country", "language", "preferred_channel", "terms_days"]
    new, changed = [], []
    for r in rows:
        values = dict(legal_name=r.name, is_business=r.is_business, siren=r.siren, siret=r.siret, vat_number=r.vat,
                      address1=r.address1, address2=r.address2, postal_code=r.postal_code, city=r.city,
                      country=r.country or "FR", language=r.language, preferred_channel=r.channel,
                      terms_days=r.terms_days)
        if r.legal_form:  # a file without the column keeps the form entered in the back-office
            values["legal_form"] = r.legal_form
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


def _customers_by_code(org: Organisation, codes: set[str]) -> dict[str, Customer]:
    return {c.code: c for batch in _chunks(sorted(codes)) for c in Customer.objects.filter(organisation=org, code__in=batch)}


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
    customers = _customers_by_code(org, {r.customer for r in rows})
    existing: dict[tuple[int, str], Contact] = {}
    billing: dict[int, Contact] = {}
    ids = sorted(c.id for c in customers.values())
    contacts = [c for batch in _chunks(ids) for c in Contact.objects.filter(organisation=org, customer_id__in=batch)]
    for c in sorted(contacts, key=lambda c: c.id):
        existing[(c.customer_id, (c.email or c.full_name).lower())] = c
        if c.is_billing:
            billing.setdefault(c.customer_id, c)
    new, changed = [], []
    restored: list[NewEvent] = []
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
            previous_email = current.email
            for k, v in values.items():
                setattr(current, k, v)
            # a new address for a contact whose address was returned for good: the flag goes
            event = clear_bounce(current, previous_email, actor=actor)
            if event is not None:
                restored.append(event)
            changed.append(current)
    Contact.objects.bulk_create(new, batch_size=1000)
    Contact.objects.bulk_update(changed, ["civility", "first_name", "last_name", "role", "email", "phone",
                                          "is_billing", "email_bounced_at", "email_bounce_reason"], batch_size=500)
    record_many(org, restored)
    report.counts["contacts_created"] += len(new)
    report.counts["contacts_updated"] += len(changed)


def _import_invoices(
    org: Organisation, rows: list[InvoiceRow], report: ImportReport, pdfs: dict[str, bytes], actor: str,
) -> None:
    customers = {code: c.id for code, c in _customers_by_code(org, {r.customer for r in rows}).items()}
    existing = {i.number: i for batch in _chunks(r.number for r in rows)
                for i in Invoice.objects.filter(organisation=org, number__in=batch)}
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
        for batch in _chunks(list(pdfs)):
            for invoice in Invoice.objects.filter(organisation=org, number__in=batch):
                invoice.pdf.save(f"{org.slug}/{invoice.number}.pdf", ContentFile(pdfs[invoice.number]), save=True)
    created = [i for batch in _chunks(i.number for i in new) for i in Invoice.objects.filter(
        organisation=org, number__in=batch).values("id", "number", "customer_id", "amount_incl_tax", "due_date")]
    record_many(org, [
        kinds.invoice_imported(customer_id=i["customer_id"], invoice_id=i["id"], number=i["number"],
                               amount=i["amount_incl_tax"], due_date=i["due_date"], actor=actor)
        for i in created
    ])
    report.counts["invoices_created"] += len(new)
    report.counts["invoices_updated"] += len(changed)


def _import_credit_notes(org: Organisation, rows: list[CreditNoteRow], report: ImportReport, _: Any, actor: str) -> None:
    existing = {n for batch in _chunks(r.number for r in rows)
                for n in CreditNote.objects.filter(organisation=org, number__in=batch).values_list("number", flat=True)}
    customers = _customers_by_code(org, {r.customer for r in rows})
    for r in rows:
        if r.number in existing:
            report.counts["credit_notes_unchanged"] += 1
            continue
        try:
            record_credit_note(org, customers[r.customer], r.number, r.issue_date, r.amount_incl_tax, r.invoice,
                               r.reason, actor)
        except AlreadyRecorded:  # recorded meanwhile (the same file imported twice at once)
            report.counts["credit_notes_unchanged"] += 1
            continue
        except Conflict as exc:  # a real conflict (e.g. more than the invoice's amount): the file's error
            raise _stopped(report, r.line, f"avoir « {r.number} » non enregistré : {exc.message}") from exc
        report.counts["credit_notes_created"] += 1


def _import_payments(org: Organisation, rows: list[PaymentRow], report: ImportReport, _: Any, actor: str) -> None:
    existing = {n for batch in _chunks(r.reference for r in rows)
                for n in Payment.objects.filter(organisation=org, reference__in=batch).values_list("reference", flat=True)}
    customers = _customers_by_code(org, {r.customer for r in rows})
    for r in sorted(rows, key=lambda r: (r.date, r.line)):
        if r.reference in existing:
            report.counts["payments_unchanged"] += 1
            continue
        try:
            record_payment(org, customers[r.customer], r.reference, r.date, r.amount,
                           [r.invoice] if r.invoice else [], r.method, actor)
        except AlreadyRecorded:  # recorded meanwhile (the same file imported twice at once)
            report.counts["payments_unchanged"] += 1
            continue
        except Conflict as exc:  # a real conflict (e.g. more than the invoice's amount): the file's error
            raise _stopped(report, r.line, f"paiement « {r.reference} » non enregistré : {exc.message}") from exc
        report.counts["payments_created"] += 1


def _stopped(report: ImportReport, line: int, message: str) -> ImportStopped:
    """A row met a real conflict (not « déjà enregistré »): the import stops at that line, the
    rows before it recorded (each was its own transaction)."""
    return ImportStopped([Problem(report.file, line, None, message)])


_IMPORTERS: dict[str, Any] = {
    "customers": _import_customers,
    "contacts": _import_contacts,
    "invoices": _import_invoices,
    "credit_notes": _import_credit_notes,
    "payments": _import_payments,
}
