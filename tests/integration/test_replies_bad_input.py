"""Hostile or broken messages (issue 15): each is stored with its bytes and a clear problem, never
a crash, never lost, never applied without a person."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from relance.ledger.models import Organisation
from relance.replies.models import Reply
from relance.replies.services.receive import MAX_STORED_BYTES, receive
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    from relance.ledger.services.imports import import_file

    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    return org


def head(extra: str = "", sender: str = "compta@garageducentre.test") -> str:
    return (f"From: {sender}\r\nTo: recouvrement@atelier-dubois.test\r\nSubject: RE: relance\r\n"
            f"Date: Mon, 07 Dec 2026 09:00:00 +0100\r\n{extra}")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_sample_message_is_stored_and_read(org: Organisation, name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    reply = receive(org, raw, now=NOW).reply
    assert Reply.objects.filter(pk=reply.pk).exists()
    assert reply.raw.read() == raw
    if name.startswith("malformed"):
        assert reply.problems and reply.state in ("a_traiter", "a_rattacher")
    else:
        expected = next(c for c in ("deja_paye", "non_recu", "litige", "promesse", "absence") if name.startswith(c))
        assert reply.category == expected


def test_a_zip_attachment_is_kept_not_opened(org: Organisation) -> None:
    message = EmailMessage()
    message["From"] = "compta@garageducentre.test"
    message["To"] = "recouvrement@atelier-dubois.test"
    message["Subject"] = "Justificatif de virement"
    message["Message-ID"] = "<zip-1@garage.test>"
    message.set_content("Bonjour, la facture a été réglée par virement le 2 décembre, voir le justificatif joint.")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bombe.txt", b"0" * 50_000_000)  # 50 MB once unpacked: never unpacked
    message.add_attachment(archive.getvalue(), maintype="application", subtype="zip", filename="preuve.zip")
    raw = bytes(message)
    reply = receive(org, raw, now=NOW).reply
    assert reply.category == "deja_paye" and reply.customer.code == "C002"
    assert reply.size == len(raw) < 200_000


def test_a_huge_message_is_kept_truncated_with_a_problem(org: Organisation) -> None:
    body = "Bonjour,\r\n" + ("ligne de texte collée sans fin " * 40 + "\r\n") * 22_000
    raw = (head("Message-ID: <huge@garage.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n") + body).encode()
    assert len(raw) > MAX_STORED_BYTES
    reply = receive(org, raw, now=NOW).reply
    assert any("premiers Mo" in p for p in reply.problems)
    assert reply.state == "a_traiter"  # a person reads it, nothing is applied
    assert reply.raw.size == MAX_STORED_BYTES


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\x01\x02\xff" * 1000,
    head("Content-Type: multipart/mixed\r\n\r\n--x\r\n").encode(),
    head("Content-Type: text/plain; charset=\"utf-7\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!").encode(),
    head("Content-Type: " + "multipart/mixed; boundary=b\r\n\r\n--b\r\n" * 300).encode(),
    head("Subject: =?x-inconnu?q?=E9t=E9?=\r\nContent-Type: text/plain; charset=latin-1\r\n\r\n"
         "r\xe9gl\xe9").encode("latin-1"),
    ("From: " + "a" * 100_000 + "@x.test\r\n\r\nbonjour").encode(),
])
def test_broken_input_is_recorded_never_raised(org: Organisation, raw: bytes) -> None:
    first = receive(org, raw, now=NOW)
    again = receive(org, raw, now=NOW)
    assert first.created and not again.created and again.reply.pk == first.reply.pk
    assert first.reply.raw.read() == raw[:MAX_STORED_BYTES]
    assert first.reply.state in ("a_traiter", "a_rattacher")


def test_two_messages_without_message_id_are_two_replies(org: Organisation) -> None:
    one = receive(org, head("\r\n").encode() + b"premier", now=NOW).reply
    two = receive(org, head("\r\n").encode() + b"second", now=NOW).reply
    assert one.pk != two.pk and one.message_key.startswith("sha256:")
