"""The evidence file (« dossier de recouvrement ») of a litigation case: one PDF a lawyer, a
commissaire de justice or the court reads from cover to end, and a ZIP of the originals with
their SHA-256. What it proves and why: docs/litigation.md.

C. proc. civ. 1407: the injonction de payer request states the amount « avec le décompte des
différents éléments de la créance ainsi que le fondement de celle-ci » and is filed with the
bordereau of the pièces: the amounts here are those of ``claim.claim_for`` and the pièces are
numbered as the request lists them."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date

from relance.ledger.models import Organisation

from ..claim import Claim, Piece
from ..models import LitigationCase
from .archive import EVIDENCE_NAME, write_zip
from .collect import collect
from .pdf import render
from .sections import Original, plan

__all__ = ["EVIDENCE_NAME", "EvidenceFile", "build_evidence"]


@dataclass
class EvidenceFile:
    as_of: date
    pdf: bytes
    zip: bytes
    #: the numbered pièces, in order (the bordereau the request lists)
    pieces: list[Piece]
    claim: Claim
    chain_ok: bool
    #: the hash of the last event of the organisation's log
    head_hash: str
    chain_problems: list[str]


def build_evidence(organisation: Organisation, case: LitigationCase, as_of: date) -> EvidenceFile:
    """The evidence file of ``case`` with its amounts computed to ``as_of`` (read-only: storing
    it as a ``CaseDocument`` is the caller's)."""
    facts = collect(organisation, case, as_of)
    layout = plan(facts)
    pdf = render(facts, layout)
    digest = hashlib.sha256(pdf).hexdigest()
    # the pièces without an original of their own are pages of the evidence PDF
    pieces = [p if p.filename else dataclasses.replace(p, filename=EVIDENCE_NAME, sha256=digest, size=len(pdf))
              for p in layout.pieces]
    about = {"organisation": organisation.legal_name, "case": facts.case.pk,
             "customer": facts.case.customer.legal_name, "as_of": as_of.isoformat(),
             "total": str(facts.claim.total), "currency": facts.claim.currency,
             "chain_ok": not facts.chain_problems, "head_hash": facts.head_hash}
    archive = write_zip([Original(EVIDENCE_NAME, pdf), *layout.originals], pieces, as_of, about)
    return EvidenceFile(as_of, pdf, archive, pieces, facts.claim, not facts.chain_problems, facts.head_hash,
                        facts.chain_problems)
