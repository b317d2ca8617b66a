"""Reading a reply as received (.eml in any encoding, or a bare body): text, subject, day, automatic."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.core.replies.message import UnreadableMessage, html_to_text, looks_like_email, read_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"


def read(name: str):
    return read_message((FIXTURES / name).read_bytes())


def test_quoted_printable_latin1():
    message = read("promesse_qp_latin1.eml")
    assert message.subject == "Re: Facture F-2026-104 impayée"
    assert message.sent_on == date(2026, 12, 7)
    assert "Je vous règle la facture F-2026-104 vendredi 11 décembre" in message.body
    assert "\r" not in message.body and not message.auto_submitted
    assert message.sender.startswith("René Lefèvre")


def test_base64_utf8():
    message = read("deja_paye_base64_utf8.eml")
    assert message.subject == "Re: Facture F-2026-110 impayée"
    assert "déjà été réglée" in message.body and message.sent_on == date(2026, 12, 8)


def test_html_only_without_its_blockquote_and_auto_submitted():
    message = read("absence_html_only.eml")
    assert message.auto_submitted
    assert "out of the office until Monday 14 December" in message.body
    assert "impayée" not in message.body and "<p>" not in message.body


def test_multipart_prefers_the_plain_part_and_ignores_the_pdf():
    message = read("litige_multipart_pdf.eml")
    assert message.body.startswith("Bonjour,\n\nNous contestons la facture F-2026-131")
    assert "%PDF" not in message.body


def test_an_unknown_charset_is_guessed_and_no_date_header_is_none():
    message = read("non_recu_wrong_charset.eml")
    assert "jamais reçu cette facture" in message.body and message.sent_on is None


def test_malformed_mime_is_a_clear_error():
    with pytest.raises(UnreadableMessage, match="structure MIME invalide"):
        read("malformed_mime.eml")


def test_a_bare_body_is_its_own_text():
    assert not looks_like_email(b"Bonjour,\nje vous fais le virement demain.")
    assert read_message("Bonjour : demain".encode("cp1252")).body == "Bonjour : demain"
    assert read_message("Réglé".encode("cp1252")).body == "Réglé"


@pytest.mark.parametrize(("headers", "auto"), [
    ("Auto-Submitted: auto-replied", True), ("Auto-Submitted: no", False), ("X-Autoreply: yes", True),
    ("Precedence: auto_reply", True), ("Precedence: bulk", False),
])
def test_automatic_reply_headers(headers, auto):
    raw = f"From: a@b.fr\r\nSubject: x\r\n{headers}\r\n\r\nBonjour".encode()
    assert read_message(raw).auto_submitted is auto


def test_html_to_text_leaves_out_styles_scripts_and_gmail_quotes():
    html = ("<style>x{}</style><div>Je paie <b>vendredi</b>.<br>Merci</div>"
            "<div class='gmail_quote'>Le lun. a écrit : déjà réglé</div><script>alert(1)</script>")
    assert html_to_text(html) == "Je paie vendredi.\nMerci"


@settings(max_examples=200)
@given(raw=st.binary(max_size=600))
def test_any_bytes_are_read_or_refused_clearly(raw):
    try:
        read_message(raw)
    except UnreadableMessage:
        pass


@settings(max_examples=100)
@given(body=st.binary(max_size=300), ctype=st.sampled_from(
    ["multipart/mixed; boundary=b", "text/plain; charset=utf-99", "text/html", "multipart/alternative",
     "application/zip", "text/plain; charset=\"iso-8859-1\""]),
       cte=st.sampled_from(["base64", "quoted-printable", "8bit", "x-uuencode", "bogus"]))
def test_any_mime_header_mix_is_read_or_refused_clearly(body, ctype, cte):
    raw = (f"From: a@b.fr\r\nDate: nonsense\r\nSubject: =?bogus?Q?x?=\r\nContent-Type: {ctype}\r\n"
           f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode() + body
    try:
        message = read_message(raw)
    except UnreadableMessage:
        return
    assert message.sent_on is None
