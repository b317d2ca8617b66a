"""A reply as received: an .eml (RFC 5322/MIME, any charset) or a bare text body, read into what
the classifier needs — the customer's text, the subject, the day it was sent, and whether it is
an automatic reply (RFC 3834 ``Auto-Submitted``, ``X-Autoreply``, ``Precedence: auto_reply``).

Pure standard library (``email`` with ``policy.default``), so the worker reading a mailbox and
the CLI share it. Malformed input raises :class:`UnreadableMessage` with a reason in French,
never another exception."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

#: the text kept of a body: a reply's own words come first, the rest is quoted history or noise
MAX_BODY_CHARS = 100_000
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{1,60}:[ \t]?")
_KNOWN_HEADERS = {b"from", b"to", b"subject", b"date", b"message-id", b"received", b"content-type",
                  b"mime-version", b"return-path", b"delivered-to", b"reply-to", b"in-reply-to"}
_BOUNDARY_DEFECTS = ("StartBoundaryNotFoundDefect", "NoBoundaryInMultipartDefect", "CloseBoundaryNotFoundDefect",
                     "MultipartInvariantViolationDefect")


class UnreadableMessage(ValueError):
    """The message cannot be read (the reason is in French, for the user)."""


@dataclass(frozen=True)
class ReplyMessage:
    body: str
    subject: str = ""
    sent_on: date | None = None
    auto_submitted: bool = False
    sender: str = ""
    message_id: str = ""


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML body; quoted history (``blockquote``, Gmail's ``gmail_quote``)
    and what is never shown (``head``, ``style``, ``script``) are left out."""

    _SKIP = {"style", "script", "head", "title", "blockquote"}
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "hr", "section", "article"}
    _VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag in self._VOID:
            return
        classes = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        self.stack.append((tag, tag in self._SKIP or "gmail_quote" in classes or "divRplyFwdMsg" in classes))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.parts.append(data)

    def text(self) -> str:
        raw = "".join(self.parts).replace("\xa0", " ")
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return parser.text()


def looks_like_email(raw: bytes) -> bool:
    """Does ``raw`` start with mail headers (at least one header every message carries)?"""
    head = raw.lstrip()[:8192].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines = [line for line in head.split(b"\n") if line and not line[:1].isspace()]
    if not lines or not all(_HEADER_LINE.match(line) for line in lines):
        return False
    return any(line.split(b":", 1)[0].lower() in _KNOWN_HEADERS for line in lines)


def decode_text(raw: bytes) -> str:
    """Bytes of unknown charset: UTF-8 if they are, else Windows-1252 (what French mail clients
    write when they do not say)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or ""
    try:
        return payload.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):  # an unknown or wrong charset: guess rather than fail
        return decode_text(payload)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


def _is_auto(message: EmailMessage) -> bool:
    auto = str(message.get("Auto-Submitted", "") or "").strip().lower()
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    return bool((auto and auto != "no") or message.get("X-Autoreply") or message.get("X-Autorespond")
                or precedence == "auto_reply")


def _sent_on(message: EmailMessage) -> date | None:
    try:
        raw = message.get("Date")
        return parsedate_to_datetime(str(raw)).date() if raw else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # a malformed Date header: the caller's default applies


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except Exception:  # a header the parser cannot render must not lose the message
        return ""


def read_message(raw: bytes) -> ReplyMessage:
    """Read an .eml, or a bare text body when ``raw`` does not start with mail headers."""
    if b"\x00" in raw[:4096] and not looks_like_email(raw):
        raise UnreadableMessage("fichier binaire : ni un message .eml ni un texte")
    if not looks_like_email(raw):
        return ReplyMessage(decode_text(raw)[:MAX_BODY_CHARS])
    message = message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage):  # pragma: no cover — policy.default always makes one
        raise UnreadableMessage("message illisible")
    defects = [type(d).__name__ for part in message.walk() for d in part.defects]
    try:
        body = _body(message)
    except Exception as exc:  # whatever the MIME tree hides, a reason, never a crash
        raise UnreadableMessage(f"structure MIME illisible ({type(exc).__name__})") from exc
    if not body.strip():
        broken = [d for d in defects if d in _BOUNDARY_DEFECTS]
        if broken or message.is_multipart():
            raise UnreadableMessage("structure MIME invalide : aucune partie texte lisible"
                                    + (f" ({', '.join(sorted(set(broken)))})" if broken else ""))
    body = body.replace("\r\n", "\n")
    return ReplyMessage(body[:MAX_BODY_CHARS], subject=_header(message, "Subject"), sent_on=_sent_on(message),
                        auto_submitted=_is_auto(message), sender=_header(message, "From"),
                        message_id=_header(message, "Message-ID"))
