"""The numbered pièces of the evidence file (the bordereau, C. proc. civ. 1407) and what each
section shows, in the order a judge reads them: the statement of account, each invoice, the
reminders sent, each formal notice followed by its avis de réception, the debtor's replies,
promises and disputes, the computation of the claim, and the verification of the event log.
The originals (invoice PDFs, letters, receipt scans, reminders as e-mail or text) are read here
once, hashed, and handed to the PDF (appended) and to the ZIP (as they are)."""

from __future__ import annotations

import hashlib
import io
import mimetypes
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import PurePosixPath
from typing import Any

from django.db.models.fields.files import FieldFile
from django.utils.text import slugify
from pypdf import PdfReader
from pypdf._page import PageObject

from relance.core.formatting import long_date, money, short_date
from relance.dunning.models import Reminder
from relance.events import kinds
from relance.events.models import Event

from ..claim import Piece
from .collect import Facts, SentReminder

#: the kinds of image an avis de réception may be scanned as, shown in the PDF as they are
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass
class Original:
    """A file of the archive: ``name`` its path in the ZIP."""

    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Attachment:
    """An original PDF appended after its section: ``pages`` placeholder pages are laid out in
    the HTML (so that page numbers count them) and replaced by the original's pages."""

    key: str
    pages: list[PageObject]

    @property
    def page_count(self) -> int:
        return len(self.pages)


@dataclass
class Section:
    piece: Piece
    data: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass
class Plan:
    sections: list[Section]
    originals: list[Original]
    inline: dict[str, tuple[bytes, str]]

    @property
    def pieces(self) -> list[Piece]:
        return [s.piece for s in self.sections]


class _Builder:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.sections: list[Section] = []
        self.originals: list[Original] = []
        self.inline: dict[str, tuple[bytes, str]] = {}

    @property
    def next_number(self) -> int:
        return len(self.sections) + 1

    def add(self, title: str, kind: str, on: date | None, data: dict[str, Any] | None = None) -> Section:
        section = Section(Piece(self.next_number, title, kind, on), data or {})
        self.sections.append(section)
        return section

    def original(self, section: Section, stem: str, content: bytes, suffix: str, *, main: bool = True,
                 append: bool = True) -> Original:
        """Keep ``content`` in the ZIP under the piece's number; ``main``: the file the piece
        names in the bordereau; ``append``: a PDF's pages are appended to the evidence PDF, an
        image shown on the section's page."""
        name = f"pieces/{section.piece.number:02d}-{slugify(stem) or 'piece'}{suffix}"
        found = Original(name, content)
        self.originals.append(found)
        if main and not section.piece.filename:
            section.piece = Piece(section.piece.number, section.piece.title, section.piece.kind, section.piece.on,
                                  name, found.sha256, len(content))
        if append:
            kind = mimetypes.guess_type(f"x{suffix}")[0] or ""
            if kind == "application/pdf":
                pages = _pdf_pages(content)
                if pages:
                    section.attachments.append(Attachment(f"{section.piece.number}-{len(section.attachments)}", pages))
                else:
                    section.missing.append(f"Le fichier {name} n’a pas pu être lu comme un PDF : il n’est pas reproduit "
                                           f"ici mais figure tel quel dans l’archive (SHA-256 {found.sha256}).")
            elif kind in IMAGE_TYPES:
                cid = f"scan-{section.piece.number}-{len(section.images)}"
                self.inline[cid] = (content, kind)
                section.images.append(cid)
        return found


def plan(facts: Facts) -> Plan:
    b = _Builder(facts)
    _statement(b)
    for invoice in facts.invoices:
        _invoice(b, invoice)
    for sent in facts.others:
        _reminder(b, sent, "reminder")
    for sent in facts.notices:
        _reminder(b, sent, "formal_notice")
        _receipt(b, sent)
    _exchanges(b)
    b.add(f"Décompte des pénalités, de l’indemnité et des intérêts au {long_date(facts.as_of)}"
          if facts.business else f"Décompte des intérêts au {long_date(facts.as_of)}", "computation", facts.as_of)
    b.add("Vérification de l’intégrité du journal des événements", "chain", facts.as_of)
    return Plan(b.sections, b.originals, b.inline)


