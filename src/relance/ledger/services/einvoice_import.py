"""Import electronic invoices (Factur-X / ZUGFeRD PDF, CII or UBL XML) into the ledger.

All-or-nothing: every file of one call is read and checked first, then written in one
transaction; any problem rejects them all (:class:`ImportRejected`, naming file and element).
Idempotent: a file whose content was already imported is recognised by its SHA-256
(``already_imported``); the same invoice number arriving from another file with the same
content changes nothing (a missing PDF is attached).

Mapping to the ledger:

* the seller must be the organisation (SIREN and VAT number compared when both sides know them,
  the names otherwise): an invoice issued by someone else is a supplier invoice, refused;
* the buyer is the customer, found by SIREN, then VAT number, then exact name (then its code),
  created when new with its address, identifiers and e-mail (BT-49 « EM », else the contact's
  BT-58) as billing contact. Its code is the seller's own code for the buyer (BT-46 without
  scheme), else its SIREN, else an identifier with a scheme (SIRET, GLN…), else a slug of its
  name — a GLN makes a poor customer code, a SIREN a meaningful one. Its language is French
  for French-speaking countries, English otherwise. A customer already known keeps its data;
  only the identifiers and the address it lacked are filled in;
* 380, 384, 386, 389 become invoices (source ``einvoice``, the PDF attached when there is one;
  why 386 and 389 are receivables: ``core.formats.einvoice.model``), 381 credit notes,
  allocated to the invoice named in BT-25 when it is the customer's, else to the customer's
  debts in the legal order (C. civ. 1342-10), with a warning; every other type is refused;
* without BT-9 the due date comes from the payment terms text (BT-20), else from the
  customer's or the organisation's default term, with a warning;
* a declared prepayment (BT-113) becomes a payment ``<number>-ACOMPTE`` allocated to the invoice,
  so that what stays due is the amount payable (BT-115);
* BT-83 is kept as the invoice's payment reference, else an RF reference is assigned.

An invoice already in the ledger under the same number is updated only if its amounts did not
change or nothing was paid or credited on it yet (dates may always be corrected), as for CSV.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Sum
from django.utils.text import slugify

from relance.core.formats.einvoice import MAX_BYTES, EInvoice, EinvoiceResult, Party, read_einvoice, resolve_due_date
from relance.core.formats.einvoice.model import compact_vat, digits_only
from relance.core.formats.problems import Problem, os_error_text
from relance.core.formats.receivables import DEFAULT_KINDS
from relance.core.formatting import money, short_date
from relance.core.iban import compact_iban
from relance.core.law import check_terms
from relance.errors import Conflict, ImportRejected, InvalidInput
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
    Source,
)
from relance.locks import lock_ledger, lock_organisation

from .balances import refresh_balances
from .payments import record_credit_note, record_payment
from .references import assign_references

PREPAYMENT_SUFFIX = "-ACOMPTE"
PREPAYMENT_METHOD = "acompte"
MAX_REFERENCE = 35  # Invoice.payment_reference
FRENCH_SPEAKING = {"FR", "BE", "LU", "MC", "CH", "GP", "MQ", "GF", "RE", "YT", "PM", "NC", "PF", "WF", "BL", "MF"}
_LEGAL_FORMS = {"sa", "sas", "sasu", "sarl", "eurl", "snc", "sci", "scop", "selarl", "sel", "gie", "scm",
                "gmbh", "ag", "ltd", "inc", "bv", "nv", "srl", "spa", "sl"}


@dataclass
class EinvoiceImportReport:
    files: list[str] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    credit_notes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    customers_created: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    default_kind: str | None = None  # « entreprise » or « particulier », given for this import
    defaulted: int = 0  # new customers without identifier that took it

    def as_dict(self) -> dict[str, Any]:
        return {
            "default_kind": self.default_kind, "defaulted": self.defaulted,
            "files": self.files, "invoices": self.invoices, "credit_notes": self.credit_notes,
            "warnings": self.warnings, "already_imported": self.already_imported,
            "customers_created": self.customers_created, "counts": dict(sorted(self.counts.items())),
        }

    def as_text(self) -> str:
        """A short French summary for the command line."""
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count <= 1 else many}"

        status_fr = {"created": "importée", "updated": "mise à jour", "unchanged": "déjà connue, inchangée"}
        read = len(self.files) - len(self.already_imported)
        parts = [n(len(self.invoices), "facture", "factures"), n(len(self.credit_notes), "avoir", "avoirs")]
        if self.customers_created:
            parts.append(n(len(self.customers_created), "client créé", "clients créés"))
        lines = [f"{n(read, 'fichier lu', 'fichiers lus')} : {', '.join(parts)}."]
        if self.default_kind:
            lines.append(f"Type de client par défaut donné pour cet import : {self.default_kind} "
                         f"({self.defaulted} nouveau(x) client(s) sans SIREN, SIRET ni numéro de TVA).")
        for i in self.invoices:
            lines.append(
                f"  Facture {i['number']} ({i['customer']}) du {short_date(date.fromisoformat(i['issue_date']))}, "
                f"échéance {short_date(date.fromisoformat(i['due_date']))}, reste dû "
                f"{money(Decimal(i['amount_due']), i['currency'])} — {status_fr[i['status']]}")
        for c in self.credit_notes:
            target = f", imputé sur {c['invoice']}" if c["invoice"] else ""
            state = "" if c["status"] == "created" else " — déjà connu, inchangé"
            lines.append(f"  Avoir {c['number']} ({c['customer']}) de {money(Decimal(c['amount_due']), c['currency'])}"
                         f"{target}{state}")
        if self.already_imported:
            lines.append("Déjà importé, rien n’a changé : " + ", ".join(self.already_imported))
        lines += [f"Attention : {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class _File:
    path: Path
    digest: str
    result: EinvoiceResult

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def doc(self) -> EInvoice:
        assert self.result.document is not None
        return self.result.document

    def field(self, element: str) -> str:
        """An element of the document, named inside the PDF's attachment when there is one."""
        return f"{self.result.attachment} › {element}" if self.result.attachment else element


