"""E-invoice readers (Factur-X / ZUGFeRD PDF, CII, UBL): every real sample of the shared corpus
with the values it holds, our own fixtures, hostile and broken inputs (problems naming the file
and the element, never an exception), payment terms, and a Hypothesis fuzz over the parsers."""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from relance.core.formats.einvoice import (
    INTERNAL_ERROR,
    MAX_BYTES,
    EinvoiceResult,
    parse_payment_terms,
    read_einvoice,
    resolve_due_date,
)
from relance.core.formats.einvoice.terms import PaymentTerms, due_from_terms

D = Decimal
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "einvoice"
BAD = FIXTURES / "bad"


def _realdata(sub: str) -> Path:
    """``shared/realdata/<sub>`` next to one of the checkout's parent folders (``/work/shared`` for ``/work/main``)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realdata" / sub
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / sub


REALDATA = _realdata("einvoice")
needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason=f"corpus of real e-invoices absent ({REALDATA}): real-data tests skipped"
)


def _spaces(text: str) -> str:
    """Babel writes « 1 234,56 € » with no-break spaces; compare with plain ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _ok(source: Path | bytes, name: str | None = None) -> EinvoiceResult:
    result = read_einvoice(source, name)
    assert result.problems == [], [str(p) for p in result.problems]
    assert result.document is not None
    return result


def _problems(source: Path | bytes, name: str = "f.xml") -> list[str]:
    result = read_einvoice(source, name)
    assert result.document is None
    assert result.problems, "a problem was expected"
    assert all(p.file == name for p in result.problems)
    assert not any(INTERNAL_ERROR in p.message for p in result.problems), [str(p) for p in result.problems]
    return [str(p) for p in result.problems]


# --- the real corpus --------------------------------------------------------------------------

FNFE = {
    "seller": ("Au bon moulin", "999999998", "FR11999999998"),
    "buyer": ("Ma jolie boutique", "787878784", "FR19787878784"),
}
# file -> expected (syntax, profile, number, type, issue, due, HT, TVA, TTC, prepaid, payable, BT-83, IBAN)
REAL: dict[str, tuple[Any, ...]] = {
    "zugferdcorpus_Facture_FR_BASICWL.pdf": (
        "CII", "BASIC WL", "FA-2017-0010", "380", date(2017, 11, 13), date(2017, 12, 13),
        D("624.90"), D("46.25"), D("671.15"), D("201.00"), D("470.15"), "FA-2017-0010", "FR2012421242124212421242124"),
    "zugferdcorpus_Facture_FR_BASICWL.extracted-factur-x.xml": (
        "CII", "BASIC WL", "FA-2017-0010", "380", date(2017, 11, 13), date(2017, 12, 13),
        D("624.90"), D("46.25"), D("671.15"), D("201.00"), D("470.15"), "FA-2017-0010", "FR2012421242124212421242124"),
    "zugferdcorpus_Facture_FR_MINIMUM.pdf": (
        "CII", "MINIMUM", "FA-2017-0010", "380", date(2017, 11, 13), None,
        D("624.90"), D("46.25"), D("671.15"), D("201.00"), D("470.15"), "", ""),
    "zugferdcorpus_Facture_FR_MINIMUM.extracted-factur-x.xml": (
        "CII", "MINIMUM", "FA-2017-0010", "380", date(2017, 11, 13), None,
        D("624.90"), D("46.25"), D("671.15"), D("201.00"), D("470.15"), "", ""),
    "zugferdcorpus_Avoir_FR_type381_BASIC.pdf": (
        "CII", "BASIC", "AV-2017-0005", "381", date(2017, 11, 16), date(2017, 11, 16),
        D("218.48"), D("14.99"), D("233.47"), D("0.00"), D("233.47"), "AV-2017-0005", ""),
    "zugferdcorpus_Avoir_FR_type381_BASIC.extracted-factur-x.xml": (
        "CII", "BASIC", "AV-2017-0005", "381", date(2017, 11, 16), date(2017, 11, 16),
        D("218.48"), D("14.99"), D("233.47"), D("0.00"), D("233.47"), "AV-2017-0005", ""),
    "akretion_invoice_EN16931.pdf": (
        "CII", "EN 16931", "F20260023", "380", date(2026, 1, 31), date(2026, 3, 2),
        D("100.00"), D("4.90"), D("104.90"), D("0.00"), D("104.90"), "F20260023BUYER", "FR2012542547256985425874698"),
    "akretion_invoice_EN16931.extracted-factur-x.xml": (
        "CII", "EN 16931", "F20260023", "380", date(2026, 1, 31), date(2026, 3, 2),
        D("100.00"), D("4.90"), D("104.90"), D("0.00"), D("104.90"), "F20260023BUYER", "FR2012542547256985425874698"),
    "akretion_factur-x-en16931.xml": (
        "CII", "EN 16931", "F20260023", "380", date(2026, 1, 31), date(2026, 3, 2),
        D("100.00"), D("4.90"), D("104.90"), D("0.00"), D("104.90"), "F20260023BUYER", "FR2012542547256985425874698"),
    "akretion_factur-x-minimum.xml": (
        "CII", "MINIMUM", "F20260023", "380", date(2026, 1, 31), None,
        D("100.00"), D("4.90"), D("104.90"), D("0.00"), D("104.90"), "", ""),
    "akretion_ubl-21-en16931.xml": (
        "UBL", "EN 16931", "F124212", "380", date(2026, 6, 17), date(2026, 7, 16),
        D("273.00"), D("35.03"), D("308.03"), D("100.00"), D("208.03"), "2026-06-17 00:00:00",
        "FR2012421242124212421242124"),
    "akretion_ubl-21-extended-ctc-fr.xml": (
        "UBL", "EXTENDED-CTC-FR", "F124212", "380", date(2026, 6, 17), date(2026, 7, 16),
        D("273.00"), D("35.03"), D("308.03"), D("100.00"), D("208.03"), "2026-06-17 00:00:00",
        "FR2012421242124212421242124"),
    "zugferdcorpus_EN16931_Einfach_DueDate.cii.xml": (
        "CII", "EN 16931", "471102", "380", date(2018, 3, 5), date(2019, 3, 5),
        D("473.00"), D("56.87"), D("529.87"), D("0.00"), D("529.87"), "", ""),
    "zugferdcorpus_EN16931_Einfach_DueDate.ubl.xml": (
        "UBL", "PEPPOL BIS Billing 3.0", "471102", "380", date(2018, 3, 5), date(2019, 3, 5),
        D("473.00"), D("56.87"), D("529.87"), D("0.00"), D("529.87"), "", ""),
}


