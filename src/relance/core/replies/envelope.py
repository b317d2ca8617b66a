"""What attaches a message to its thread: the Message-IDs it answers (RFC 5322 §3.6.4
``In-Reply-To`` and ``References``), the addresses it was written to (``To``, ``Cc`` and the
headers the receiving server adds: ``Delivered-To``, ``X-Original-To``, ``Envelope-To``), its
sender and its date. Never raises: a header the parser cannot read counts as absent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Delivered-To")
#: how much of the message is parsed for its headers (the body never matters here)
_HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Envelope:
    message_id: str = ""
    answers: tuple[str, ...] = ()  # In-Reply-To first, then References from the newest
    recipients: tuple[str, ...] = ()  # lower-case addresses
    sender: str = ""  # lower-case address
    sender_name: str = ""
    date: datetime | None = None  # aware, UTC


def _header(message: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in (message.get_all(name) or [])]
    except Exception:  # an undecodable header is absent
        return []


def ids_in(value: str) -> list[str]:
    """The ``<…>`` identifiers of a header, in order (without the angle brackets, lower-case)."""
    return [m.group(1).lower() for m in _MSGID.finditer(value)]


def _headers_only(raw: bytes) -> bytes:
    head = raw[:_HEADER_BYTES]
    for cut in (b"\r\n\r\n", b"\n\n"):
        at = head.find(cut)
        if at >= 0:
            return head[:at + len(cut)]
    return head


def read_envelope(raw: bytes) -> Envelope:
    message = message_from_bytes(_headers_only(raw), policy=policy.compat32)
    own = ids_in(" ".join(_header(message, "Message-ID")))
    answers: list[str] = []
    for value in _header(message, "In-Reply-To"):
        answers.extend(ids_in(value))
    references: list[str] = []
    for value in _header(message, "References"):
        references.extend(ids_in(value))
    answers.extend(reversed(references))
    recipients: list[str] = []
    for name in _RECIPIENT_HEADERS:
        try:
            pairs = getaddresses(_header(message, name))
        except Exception:
            pairs = []
        recipients.extend(found for found in (_address(a) for _, a in pairs) if found)
    name, address = parseaddr(" ".join(_header(message, "From")[:1]))
    when: datetime | None = None
    try:
        dates = _header(message, "Date")
        if dates:
            parsed = parsedate_to_datetime(dates[0])
            when = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        when = None
    return Envelope(message_id=own[0] if own else "", answers=tuple(dict.fromkeys(answers)),
                    recipients=tuple(dict.fromkeys(recipients)), sender=_address(address),
                    sender_name=_decoded(name), date=when)


def _address(value: str) -> str:
    """A plausible address, lower-case, or '' (RFC 5321 §4.5.3.1.3: at most 254 characters)."""
    value = value.strip().lower()
    return value if "@" in value and len(value) <= 254 else ""


def _decoded(name: str) -> str:
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(name)))[:200]
    except Exception:
        return name[:200]


def tag_of(address: str, base_local: str, separator: str) -> str:
    """The tag of a plus-address: ``relances+3f2a…@x.fr`` written to ``relances@x.fr`` gives
    ``3f2a…``; '' when ``address`` is not ``base_local`` with a tag."""
    if not separator or "@" not in address:
        return ""
    local = address.split("@", 1)[0]
    prefix = f"{base_local.lower()}{separator}"
    return local[len(prefix):] if local.lower().startswith(prefix) and len(local) > len(prefix) else ""
