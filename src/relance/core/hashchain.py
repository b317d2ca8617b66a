"""Hash chain of the event log: each event seals the previous one.

``hash_n = SHA-256(hash_{n-1} || "\\n" || canonical_json(payload_n))``; the first
event links to 64 zeros. Changing, removing or reordering any event breaks every
later link, which :func:`verify` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(payload)).hexdigest()


@dataclass(frozen=True)
class ChainedRecord:
    seq: int
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def verify(records: Iterable[ChainedRecord]) -> list[ChainProblem]:
    """Check sequence numbers, links and hashes; return every problem found."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    expected_seq = 1
    for rec in records:
        if rec.seq != expected_seq:
            problems.append(ChainProblem(rec.seq, f"numéro attendu {expected_seq}, trouvé {rec.seq}"))
        if rec.prev_hash != expected_prev:
            problems.append(ChainProblem(rec.seq, "le lien vers l’événement précédent est rompu"))
        if link(rec.prev_hash, rec.payload) != rec.hash:
            problems.append(ChainProblem(rec.seq, "le contenu ne correspond plus à son empreinte"))
        expected_prev = rec.hash
        expected_seq = rec.seq + 1
    return problems