def test_every_real_file_has_its_expectations() -> None:
    if REALDATA.is_dir():
        assert sorted(p.name for p in REALDATA.iterdir()) == sorted(REAL)


@needs_realdata
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_sample_is_read_with_its_values(name: str) -> None:
    (syntax, profile, number, type_code, issued, due, excl, tax, incl, prepaid, payable, reference, iban) = REAL[name]
    result = _ok(REALDATA / name, name)
    doc = result.document
    assert doc is not None
    assert (doc.syntax, doc.profile, doc.number, doc.type_code) == (syntax, profile, number, type_code)
    assert (doc.issue_date, doc.due_date) == (issued, due)
    assert (doc.amount_excl_tax, doc.tax_amount, doc.amount_incl_tax) == (excl, tax, incl)
    assert (doc.prepaid, doc.amount_payable) == (prepaid, payable)
    assert doc.amount_incl_tax - doc.prepaid == doc.amount_payable
    assert (doc.payment_reference, doc.iban) == (reference, iban)
    assert doc.currency == "EUR"
    assert doc.kind == ("credit_note" if type_code == "381" else "invoice")
    assert result.container == ("pdf" if name.endswith(".pdf") else "xml")
    if name.endswith(".pdf"):
        assert result.attachment == "factur-x.xml"
        assert result.pdf == (REALDATA / name).read_bytes()
    else:
        assert result.pdf is None


@needs_realdata
@pytest.mark.parametrize("name", [n for n in REAL if n.startswith("zugferdcorpus_F") or "Avoir" in n])
def test_fnfe_parties_and_identifier_warnings(name: str) -> None:
    result = _ok(REALDATA / name, name)
    doc = result.document
    assert doc is not None
    assert (doc.seller.name, doc.seller.siren, doc.seller.vat) == FNFE["seller"]
    assert (doc.buyer.name, doc.buyer.siren, doc.buyer.vat) == FNFE["buyer"]
    # the FNFE samples carry SIRETs whose check digit is wrong: warned, naming the element, not kept
    assert doc.seller.siret == doc.buyer.siret == ""
    warnings = [str(w) for w in result.warnings]
    assert any("SIRET du vendeur « 99999999800010 » invalide" in w and "SellerTradeParty/ram:SpecifiedLegalOrganization"
               "/ram:ID (BT-30)" in w for w in warnings), warnings
    assert any("SIRET de l’acheteur « 78787878400035 » invalide" in w and "(BT-47)" in w for w in warnings), warnings


