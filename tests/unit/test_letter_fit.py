"""Letters fit their content (issue #11): a letter a few lines too long for one page is set
tighter instead of spilling its closing and signature alone onto a second page, and a letter
that needs two pages never leaves the closing and the signature alone on the last one."""

from __future__ import annotations

import dataclasses
import io

from pypdf import PdfReader

from relance.documents.letter_pdf import letter_html, render_letter_document, render_letter_pdf
from tests.unit.test_letter_pdf import _letter

PARAGRAPH = ("<p>Nous avons bien noté vos observations du mois dernier et nous les avons transmises à notre "
             "service comptable, qui les a examinées avec attention ; elles ne modifient pas le montant dû.</p>")
CLOSING = "<p>Nous vous prions d’agréer, Madame, l’expression de nos salutations distinguées.</p>"
LAST = "<p>Si vous rencontrez une difficulté, nous restons à votre disposition pour l’examiner avec vous.</p>"


def _body(paragraphs: int) -> str:
    return "<p>Madame,</p>" + PARAGRAPH * paragraphs + LAST + CLOSING


def _pages(html: str) -> int:
    from relance.documents.letter_pdf import _render

    return len(_render(html, []).pages)


def _just_too_long() -> int:
    """The number of paragraphs from which the usual layout takes a second page."""
    n = 1
    while _pages(letter_html(_letter(rows=1, body_html=_body(n)))) == 1:
        n += 1
    return n


def test_a_letter_a_few_lines_too_long_is_set_on_one_page():
    n = _just_too_long()
    doc = _letter(rows=1, body_html=_body(n))
    assert _pages(letter_html(doc)) == 2  # the usual layout spills…
    assert len(render_letter_document(doc).pages) == 1  # …the fitted letter does not
    text = PdfReader(io.BytesIO(render_letter_pdf(doc))).pages[0].extract_text()
    assert "Jean Dupont" in text and "salutations distinguées" in text


def test_a_long_letter_never_leaves_the_closing_alone_on_its_last_page():
    n = _just_too_long()
    for extra in range(0, 16, 3):
        doc = dataclasses.replace(_letter(rows=1), body_html=_body(n + extra))
        pdf = PdfReader(io.BytesIO(render_letter_pdf(doc)))
        last = pdf.pages[-1].extract_text().replace("\u202f", " ").replace("\u00a0", " ")
        assert "Jean Dupont" in last
        if len(pdf.pages) > 1:
            assert "Si vous rencontrez une difficulté" in last, (extra, last)
