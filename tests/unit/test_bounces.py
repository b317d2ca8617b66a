"""Bounces read from real samples (tests/fixtures/bounces, see SOURCES.md): each classified as
expected, automatic replies and customers' replies are not bounces, bad input never raises."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance.core.replies import bounces
from relance.core.replies.bounces import (
    ADDRESS_UNKNOWN,
    DOMAIN_NOT_FOUND,
    MAILBOX_FULL,
    OTHER,
    SPAM,
    Bounce,
    our_message_ids,
    read_bounce,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bounces"


class Expected(NamedTuple):
    final: bool
    permanent: bool
    recipients: tuple[str, ...]
    status: str
    reason: str | None = None  # None: not asserted (the wording leaves room for two readings)
    standard: bool = True


FAILED = dict(final=True, permanent=True)
RETURNED_TRANSIENT = dict(final=True, permanent=False)
DELAYED = dict(final=False, permanent=False)

EXPECTED: dict[str, Expected] = {
    # RFC 3464 reports
    "sisimai/rfc3464-01.eml": Expected(**FAILED, recipients=("userunknown@bouncehammer.jp",), status="5.1.1",
                                       reason=ADDRESS_UNKNOWN),
    # the address written to (Original-Recipient), not the local one it was forwarded to (Final-Recipient)
    "sisimai/lhost-postfix-01.eml": Expected(**FAILED, recipients=("kijitora@example.org",), status="5.1.1",
                                             reason=ADDRESS_UNKNOWN),
    "sisimai/lhost-postfix-02.eml": Expected(**FAILED, recipients=("filtered@example.co.jp",
                                                                   "userunknown@example.co.jp"), status="5.2.1"),
    "sisimai/lhost-sendmail-02.eml": Expected(**FAILED, recipients=("userunknown@example.org", "filtered@example.com"),
                                              status="5.1.1", reason=ADDRESS_UNKNOWN),
    "sisimai/lhost-outlook-01.eml": Expected(**FAILED, recipients=("kijitora@example.jp",), status="5.2.2",
                                             reason=MAILBOX_FULL),
    "sisimai/lhost-office365-03.eml": Expected(**FAILED, recipients=("kijitora@example.com",), status="5.1.0",
                                               reason=SPAM),  # refused by the SPF policy
    "sisimai/lhost-exchange2007-01.eml": Expected(**FAILED, recipients=("mikeneko@example.co.jp",), status="5.1.1",
                                                  reason=ADDRESS_UNKNOWN),
    "sisimai/lhost-amazonses-01.eml": Expected(**FAILED, recipients=("shironeko@example.co.jp",), status="5.0.0"),
    "sisimai/lhost-courier-01.eml": Expected(**FAILED, recipients=("kijitora@example.co.jp",), status="5.0.0",
                                             reason=ADDRESS_UNKNOWN),
    "sisimai/rhost-franceptt-01.eml": Expected(**FAILED, recipients=("pseudo-local-part-kijitora-nyaaan@orange.fr",),
                                               status="5.1.1", reason=ADDRESS_UNKNOWN),
    "sisimai/rhost-franceptt-02.eml": Expected(**FAILED, recipients=("pseudo-local-part-kijitora-nyaaan@laposte.net",),
                                               status="5.5.0", reason=ADDRESS_UNKNOWN),
    "sisimai/rhost-franceptt-05.eml": Expected(**FAILED, recipients=("xxxx@laposte.net",), status="5.5.0",
                                               reason=OTHER),  # « le compte du destinataire est bloqué »
    "sisimai/rhost-franceptt-06.eml": Expected(**RETURNED_TRANSIENT, recipients=("xxxx@orange.fr",), status="4.0.0",
                                               reason=SPAM),  # « adresse IP source bloquée pour incident de spam »
    "sisimai/rhost-franceptt-08.eml": Expected(**RETURNED_TRANSIENT, recipients=("xxxx@wanadoo.fr",), status="4.2.0",
                                               reason=OTHER),  # « service refusé, veuillez essayer plus tard »
    "sisimai/rhost-franceptt-12.eml": Expected(**FAILED, recipients=("xxxx@laposte.net",), status="5.7.1",
                                               reason=SPAM),
    # a report whose MIME boundary does not match its header: its fields read from the text
    "sisimai/rhost-franceptt-07.eml": Expected(**RETURNED_TRANSIENT, recipients=("xxxx@wanadoo.fr",), status="4.0.0",
                                               reason=OTHER, standard=False),
    "sisimai/rfc3464-04.eml": Expected(**FAILED, recipients=("kijitora@mailx-53.neko.example.edu",), status="5.5.0",
                                       reason=OTHER, standard=False),
    "flufl/dsn_03.eml": Expected(**FAILED, recipients=("ddd.kkk@advalvas.be",), status="", reason=OTHER),
    # delay notices: the server still tries
    "sisimai/rfc3464-07.eml": Expected(**DELAYED, recipients=("kijitora@example.net",), status="4.4.0"),
    "sisimai/lhost-opensmtpd-06.eml": Expected(**DELAYED, recipients=("nekochan@libsisimai.org",), status="4.4.7"),
    "sisimai/lhost-outlook-06.eml": Expected(**DELAYED, recipients=("kijitora@example.com",), status="4.4.7"),
    # the texts of servers that do not write RFC 3464
    "sisimai/lhost-exim-01.eml": Expected(**FAILED, recipients=("kijitora@example.ed.jp",), status="5.7.0",
                                          standard=False),
    "sisimai/lhost-exim-02.eml": Expected(**FAILED, recipients=("kijitora@example.jp", "sabatora@example.jp"),
                                          status="5.1.1", reason=ADDRESS_UNKNOWN, standard=False),
    "sisimai/lhost-gmail-01.eml": Expected(**FAILED, recipients=("userunknown@example.jp",), status="5.1.1",
                                           reason=ADDRESS_UNKNOWN, standard=False),
    "sisimai/lhost-gmail-03.eml": Expected(**FAILED, recipients=("kijitora@example.co.jp",), status="5.7.0",
                                           standard=False),
    "sisimai/lhost-qmail-01.eml": Expected(**FAILED, recipients=("kijitora@example.ne.jp",), status="5.5.0",
                                           reason=ADDRESS_UNKNOWN, standard=False),
    "sisimai/lhost-yahoo-01.eml": Expected(**FAILED, recipients=("kijitora@example.org",), status="5.1.1",
                                           reason=ADDRESS_UNKNOWN, standard=False),
    "sisimai/lhost-office365-02.eml": Expected(**FAILED, recipients=("kijitora@example.onmicrosoft.com",),
                                               status="5.1.1", reason=ADDRESS_UNKNOWN, standard=False),
    "sisimai/lhost-gmx-01.eml": Expected(**FAILED, recipients=("shironeko@example.jp",), status="5.2.2",
                                         reason=MAILBOX_FULL, standard=False),
    "sisimai/rhost-franceptt-03.eml": Expected(**FAILED, recipients=("pseudo-local-part-kijitora@wanadoo.fr",),
                                               status="5.2.0", reason=OTHER, standard=False),
    # anonymised: the failed address is also the bounce's To (xxxx@xxxx.fr), found alone on its line
    "sisimai/rhost-franceptt-04.eml": Expected(**FAILED, recipients=("xxxx@xxxx.fr",), status="5.2.0",
                                               reason=OTHER, standard=False),
    "sisimai/lhost-opensmtpd-01.eml": Expected(**FAILED, recipients=("apdugoaidugoaidugoaeiudggadi@gmail.com",),
                                               status="5.1.1", standard=False),
    "sisimai/lhost-zoho-01.eml": Expected(**FAILED, recipients=("kijitora@example.co.jp",), status="5.1.1",
                                          reason=ADDRESS_UNKNOWN, standard=False),
    "sisimai/lhost-exchange2003-01.eml": Expected(**FAILED, recipients=("kijitora@example.jp",), status="",
                                                  standard=False),
    "flufl/postfix_01.eml": Expected(**FAILED, recipients=("xxxxx@local.ie",), status="5.1.1",
                                     reason=ADDRESS_UNKNOWN, standard=False),
    "flufl/exim_01.eml": Expected(**FAILED, recipients=("delangen@its.tudelft.nl",), status="5.1.1",
                                  reason=ADDRESS_UNKNOWN, standard=False),
    "flufl/qmail_01.eml": Expected(**FAILED, recipients=("psadisc@wwwmail.n-h.de",), status="", standard=False),
    "flufl/simple_05.eml": Expected(**FAILED, recipients=("rlosardo@sbcglobal.net",), status="",
                                    reason=ADDRESS_UNKNOWN, standard=False),
    "flufl/groupwise_01.eml": Expected(**FAILED, recipients=("thoff@MAINEX1.ASU.EDU",), status="",
                                       reason=ADDRESS_UNKNOWN, standard=False),
    # written for relance: French providers, our Message-IDs
    "written/exchange-fr-non-remis.eml": Expected(**FAILED, recipients=("j.dupont@menuiserie-dupont.fr",),
                                                  status="5.1.1", reason=ADDRESS_UNKNOWN),
    "written/gmail-fr-adresse-introuvable.eml": Expected(**FAILED, recipients=("compta@boulangerie-lefevre.fr",),
                                                         status="5.1.1", reason=ADDRESS_UNKNOWN),
    "written/orange-fr-boite-pleine.eml": Expected(**FAILED, recipients=("secretariat@garage-henry.fr",),
                                                   status="5.2.2", reason=MAILBOX_FULL, standard=False),
    "written/free-fr-domaine-introuvable.eml": Expected(**FAILED, recipients=("facturation@transports-mercier.fr",),
                                                        status="5.1.2", reason=DOMAIN_NOT_FOUND, standard=False),
    "written/sfr-fr-remise-differee.eml": Expected(**DELAYED, recipients=("gestion@cave-lambert.fr",), status="4.4.1",
                                                   standard=False),
    "written/laposte-fr-mime-casse.eml": Expected(**FAILED, recipients=("client.caron@laposte.net",), status="5.1.1",
                                                  reason=ADDRESS_UNKNOWN, standard=False),
}

OUR_IDS: dict[str, str] = {
    "written/exchange-fr-non-remis.eml": "<relance.3f9a1c0b7d2e4a65.9c0e1f2a3b4c5d6e@cabinet-martin.fr>",
    "written/gmail-fr-adresse-introuvable.eml": "<relance.7a0c55e2d41b9f03.00ffa1b2c3d4e5f6@atelier-rousseau.fr>",
    "written/orange-fr-boite-pleine.eml": "<relance.b81f0d2c6e4a9735.5d4c3b2a1f0e9d8c@plomberie-garnier.fr>",
    "written/free-fr-domaine-introuvable.eml": "<relance.0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a@sarl-benard.fr>",
    "written/sfr-fr-remise-differee.eml": "<relance.aa11bb22cc33dd44.ee55ff6600112233@ebenisterie-roy.fr>",
    "written/laposte-fr-mime-casse.eml": "<relance.1234567890abcdef.fedcba0987654321@imprimerie-caron.fr>",
}

# the returned message's own Message-ID, where the real sample carries one
RETURNED_IDS: dict[str, str] = {
    "sisimai/rfc3464-01.eml": "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>",
    "sisimai/lhost-gmail-01.eml": "<D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com>",
    "sisimai/lhost-qmail-01.eml": "<000000000.9999999999999.JavaMail.postmaster@mailhub>",
    "sisimai/lhost-office365-02.eml": "<c302b7e8-9b97-40ef-90eb-313cc6c25133@NYAAAAN.example.org>",
    "sisimai/lhost-opensmtpd-06.eml": "<201612140903.uBE938DJ094645@nyaan.example.jp>",
    "sisimai/rhost-franceptt-01.eml": "<20FA40A8-4F88-4453-953D-B7038769D040@example.co.jp>",
    "flufl/dsn_03.eml": "<31575A892FF6D1118F5800600846864D5B17D1@intrepid>",
}

NOT_BOUNCES = [
    # automatic replies (RFC 3834), in English (sisimai) and French (written)
    "sisimai/rfc3834-01.eml", "sisimai/rfc3834-02.eml", "sisimai/rfc3834-03.eml", "sisimai/rfc3834-04.eml",
    "sisimai/rfc3834-05.eml", "sisimai/rfc3834-06.eml",
    "written/absence-outlook-fr.eml", "written/absence-gmail-fr-conges.eml", "written/absence-exchange-en.eml",
    # ordinary messages, one a customer's reply that speaks of a failed delivery
    "sisimai/is-not-bounce-01.eml", "sisimai/is-not-bounce-02.eml", "written/reponse-client-non-recu.eml",
]


def _read(name: str) -> Bounce | None:
    return read_bounce((FIXTURES / name).read_bytes())


def test_every_sample_is_listed() -> None:
    on_disk = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.eml")}
    assert on_disk == set(EXPECTED) | set(NOT_BOUNCES)
    assert 20 <= len(EXPECTED) and 3 <= len(NOT_BOUNCES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bounce_is_read_as_expected(name: str) -> None:
    bounce = _read(name)
    expected = EXPECTED[name]
    assert bounce is not None
    assert (bounce.final, bounce.permanent) == (expected.final, expected.permanent)
    assert bounce.recipients == expected.recipients
    assert bounce.status == expected.status
    assert bounce.standard is expected.standard
    if expected.reason is not None:
        assert bounce.reason == expected.reason, bounce.diagnostic
    assert bounce.reason in (ADDRESS_UNKNOWN, MAILBOX_FULL, DOMAIN_NOT_FOUND, SPAM, OTHER)
    assert bounce.our_message_id == OUR_IDS.get(name, "")
    if name in RETURNED_IDS:
        assert bounce.message_id == RETURNED_IDS[name]


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if not e.final))
def test_a_delay_is_never_a_permanent_failure(name: str) -> None:
    bounce = _read(name)
    assert bounce is not None and bounce.transient and not bounce.final


@pytest.mark.parametrize("name", NOT_BOUNCES)
def test_automatic_and_ordinary_replies_are_not_bounces(name: str) -> None:
    assert _read(name) is None


@pytest.mark.parametrize("name", sorted(RETURNED_IDS))
def test_our_message_id_is_found_in_a_real_bounce(name: str) -> None:
    """The real samples returned someone else's message: put ours in its place."""
    raw = (FIXTURES / name).read_bytes()
    ours = "<relance.0123456789abcdef.fedcba9876543210@example.fr>"
    bounce = read_bounce(raw.replace(RETURNED_IDS[name].encode(), ours.encode()))
    assert bounce is not None and bounce.our_message_id == ours and bounce.message_id == ours


