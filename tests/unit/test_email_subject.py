"""A long French subject reaches the reader without a leading space (issue 18: the header was
folded before its first word)."""

from __future__ import annotations

import email
from email import policy

import pytest

from relance.channels.email import RelanceEmail

SUBJECTS = [
    "Relance avant mise en demeure\u00a0: facture n°\u00a0FA-2026-000205 impayée depuis le 23 novembre 2026",
    "Rappel : la facture n° FA-2026-000201 arrive à échéance le 30 novembre 2026",
    "Merci pour votre règlement",
    "Payment reminder: invoice FA-2026-000205",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_subject_is_read_back_as_written(subject: str) -> None:
    raw = RelanceEmail(subject=subject, body="x", from_email="a@example.test", to=["b@example.test"]).message()
    parsed = email.message_from_bytes(raw.as_bytes(linesep="\r\n"), policy=policy.default)
    assert parsed["Subject"] == subject
    header = next(line for line in raw.as_bytes().split(b"\n") if line.startswith(b"Subject:"))
    assert header.strip() != b"Subject:"  # the first word on the header's own line
