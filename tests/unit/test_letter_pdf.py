"""PDF letters and demo invoices: text content, window-envelope position, no network access."""

from __future__ import annotations

import dataclasses
import datetime
import io
import socket
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from relance.core.references import epc_payload, format_rf, is_valid_rf, make_rf
from relance.documents import letter_pdf
from relance.documents.letter_pdf import (
    ADDRESS_FRAME_MM,
    WINDOW_MM,
    InvoiceDoc,
    LetterDoc,
    LocalOnlyFetcher,
    Party,
    render_invoice_pdf,
    render_letter_pdf,
    render_many_invoice_pdfs,
)
from relance.documents.payment_block import (
    PaymentBlock,
    make_payment_block,
    payment_context,
    payment_html,
    payment_text,
)

PT_PER_MM = 72 / 25.4

SENDER = Party(
    name="SARL Dupont Bâtiment",
    lines=("12 rue des Lilas", "69003 Lyon"),
    extra=("SIREN 123 456 789", "Tél. 04 72 00 00 00", "compta@dupont-batiment.fr"),
)
RECIPIENT = Party(
    name="SAS Martin & Fils",
    lines=("4 allée des Érables", "38200 Vienne"),
    attention="À l’attention de Mme Claire Martin, Directrice financière",
)
FOOTER = "SARL Dupont Bâtiment — SARL au capital de 50 000 € — RCS Lyon 123 456 789 — TVA FR12 123456789"


def _invoice_table(rows: int) -> str:
    body = "".join(
        f'<tr><td>F2026-{i:04d}</td><td class="date">01/03/2026</td>'
        f'<td class="amount">{1000 + i}\u202f{i % 10}00,{i:02d}\u00a0€</td></tr>'
        for i in range(rows)
    )
    return (
        '<table class="invoices"><thead><tr><th>Facture</th><th>Échéance</th>'
        '<th class="amount">Reste dû</th></tr></thead>'
        f"<tbody>{body}</tbody>"
        '<tfoot><tr><th colspan="2">Total</th><td class="amount">98\u202f765,43\u00a0€</td></tr></tfoot></table>'
    )


def _letter(rows: int = 3, **changes: Any) -> LetterDoc:
    doc = LetterDoc(
        sender=SENDER,
        recipient=RECIPIENT,
        place="Lyon",
        on=datetime.date(2026, 11, 23),
        subject="Objet : Mise en demeure de payer",
        references=("Vos références : client C0012", "Nos références : relance 4f2a9c"),
        body_html="<p>Madame,</p><p>Les factures suivantes restent impayées :</p>"
        + _invoice_table(rows)
        + "<p>Nous vous prions d’agréer, Madame, nos salutations distinguées.</p>",
        signature_name="Jean Dupont",
        signature_title="Gérant",
        footer=FOOTER,
        attachments=("Pièces jointes : copie des factures impayées",),
    )
    return dataclasses.replace(doc, **changes)