def test_diagnostic_is_kept_as_given() -> None:
    bounce = _read("written/gmail-fr-adresse-introuvable.eml")
    assert bounce is not None
    assert bounce.diagnostic == "550 5.1.1 The email account that you tried to reach does not exist."


def test_wrong_charset_and_broken_mime_are_recorded() -> None:
    bounce = _read("written/laposte-fr-mime-casse.eml")
    assert bounce is not None
    assert any("jeu de caractères" in p for p in bounce.problems)
    assert any("MIME mal formé" in p for p in bounce.problems)


def test_success_notices_are_not_bounces() -> None:
    raw = (FIXTURES / "sisimai/rfc3464-01.eml").read_bytes().replace(b"Action: failed", b"Action: delivered")
    assert read_bounce(raw) is None


def test_huge_message_is_cut_and_still_read() -> None:
    raw = (FIXTURES / "written/exchange-fr-non-remis.eml").read_bytes()
    huge = raw.replace(b"--_000_5f1e0c4a3b7d4d2e9a610c8f7e2b9d11_--",
                       b"X-Pad: " + b"A" * (3 * bounces.MAX_BYTES) + b"\n--_000_5f1e0c4a3b7d4d2e9a610c8f7e2b9d11_--")
    bounce = read_bounce(huge)
    assert bounce is not None and bounce.recipients == ("j.dupont@menuiserie-dupont.fr",)
    assert any("tronqué" in p for p in bounce.problems)


