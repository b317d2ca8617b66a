"""Electronic invoices: Factur-X / ZUGFeRD 2.x PDFs (MINIMUM, BASIC WL, BASIC, EN 16931, EXTENDED),
UN/CEFACT CII XML and OASIS UBL 2.1 XML (Invoice and CreditNote, PEPPOL, XRechnung, French CTC
extended profile), detected from their content.

``read_einvoice`` never raises on bad input: every defect becomes a Problem naming the file and
the element (``field``: the element path and its business term, ``line`` for plain XML). Sizes
are checked before reading; XML is parsed without DTD nor entities (``xml.parse_xml``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..problems import Problem, os_error_text
from . import cii, ubl
from .model import (
    CREDIT_NOTE_TYPES,
    INVOICE_TYPES,
    EInvoice,
    EinvoiceFormatError,
    EinvoiceResult,
    Party,
    document_kind,
)
from .pdf import embedded_xml
from .terms import DueDate, PaymentTerms, due_from_terms, parse_payment_terms, resolve_due_date
from .xml import CII_NS, UBL_CREDIT_NOTE, UBL_INVOICE, ZUGFERD1_NS, Collector, local_name, namespace, parse_xml

__all__ = [
    "CREDIT_NOTE_TYPES",
    "INVOICE_TYPES",
    "MAX_BYTES",
    "DueDate",
    "EInvoice",
    "EinvoiceResult",
    "Party",
    "PaymentTerms",
    "document_kind",
    "due_from_terms",
    "parse_payment_terms",
    "read_einvoice",
    "resolve_due_date",
]

MAX_BYTES = 20 * 1024 * 1024
INTERNAL_ERROR = "facture illisible (erreur interne"
log = logging.getLogger("relance.imports")


def _read(source: str | os.PathLike[str] | bytes, filename: str) -> bytes:
    too_big = f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo) : refusé sans être lu"
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise EinvoiceFormatError(Problem(filename, None, None, too_big))
            with path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise EinvoiceFormatError(Problem(filename, None, None, f"lecture impossible : {os_error_text(exc)}")) \
                from exc
    if len(raw) > MAX_BYTES:
        raise EinvoiceFormatError(Problem(filename, None, None, too_big))
    return raw


def _read_xml(raw: bytes, filename: str) -> tuple[EInvoice | None, Collector]:
    root = parse_xml(raw, filename)
    c = Collector(filename)
    ns, name = namespace(root), local_name(root)
    if ns == CII_NS["rsm"] and name == "CrossIndustryInvoice":
        return cii.read(root, c), c
    if (ns, name) in ((UBL_INVOICE, "Invoice"), (UBL_CREDIT_NOTE, "CreditNote")):
        return ubl.read(root, c), c
    if ns == ZUGFERD1_NS:
        raise EinvoiceFormatError(Problem(filename, None, name, (
            "ZUGFeRD 1.0 (CrossIndustryDocument) non pris en charge : demandez une facture Factur-X / ZUGFeRD 2")))
    raise EinvoiceFormatError(Problem(filename, None, name[:60] or None, (
        f"document XML non reconnu (élément racine « {name[:60]} », espace de noms « {ns[:100]} ») : "
        f"facture CII (Factur-X, ZUGFeRD) ou UBL attendue")))


def _in_attachment(problems: list[Problem], pdf_name: str, attachment: str) -> list[Problem]:
    """Problems of the embedded XML, restated against the PDF the user gave."""
    out = []
    for p in problems:
        where = attachment if p.line is None else f"{attachment}, ligne {p.line}"
        field = f"{where} › {p.field}" if p.field else where
        out.append(Problem(pdf_name, None, field, p.message))
    return out


def read_einvoice(source: str | os.PathLike[str] | bytes, filename: str | None = None) -> EinvoiceResult:
    """Read one e-invoice file (a path or its bytes); ``filename`` names it in problems."""
    name = filename or (Path(source).name if not isinstance(source, bytes | bytearray | memoryview) else "facture")
    result = EinvoiceResult(name)
    try:
        raw = _read(source, name)
        stripped = raw.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
        if not stripped:
            result.problems.append(Problem(name, None, None, "fichier vide"))
            return result
        if raw.startswith(b"%PDF-") or raw[:1024].find(b"%PDF-") >= 0:
            result.container, result.pdf = "pdf", raw
            result.attachment, xml = embedded_xml(raw, name, MAX_BYTES)
            try:
                document, c = _read_xml(xml, result.attachment)
            except EinvoiceFormatError as exc:
                result.problems += _in_attachment([exc.problem], name, result.attachment)
                return result
            result.problems += _in_attachment(c.problems, name, result.attachment)
            result.warnings += _in_attachment(c.warnings, name, result.attachment)
            if document is not None:
                document.filename = name
        elif stripped.startswith(b"<") or stripped[:2] in (b"\xff\xfe", b"\xfe\xff"):
            result.container = "xml"
            document, c = _read_xml(raw, name)
            result.problems += c.problems
            result.warnings += c.warnings
        else:
            result.problems.append(Problem(name, None, None, (
                "format non reconnu : PDF Factur-X / ZUGFeRD ou XML CII / UBL attendu")))
            return result
        result.document = document if not result.problems else None
    except EinvoiceFormatError as exc:
        result.problems.append(exc.problem)
    except RecursionError:
        result.problems.append(Problem(name, None, None, "structure trop profonde"))
    except Exception:  # last resort: a reader bug must not crash an import (the detail goes to the log)
        log.exception("%s : erreur interne en lisant la facture électronique", name)
        result.problems.append(Problem(name, None, None, f"{INTERNAL_ERROR} : le détail est dans le journal du serveur)"))
    if result.problems:
        result.document = None
    return result