@needs_realdata
def test_basic_wl_is_payable_470_15_after_a_201_prepayment() -> None:
    doc = _ok(REALDATA / "zugferdcorpus_Facture_FR_BASICWL.pdf").document
    assert doc is not None
    assert doc.amount_incl_tax == D("671.15")
    assert doc.prepaid == D("201.00")
    assert doc.amount_payable == D("470.15")
    assert doc.seller.address1 == "1242 chemin de l'olive" and doc.seller.city == "Malaucène"
    assert (doc.buyer.postal_code, doc.buyer.city, doc.buyer.country) == ("69001", "Lyon", "FR")


@needs_realdata
def test_minimum_profile_has_no_lines_no_due_date_and_an_implicit_prepayment() -> None:
    result = _ok(REALDATA / "zugferdcorpus_Facture_FR_MINIMUM.pdf")
    doc = result.document
    assert doc is not None
    assert doc.due_date is None and doc.terms == ""
    assert doc.prepaid == D("201.00")  # GrandTotal 671,15, DuePayable 470,15, no TotalPrepaid
    (warning,) = [_spaces(str(w)) for w in result.warnings if "BT-115" in str(w)]
    assert "la différence de 201,00 € est traitée comme un acompte déjà versé" in warning
    assert "factur-x.xml, ligne" in warning  # located inside the PDF's attachment


@needs_realdata
def test_credit_note_381_names_the_invoice_it_cancels() -> None:
    doc = _ok(REALDATA / "zugferdcorpus_Avoir_FR_type381_BASIC.pdf").document
    assert doc is not None
    assert doc.kind == "credit_note" and doc.type_label == "avoir"
    assert doc.preceding_invoices == ["FA-2017-0010"]
    assert doc.notes and doc.notes[0].startswith("Avoir suite à bidon")


@needs_realdata
def test_ubl_french_ctc_extended_profile() -> None:
    result = _ok(REALDATA / "akretion_ubl-21-extended-ctc-fr.xml")
    doc = result.document
    assert doc is not None
    assert doc.guideline.endswith("urn.cpro.gouv.fr:1p0:extended-ctc-fr")
    assert doc.terms == "30 jours net"
    assert doc.preceding_invoices == ["F124211", "F124210"]
    assert doc.delivery_date == date(2026, 6, 14)
    seller, buyer = doc.seller, doc.buyer
    assert (seller.name, seller.trading_name, seller.siren, seller.siret) == (
        "Au bon moulin", "L'huile d'olive en folie", "999999998", "99999999800019")
    assert (buyer.name, buyer.siren, buyer.siret, buyer.vat) == (
        "Ma jolie boutique SARL", "787878784", "78787878400018", "FR19787878784")
    assert buyer.address1 == "35 rue de la République" and buyer.address2 == "La presqu'île"
    assert buyer.email == "laetita.durand@jolieboutique.com" and buyer.contact_name == "Mme Laëtitia Durand"
    assert result.warnings == []


@needs_realdata
def test_cii_and_ubl_of_the_same_invoice_agree() -> None:
    cii = _ok(REALDATA / "zugferdcorpus_EN16931_Einfach_DueDate.cii.xml").document
    ubl = _ok(REALDATA / "zugferdcorpus_EN16931_Einfach_DueDate.ubl.xml").document
    assert cii is not None and ubl is not None
    fields = ("number", "type_code", "issue_date", "due_date", "delivery_date", "currency", "amount_excl_tax",
              "tax_amount", "amount_incl_tax", "prepaid", "amount_payable")
    assert {f: getattr(cii, f) for f in fields} == {f: getattr(ubl, f) for f in fields}
    assert cii.buyer.code == ubl.buyer.code == "GE2020211"
    assert cii.buyer.name == ubl.buyer.name == "Kunden AG Mitte" and cii.buyer.country == "DE"


