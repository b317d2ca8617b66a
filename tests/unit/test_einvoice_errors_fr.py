"""E-invoice errors are French (issue #11): a broken CII/UBL XML, a Factur-X PDF whose XML is broken
and a damaged PDF are described in French, naming the file, the line (when libxml2 gives one) and
the attachment; libxml2's and pypdf's English messages go to the log only."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from relance.core.formats.einvoice import read_einvoice

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "einvoice"
# words of libxml2's and pypdf's messages, and exception class names
ENGLISH = re.compile(r"\b(expected|found|tag|mismatch|line|column|Premature|Extra|defined|Invalid|Opening|ending|"
                     r"Couldn|StartTag|Entity|Namespace|prefix|Error|Exception|stream|startxref|EOF|marker)\b")

BROKEN = [
    (b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:x'>\n  <rsm:ExchangedDocument>\n", "n’est jamais fermée"),
    (b"<Invoice>\n<ID>F1</ID>\n</Facture>\n", "« </Facture> »"),
    (b"<Invoice><Note>Caf\xc3\xa9 & croissants</Note></Invoice>", "« & » seul dans le texte"),
    (b"<Invoice><Note>1 < 2</Note></Invoice>", "nom de balise invalide"),
    (b"<Invoice><Note>&eacute;</Note></Invoice>", "entité « eacute » non définie"),
    (b"<Invoice/>\n<Invoice/>", "contenu après la fin du document"),
    (b"<?xml version='1.0' encoding='UTF-8'?>\n<Invoice>\xe9t\xe9</Invoice>", "octets invalides"),
    (b"<Invoice>\x01</Invoice>", "caractère interdit"),
    (b"<cbc:ID>F1</cbc:ID>", "préfixe d’espace de noms « cbc » non déclaré"),
]


def _french(message: str) -> None:
    assert not ENGLISH.search(message.replace("facture.xml", "").replace("factur-x.xml", "")), message


@pytest.mark.parametrize(("raw", "expected"), BROKEN)
def test_broken_xml_is_described_in_french_with_file_and_line(raw: bytes, expected: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="relance.imports"):
        result = read_einvoice(raw, "facture.xml")
    (problem,) = result.problems
    assert problem.file == "facture.xml" and problem.line is not None
    assert problem.message.startswith("XML mal formé ou tronqué, colonne ")
    assert expected in problem.message
    _french(str(problem))
    # the technical detail is kept, in the log
    assert any("lxml" in r.getMessage() and "facture.xml" in r.getMessage() for r in caplog.records)


def test_the_reported_line_is_libxml2s() -> None:
    (problem,) = read_einvoice(b"<Invoice>\n<ID>F1</ID>\n<Note>\n</Invoice>\n", "facture.xml").problems
    assert str(problem).startswith("facture.xml, ligne 4 : XML mal formé ou tronqué, colonne ")
    assert "la balise « Note » (ouverte ligne 3)" in problem.message or "« Note » (ouverte ligne 3)" in problem.message


def _facturx(xml: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(FIXTURES / "bad" / "plain.pdf"))
    writer.add_attachment("factur-x.xml", xml)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_facturx_whose_xml_is_broken_names_the_pdf_the_attachment_and_its_line() -> None:
    (problem,) = read_einvoice(_facturx(b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:x'>\n<a>\n"), "F1.pdf").problems
    assert problem.file == "F1.pdf" and problem.field == "factur-x.xml, ligne 3"
    assert str(problem).startswith("F1.pdf, champ « factur-x.xml, ligne 3 » : XML mal formé ou tronqué")
    assert "fichier tronqué : la balise « a » (ouverte ligne 2) n’est jamais fermée" in problem.message
    _french(str(problem))


def test_a_damaged_pdf_is_described_in_french(caplog: pytest.LogCaptureFixture) -> None:
    raw = (FIXTURES / "atelier_facturx_basicwl.pdf").read_bytes()
    with caplog.at_level(logging.INFO, logger="relance.imports"):
        result = read_einvoice(raw[: len(raw) // 3], "coupe.pdf")
    messages = [str(p) for p in result.problems]
    assert messages and all(m.startswith("coupe.pdf") for m in messages)
    for message in messages:
        _french(message)
    assert any("PDF illisible ou endommagé : " in m or "PDF sans facture électronique intégrée" in m
               for m in messages)


def test_a_pdf_that_is_not_one_is_described_in_french(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="relance.imports"):
        (problem,) = read_einvoice(b"%PDF-1.7\n1 0 obj <<>> endobj\n", "vide.pdf").problems
    assert str(problem).startswith("vide.pdf : PDF illisible ou endommagé : ")
    _french(str(problem))
    assert any("pypdf" in r.getMessage() for r in caplog.records)


def test_an_unreadable_path_is_french(tmp_path: Path) -> None:
    (problem,) = read_einvoice(tmp_path / "absente.xml").problems
    assert str(problem) == "absente.xml : lecture impossible : fichier introuvable"
