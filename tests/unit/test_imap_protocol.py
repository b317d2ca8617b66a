"""The pure parts of ``relance.replies.imap``: modified UTF-7 mailbox names (RFC 3501 §5.1.3),
UID sets, FETCH answers as imaplib hands them over (literal or quoted, UID before or after the body),
sizes in French."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.replies.imap import (
    ImapSettings,
    _body_of,
    _fetch_responses,
    _sequence_set,
    decode_mailbox_name,
    encode_mailbox_name,
    size_text,
)


@pytest.mark.parametrize(("name", "encoded"), [
    ("INBOX", "INBOX"),
    ("Traité", "Trait&AOk-"),
    ("Réponses & relances", "R&AOk-ponses &- relances"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 §5.1.3
    ("Prêt à l’envoi", "Pr&AOo-t &AOA- l&IBk-envoi"),
    ("😀", "&2D3eAA-"),
])
def test_modified_utf7(name: str, encoded: str):
    assert encode_mailbox_name(name) == encoded
    assert decode_mailbox_name(encoded) == name


@given(st.text())
def test_modified_utf7_round_trip_and_stays_printable_ascii(name: str):
    encoded = encode_mailbox_name(name)
    assert all(0x20 <= ord(c) <= 0x7E for c in encoded)
    assert decode_mailbox_name(encoded) == name


def test_sequence_sets():
    assert _sequence_set([5]) == "5"
    assert _sequence_set([9, 1, 2, 3, 5, 7, 8, 3]) == "1:3,5,7:9"


def test_fetch_answer_with_a_literal():
    data = [(b"3 (UID 12 BODY[] {5}", b"hello"), b")"]
    [(text, literal)] = _fetch_responses(data)
    assert literal == b"hello" and _body_of(text, literal) == (b"hello", b"3 (UID 12 BODY[] {5})")


def test_fetch_answer_with_uid_after_the_literal():
    [(text, literal)] = _fetch_responses([(b"3 (BODY[] {5}", b"UID 9"), b" UID 12)"])
    body, rest = _body_of(text, literal)
    assert body == b"UID 9" and b"UID 12" in rest


def test_fetch_answer_with_a_quoted_body_or_nil():
    [(text, literal)] = _fetch_responses([b'3 (UID 12 BODY[HEADER]<0> "Subject: \\"x\\" UID 4")'])
    body, rest = _body_of(text, literal)
    assert body == b'Subject: "x" UID 4' and b"UID 4" not in rest and b"UID 12" in rest
    assert _body_of(b"3 (UID 12 BODY[] NIL)", None)[0] == b""


def test_unsolicited_fetch_answers_are_kept_apart():
    data = [b"1 (UID 2 FLAGS (\\Seen))", (b"3 (UID 12 BODY[] {2}", b"ok"), b")", b"4 (UID 13 FLAGS ())"]
    responses = _fetch_responses(data)
    assert [literal for _text, literal in responses] == [None, b"ok", None]
    assert _body_of(*responses[0])[0] is None


def test_sizes_in_french():
    assert [size_text(n) for n in (1, 12, 2048, 31 * 1024 * 1024 + 200 * 1024, 25 * 1024 * 1024)] == \
        ["1 octet", "12 octets", "2 Ko", "31,2 Mo", "25 Mo"]


def test_the_password_stays_out_of_repr():
    settings = ImapSettings(host="imap.example.fr", port=993, security="ssl", username="u", password="s3cr3t!")
    assert "s3cr3t!" not in repr(settings)