def test_our_message_ids_formats() -> None:
    text = ("References: <relance.0123456789abcdef0123456789abcdef@a.fr> <other@x.org>\n"
            "<relance.0123456789abcdef.00ff@b.fr> <relance.xyz@c.fr> <relance.0123456789abcdef0123456789abcdef@a.fr>")
    assert our_message_ids(text) == ["<relance.0123456789abcdef0123456789abcdef@a.fr>",
                                      "<relance.0123456789abcdef.00ff@b.fr>"]


def test_not_bytes_is_not_a_bounce() -> None:
    assert read_bounce("Subject: failure notice\n\n<a@b.fr>:") is None  # type: ignore[arg-type]
    assert read_bounce(b"") is None


SAMPLES = sorted(p.read_bytes() for p in FIXTURES.rglob("*.eml"))
ROBUST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROBUST
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    result = bounces._read(raw)  # the parser itself, without read_bounce's last-resort guard
    assert result is None or isinstance(result, Bounce)


@ROBUST
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=8)), max_size=12),
       st.integers(0, 10**6))
def test_mutated_samples_never_raise(sample: bytes, edits: list[tuple[int, bytes]], cut: int) -> None:
    raw = bytearray(sample)
    for at, chunk in edits:
        at %= len(raw) + 1
        raw[at:at + len(chunk)] = chunk
    raw = raw[:cut % (len(raw) + 1) or len(raw)]
    result = bounces._read(bytes(raw))
    assert result is None or isinstance(result, Bounce)