@needs_realdata
def test_pdf_and_its_extracted_xml_agree() -> None:
    for stem in ("zugferdcorpus_Facture_FR_BASICWL", "zugferdcorpus_Avoir_FR_type381_BASIC", "akretion_invoice_EN16931"):
        pdf = _ok(REALDATA / f"{stem}.pdf").document
        xml = _ok(REALDATA / f"{stem}.extracted-factur-x.xml").document
        assert pdf is not None and xml is not None
        pdf.filename = xml.filename = ""
        assert pdf == xml


@needs_realdata
def test_invalid_buyer_identifiers_are_warned_with_their_element() -> None:
    result = _ok(REALDATA / "akretion_invoice_EN16931.extracted-factur-x.xml")
    warnings = [str(w) for w in result.warnings]
    assert any("SIREN de l’acheteur « 987654321 » invalide" in w and "BuyerTradeParty/ram:SpecifiedLegalOrganization"
               in w for w in warnings), warnings
    assert any("numéro de TVA intracommunautaire de l’acheteur « FR 05 987 654 321 » invalide" in w
               and "(BT-48)" in w for w in warnings), warnings
    doc = result.document
    assert doc is not None
    assert (doc.seller.siren, doc.seller.siret, doc.seller.vat) == ("123456782", "12345678200077", "FR11123456782")
    assert doc.buyer.email == "me@buyer.com"  # BT-49 with scheme EM wins over the contact's (BT-58)


# --- our fixtures -----------------------------------------------------------------------------

def test_fixture_cii_en16931() -> None:
    result = _ok(FIXTURES / "atelier_cii_en16931.xml")
    doc = result.document
    assert doc is not None
    assert (doc.number, doc.issue_date, doc.due_date, doc.delivery_date) == (
        "FA-2026-0101", date(2026, 3, 2), date(2026, 4, 1), date(2026, 2, 27))
    assert (doc.amount_incl_tax, doc.prepaid, doc.amount_payable) == (D("1200.00"), D("300.00"), D("900.00"))
    assert doc.iban == "FR7630006000011234567890189"  # written with spaces, kept compact
    assert (doc.buyer.code, doc.buyer.siren, doc.buyer.siret, doc.buyer.vat) == (
        "BOULMARTIN", "732829320", "73282932000074", "FR44732829320")
    assert doc.buyer.email == "compta@boulangerie-martin.test"
    assert doc.buyer.address2 == "Bâtiment B"
    assert result.warnings == []


def test_fixture_facturx_pdf_and_ubl_credit_note() -> None:
    result = _ok(FIXTURES / "atelier_facturx_basicwl.pdf")
    assert result.document is not None and result.document.profile == "BASIC WL"
    assert result.document.terms == "Paiement à 30 jours fin de mois"
    note = _ok(FIXTURES / "atelier_ubl_credit_note.xml").document
    assert note is not None
    assert (note.kind, note.type_code, note.amount_incl_tax, note.preceding_invoices) == (
        "credit_note", "381", D("300.00"), ["FA-2026-0102"])


# --- hostile and broken inputs ----------------------------------------------------------------

def test_external_entity_is_refused() -> None:
    (message,) = _problems(BAD / "xxe.xml", "xxe.xml")
    assert "XML refusé" in message and "DOCTYPE" in message


def test_billion_laughs_is_refused() -> None:
    (message,) = _problems(BAD / "billion_laughs.xml", "bomb.xml")
    assert "XML refusé" in message


def test_utf16_doctype_is_refused_too() -> None:
    raw = (BAD / "xxe.xml").read_text().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    (message,) = _problems(raw, "xxe16.xml")
    assert "XML refusé" in message


def test_entity_bomb_inside_a_pdf_is_refused() -> None:
    pdf = _with_attachment((BAD / "billion_laughs.xml").read_bytes())
    (message,) = _problems(pdf, "bomb.pdf")
    assert "bomb.pdf, champ « factur-x.xml » : XML refusé" in message


def test_pdf_without_xml_is_refused() -> None:
    (message,) = _problems(BAD / "plain.pdf", "plain.pdf")
    assert "PDF sans facture électronique intégrée" in message