def _pages_text(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    # Normalise the (narrow) no-break spaces used by French typography.
    return [page.extract_text().replace("\u202f", " ").replace("\u00a0", " ") for page in reader.pages]


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def _text_positions_mm(pdf: bytes, page_number: int = 0) -> list[tuple[str, float, float]]:
    """(text, x, y) of each text run's origin (baseline), in mm from the sheet's top-left corner."""
    page = PdfReader(io.BytesIO(pdf)).pages[page_number]
    height = float(page.mediabox.height)
    runs: list[tuple[str, float, float]] = []

    def visitor(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            matrix = _mult(tm, cm)
            runs.append((text.strip(), matrix[4] / PT_PER_MM, (height - matrix[5]) / PT_PER_MM))

    page.extract_text(visitor_text=visitor)
    return runs


def _position(runs: list[tuple[str, float, float]], needle: str) -> tuple[float, float]:
    found = [(x, y) for text, x, y in runs if needle in text]
    assert found, f"{needle!r} not found in {[text for text, _, _ in runs]}"
    return found[0]


@pytest.fixture(scope="module")
def normal_pdf() -> bytes:
    return render_letter_pdf(_letter())


@pytest.fixture(scope="module")
def registered_pdf() -> bytes:
    return render_letter_pdf(_letter(rows=40, registered=True, tracking_number="1A 123 456 7890 1"))


def test_normal_letter_text(normal_pdf: bytes) -> None:
    pages = _pages_text(normal_pdf)
    assert len(pages) == 1
    text = pages[0]
    assert "SAS Martin & Fils" in text
    assert "4 allée des Érables" in text and "38200 Vienne" in text
    assert "À l’attention de Mme Claire Martin" in text
    assert "Lyon, le 23 novembre 2026" in text
    assert "Objet : Mise en demeure de payer" in text
    assert "Vos références : client C0012" in text
    assert "1001 100,01 €" in text and "98 765,43 €" in text
    assert "Jean Dupont" in text and "Gérant" in text
    assert "Pièces jointes : copie des factures impayées" in text
    assert "RCS Lyon 123 456 789" in text
    assert "recommandée" not in text and "N° de recommandé" not in text
    assert "Page 1/" not in text


def test_registered_long_letter_text(registered_pdf: bytes) -> None:
    pages = _pages_text(registered_pdf)
    assert len(pages) == 2
    first, second = pages
    assert "Lettre recommandée avec accusé de réception" in first
    assert "N° de recommandé : 1A 123 456 7890 1" in first
    assert "1A 123 456 7890 1" not in second
    assert "SAS Martin & Fils" in first
    assert "Lyon, le 23 novembre 2026" in first
    assert "Page 1/2" in first and "Page 2/2" in second
    assert "RCS Lyon 123 456 789" in first and "RCS Lyon 123 456 789" in second
    everything = "\n".join(pages)
    for i in (0, 17, 39):
        assert f"F2026-{i:04d}" in everything
        assert f"{1000 + i} {i % 10}00,{i:02d} €" in everything
    # The table breaks across the pages with its header row repeated.
    assert "Facture Échéance Reste dû" in first and "Facture Échéance Reste dû" in second
    assert "98 765,43 €" in second and "Jean Dupont" in second


def test_registered_letter_without_number_has_a_blank() -> None:
    text = _pages_text(render_letter_pdf(_letter(registered=True)))[0]
    assert "Lettre recommandée avec accusé de réception" in text
    assert "N° de recommandé : ____" in text


@pytest.mark.parametrize("which", ["normal", "registered"])
def test_recipient_block_lies_in_the_envelope_window(which: str, normal_pdf: bytes, registered_pdf: bytes) -> None:
    pdf = normal_pdf if which == "normal" else registered_pdf
    runs = _text_positions_mm(pdf)
    frame_left, frame_top, frame_right, frame_bottom = ADDRESS_FRAME_MM
    win_left, win_top, win_right, win_bottom = WINDOW_MM
    assert win_left <= frame_left < frame_right <= win_right and win_top <= frame_top < frame_bottom <= win_bottom
    for needle in ("SAS Martin & Fils", "4 allée des Érables", "38200 Vienne"):
        x, baseline = _position(runs, needle)
        assert frame_left - 0.5 <= x <= frame_left + 0.5, (needle, x)
        # The baseline sits under the top of the frame; the descent stays above its bottom.
        assert frame_top + 2 <= baseline <= frame_bottom - 1, (needle, baseline)
    # The sender stays out of the window.
    x, baseline = _position(runs, "SARL Dupont Bâtiment")
    assert x < win_left and baseline < win_top


def test_long_address_pushes_the_text_down_instead_of_overlapping_it() -> None:
    recipient = Party(
        name="Établissements Lefèvre-Beaumarchais et Associés SAS",
        lines=(
            "Bâtiment C, escalier 2",
            "Parc d’activités du Moulin de la Galette",
            "145 avenue du Général de Gaulle",
            "BP 12345",
            "92130 ISSY-LES-MOULINEAUX CEDEX",
        ),
        attention="À l’attention du Service Comptabilité Fournisseurs",
    )
    runs = _text_positions_mm(render_letter_pdf(_letter(recipient=recipient, registered=True)))
    _, last_line = _position(runs, "92130 ISSY-LES-MOULINEAUX CEDEX")
    _, date_line = _position(runs, "Lyon, le 23 novembre 2026")
    _, registered = _position(runs, "Lettre recommandée")
    _, name = _position(runs, "Établissements")
    assert registered < name < last_line < date_line - 4


def test_english_letter() -> None:
    doc = _letter(language="en", on=datetime.date(2026, 12, 1), registered=True, subject="Subject: Formal notice")
    text = _pages_text(render_letter_pdf(doc))[0]
    assert "Lyon, 1 December 2026" in text
    assert "Registered letter with acknowledgement of receipt" in text
    assert "Subject: Formal notice" in text


def test_first_of_the_month_in_french() -> None:
    text = _pages_text(render_letter_pdf(_letter(on=datetime.date(2026, 12, 1), place="")))[0]
    assert "Le 1er décembre 2026" in text


def test_fixed_text_and_caller_text_are_escaped() -> None:
    doc = _letter(
        subject="Objet : <b>relance</b> & suite", recipient=dataclasses.replace(RECIPIENT, name="A <i>&</i> B")
    )
    html = letter_pdf.letter_html(doc)
    assert "&lt;b&gt;relance&lt;/b&gt; &amp; suite" in html
    assert "A &lt;i&gt;&amp;&lt;/i&gt; B" in html
    assert '<table class="invoices">' in html  # body_html is a trusted fragment


def test_remote_urls_are_never_fetched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)

    fetchers: list[LocalOnlyFetcher] = []

    class RecordingFetcher(LocalOnlyFetcher):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            fetchers.append(self)

    monkeypatch.setattr(letter_pdf, "LocalOnlyFetcher", RecordingFetcher)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not an image")
    body = (
        '<p>Bonjour</p><img src="http://example.com/x.png">'
        '<p style="background: url(https://example.com/bg.png)">fond</p>'
        '<link rel="stylesheet" href="https://example.com/style.css">'
        f'<img src="{secret.as_uri()}">'
    )
    pdf = render_letter_pdf(_letter(body_html=body))
    assert pdf.startswith(b"%PDF")
    assert "Bonjour" in _pages_text(pdf)[0]
    refused = [url for fetcher in fetchers for url in fetcher.refused]
    assert {"http://example.com/x.png", "https://example.com/bg.png", secret.as_uri()} <= set(refused)


def test_fetcher_serves_only_the_logo(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', encoding="utf-8")
    other = tmp_path / "other.svg"
    other.write_text("<svg/>", encoding="utf-8")
    fetcher = LocalOnlyFetcher([str(logo)])
    response = fetcher(logo.as_uri())
    assert response.read().startswith(b"<svg") and response.content_type == "image/svg+xml"
    for url in (other.as_uri(), "http://example.com/logo.svg", "https://example.com/", "data:text/plain,hello"):
        with pytest.raises(letter_pdf.URLRefused):
            fetcher(url)
    assert fetcher.refused == [
        other.as_uri(),
        "http://example.com/logo.svg",
        "https://example.com/",
        "data:text/plain,hello",
    ]


def test_logo_is_embedded(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (29, 53, 87)).save(logo)
    pdf = render_letter_pdf(_letter(logo_path=str(logo)))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) == 1
    without = PdfReader(io.BytesIO(render_letter_pdf(_letter(logo_path=str(tmp_path / "missing.png"))))).pages[0]
    assert len(without.images) == 0


def _invoice(number: str = "F2026-0042") -> InvoiceDoc:
    return InvoiceDoc(
        seller=SENDER,
        buyer=RECIPIENT,
        number=number,
        issue_date=datetime.date(2026, 10, 1),
        due_date=datetime.date(2026, 10, 31),
        description="Travaux de rénovation de la toiture",
        amount_excl_tax=Decimal("10287.23"),
        tax_amount=Decimal("2057.45"),
        amount_incl_tax=Decimal("12344.68"),
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
        penalty_clause=(
            "En cas de retard de paiement, pénalités au taux de trois fois le taux d’intérêt légal et indemnité "
            "forfaitaire pour frais de recouvrement de 40 € (art. L441-10 et D441-5 du Code de commerce)."
        ),
        footer=FOOTER,
    )


def test_invoice_pdf() -> None:
    pages = _pages_text(render_invoice_pdf(_invoice()))
    assert len(pages) == 1
    text = " ".join(pages[0].split())
    assert "FACTURE" in text and "F2026-0042" in text
    assert "01/10/2026" in text and "31/10/2026" in text
    assert "10 287,23 €" in text and "2 057,45 €" in text and "12 344,68 €" in text
    assert "TVA 20 %" in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text and "AGRIFRPPXXX" in text
    assert "indemnité forfaitaire pour frais de recouvrement de 40 €" in text
    assert "D441-5 du Code de commerce" in text
    assert "SAS Martin & Fils" in text and "SARL Dupont Bâtiment" in text


def test_many_invoices() -> None:
    pdfs = render_many_invoice_pdfs([_invoice(f"F2026-{i:04d}") for i in range(3)])
    assert len(pdfs) == 3
    for i, pdf in enumerate(pdfs):
        assert f"F2026-{i:04d}" in _pages_text(pdf)[0]


# ------------------------------------------------------------------------------ payment block (EPC QR)


PAY_IBAN = "FR7630006000011234567890189"


def _block(**changes: Any) -> PaymentBlock:
    values: dict[str, Any] = dict(
        beneficiary="SARL Dupont Bâtiment", iban=PAY_IBAN, bic="AGRIFRPP", amount=Decimal("1680.50"),
        currency="EUR", reference=make_rf("F20260042"), language="fr", contact="04 72 00 00 00",
    )
    values.update(changes)
    return make_payment_block(**values)


def _decode(image: Any) -> list[str]:
    import zxingcpp

    return [b.text for b in zxingcpp.read_barcodes(image)]


def _pdf_images(pdf: bytes) -> dict[str, Any]:
    # WeasyPrint shares one resource dictionary between pages: collect images by name.
    return {image.name: image.image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images}


def test_payment_block_payload_and_text() -> None:
    block = _block()
    rf = make_rf("F20260042")
    assert is_valid_rf(rf)
    assert block.payload == epc_payload(name="SARL Dupont Bâtiment", iban=PAY_IBAN, bic="AGRIFRPP",
                                        amount=Decimal("1680.50"), reference=rf)
    assert block.payload.split("\n")[7:] == ["EUR1680.5", "", rf]
    text = block.text().replace("\u202f", " ").replace("\u00a0", " ")
    assert text == (
        "Règlement par virement :\n"
        "  Bénéficiaire : SARL Dupont Bâtiment\n"
        "  IBAN : FR76 3000 6000 0112 3456 7890 189\n"
        "  BIC : AGRIFRPP\n"
        "  Montant : 1 680,50 €\n"
        f"  Référence à indiquer : « {format_rf(rf)} »"
    )
    assert "«\u00a0" in block.text() and "Montant\u00a0:" in block.text()  # French typography
    html = str(block.html())
    assert html.startswith('<table class="payment" data-relance="paiement"') and "\n" not in html
    assert f'src="cid:{block.qr_cid}"' in html and block.qr_cid.endswith("@relance")
    from PIL import Image

    assert _decode(Image.open(io.BytesIO(block.qr_png()))) == [block.payload]


def test_payment_block_in_english() -> None:
    block = _block(language="en")
    assert block.text() == (
        "Payment by bank transfer:\n"
        "  Beneficiary: SARL Dupont Bâtiment\n"
        "  IBAN: FR76 3000 6000 0112 3456 7890 189\n"
        "  BIC: AGRIFRPP\n"
        "  Amount: €1,680.50\n"
        f"  Reference to quote: “{format_rf(make_rf('F20260042'))}”"
    )
    assert "Scan this QR code" in str(block.html())


@pytest.mark.parametrize(("changes", "problem"), [
    ({"iban": ""}, "pas d’IBAN"),
    ({"amount": Decimal("0")}, "montant nul"),
    ({"amount": Decimal("1000000000.00")}, "maximum"),
    ({"currency": "CHF"}, "devise"),
    ({"iban": "FR7630006000011234567890188"}, "IBAN invalide"),
])
def test_no_qr_code_and_no_error(changes: dict[str, Any], problem: str) -> None:
    block = _block(**changes)
    assert not block.has_qr and block.payload == "" and block.qr_png() == b"" and block.qr_cid == ""
    assert problem in block.qr_problem
    html = str(block.html())
    assert "<img" not in html and "Scannez" not in html
    assert "Montant" in block.text()


def test_without_iban_the_block_says_how_to_pay() -> None:
    text = _block(iban="", bic="").text().replace("\u202f", " ").replace("\u00a0", " ")
    rf = format_rf(make_rf("F20260042"))
    assert text == (
        "Règlement :\n"
        "  Montant : 1 680,50 €\n"
        f"  Référence à indiquer : « {rf} »\n"
        "  Merci de régler selon les modalités indiquées sur la facture, en rappelant cette référence. "
        "Pour toute question sur le règlement : 04 72 00 00 00."
    )
    assert "IBAN" not in text


def test_a_bad_bic_is_left_out_of_the_qr_code() -> None:
    block = _block(bic="NOTABIC")
    assert block.has_qr and block.payload.split("\n")[4] == ""


def test_a_reference_that_is_not_rf_goes_as_unstructured_text() -> None:
    block = _block(reference="PO 2026/118", invoice_numbers=["F-1"])
    lines = block.payload.split("\n")
    assert lines[9:] == ["", "PO 2026/118"]
    assert "« PO 2026/118 »" in block.text().replace("\u00a0", " ")
    numbers_only = _block(reference="", invoice_numbers=["F-1", "F-2"])
    assert numbers_only.payload.split("\n")[9:] == ["", "Factures F-1, F-2"]
    assert "Référence" not in numbers_only.text()


def test_payment_context_is_plain_data() -> None:
    data = payment_context(_block())
    assert all(isinstance(v, str | bool) for v in data.values())
    assert data["qr"] is True and data["iban"] == "FR76 3000 6000 0112 3456 7890 189"
    empty = payment_context(None)
    assert empty["qr"] is False and payment_text(empty) == "" and str(payment_html(empty)) == ""
    assert payment_text(None) == "" and str(payment_html(None)) == ""


def test_payment_html_escapes_its_data() -> None:
    block = _block(beneficiary="A <b>&</b> B")
    html = str(block.html())
    assert "A &lt;b&gt;&amp;&lt;/b&gt; B" in html and "<b>" not in html


@pytest.fixture(scope="module")
def payment_pdf() -> bytes:
    block = _block()
    body = "<p>Madame,</p><p>Veuillez régler :</p>" + str(block.html()) + "<p>Salutations.</p>"
    return render_letter_pdf(_letter(body_html=body, payment=block))


def test_letter_embeds_the_qr_code_placed_by_the_body(payment_pdf: bytes) -> None:
    images = _pdf_images(payment_pdf)
    assert len(images) == 1
    assert _decode(next(iter(images.values()))) == [_block().payload]
    text = " ".join(" ".join(_pages_text(payment_pdf)).split())
    assert "Règlement par virement" in text and "IBAN : FR76 3000 6000 0112 3456 7890 189" in text
    assert "Montant : 1 680,50 €" in text and f"« {format_rf(make_rf('F20260042'))} »" in text
    assert text.count("Bénéficiaire") == 1
    assert text.index("Veuillez régler") < text.index("Bénéficiaire") < text.index("Salutations.")


def test_letter_adds_the_block_when_the_body_has_none() -> None:
    block = _block()
    html = letter_pdf.letter_html(_letter(payment=block))
    assert html.count('data-relance="paiement"') == 1
    assert html.index("Nous vous prions d’agréer") < html.index('data-relance="paiement"') < html.index("Jean Dupont")
    pdf = render_letter_pdf(_letter(payment=block))
    assert [t for image in _pdf_images(pdf).values() for t in _decode(image)] == [block.payload]


def test_letter_without_qr_code_has_the_text_and_no_image() -> None:
    block = _block(iban="", bic="")
    pdf = render_letter_pdf(_letter(payment=block))
    assert _pdf_images(pdf) == {}
    text = " ".join(" ".join(_pages_text(pdf)).split())
    assert "Montant : 1 680,50 €" in text and "en rappelant cette référence" in text


def test_fetcher_serves_only_the_known_content_ids() -> None:
    fetcher = LocalOnlyFetcher(inline={"qr@relance": (b"\x89PNG", "image/png")})
    response = fetcher("cid:qr@relance")
    assert response.read() == b"\x89PNG" and response.content_type == "image/png"
    with pytest.raises(letter_pdf.URLRefused):
        fetcher("cid:other@relance")
    assert fetcher.refused == ["cid:other@relance"]
