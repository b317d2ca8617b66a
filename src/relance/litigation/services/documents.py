"""The documents of a litigation case.

* :func:`produce_documents` — relance writes, to a day, the evidence file (one PDF with its table
  of contents, and the ZIP of the originals with their SHA-256 manifest: ``litigation.evidence``),
  the injonction de payer request (C. proc. civ. 1407) and, for a claim up to 5 000 €, the file for
  a commissaire de justice's simplified procedure (CPCE L125-1): ``litigation.court_documents``.
* :func:`add_document` — a person uploads what a step brought (the order, the act of service…).

Each document is stored with its SHA-256 and size, and leaves ``litigation.document_added`` with
the same hash: the event log proves which bytes existed on which day. Files written for a
transaction that rolls back are removed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile

from relance.errors import InvalidInput
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Organisation

from ..models import CaseDocument, LitigationCase
from .cases import lock_case

#: what a person may upload, and how big
UPLOAD_TYPES = {".pdf": b"%PDF-", ".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}
MAX_UPLOAD = 20 * 1024 * 1024


@contextmanager
def removed_on_error() -> Iterator[list[FieldFile]]:
    """Files saved inside the block are deleted if it raises (their rows roll back)."""
    saved: list[FieldFile] = []
    try:
        yield saved
    except BaseException:
        for f in saved:
            if f.name:
                f.storage.delete(f.name)
        raise


def _safe_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = re.sub(r"[^\w.\- ]+", "_", base, flags=re.UNICODE).strip(" .") or "document"
    return base[:120]


def store_document(organisation: Organisation, case: LitigationCase, *, kind: str, filename: str, content: bytes,
                   actor: str, title: str = "", as_of: date | None = None, uploaded: bool = False,
                   saved: list[FieldFile] | None = None) -> tuple[CaseDocument, NewEvent]:
    """Store one document of ``case`` (locked by the caller's transaction); returns it and its
    event (the caller records it)."""
    if kind not in CaseDocument.Kind.values:
        raise InvalidInput(f"type de document inconnu : « {kind} »")
    name = _safe_name(filename)
    if uploaded:
        if not content:
            raise InvalidInput(f"{name} : le fichier est vide")
        if len(content) > MAX_UPLOAD:
            raise InvalidInput(f"{name} : le fichier dépasse {MAX_UPLOAD // (1024 * 1024)} Mo")
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        magic = UPLOAD_TYPES.get(suffix)
        if magic is None:
            raise InvalidInput(f"{name} : seuls les fichiers PDF, PNG et JPEG sont acceptés")
        if not content.startswith(magic):
            raise InvalidInput(f"{name} : le contenu n’est pas celui d’un fichier {suffix[1:].upper()}")
    digest = hashlib.sha256(content).hexdigest()
    doc = CaseDocument(case=case, kind=kind, title=(title or CaseDocument.Kind(kind).label)[:200], sha256=digest,
                       size=len(content), as_of=as_of, created_by=actor[:150])
    doc.file.save(f"{organisation.slug}/{case.pk}/{digest[:12]}-{name}", ContentFile(content), save=False)
    if saved is not None:
        saved.append(doc.file)
    doc.save()
    return doc, kinds.litigation_document(customer_id=case.customer_id, case=case.pk, document=doc.pk, kind=kind,
                                          title=doc.title, sha256=digest, size=doc.size, as_of=as_of, actor=actor)


def add_document(organisation: Organisation, case: LitigationCase | int, *, kind: str, filename: str, content: bytes,
                 actor: str, title: str = "") -> CaseDocument:
    """A document a person uploads to the case (PDF, PNG or JPEG, 20 MB at most)."""
    with removed_on_error() as saved, transaction.atomic():
        case = lock_case(organisation, case, with_invoices=False)
        doc, event = store_document(organisation, case, kind=kind, filename=filename, content=content, actor=actor,
                                    title=title, uploaded=True, saved=saved)
        record_many(organisation, [event])
    return doc


def produce_documents(organisation: Organisation, case: LitigationCase | int, *, actor: str,
                      as_of: date) -> list[CaseDocument]:
    """Write the evidence file (PDF and ZIP), the request and, up to 5 000 €, the small-claims file,
    with the amounts to ``as_of``; returns the documents stored."""
    from relance.litigation.court_documents import build_request, build_small_claim, small_claim_allowed
    from relance.litigation.evidence import build_evidence

    pk = case.pk if isinstance(case, LitigationCase) else case
    found = LitigationCase.objects.select_related("customer", "organisation").filter(organisation=organisation,
                                                                                      pk=pk).first()
    if found is None:
        lock_case(organisation, pk, with_invoices=False)  # raises NotFound
        raise AssertionError
    evidence = build_evidence(organisation, found, as_of)
    request = build_request(organisation, found, as_of, evidence.pieces)
    files: list[tuple[str, str, str, bytes, dict[str, Any]]] = [
        (CaseDocument.Kind.EVIDENCE_PDF, f"Dossier de recouvrement au {as_of:%d/%m/%Y}",
         f"dossier-de-recouvrement-{found.pk}-{as_of.isoformat()}.pdf", evidence.pdf,
         {"chain_ok": evidence.chain_ok, "head_hash": evidence.head_hash, "pieces": len(evidence.pieces)}),
        (CaseDocument.Kind.EVIDENCE_ZIP, f"Pièces originales au {as_of:%d/%m/%Y}",
         f"pieces-{found.pk}-{as_of.isoformat()}.zip", evidence.zip, {}),
        (CaseDocument.Kind.REQUEST, request.title, f"requete-injonction-de-payer-{found.pk}-{as_of.isoformat()}.pdf",
         request.pdf, {"missing": request.missing}),
    ]
    if small_claim_allowed(evidence.claim):
        small = build_small_claim(organisation, found, as_of, evidence.pieces)
        files.append((CaseDocument.Kind.SMALL_CLAIM, small.title,
                      f"petites-creances-{found.pk}-{as_of.isoformat()}.pdf", small.pdf, {"missing": small.missing}))
    with removed_on_error() as saved, transaction.atomic():
        locked = lock_case(organisation, pk, with_invoices=False)
        docs: list[CaseDocument] = []
        events: list[NewEvent] = []
        for kind, title, filename, content, facts in files:
            doc, event = store_document(organisation, locked, kind=kind, filename=filename, content=content,
                                        actor=actor, title=title, as_of=as_of, saved=saved)
            event.data.update(facts)
            docs.append(doc)
            events.append(event)
        record_many(organisation, events)
    return docs


def latest_documents(case: LitigationCase) -> list[CaseDocument]:
    """The latest produced document of each kind (evidence PDF, originals, request, small claims)."""
    produced = [CaseDocument.Kind.EVIDENCE_PDF, CaseDocument.Kind.REQUEST, CaseDocument.Kind.SMALL_CLAIM,
                CaseDocument.Kind.EVIDENCE_ZIP]
    latest: dict[str, CaseDocument] = {}
    for doc in CaseDocument.objects.filter(case=case, kind__in=produced).order_by("-created_at", "-pk"):
        latest.setdefault(doc.kind, doc)
    small = latest.get(CaseDocument.Kind.SMALL_CLAIM)
    request = latest.get(CaseDocument.Kind.REQUEST)
    if small is not None and request is not None and small.as_of != request.as_of:
        latest.pop(CaseDocument.Kind.SMALL_CLAIM)  # an older run's, when the claim has since grown past 5 000 €
    return [latest[k] for k in produced if k in latest]