def test_pdf_with_another_attachment_names_it() -> None:
    pdf = _with_attachment(b"bonjour", name="conditions.txt")
    (message,) = _problems(pdf, "f.pdf")
    assert "« conditions.txt »" in message


def test_damaged_pdf_is_refused() -> None:
    raw = (FIXTURES / "atelier_facturx_basicwl.pdf").read_bytes()
    (message,) = _problems(raw[: len(raw) // 3], "cut.pdf")
    assert "cut.pdf" in message


def test_truncated_xml_names_file_and_line() -> None:
    (message,) = _problems(BAD / "truncated.xml", "truncated.xml")
    assert message.startswith("truncated.xml, ligne ") and "XML mal formé ou tronqué" in message


def test_unknown_xml_and_unknown_format() -> None:
    assert "document XML non reconnu" in _problems(b"<?xml version='1.0'?><commande/>")[0]
    assert "format non reconnu" in _problems(b"numero;montant\nFA1;12,00\n", "f.csv")[0]
    assert _problems(b"  \n", "vide.xml") == ["vide.xml : fichier vide"]


def test_zugferd_1_is_refused_clearly() -> None:
    raw = b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>'
    assert "ZUGFeRD 1.0" in _problems(raw)[0]


def _fixture(name: str = "atelier_cii_en16931.xml") -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(("code", "label"), [("383", "note de débit"), ("393", "facture affacturée"), ("999", None)])
def test_unknown_type_code_is_refused_never_taken_for_a_credit_note(code: str, label: str | None) -> None:
    raw = _fixture().replace("<ram:TypeCode>380</ram:TypeCode>", f"<ram:TypeCode>{code}</ram:TypeCode>").encode()
    (message,) = _problems(raw, "t.xml")
    assert f"type de document « {code} »" in message and "rsm:ExchangedDocument/ram:TypeCode (BT-3)" in message
    assert "t.xml, ligne 15, " in message
    if label:
        assert label in message


@pytest.mark.parametrize(("code", "kind"), [("380", "invoice"), ("384", "invoice"), ("386", "invoice"),
                                            ("389", "invoice"), ("381", "credit_note")])
def test_accepted_type_codes(code: str, kind: str) -> None:
    raw = _fixture().replace("<ram:TypeCode>380</ram:TypeCode>", f"<ram:TypeCode>{code}</ram:TypeCode>").encode()
    doc = _ok(raw, "t.xml").document
    assert doc is not None and doc.kind == kind


def test_a_file_over_20_mb_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: nothing written

    def no_open(*args: object, **kwargs: object) -> object:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_open)
    result = read_einvoice(big)
    assert [str(p) for p in result.problems] == ["big.xml : fichier trop gros (plus de 20 Mo) : refusé sans être lu"]
    assert "trop gros" in _problems(b"<" + b" " * MAX_BYTES, "big.xml")[0]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("<ram:GrandTotalAmount>1200.00", "<ram:GrandTotalAmount>-1200.00", "montant total nul ou négatif"),
    ("<ram:DuePayableAmount>900.00", "<ram:DuePayableAmount>901.00", "montants incohérents"),
    ("<ram:TotalPrepaidAmount>300.00", "<ram:TotalPrepaidAmount>1300.00", "incohérent avec le total TTC"),
    ("<ram:GrandTotalAmount>1200.00", "<ram:GrandTotalAmount>1 200,00", "total TTC illisible"),
    ("<ram:GrandTotalAmount>1200.00", "<ram:GrandTotalAmount>NaN", "total TTC illisible"),
    ("<ram:GrandTotalAmount>1200.00</ram:GrandTotalAmount>", "", "montant total TTC absent"),
    ("<ram:ID>FA-2026-0101</ram:ID>", "<ram:ID></ram:ID>", "numéro de facture absent"),
    ("<ram:ID>FA-2026-0101</ram:ID>", f"<ram:ID>{'X' * 51}</ram:ID>", "plus de 50 caractères"),
    ('format="102">20260302', 'format="102">20260230', "date de facture illisible"),
    ('format="102">20260302', 'format="610">202603', "date de facture illisible"),
    ("<ram:InvoiceCurrencyCode>EUR", "<ram:InvoiceCurrencyCode>EURO", "devise illisible"),
])
def test_broken_values_are_problems_naming_the_element(old: str, new: str, expected: str) -> None:
    text = _fixture()
    assert old in text
    messages = _problems(text.replace(old, new, 1).encode(), "f.xml")
    assert any(expected in m for m in messages), messages
    assert all("champ « " in m for m in messages), messages


