"""Bank statements: camt.053/054, OFX, MT940 and CFONB 120, detected from their content.

``parse_statement`` never raises on bad input: every defect becomes a Problem naming the
file and the line (text formats) or the XML element (camt). Sizes are bounded before
reading so that a hostile file cannot exhaust memory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..problems import Problem
from . import camt, cfonb, mt940, ofx
from .model import BankFormatError, BankLine, Statement, StatementResult

__all__ = ["MAX_BYTES", "BankLine", "Statement", "StatementResult", "detect_format", "parse_statement"]

MAX_BYTES = 50 * 1024 * 1024

_READERS = {"camt": camt.parse, "ofx": ofx.parse, "mt940": mt940.parse, "cfonb120": cfonb.parse}


def detect_format(raw: bytes) -> str | None:
    """``camt``, ``ofx``, ``mt940``, ``cfonb120`` or None, from the first bytes of the file."""
    head = raw[:8192].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    upper = head.upper()
    if "OFXHEADER" in upper[:200] or upper.startswith("<OFX>") or re.search(r"<\?OFX\b", upper[:1000]):
        return "ofx"
    if head.startswith("<"):
        if "camt.05" in head or "BkToCstmr" in head:
            return "camt"
        if "<OFX>" in upper:
            return "ofx"
        return None
    if re.match(r"(\{1:[^}]*\})?(\{2:[^}]*\})?(\{3:(\{[^}]*\})*\})?(\{4:\s*)?:20:", head) or (
        re.search(r"(?m)^:20:", head) and re.search(r"(?m)^:(25|60[FM]|61):", head)
    ):
        return "mt940"
    if re.match(r"01\d{5}", head) and (len(head.split("\n", 1)[0].rstrip("\r ")) <= 120 or len(head) >= 240):
        return "cfonb120"
    return None


def _read(source: str | os.PathLike[str] | bytes, filename: str) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise BankFormatError(
                    Problem(filename, None, None, f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo)")
                )
            with path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise BankFormatError(Problem(filename, None, None, f"lecture impossible : {exc.strerror or exc}")) from exc
    if len(raw) > MAX_BYTES:
        raise BankFormatError(Problem(filename, None, None, f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo)"))
    return raw


def parse_statement(source: str | os.PathLike[str] | bytes, filename: str | None = None) -> StatementResult:
    """Read a bank statement file (a path or its bytes); ``filename`` names it in problems."""
    name = filename or (str(source) if not isinstance(source, bytes | bytearray | memoryview) else "relevé")
    try:
        raw = _read(source, name)
        if not raw.strip():
            return StatementResult(problems=[Problem(name, None, None, "fichier vide")])
        kind = detect_format(raw)
        if kind is None:
            return StatementResult(
                problems=[
                    Problem(
                        name, None, None, "format de relevé inconnu (camt.053/054, OFX, MT940 ou CFONB 120 attendu)"
                    )
                ]
            )
        result = _READERS[kind](raw, name)
        result.format = kind
        return result
    except BankFormatError as exc:
        return StatementResult(problems=[exc.problem])
    except RecursionError:
        return StatementResult(problems=[Problem(name, None, None, "structure trop profonde")])
    except Exception as exc:  # last resort: a reader bug must not crash an import
        return StatementResult(
            problems=[Problem(name, None, None, f"relevé illisible ({type(exc).__name__} : {str(exc)[:200]})")]
        )