# ------------------------------------------------------------------------------------------
# Sections
# ------------------------------------------------------------------------------------------


def _statement(b: _Builder) -> None:
    blocks = []
    debit = credit = Decimal("0.00")
    balance = Decimal("0.00")
    for facts in b.facts.invoices:
        rows = []
        for row in facts.statement():
            balance += (row.debit or 0) - (row.credit or 0)
            debit += row.debit or 0
            credit += row.credit or 0
            rows.append({"on": row.on, "label": row.label, "debit": row.debit, "credit": row.credit,
                         "balance": balance})
        blocks.append({"number": facts.invoice.number, "rows": rows, "due": facts.invoice.amount_due})
    b.add(f"Relevé de compte au {long_date(b.facts.as_of)}", "statement", b.facts.as_of,
          {"blocks": blocks, "debit": debit, "credit": credit, "balance": balance})


def _invoice(b: _Builder, facts: Any) -> None:
    invoice = facts.invoice
    section = b.add(f"Facture n° {invoice.number} du {long_date(invoice.issue_date)}", "invoice", invoice.issue_date,
                    {"invoice": invoice, "at_opening": facts.amount_due_at_opening})
    content = _read(invoice.pdf)
    if content is not None:
        b.original(section, f"facture-{invoice.number}", content, _suffix(invoice.pdf.name, ".pdf"))
    elif invoice.pdf:
        section.missing.append(f"Le fichier de la facture ({invoice.pdf.name}) est introuvable.")
    if content is None:
        section.piece = Piece(section.piece.number, f"Facture n° {invoice.number} du {long_date(invoice.issue_date)} "
                              "(présentation des données, original non joint)", "invoice", invoice.issue_date)


def _reminder(b: _Builder, sent: SentReminder, kind: str) -> None:
    r = sent.reminder
    # a thank-you, a copy of an invoice, a promise broken… is named for what it is, not « relance »
    what = ("Mise en demeure" if kind == "formal_notice"
            else "Relance" if r.kind in (Reminder.Kind.REMINDER, Reminder.Kind.FORMAL_NOTICE_AGAIN)
            else str(r.get_kind_display()))
    how = r.get_channel_display()
    section = b.add(f"{what} du {long_date(sent.sent_on)} ({how})", kind, sent.sent_on,
                    {"reminder": r, "sent": sent, "send_label": kinds.label(sent.send_event.kind) if sent.send_event else "",
                     "send_at": _moment(b.facts, sent.send_event) if sent.send_event else "",
                     "sent_time": _time(b.facts, r.sent_at), "document_ok": None})
    stem = f"{'mise-en-demeure' if kind == 'formal_notice' else 'relance'}-{sent.sent_on.isoformat()}-{r.pk}"
    document = _read(r.document)
    if document is not None:
        b.original(section, stem, document, _suffix(r.document.name, ".pdf"))
        if r.document_sha256:
            section.data["document_ok"] = hashlib.sha256(document).hexdigest() == r.document_sha256
    elif r.document:
        section.missing.append(f"Le courrier ({r.document.name}) est introuvable.")
    if r.channel == "email":
        b.original(section, stem, _eml(b.facts, r), ".eml", append=False)
    elif r.body_text:
        b.original(section, stem, _text(b.facts, sent), ".txt", append=False)