def test_missing_or_nameless_buyer_is_a_problem() -> None:
    text = _fixture("atelier_ubl_invoice.xml")
    start, end = text.index("<cac:AccountingCustomerParty>"), text.index("</cac:AccountingCustomerParty>")
    without = text[:start] + text[end + len("</cac:AccountingCustomerParty>"):]
    assert _problems(without.encode()) == ["f.xml, champ « cac:AccountingCustomerParty/cac:Party (BG-7) » : acheteur absent"]
    nameless = (text.replace("<cbc:RegistrationName>Garage du Centre</cbc:RegistrationName>", "")
                .replace("<cac:PartyName><cbc:Name>Garage du Centre</cbc:Name></cac:PartyName>", ""))
    assert _problems(nameless.encode()) == [
        "f.xml, champ « cac:AccountingCustomerParty/cac:Party (BT-44) » : acheteur sans nom"]


def test_several_problems_are_reported_at_once() -> None:
    text = _fixture().replace("<ram:ID>FA-2026-0101</ram:ID>", "<ram:ID></ram:ID>").replace(
        "<ram:TypeCode>380</ram:TypeCode>", "<ram:TypeCode>383</ram:TypeCode>")
    messages = _problems(text.encode())
    assert len(messages) == 2


def test_rounded_amounts_and_foreign_currency_are_warnings() -> None:
    text = _fixture().replace('<ram:TaxTotalAmount currencyID="EUR">200.00', '<ram:TaxTotalAmount currencyID="EUR">200.004')
    result = _ok(text.encode(), "f.xml")
    assert result.document is not None and result.document.tax_amount == D("200.00")
    assert any("arrondi au centime" in str(w) for w in result.warnings)
    usd = _fixture().replace(">EUR<", ">USD<").replace('currencyID="EUR"', 'currencyID="USD"')
    result = _ok(usd.encode(), "f.xml")
    assert result.document is not None and result.document.currency == "USD"
    assert any("facture en USD" in str(w) for w in result.warnings)


def test_several_due_dates_keep_the_last_with_a_warning() -> None:
    terms = """<ram:SpecifiedTradePaymentTerms>
        <ram:Description>Solde</ram:Description>
        <ram:DueDateDateTime><udt:DateTimeString format="102">20260501</udt:DateTimeString></ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>"""
    text = _fixture().replace("<ram:SpecifiedTradeSettlementHeaderMonetarySummation>", terms, 1)
    result = _ok(text.encode())
    assert result.document is not None and result.document.due_date == date(2026, 5, 1)
    assert any("plusieurs échéances (01/04/2026, 01/05/2026)" in str(w) for w in result.warnings)


def test_bad_iban_and_identifiers_are_warnings() -> None:
    text = (_fixture().replace("FR76 3000 6000 0112 3456 7890 189", "FR76 0000")
            .replace("FR44732829320", "FR00732829320"))
    result = _ok(text.encode(), "f.xml")
    doc = result.document
    assert doc is not None and doc.iban == "" and doc.buyer.vat == ""
    assert doc.buyer.siren == "732829320"  # still known from the SIRET
    warnings = [str(w) for w in result.warnings]
    assert any("IBAN du bénéficiaire « FR76 0000 » invalide" in w and "IBANID (BT-84)" in w for w in warnings)
    assert any("TVA intracommunautaire de l’acheteur « FR00732829320 »" in w and "(BT-48)" in w for w in warnings)


# --- payment terms ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "days", "eom"), [
    ("30 jours net", 30, False),
    ("PAIEMENT 30 JOURS NET", 30, False),
    ("Paiement à 45 jours fin de mois", 45, True),
    ("45 j. FDM", 45, True),
    ("Net 60", 60, False),
    ("Payment within 30 days", 30, False),
    ("Zahlbar innerhalb 14 Tagen netto", 14, False),
    ("Escompte 2 % à 10 jours, 30 jours net", 30, False),
    ("Paiement à réception de facture", 0, False),
    ("Comptant", 0, False),
])
def test_payment_terms_text(text: str, days: int, eom: bool) -> None:
    terms = parse_payment_terms(text)
    assert terms is not None and (terms.days, terms.end_of_month) == (days, eom)


