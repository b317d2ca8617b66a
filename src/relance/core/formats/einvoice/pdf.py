"""The XML embedded in a Factur-X / ZUGFeRD PDF (PDF/A-3 attachment).

Done as ``facturx.get_xml_from_pdf`` does it — pypdf's list of embedded files, the file named
``factur-x.xml`` (Factur-X 1.0, ZUGFeRD 2.1+), ``zugferd-invoice.xml`` (ZUGFeRD 2.0) or
``xrechnung.xml`` — but without letting the library parse the XML with a default parser (our
hardened one does) and without losing the reason when nothing usable is found. pypdf bounds
the decompressed size of a stream (75 Mo), which stops compression bombs.
"""

from __future__ import annotations

import logging
from io import BytesIO

from pypdf import PdfReader

from ..problems import Problem
from .model import EinvoiceFormatError

STANDARD_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
log = logging.getLogger("relance.imports")
ORDER_X = "order-x.xml"


def embedded_xml(raw: bytes, filename: str, max_bytes: int) -> tuple[str, bytes]:
    """(attachment name, XML bytes), or EinvoiceFormatError naming the PDF."""
    pypdf_logger = logging.getLogger("pypdf")
    level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)  # a damaged but readable PDF logs warnings by the dozen
    try:
        reader = PdfReader(BytesIO(raw), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise EinvoiceFormatError(Problem(filename, None, None, (
                    "PDF chiffré par un mot de passe : la facture électronique intégrée est illisible"))) from None
        attachments = [(str(item.name), item) for item in reader.attachment_list]
        names = [name for name, _ in attachments]
        chosen = None
        for wanted in STANDARD_NAMES:
            chosen = next(((n, a) for n, a in attachments if n.lower() == wanted), None)
            if chosen:
                break
        if chosen is None:
            others = [(n, a) for n, a in attachments if n.lower().endswith(".xml") and n.lower() != ORDER_X]
            chosen = others[0] if len(others) == 1 else None
        if chosen is None:
            listed = ", ".join(f"« {n[:60]} »" for n in names[:10]) if names else "aucune"
            what = "une commande Order-X, pas une facture" if ORDER_X in [n.lower() for n in names] else (
                "aucun fichier factur-x.xml")
            raise EinvoiceFormatError(Problem(filename, None, None, (
                f"PDF sans facture électronique intégrée : {what} (pièces jointes : {listed}) ; "
                f"un PDF simple ne peut pas être importé, demandez le Factur-X ou le XML")))
        name, item = chosen
        content = item.content
    except EinvoiceFormatError:
        raise
    except RecursionError:
        raise EinvoiceFormatError(Problem(filename, None, None, "PDF illisible : structure trop profonde")) from None
    except Exception as exc:  # pypdf raises many kinds of errors on damaged or hostile files
        log.info("%s : PDF illisible (pypdf) : %s : %s", filename, type(exc).__name__, str(exc)[:500])
        raise EinvoiceFormatError(Problem(filename, None, None, pdf_error_text(exc))) from None
    finally:
        pypdf_logger.setLevel(level)
    if not content:
        raise EinvoiceFormatError(Problem(filename, None, name, "pièce jointe XML vide"))
    if len(content) > max_bytes:
        raise EinvoiceFormatError(Problem(filename, None, name, (
            f"pièce jointe XML trop grosse (plus de {max_bytes // 1_048_576} Mo)")))
    return name, bytes(content)


def pdf_error_text(exc: Exception) -> str:
    """A French reason for a PDF pypdf cannot read (its own messages are English; they go to the log)."""
    detail = str(exc).lower()
    if "eof" in detail or "ended unexpectedly" in detail or "truncated" in detail:
        why = "le fichier est tronqué (fin du PDF absente) : téléchargez-le ou exportez-le de nouveau"
    elif "xref" in detail or "trailer" in detail or "startxref" in detail:
        why = "sa table des objets est abîmée : exportez-le de nouveau depuis le logiciel de facturation"
    elif "decrypt" in detail or "encrypt" in detail or "password" in detail:
        why = "il est chiffré : demandez un PDF sans mot de passe"
    elif "limit" in detail or "too large" in detail or "exceed" in detail:
        why = "un de ses contenus dépasse la taille permise une fois décompressé (fichier piégé ?)"
    else:
        why = "sa structure ne peut pas être lue (fichier abîmé, ou d’un autre format renommé en .pdf)"
    return f"PDF illisible ou endommagé : {why}"
