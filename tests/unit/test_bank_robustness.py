"""Bad bank files give problems naming the file and the line or element, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance.core.formats import bank
from relance.core.formats.bank import camt, cfonb, mt940, ofx, parse_statement
from relance.core.formats.bank.cfonb import signed_amount

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "bank"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bank"
SAMPLES = [FIXTURES / "camt053_v04_fr.xml"] + (
    sorted(p for p in REALDATA.iterdir() if p.suffix != ".yml") if REALDATA.is_dir() else []
)

CAMT_HEAD = b'<?xml version="1.0"?>\n'
CAMT_NS = b'xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"'


def _messages(raw: bytes, name: str = "f") -> list[str]:
    result = parse_statement(raw, name)
    assert result.problems, "a problem was expected"
    assert all(p.file == name for p in result.problems)
    return [p.message for p in result.problems]


def test_external_entity_is_refused() -> None:
    raw = (
        CAMT_HEAD
        + b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<Document '
        + CAMT_NS
        + b">&xxe;</Document>"
    )
    (message,) = _messages(raw)
    assert "DTD" in message or "entit" in message


def test_entity_expansion_bomb_is_refused() -> None:
    entities = b"".join(
        b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' % ((i,) + (i - 1,) * 10)
        for i in range(1, 10)
    )
    raw = CAMT_HEAD + b'<!DOCTYPE d [<!ENTITY l0 "lol">' + entities + b"]>\n<Document " + CAMT_NS + b">&l9;</Document>"
    (message,) = _messages(raw)
    assert "refusé" in message


def test_ofx_with_doctype_is_refused() -> None:
    raw = b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200"?>\n<!DOCTYPE OFX [<!ENTITY x SYSTEM "file:///etc/passwd">]><OFX>&x;</OFX>'
    assert "DOCTYPE" in _messages(raw)[0]


def test_unknown_format_and_empty_file() -> None:
    assert "format de relevé inconnu" in _messages(b"date;montant\n2025-01-01;12,00\n")[0]
    assert _messages(b"   \n") == ["fichier vide"]
    assert "format de relevé inconnu" in _messages(b"<html><body>no</body></html>")[0]


def test_truncated_camt_names_the_line() -> None:
    raw = (FIXTURES / "camt053_v04_fr.xml").read_bytes()
    result = parse_statement(raw[: len(raw) // 2], "cut.xml")
    (problem,) = result.problems
    assert "tronqué" in problem.message and problem.line is not None


def test_bad_camt_amount_names_the_element() -> None:
    raw = (FIXTURES / "camt053_v04_fr.xml").read_bytes().replace(b">50.00<", b">5O.00<")
    result = parse_statement(raw, "bad.xml")
    (problem,) = result.problems
    assert problem.field == "BkToCstmrStmt/Stmt[1]/Ntry[2]"
    assert len(result.statements[0].lines) == 1


def test_unsupported_camt_version() -> None:
    raw = (FIXTURES / "camt053_v04_fr.xml").read_bytes().replace(b"camt.053.001.04", b"camt.053.001.12")
    assert "non prise en charge" in _messages(raw)[0]


def test_wrong_encoding() -> None:
    raw = b"OFXHEADER:100\nDATA:OFXSGML\n<OFX><STMTRS><CURDEF>EUR\n<MEMO>\x81\x8d\x90\n</STMTRS></OFX>"
    assert "encodage illisible" in _messages(raw)[0]


def test_truncated_ofx() -> None:
    raw = (
        b"OFXHEADER:100\n\n<OFX>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n<STMTRS>\n"
        b"<CURDEF>EUR\n<BANKTRANLIST>\n<STMTTRN>\n<TRNAMT>-1.00\n"
    )
    result = parse_statement(raw, "cut.ofx")
    assert any("tronqué" in p.message for p in result.problems)


def test_truncated_mt940_and_cfonb() -> None:
    mt = b":20:REF\n:25:FR7630006000011234567890189\n:28C:1/1\n:60F:C250301EUR100,00\n:61:2503010301C10,00NTRFNONREF\n"
    result = parse_statement(mt, "cut.sta")
    assert any(":62F:" == p.field for p in result.problems)
    if REALDATA.is_dir():
        lines = (REALDATA / "ekylibre_import_cfonb120.txt").read_bytes().splitlines()
        result = parse_statement(b"\r\n".join(lines[:-1]), "cut.txt")
        assert any("tronqué" in p.message for p in result.problems)


def test_cfonb_bad_records_name_their_line() -> None:
    def record(code: str, op: str, day: str, value_day: str, label: str, amount: str) -> str:
        head = f"{code}30002    00550EUR2 0000123456A{op:2}{day:6}  {value_day:6}{label:31}  0000001  {amount}"
        return head.ljust(120)

    good = record("01", "", "010325", "", "", "0000000010000{")
    move = record("04", "05", "020325", "030325", "FACTURE F-1", "0000000001234A")
    bad = "0930002    00550EUR2 0000123456A"
    end = record("07", "", "040325", "", "", "0000000011234A")
    result = parse_statement("\n".join([good, move, bad, end]).encode(), "c.txt")
    assert [(p.line, "inconnu" in p.message) for p in result.problems] == [(3, True)]
    (statement,) = result.statements
    assert str(statement.lines[0].amount) == "123.41"
    assert statement.closing_balance is not None and str(statement.closing_balance) == "1123.41"


def test_cfonb_sign_convention() -> None:
    assert str(signed_amount("0000000500000{", "2")) == "50000.00"
    assert str(signed_amount("0000000000549O", "2")) == "-54.96"
    assert str(signed_amount("0000039261358R", "2")) == "-3926135.89"
    assert str(signed_amount("0000000000012}", "0")) == "-120"
    assert str(signed_amount("0000000000012A", "3")) == "0.121"
    with pytest.raises(ValueError):
        signed_amount("00000000000X2A", "2")


def test_size_bound_refuses_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "huge.xml"
    with big.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: nothing is really written
    monkeypatch.setattr(Path, "open", lambda *a, **k: pytest.fail("the file must not be opened"))
    (problem,) = parse_statement(big, "huge.xml").problems
    assert "trop gros" in problem.message and problem.file == "huge.xml"


def test_size_bound_on_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bank, "MAX_BYTES", 1000)
    (problem,) = parse_statement(b"x" * 1001, "big.ofx").problems
    assert "trop gros" in problem.message


def test_missing_file() -> None:
    (problem,) = parse_statement(Path("/nonexistent/relevé.ofx"), "relevé.ofx").problems
    assert "lecture impossible" in problem.message


# --- fuzzing -----------------------------------------------------------------------------------

READERS = [camt.parse, ofx.parse, mt940.parse, cfonb.parse]


def _safe(reader: object, raw: bytes) -> None:
    try:
        result = reader(raw, "fuzz")  # type: ignore[operator]
    except bank.BankFormatError:
        return  # readers may signal a fatal problem this way; parse_statement turns it into a Problem
    for problem in result.problems:
        assert problem.file == "fuzz"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    result = parse_statement(raw, "fuzz")
    assert result.statements or result.problems
    for reader in READERS:
        _safe(reader, raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_fuzz_mutated_samples(sample: Path, data: st.DataObject) -> None:
    raw = bytearray(sample.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        kind = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif kind == "delete":
            del raw[pos : pos + data.draw(st.integers(1, 40))]
        elif kind == "insert":
            raw[pos:pos] = data.draw(
                st.sampled_from([b"<", b">", b"</Ntry>", b":61:", b"\n04", b"&amp;", b"\xff", b"-", b"\n"])
            )
        else:
            del raw[pos:]
    parse_statement(bytes(raw), "fuzz")
    for reader in READERS:
        _safe(reader, bytes(raw))
