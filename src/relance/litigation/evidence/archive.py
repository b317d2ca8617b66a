"""The ZIP of the evidence file: the evidence PDF, the originals (invoice PDFs, letters, receipt
scans, reminders as e-mail or text) as they are stored, a ``MANIFEST.sha256`` that
``sha256sum -c`` checks and a ``manifest.json`` naming each pièce with its file and hash.
Entries are sorted by name and dated ``as_of`` at midnight: the same file gives the same bytes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import date
from typing import Any

from ..claim import Piece
from .sections import Original

EVIDENCE_NAME = "dossier-de-recouvrement.pdf"
MANIFEST_SHA256 = "MANIFEST.sha256"
MANIFEST_JSON = "manifest.json"


def manifest_sha256(files: Sequence[Original]) -> bytes:
    """``<sha256>  <name>`` per file (sha256sum's text mode), sorted by name."""
    return "".join(f"{f.sha256}  {f.name}\n" for f in sorted(files, key=lambda f: f.name)).encode()


def manifest_json(files: Sequence[Original], pieces: Sequence[Piece], about: dict[str, Any]) -> bytes:
    body = {**about,
            "pieces": [{"number": p.number, "title": p.title, "kind": p.kind,
                        "on": p.on.isoformat() if p.on else None, "filename": p.filename, "sha256": p.sha256,
                        "size": p.size} for p in pieces],
            "files": [{"name": f.name, "sha256": f.sha256, "size": len(f.content)}
                      for f in sorted(files, key=lambda f: f.name)]}
    return (json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def write_zip(files: Sequence[Original], pieces: Sequence[Piece], as_of: date, about: dict[str, Any]) -> bytes:
    entries = sorted(files, key=lambda f: f.name)
    entries += [Original(MANIFEST_SHA256, manifest_sha256(files)),
                Original(MANIFEST_JSON, manifest_json(files, pieces, about))]
    stamp = (max(as_of.year, 1980), as_of.month, as_of.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entry.content)
    return buffer.getvalue()