@pytest.mark.parametrize("text", ["", "Virement bancaire", "10 jours ou 20 jours selon accord", "Voir contrat"])
def test_payment_terms_without_a_readable_term(text: str) -> None:
    assert parse_payment_terms(text) is None


def test_end_of_month_conventions() -> None:
    terms = PaymentTerms(45, True, "45 jours fin de mois")
    assert due_from_terms(date(2026, 1, 15), terms, "eom_after") == date(2026, 3, 31)
    assert due_from_terms(date(2026, 1, 15), terms, "eom_before") == date(2026, 3, 17)


def test_due_date_resolution() -> None:
    given_due = resolve_due_date(date(2026, 1, 15), date(2026, 2, 14), "45 jours fin de mois", 30)
    assert (given_due.value, given_due.how, given_due.warning) == (date(2026, 2, 14), "document", None)
    from_terms = resolve_due_date(date(2026, 1, 15), None, "45 jours fin de mois", 30, "eom_before")
    assert (from_terms.value, from_terms.how) == (date(2026, 3, 17), "terms")
    assert from_terms.warning and "« 45 jours fin de mois »" in from_terms.warning and "17/03/2026" in from_terms.warning
    default = resolve_due_date(date(2026, 1, 15), None, "", 30)
    assert (default.value, default.how) == (date(2026, 2, 14), "default")
    assert default.warning == ("échéance (BT-9) et conditions de paiement (BT-20) absentes : échéance fixée à 30 jours "
                               "après la date de facture (délai par défaut de l’organisation), soit le 14/02/2026")


# --- fuzzing ----------------------------------------------------------------------------------

def _with_attachment(content: bytes, name: str = "factur-x.xml") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(BAD / "plain.pdf"))
    writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


SAMPLES = [FIXTURES / n for n in ("atelier_cii_en16931.xml", "atelier_cii_credit_note.xml",
                                  "atelier_ubl_invoice.xml", "atelier_ubl_credit_note.xml")]
if REALDATA.is_dir():
    SAMPLES += sorted(p for p in REALDATA.iterdir() if p.suffix == ".xml")


def _assert_only_problems(result: EinvoiceResult) -> None:
    assert (result.document is None) == bool(result.problems)
    assert not any(INTERNAL_ERROR in p.message for p in result.problems), [str(p) for p in result.problems]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    _assert_only_problems(read_einvoice(raw, "fuzz"))
    _assert_only_problems(read_einvoice(b"%PDF-1.7\n" + raw, "fuzz.pdf"))
    _assert_only_problems(read_einvoice(b"<?xml version='1.0'?>" + raw, "fuzz.xml"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_fuzz_mutated_valid_xml(sample: Path, data: st.DataObject) -> None:
    raw = bytearray(sample.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = data.draw(st.binary(min_size=1, max_size=6) | st.sampled_from(
            [b"<", b">", b"&", b"-", b"0", b"9999999999999999", b"</x>", b"\xff", b"<!DOCTYPE a>", b"&amp;"]))
        if action == "delete":
            del raw[position:position + len(chunk)]
        elif action == "insert":
            raw[position:position] = chunk
        else:
            raw[position:position + len(chunk)] = chunk
    _assert_only_problems(read_einvoice(bytes(raw), sample.name))


_VALUES = st.sampled_from(["", "-1", "0", "0.00", "1e9", "NaN", "Infinity", "999999999999999.99", "20261340",
                           "2026-13-40", "FR", "381", "383", "x" * 300, "１２３", "\u202e", "12,50", " 7 "])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_fuzz_element_values(sample: Path, data: st.DataObject) -> None:
    """Valid XML, wrong values: every leaf may receive a hostile value."""
    from lxml import etree

    root = etree.fromstring(sample.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    leaves = [el for el in root.iter() if isinstance(el.tag, str) and len(el) == 0]
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for el in rng.sample(leaves, k=min(len(leaves), data.draw(st.integers(1, 6)))):
        el.text = data.draw(_VALUES | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
        if data.draw(st.booleans()):
            el.getparent().remove(el)
    _assert_only_problems(read_einvoice(etree.tostring(root), sample.name))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_pdf_attachment(content: bytes) -> None:
    _assert_only_problems(read_einvoice(_with_attachment(content), "fuzz.pdf"))
