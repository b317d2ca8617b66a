"""A NUL byte inside a bank statement is refused with its line (PostgreSQL cannot store it: an OFX or MT940
with one was an uncaught DataError at import, found by bench/fuzz.py, issue #11); NUL padding at the end of a
file is ignored."""

from __future__ import annotations

import pytest

from relance.core.formats.bank import parse_statement

OFX = (b"OFXHEADER:100\nDATA:OFXSGML\nCHARSET:1252\n\n<OFX><STMTRS><CURDEF>EUR<BANKTRANLIST>\n"
       b"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261102<TRNAMT>12.00<FITID>F1<NAME>DURAND</STMTTRN>\n"
       b"</BANKTRANLIST></STMTRS></OFX>\n")
MT940 = (b":20:REF\n:25:FR7630006000011234567890189\n:28C:1/1\n:60F:C261102EUR100,00\n"
         b":61:2611021102C10,00NTRFNONREF\n:86:VIR DURAND\n:62F:C261102EUR110,00\n-\n")


@pytest.mark.parametrize(("name", "raw"), [("r.ofx", OFX), ("r.sta", MT940)])
def test_nul_inside_is_refused_with_its_line(name: str, raw: bytes) -> None:
    result = parse_statement(raw.replace(b"DURAND", b"DUR\x00AND"), name)
    assert not result.statements
    (problem,) = result.problems
    assert "caractère nul" in problem.message and problem.line in (6, 7)


@pytest.mark.parametrize(("name", "raw"), [("r.ofx", OFX), ("r.sta", MT940)])
def test_nul_padding_at_the_end_is_ignored(name: str, raw: bytes) -> None:
    result = parse_statement(raw + b"\x00" * 64, name)
    assert len(result.statements) == 1 and result.statements[0].lines
