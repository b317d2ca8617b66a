"""A broken camt statement is described in French, with its line and column (expat's own text is English)."""

from __future__ import annotations

import pytest

from relance.core.formats.bank import camt
from relance.core.formats.bank.model import BankFormatError


@pytest.mark.parametrize(("raw", "line", "words"), [
    (b"<Document><BkToCstmrStmt></Document>", 1, "balise fermée par une autre"),
    (b"<Document>\n<Stmt>", 2, "tronqué"),
    (b"", 1, "vide ou tronqué"),
    (b"<Document>\n<Nm>Dupont & fils</Nm></Document>", 2, "non échappé"),
    (b"<Document/><Document/>", 1, "contenu après la fin du document"),
])
def test_a_broken_statement_is_described_in_french(raw: bytes, line: int, words: str) -> None:
    with pytest.raises(BankFormatError) as caught:
        camt.parse(raw, "releve.xml")
    problem = caught.value.problem
    assert (problem.file, problem.line) == ("releve.xml", line)
    assert words in problem.message and "colonne" in problem.message
    for english in ("mismatched", "no element", "not well-formed", "junk", "unclosed"):
        assert english not in problem.message


def test_bad_bytes_are_described_in_french() -> None:
    with pytest.raises(BankFormatError) as caught:
        camt.parse(b'<?xml version="1.0" encoding="UTF-8"?><Document>\xff\xfe</Document>', "releve.xml")
    assert "octets invalides" in caught.value.problem.message or "invalide" in caught.value.problem.message