@dataclass
class _Run:
    org: Organisation
    actor: str
    report: EinvoiceImportReport
    problems: list[Problem] = field(default_factory=list)
    created_invoices: list[int] = field(default_factory=list)
    saved_files: list[str] = field(default_factory=list)

    def event(self, event: NewEvent) -> None:
        record_many(self.org, [event])

    def warn(self, file: str, element: str | None, message: str) -> None:
        self.report.warnings.append(str(Problem(file, None, element, message)))


def import_einvoices(
    organisation: Organisation, paths: Sequence[Path], *, actor: str = "import", default_kind: str | None = None,
) -> EinvoiceImportReport:
    """Import e-invoices and credit notes, all or nothing. A new buyer identified by a SIREN,
    a SIRET or a VAT number is a business; one without any is given ``default_kind`` (explicit,
    stated in the report), else the file is refused: the customer's kind is never guessed."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise InvalidInput("aucune facture électronique à importer")
    if default_kind is not None and default_kind not in DEFAULT_KINDS:
        raise InvalidInput(f"type de client par défaut « {default_kind} » inconnu : attendu entreprise ou particulier")
    report = EinvoiceImportReport(files=[p.name for p in paths], default_kind=default_kind)
    problems: list[Problem] = []
    files: list[_File] = []
    seen: set[str] = set()
    for path in paths:
        raw = _read(path, problems)
        if raw is None:
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if digest in seen or ImportBatch.objects.filter(organisation=organisation, sha256=digest).exists():
            report.already_imported.append(path.name)
            continue
        seen.add(digest)
        result = read_einvoice(raw, path.name)
        problems += result.problems
        if result.document is not None:
            files.append(_File(path, digest, result))
            report.warnings += [str(w) for w in result.warnings]
    for f in files:
        problems += _seller_problems(organisation, f)
    problems += _batch_duplicates(files)
    if problems:
        raise ImportRejected(problems)
    if not files:
        return report

    run = _Run(organisation, actor, report)
    try:
        with transaction.atomic():
            # one import at a time per organisation: a concurrent one may have taken the same files; the
            # lock order (locks.py): the invoices it may write (prepayments, credit notes, updates) first
            lock_ledger(organisation)
            lock_organisation(organisation)
            done = set(ImportBatch.objects.filter(organisation=organisation, sha256__in=[f.digest for f in files])
                       .values_list("sha256", flat=True))
            report.already_imported += [f.name for f in files if f.digest in done]
            files = [f for f in files if f.digest not in done]
            # invoices first, so that a credit note of the same batch finds the invoice it cancels
            for f in sorted(files, key=lambda f: 0 if f.doc.kind == "invoice" else 1):
                if f.doc.kind == "invoice":
                    _import_invoice(run, f)
                else:
                    _import_credit_note(run, f)
            if run.problems:
                raise ImportRejected(run.problems)
            if run.created_invoices:
                assign_references(organisation, run.created_invoices)
            for f in files:
                kind = f"einvoice:{f.doc.syntax.lower()}"
                counts = {"invoices" if f.doc.kind == "invoice" else "credit_notes": 1}
                ImportBatch.objects.create(organisation=organisation, filename=f.name[:300], sha256=f.digest,
                                           kind=kind, counts=counts)
            _group_warnings(report)
            record_many(organisation, [kinds.import_completed(report={"source": "einvoice", **report.as_dict()},
                                                              actor=actor)])
    except Exception:
        for name in run.saved_files:  # files are not transactional: remove what the rollback orphaned
            try:
                default_storage.delete(name)
            except OSError:
                pass
        raise
    return report


def _group_warnings(report: EinvoiceImportReport) -> None:
    """Warnings in the order of the files given (reading and ledger warnings of a file together)."""
    order = {name: i for i, name in reversed(list(enumerate(report.files)))}

    def rank(warning: str) -> int:
        return min((i for name, i in order.items() if warning.startswith((f"{name} ", f"{name},"))), default=len(order))

    report.warnings.sort(key=rank)


def _read(path: Path, problems: list[Problem]) -> bytes | None:
    """The file's bytes; its size is checked first so that a huge file is refused unread."""
    try:
        if path.stat().st_size > MAX_BYTES:
            problems.append(Problem(path.name, None, None, (
                f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo) : refusé sans être lu")))
            return None
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        problems.append(Problem(path.name, None, None, f"fichier illisible : {os_error_text(exc)}"))
        return None
    if len(raw) > MAX_BYTES:
        problems.append(Problem(path.name, None, None, (
            f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo) : refusé sans être lu")))
        return None
    return raw


# --- checks that need the organisation or the whole batch -------------------------------------

def _normalised_name(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch if ch.isalnum() else " " for ch in plain if not unicodedata.combining(ch))
    return " ".join(w for w in plain.split() if w not in _LEGAL_FORMS)


def _seller_problems(org: Organisation, f: _File) -> list[Problem]:
    seller, doc = f.doc.seller, f.doc
    org_siren = digits_only(org.siren)
    org_vat = compact_vat(org.vat_number) if org.vat_number else ""
    mismatch = []
    compared = False
    if org_siren and seller.siren:
        compared = True
        if org_siren != seller.siren:
            mismatch.append(f"SIREN {seller.siren} au lieu de {org_siren}")
    if org_vat and seller.vat:
        compared = True
        if org_vat != seller.vat:
            mismatch.append(f"TVA {seller.vat} au lieu de {org_vat}")
    issued = "cet avoir a été émis" if doc.kind == "credit_note" else "cette facture a été émise"
    element = f.field(f"{seller.element} (BG-4)")
    if mismatch:
        return [Problem(f.name, None, element, (
            f"{issued} par « {seller.display_name} », pas par « {org.legal_name} » ({', '.join(mismatch)}) : "
            f"c’est une facture fournisseur, pas une créance à recouvrer"))]
    if compared:
        return []
    ours = {_normalised_name(n) for n in (org.legal_name, org.sender_name) if n}
    theirs = {_normalised_name(n) for n in (seller.name, seller.trading_name) if n}
    if ours & theirs:
        return []
    return [Problem(f.name, None, element, (
        f"{issued} par « {seller.display_name} », pas par « {org.legal_name} » : ni SIREN ni numéro de TVA "
        f"comparables et les noms diffèrent (renseignez le SIREN de l’organisation si c’est bien elle)"))]


def _batch_duplicates(files: list[_File]) -> list[Problem]:
    """The same number twice in one batch must describe the same document."""
    first: dict[tuple[str, str], _File] = {}
    problems = []
    for f in files:
        key = (f.doc.kind, f.doc.number)
        other = first.setdefault(key, f)
        if other is f:
            continue

        def facts(d: EInvoice) -> tuple[object, ...]:
            return (d.issue_date, d.amount_incl_tax, d.prepaid, d.currency, d.buyer.siren or d.buyer.display_name)

        if facts(other.doc) != facts(f.doc):
            what = "l’avoir" if f.doc.kind == "credit_note" else "la facture"
            problems.append(Problem(f.name, None, f.field("numéro (BT-1)"), (
                f"{what} {f.doc.number} figure aussi dans {other.name} avec une autre date, un autre montant ou un "
                f"autre client")))
    return problems


# --- customers --------------------------------------------------------------------------------

def _contradicts(customer: Customer, buyer: Party) -> str:
    if customer.siren and buyer.siren and customer.siren != buyer.siren:
        return f"SIREN {customer.siren} contre {buyer.siren}"
    if customer.vat_number and buyer.vat and compact_vat(customer.vat_number) != buyer.vat:
        return f"TVA {customer.vat_number} contre {buyer.vat}"
    return ""


def _find_customer(org: Organisation, buyer: Party) -> Customer | None:
    customers = Customer.objects.filter(organisation=org).order_by("id")
    if buyer.siren:
        same = customers.filter(siren=buyer.siren)
        found = (same.filter(siret=buyer.siret).first() if buyer.siret else None) or same.first()
        if found:
            return found
    if buyer.vat:
        found = customers.filter(vat_number__iexact=buyer.vat).first()
        if found:
            return found
    for name in (buyer.name, buyer.trading_name):
        if name:
            for candidate in customers.filter(legal_name__iexact=name.strip()):
                if not _contradicts(candidate, buyer):
                    return candidate
    if buyer.code:
        by_code = customers.filter(code=buyer.code.strip()[:50]).first()
        if by_code and not _contradicts(by_code, buyer):
            return by_code
    return None


def _new_code(org: Organisation, buyer: Party) -> str:
    """The seller's own code for the buyer (BT-46 without scheme), else the SIREN, else an
    identifier with a scheme (SIRET, GLN…), else a slug of the name; unique in the organisation."""
    scheme_id = next((v for s, v in buyer.scheme_ids if v.strip()), "")
    base = (buyer.code.strip() or buyer.siren or scheme_id.strip() or slugify(buyer.display_name)[:40] or "client")
    base = re.sub(r"\s+", " ", base)[:46]
    code, n = base, 1
    while Customer.objects.filter(organisation=org, code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _split_name(full: str) -> tuple[str, str, str]:
    parts = full.split()
    civility = ""
    if parts and parts[0].rstrip(".") in ("M", "Mme", "Mlle", "Mr", "Mrs", "Ms", "Dr", "Me", "Herr", "Frau"):
        civility = parts.pop(0)
    if len(parts) >= 2:
        return civility, parts[0], " ".join(parts[1:])
    return civility, "", " ".join(parts)


def _customer_for(run: _Run, f: _File, known: Customer | None) -> Customer | None:
    """The customer of the document: ``known`` (the one of an invoice of the same number) when its
    identifiers do not contradict the buyer's, else found or created."""
    buyer, org = f.doc.buyer, run.org
    element = f.field(f"{buyer.element} (BG-7)")
    customer: Customer | None
    if known is not None:
        conflict = _contradicts(known, buyer)
        if conflict:
            what = "l’avoir" if f.doc.kind == "credit_note" else "la facture"
            run.problems.append(Problem(f.name, None, element, (
                f"{what} {f.doc.number} concerne le client « {known.legal_name} » ({known.code}) dans le grand livre, "
                f"le fichier la destine à « {buyer.display_name} » ({conflict})")))
            return None
        customer = known
    else:
        customer = _find_customer(org, buyer)
    if customer is not None:
        _fill_blanks(customer, buyer)
        return customer
    if buyer.siren or buyer.siret or buyer.vat:
        is_business = True  # a registered company: its identifier says so
    elif run.report.default_kind is not None:
        is_business = DEFAULT_KINDS[run.report.default_kind]
        run.report.defaulted += 1
    else:
        run.problems.append(Problem(f.name, None, element, (
            f"l’acheteur « {buyer.display_name} » n’a ni SIREN, ni SIRET, ni numéro de TVA : relance ne devine pas "
            "s’il est une entreprise ou un particulier ; donnez le type par défaut de cet import "
            "(--type-par-defaut entreprise|particulier, ou le champ « Type de client par défaut » de la page "
            "Importer), ou importez d’abord ce client avec son type (CSV)")))
        return None
    new = Customer.objects.create(
        organisation=org, code=_new_code(org, buyer), legal_name=buyer.display_name[:200], is_business=is_business,
        siren=buyer.siren, siret=buyer.siret, vat_number=buyer.vat[:20], address1=buyer.address1[:200],
        address2=buyer.address2[:200], postal_code=buyer.postal_code[:10], city=buyer.city[:100],
        country=buyer.country or "FR", language="fr" if (buyer.country or "FR") in FRENCH_SPEAKING else "en",
    )
    run.report.customers_created.append(new.code)
    run.report.counts["customers_created"] += 1
    email = buyer.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            run.warn(f.name, element, f"adresse électronique de l’acheteur « {email[:80]} » invalide : aucun contact créé")
            email = ""
    if email or buyer.contact_name:
        civility, first, last = _split_name(buyer.contact_name) if buyer.contact_name else ("", "", buyer.display_name)
        Contact.objects.create(
            organisation=org, customer=new, civility=civility[:20], first_name=first[:100],
            last_name=(last or buyer.display_name)[:100], email=email[:254], phone=buyer.contact_phone[:30],
            is_billing=True,
        )
        run.report.counts["contacts_created"] += 1
    return new


def _fill_blanks(customer: Customer, buyer: Party) -> None:
    """Identifiers and address the ledger did not have yet; nothing it had is overwritten."""
    changed = []
    for attr, value in (("siren", buyer.siren), ("siret", buyer.siret), ("vat_number", buyer.vat[:20])):
        if value and not getattr(customer, attr):
            setattr(customer, attr, value)
            changed.append(attr)
    if not customer.address1 and not customer.postal_code and buyer.address1:
        customer.address1, customer.address2 = buyer.address1[:200], buyer.address2[:200]
        customer.postal_code, customer.city = buyer.postal_code[:10], buyer.city[:100]
        changed += ["address1", "address2", "postal_code", "city"]
    if changed:
        customer.save(update_fields=changed)


# --- invoices ---------------------------------------------------------------------------------

def _description(doc: EInvoice) -> str:
    if doc.type_code == "384":
        named = ", ".join(doc.preceding_invoices)
        return (f"Facture rectificative de {named}" if named else "Facture rectificative")[:300]
    if doc.type_code == "386":
        return "Facture d’acompte"
    if doc.type_code == "389":
        return "Autofacture"
    return ""


def _safe_name(number: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", number).strip("._") or "facture"


def _attach_pdf(run: _Run, invoice: Invoice, pdf: bytes) -> None:
    invoice.pdf.save(f"{run.org.slug}/{_safe_name(invoice.number)}.pdf", ContentFile(pdf), save=True)
    if invoice.pdf.name:
        run.saved_files.append(invoice.pdf.name)


def _invoice_warnings(run: _Run, f: _File, customer: Customer, due_date: date) -> None:
    doc, org = f.doc, run.org
    if doc.iban and org.iban and compact_iban(org.iban) != doc.iban:
        run.warn(f.name, f.field("IBAN (BT-84)"), (
            f"IBAN de paiement {doc.iban} différent de celui de l’organisation ({compact_iban(org.iban)}) : "
            f"le client risque de payer sur un autre compte"))
    if customer.is_business:
        try:
            convention: Literal["eom_after", "eom_before"] = (
                "eom_after" if org.terms_convention == "eom_after" else "eom_before")
            check = check_terms(doc.issue_date, due_date, doc.delivery_date, convention)
        except ValueError:
            return
        if check.exceeds and check.warning:
            run.warn(f.name, f.field("échéance (BT-9)"), check.warning)


def _payment_reference(run: _Run, f: _File) -> str:
    ref = f.doc.payment_reference
    if not ref:
        return ""
    if len(ref) > MAX_REFERENCE:
        run.warn(f.name, f.field("référence de paiement (BT-83)"), (
            f"référence de paiement « {ref[:60]} » de plus de {MAX_REFERENCE} caractères : une référence RF est "
            f"attribuée à la place"))
        return ""
    taken = (Invoice.objects.filter(organisation=run.org, payment_reference=ref).exclude(number=f.doc.number).exists()
             or Customer.objects.filter(organisation=run.org, payment_reference=ref).exists())
    if taken:
        run.warn(f.name, f.field("référence de paiement (BT-83)"), (
            f"référence de paiement « {ref} » déjà utilisée par une autre facture ou un autre client : une référence "
            f"RF est attribuée à la place"))
        return ""
    return ref


def _import_invoice(run: _Run, f: _File) -> None:
    doc, org = f.doc, run.org
    existing = Invoice.objects.filter(organisation=org, number=doc.number).select_related("customer").first()
    customer = _customer_for(run, f, existing.customer if existing else None)
    if customer is None:
        return
    default_days = customer.terms_days if customer.terms_days is not None else org.default_terms_days
    label = ("délai de paiement du client" if customer.terms_days is not None
             else "délai de paiement par défaut de l’organisation")
    convention: Literal["eom_after", "eom_before"] = "eom_after" if org.terms_convention == "eom_after" else "eom_before"
    due = resolve_due_date(doc.issue_date, doc.due_date, doc.terms, default_days, convention, label)
    if due.warning:
        run.warn(f.name, f.field("échéance (BT-9)"), due.warning)
    _invoice_warnings(run, f, customer, due.value)
    if doc.type_code == "384" and doc.preceding_invoices:
        still_open = list(Invoice.objects.filter(organisation=org, number__in=doc.preceding_invoices,
                                                 status=Invoice.Status.OPEN).values_list("number", flat=True))
        if still_open:
            run.warn(f.name, f.field("facture précédente (BT-25)"), (
                f"facture rectificative de {', '.join(still_open)}, encore à payer : vérifiez qu’un avoir l’annule, "
                f"sinon le client sera relancé pour les deux"))
    if existing is None:
        invoice = _create_invoice(run, f, customer, due.value)
        status = "created"
    else:
        invoice, status = _reconcile(run, f, existing, due.value)
    if invoice is None:
        return
    invoice.refresh_from_db(fields=["amount_due", "status"])
    run.report.counts[f"invoices_{status}"] += 1
    run.report.invoices.append({
        "number": invoice.number, "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(), "amount_due": f"{invoice.amount_due:.2f}",
        "amount_incl_tax": f"{invoice.amount_incl_tax:.2f}", "prepaid": f"{doc.prepaid:.2f}",
        "currency": invoice.currency, "customer": customer.code, "type_code": doc.type_code,
        "preceding_invoices": doc.preceding_invoices, "profile": doc.profile, "syntax": doc.syntax,
        "file": f.name, "pdf": bool(invoice.pdf), "due_date_from": due.how, "status": status,
    })


def _create_invoice(run: _Run, f: _File, customer: Customer, due_date: date) -> Invoice | None:
    doc, org = f.doc, run.org
    invoice = Invoice.objects.create(
        organisation=org, customer=customer, number=doc.number, issue_date=doc.issue_date, due_date=due_date,
        delivery_date=doc.delivery_date, amount_excl_tax=doc.amount_excl_tax, tax_amount=doc.tax_amount,
        amount_incl_tax=doc.amount_incl_tax, amount_due=doc.amount_incl_tax, currency=doc.currency,
        description=_description(doc), payment_reference=_payment_reference(run, f), source=Source.EINVOICE,
        source_key=f"sha256:{f.digest}",
    )
    run.created_invoices.append(invoice.id)
    if f.result.pdf:
        _attach_pdf(run, invoice, f.result.pdf)
    run.event(kinds.invoice_imported(
        customer_id=invoice.customer_id, invoice_id=invoice.id, number=invoice.number,
        amount=invoice.amount_incl_tax, due_date=due_date, source="einvoice", file=f.name, type_code=doc.type_code,
        profile=doc.profile, syntax=doc.syntax, prepaid=doc.prepaid, amount_payable=doc.amount_payable,
        preceding_invoices=doc.preceding_invoices, pdf=bool(f.result.pdf), actor=run.actor,
    ))
    if doc.prepaid > 0 and not _record_prepayment(run, f, customer):
        return None
    return invoice


def _record_prepayment(run: _Run, f: _File, customer: Customer) -> bool:
    doc = f.doc
    try:
        record_payment(run.org, customer, f"{doc.number}{PREPAYMENT_SUFFIX}", doc.issue_date, doc.prepaid,
                       [doc.number], PREPAYMENT_METHOD, run.actor)
    except (Conflict, InvalidInput) as exc:
        run.problems.append(Problem(f.name, None, f.field("montant déjà payé (BT-113)"), exc.message))
        return False
    run.report.counts["prepayments_recorded"] += 1
    return True


def _reconcile(run: _Run, f: _File, invoice: Invoice, due_date: date) -> tuple[Invoice | None, str]:
    """The invoice is already in the ledger: unchanged, updated, or refused (amounts changed after
    something was paid or credited on it)."""
    doc, org = f.doc, run.org
    allocated = Allocation.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    prepayment = Payment.objects.filter(organisation=org, reference=f"{doc.number}{PREPAYMENT_SUFFIX}").first()
    if prepayment is not None:
        prepaid_matches = prepayment.amount == doc.prepaid
    else:
        prepaid_matches = doc.prepaid == 0 or 0 < doc.prepaid <= allocated
    same_amounts = (
        invoice.amount_incl_tax == doc.amount_incl_tax and invoice.currency == doc.currency and prepaid_matches
        and (invoice.amount_excl_tax is None or doc.amount_excl_tax is None
             or invoice.amount_excl_tax == doc.amount_excl_tax)
        and (invoice.tax_amount is None or doc.tax_amount is None or invoice.tax_amount == doc.tax_amount)
    )
    if not same_amounts and allocated > 0:
        run.problems.append(Problem(f.name, None, f.field("montants (BG-22)"), (
            f"la facture {doc.number} est déjà enregistrée pour {money(invoice.amount_incl_tax, invoice.currency)} "
            f"et {money(allocated, invoice.currency)} de règlements ou d’avoirs lui sont affectés ; le fichier "
            f"indique {money(doc.amount_incl_tax, doc.currency)}"
            + (f" dont {money(doc.prepaid, doc.currency)} déjà payés" if doc.prepaid else "")
            + " : émettez un avoir plutôt que de modifier la facture")))
        return None, ""
    if prepayment is None and 0 < doc.prepaid <= allocated and same_amounts:
        run.warn(f.name, f.field("montant déjà payé (BT-113)"), (
            f"acompte de {money(doc.prepaid, doc.currency)} déclaré : la facture {doc.number} a déjà "
            f"{money(allocated, invoice.currency)} de règlements affectés, aucun acompte n’est ajouté"))
    values: dict[str, Any] = {"issue_date": doc.issue_date, "due_date": due_date}
    if doc.delivery_date is not None:
        values["delivery_date"] = doc.delivery_date
    for attr, value in (("amount_excl_tax", doc.amount_excl_tax), ("tax_amount", doc.tax_amount)):
        if value is not None:
            values[attr] = value
    values.update(amount_incl_tax=doc.amount_incl_tax, currency=doc.currency)
    changes = {k: [getattr(invoice, k), v] for k, v in values.items() if getattr(invoice, k) != v}
    amounts_changed = not same_amounts
    pdf_added = bool(f.result.pdf) and not invoice.pdf
    if not changes and not amounts_changed:
        if pdf_added and f.result.pdf:
            _attach_pdf(run, invoice, f.result.pdf)
            run.event(kinds.invoice_updated(customer_id=invoice.customer_id, invoice_id=invoice.id,
                                            number=invoice.number, source="einvoice", pdf_added=True, file=f.name,
                                            actor=run.actor))
        return invoice, "unchanged"
    if "due_date" in changes:
        invoice.next_action_date = None  # the planner reschedules it
    for k, v in values.items():
        setattr(invoice, k, v)
    invoice.save(update_fields=[*values, "next_action_date"])
    if pdf_added and f.result.pdf:
        _attach_pdf(run, invoice, f.result.pdf)
    run.event(kinds.invoice_updated(customer_id=invoice.customer_id, invoice_id=invoice.id, number=invoice.number,
                                    source="einvoice", file=f.name, changes=changes, pdf_added=pdf_added,
                                    actor=run.actor))
    refresh_balances(org, [invoice.id], actor=run.actor)
    if amounts_changed and prepayment is None and doc.prepaid > 0 and not _record_prepayment(run, f, invoice.customer):
        return None, ""
    return invoice, "updated"


# --- credit notes -----------------------------------------------------------------------------

def _import_credit_note(run: _Run, f: _File) -> None:
    doc, org = f.doc, run.org
    existing = CreditNote.objects.filter(organisation=org, number=doc.number).select_related("customer", "invoice") \
        .first()
    origin = (Invoice.objects.filter(organisation=org, number__in=doc.preceding_invoices).select_related("customer")
              .order_by("id").first() if doc.preceding_invoices else None)
    known = existing.customer if existing else (origin.customer if origin else None)
    customer = _customer_for(run, f, known)
    if customer is None:
        return
    if doc.prepaid:
        run.warn(f.name, f.field("montant déjà payé (BT-113)"), (
            f"montant déjà payé déclaré sur un avoir ({money(doc.prepaid, doc.currency)}) : ignoré, l’avoir vaut "
            f"{money(doc.amount_incl_tax, doc.currency)}"))
    if existing is not None:
        if existing.amount_incl_tax != doc.amount_incl_tax or existing.issue_date != doc.issue_date:
            run.problems.append(Problem(f.name, None, f.field("montants (BG-22)"), (
                f"l’avoir {doc.number} est déjà enregistré pour {money(existing.amount_incl_tax)} le "
                f"{short_date(existing.issue_date)} ; le fichier indique {money(doc.amount_incl_tax, doc.currency)} le "
                f"{short_date(doc.issue_date)} : un avoir ne se modifie pas, émettez-en un autre")))
            return
        _credit_note_entry(run, f, existing, customer, existing.invoice.number if existing.invoice else "", "unchanged")
        return
    target = origin.number if origin is not None and origin.customer_id == customer.id else ""
    if doc.preceding_invoices and not target:
        run.warn(f.name, f.field("facture d’origine (BT-25)"), (
            f"facture d’origine {', '.join(doc.preceding_invoices)} inconnue pour ce client : l’avoir est imputé sur "
            f"ses factures échues, dans l’ordre légal (C. civ. 1342-10)"))
    reason = (doc.notes[0] if doc.notes else f"Avoir électronique {f.name}")[:300]
    try:
        note = record_credit_note(org, customer, doc.number, doc.issue_date, doc.amount_incl_tax, target, reason,
                                  run.actor)
    except (Conflict, InvalidInput) as exc:
        run.problems.append(Problem(f.name, None, f.field("numéro (BT-1)"), exc.message))
        return
    run.report.counts["credit_notes_created"] += 1
    _credit_note_entry(run, f, note, customer, target, "created")


def _credit_note_entry(run: _Run, f: _File, note: CreditNote, customer: Customer, target: str, status: str) -> None:
    if status == "unchanged":
        run.report.counts["credit_notes_unchanged"] += 1
    run.report.credit_notes.append({
        "number": note.number, "issue_date": note.issue_date.isoformat(), "due_date": None,
        "amount_due": f"{note.amount_incl_tax:.2f}", "currency": f.doc.currency, "customer": customer.code,
        "type_code": f.doc.type_code, "invoice": target, "preceding_invoices": f.doc.preceding_invoices,
        "profile": f.doc.profile, "syntax": f.doc.syntax, "file": f.name, "status": status,
    })