def _receipt(b: _Builder, sent: SentReminder) -> None:
    r = sent.reminder
    on = r.received_on
    title = (f"Avis de réception de la mise en demeure du {long_date(sent.sent_on)}"
             + (f", signé le {long_date(on)}" if on else ""))
    section = b.add(title, "receipt", on, {"reminder": r, "sent_on": sent.sent_on})
    scan = _read(r.receipt_scan)
    if scan is not None:
        b.original(section, f"avis-de-reception-{(on or sent.sent_on).isoformat()}-{r.pk}", scan,
                   _suffix(r.receipt_scan.name, ".pdf"))
    elif r.receipt_scan:
        section.missing.append(f"Le scan de l’avis de réception ({r.receipt_scan.name}) est introuvable.")
    else:
        section.missing.append("Aucun scan de l’avis de réception n’a été joint au logiciel.")


def _exchanges(b: _Builder) -> None:
    f = b.facts
    b.add("Réponses, promesses et contestations du débiteur, et leur issue", "reply", None, {
        "promises": f.promises, "disputes": f.disputes, "plans": f.plans, "events": f.exchanges,
        "created": f.dispute_opened,
        "dates": {e.seq: _moment(f, e) for e in f.exchanges},
        "details": {e.seq: _detail(e) for e in f.exchanges}})


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def _zone(facts: Facts) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(facts.zone_name)


def _moment(facts: Facts, event: Event) -> str:
    at = event.occurred_at.astimezone(_zone(facts))
    return f"{long_date(at.date())} à {at:%H:%M}"


def _time(facts: Facts, at: Any) -> str:
    return f"{at.astimezone(_zone(facts)):%H:%M}" if at is not None else ""


DETAIL_KEYS = (("subject", "objet"), ("sender", "de"), ("category", "catégorie"), ("number", "facture"),
               ("amount", "montant"), ("promised_on", "date promise"), ("label", "motif"), ("reason", "motif"),
               ("note", "note"), ("to", "état"))


def _detail(event: Event) -> str:
    data = event.data or {}
    parts = []
    for key, name in DETAIL_KEYS:
        value = data.get(key)
        if value in (None, "", [], {}) or (key == "reason" and data.get("label")):
            continue
        if key == "amount":
            try:
                value = money(Decimal(str(value)))
            except (InvalidOperation, ValueError):
                pass
        elif key == "promised_on":
            try:
                value = short_date(date.fromisoformat(str(value)))
            except ValueError:
                pass
        parts.append(f"{name} : {value}")
    return " ; ".join(parts)


def _read(file: FieldFile | None) -> bytes | None:
    """The stored file's bytes, or ``None`` without one (or when the storage lost it)."""
    if not file or not file.name:
        return None
    try:
        with file.storage.open(file.name, "rb") as handle:
            content: bytes = handle.read()
    except (OSError, ValueError):
        return None
    return content


def _suffix(name: str | None, default: str) -> str:
    suffix = PurePosixPath(name or "").suffix.lower()
    return suffix if suffix and len(suffix) <= 6 else default


def _pdf_pages(content: bytes) -> list[PageObject]:
    try:
        reader = PdfReader(io.BytesIO(content))
        return list(reader.pages)
    except Exception:  # any unreadable PDF is kept in the ZIP only
        return []


def _eml(facts: Facts, r: Any) -> bytes:
    """The e-mail as sent (text part), for a mail client; deterministic (no multipart boundary)."""
    org = facts.organisation
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = f"{org.sender_name or org.legal_name} <{org.sender_email}>" if org.sender_email else org.legal_name
    msg["To"] = r.recipient or ""
    msg["Subject"] = r.subject or ""
    if r.sent_at is not None:
        msg["Date"] = format_datetime(r.sent_at)
    if r.message_id:
        msg["Message-ID"] = r.message_id
    msg.set_content(r.body_text or "", cte="8bit")
    return msg.as_bytes()


def _text(facts: Facts, sent: SentReminder) -> bytes:
    r = sent.reminder
    head = [f"Envoyée le : {long_date(sent.sent_on)}", f"Canal : {r.get_channel_display()}",
            f"Destinataire : {r.recipient}", f"Objet : {r.subject}"]
    if r.tracking_number:
        head.append(f"Numéro de recommandé : {r.tracking_number}")
    return ("\n".join(head) + "\n\n" + (r.body_text or "") + "\n").encode()