@ROBUST
@given(st.sampled_from(SAMPLES), st.sampled_from([b"\r\n", b"\r", b"\n\n", b"\x00", b"=?utf-8?B?", b"--", b"\xff\xfe"]))
def test_line_endings_and_stray_bytes_never_raise(sample: bytes, noise: bytes) -> None:
    result = bounces._read(sample.replace(b"\n", noise))
    assert result is None or isinstance(result, Bounce)


HEAD = b"From: MAILER-DAEMON@mx.example.fr\nTo: relances@example.fr\nSubject: Undelivered Mail Returned to Sender\n"


@pytest.mark.parametrize("raw, problem", [
    # thousands of nested multiparts: cut before the stdlib parser, which recurses
    (HEAD + b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(3000)),
     "parties MIME"),
    # thousands of returned messages nested in one another, without a boundary: read as text
    (HEAD + b"Content-Type: message/rfc822\n\n" * 3000 + b"could not be delivered to <a@b.fr>:\n", "imbriquées"),
    # thousands of parts
    (HEAD + b"Content-Type: multipart/mixed; boundary=zz\n\n"
     + b"--zz\nContent-Type: text/plain\n\nunable to deliver <client@exemple.fr>:\n" * 5000, "parties MIME"),
])
def test_pathological_structures_are_recorded(raw: bytes, problem: str) -> None:
    bounce = bounces._read(raw)
    assert bounce is not None and any(problem in p for p in bounce.problems), bounce


@pytest.mark.parametrize("body", [b"a" * 500_000, b"\n" * 500_000, b"x.y" * 200_000, b"<script>" * 60_000,
                                  b"5." * 300_000, b"u@d.fr " * 60_000])
def test_long_runs_are_read(body: bytes) -> None:
    """Inputs that would make a backtracking expression quadratic: read in linear time."""
    kind = b"text/html" if body.startswith(b"<") else b"text/plain"
    bounce = bounces._read(HEAD + b"Content-Type: " + kind + b"\n\ncould not be delivered\n" + body)
    assert bounce is not None and bounce.final
