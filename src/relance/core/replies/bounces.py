"""Bounces: reading what a mail server answers when a reminder could not be delivered.

Two shapes are recognised:

* the standard delivery status notification (RFC 3464): a ``multipart/report;
  report-type=delivery-status`` whose ``message/delivery-status`` part gives, per recipient,
  ``Final-Recipient``, ``Action`` (failed, delayed, delivered, relayed, expanded), ``Status``
  (RFC 3463: class 5 permanent, class 4 transient) and ``Diagnostic-Code``;
* the texts written by servers that do not follow it (qmail, Exim, older Exchange, Gmail,
  Yahoo, French providers), in English and in French, recognised by their sender, their
  subject and their wording.

A *delayed* notice (the server still retries) is a :class:`Bounce` with ``final`` false and
``permanent`` false; it never says the address is bad. An automatic reply (out of office, RFC
3834) is not a bounce: :func:`read_bounce` returns ``None`` for it, as for every message that is
not a bounce. Bad input (malformed MIME, unknown charsets, huge messages) never raises: the
parser reads what it can and lists what it could not in :attr:`Bounce.problems`.

Pure Python (stdlib :mod:`email` with ``policy.default``), no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Final

#: Only this much of a message is read: a bounce's notice, report and returned headers come first.
MAX_BYTES: Final = 1024 * 1024
#: Text read from the notice when looking for recipients, codes and wording.
MAX_TEXT: Final = 64 * 1024
MAX_PARTS: Final = 200
MAX_ADDRESSES: Final = 50
MAX_RECIPIENTS: Final = 1000

ADDRESS_UNKNOWN: Final = "adresse inconnue"
MAILBOX_FULL: Final = "boîte pleine"
DOMAIN_NOT_FOUND: Final = "domaine introuvable"
SPAM: Final = "refusé comme spam"
OTHER: Final = "autre"

#: Our Message-IDs (:func:`relance.channels.email.message_id`): ``<relance.{key}@domain>`` with
#: the 32 hex digits of the reminder's key, or ``<relance.{16 hex}.{16 hex}@domain>`` with its nonce.
OUR_MESSAGE_ID: Final = re.compile(
    r"<relance\.[0-9a-f]{16}(?:[0-9a-f]{16}|\.[0-9a-f]{1,32})@[A-Za-z0-9.\-]+>", re.IGNORECASE)


def our_message_ids(text: str) -> list[str]:
    """Our Message-IDs found in ``text`` (a header such as References, or a body), in order, once each."""
    return list(dict.fromkeys(m.group(0) for m in OUR_MESSAGE_ID.finditer(text)))


@dataclass(frozen=True)
class Bounce:
    """What a bounce says.

    ``final``: the server gave up, the message will not be delivered (``Action: failed``);
    false for a delay notice. ``permanent``: the failure will not go away by itself (status
    class 5, « permanent error »): the address can be flagged. ``status``: the RFC 3463 code
    (``"5.1.1"``) or ``""``; ``diagnostic``: the server's words as given; ``reason``: a short
    French reason (``ADDRESS_UNKNOWN`` …). ``message_id``: the Message-ID of the returned
    message when the bounce carries it; ``our_message_id``: the same when it is one of ours
    (or one of ours found elsewhere in the bounce: In-Reply-To, References, the returned text).
    """

    final: bool
    permanent: bool
    recipients: tuple[str, ...]
    status: str = ""
    diagnostic: str = ""
    reason: str = OTHER
    message_id: str = ""
    our_message_id: str = ""
    standard: bool = False
    problems: tuple[str, ...] = field(default=())

    @property
    def transient(self) -> bool:
        return not self.permanent


def read_bounce(raw: bytes) -> Bounce | None:
    """The bounce ``raw`` is, or ``None`` when it is not one (a reply, an automatic reply, noise).

    Never raises: whatever the input, the answer is a :class:`Bounce` or ``None``."""
    try:
        return _read(raw)
    except Exception:  # last resort: the parser is written not to get here
        return None


# --- parsing -----------------------------------------------------------------------------------

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_SMTP_CODE = re.compile(r"(?<![\d.#])([45])\d\d(?=[\s\-]|$)")
# bounded parts: a long run of letters without "@" costs a linear scan, not a quadratic one
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8}")
_MESSAGE_ID_HEADER = re.compile(r"^message-id\s*:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)

_DAEMON = re.compile(
    r"mailer-daemon|postmaster|mail delivery|mail administrator|mailadmin|mdaemon|mail system"
    r"|maildelivery|administrateur|système de messagerie|systeme de messagerie", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery failure|delivery failed|mail delivery"
    r"|failure notice|returned mail|returning message|delivery notification|could not be delivered"
    r"|not delivered|delivery problem|delivery has failed|nondeliverable|non-deliverable|message status"
    r"|non remis|non distribu|non délivr|non delivr|échec de (?:la )?(?:remise|distribution|livraison)"
    r"|echec de (?:la )?(?:remise|distribution|livraison)|adresse introuvable|impossible de remettre"
    r"|message retourné|retour de message|notification d.état de (?:la )?(?:remise|distribution)"
    r"|remise différée|remise retardée|delayed mail|delivery delay|warning: could not send",
    re.IGNORECASE)
_AUTO_REPLY_SUBJECT = re.compile(
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[ -]?repl|autorespon|auto-respon|absent"
    r"|absence|réponse automatique|reponse automatique|message automatique|en congés?|vacances|vacation",
    re.IGNORECASE)
_FAILURE_WORDS = re.compile(
    r"could not be delivered|couldn.t be delivered|wasn.t able to deliver|unable to deliver|delivery [^\n]{0,80}failed"
    r"|failed permanently|permanent (?:error|failure)|not be delivered|undeliverable|delivery has failed"
    r"|rejected|user unknown|unknown user|does not exist|no such (?:user|address)|address(?:es)? failed"
    r"|n.a pas pu être (?:remis|délivré|distribué)|n.a pas pu etre|impossible de (?:remettre|délivrer|distribuer)"
    r"|n.a pas été (?:remis|délivré|distribué)|échec|echec|non remis|non délivré|introuvable|n.existe pas"
    r"|failure|erreur permanente|retry timeout exceeded|could not deliver|delivery to the following"
    r"|will continue trying|still trying|will retry|not yet been delivered|has not been delivered|delayed",
    re.IGNORECASE)
_DELAY_WORDS = re.compile(
    r"\(delay\)|delayed|delay in (?:the )?delivery|will (?:continue to )?(?:try|retry)|continue trying"
    r"|still (?:being )?(?:trying|retried)|not yet (?:been )?delivered|have not yet received"
    r"|warning: could not send|no action is required|pas encore (?:pu être |été )?(?:remis|délivré|distribué)"
    r"|remise différée|remise retardée|nouvelles tentatives|continuera d.essayer|sera de nouveau tenté",
    re.IGNORECASE)
_PERMANENT_WORDS = re.compile(
    r"permanent(?:ly)?|fatal error|given up|gave up|erreur permanente|définitivement|definitivement",
    re.IGNORECASE)
_TRANSIENT_WORDS = re.compile(r"temporar|transient|temporaire|try again later|essayer plus tard", re.IGNORECASE)
# where the returned copy of the message starts, in the non-standard texts
_COPY_MARKER = re.compile(
    r"^[ \t>]*(?:[-=_*]{2,}[^\n]{0,120}?(?:copy of|original message|message d.origine|returned message"
    r"|undelivered message|unsent message|en-têtes|headers? of|message original|text of your message|rejected message)"
    r"|[^\n]{0,40}?below this line is a copy|original message (?:headers|follows)|en-têtes du message d.origine"
    r"|message d.origine\s*:|(?:received|return-path|dkim-signature)\s*:)", re.IGNORECASE | re.MULTILINE)
_FINAL_RECIPIENT = re.compile(r"^final-recipient[ \t]*:[ \t]*([^\n]{0,300})", re.IGNORECASE | re.MULTILINE)
# lines of a notice that quote the returned message's headers: their addresses are not the failed ones
_QUOTED_HEADER = re.compile(
    r"^[ \t]*(?:to|from|cc|bcc|sent|date|subject|reply-to|return-path|sender|message-id|in-reply-to|references"
    r"|envoyé|de|à|objet)\s*:.*$", re.IGNORECASE | re.MULTILINE)

_REASONS: Final = (
    (MAILBOX_FULL, re.compile(
        r"quota|mailbox (?:is )?full|mailbox size|over ?quota|exceeded storage|insufficient (?:system )?storage"
        r"|boîte (?:aux lettres |de réception )?(?:est )?pleine|boite (?:aux lettres )?(?:est )?pleine"
        r"|espace (?:de stockage )?insuffisant|full mailbox|mail ?box full|too many messages", re.IGNORECASE)),
    (DOMAIN_NOT_FOUND, re.compile(
        r"host (?:or domain name )?not found|domain (?:name )?not found|no such domain|unrouteable|unroutable"
        r"|name service error|nxdomain|no mx|domain does not exist|domaine (?:introuvable|inexistant|inconnu)"
        r"|domaine n.existe pas|unknown domain|domain (?:is )?invalid|dns error|domain lookup failed"
        r"|couldn.t find (?:the )?domain", re.IGNORECASE)),
    (SPAM, re.compile(
        r"spam|blacklist|blocklist|block list|black list|listed (?:in|on|at|by)|\brbl\b|dnsbl|reputation|réputation"
        r"|indésirable|ip source bloqu|bloquee pour|bloquée pour|junk|content rejected|message content|virus"
        r"|blocked (?:by|using|because|due)|\bpolicy\b[^\n]{0,80}reject|rejected [^\n]{0,80}policy"
        r"|\bspf\b|\bdmarc\b|\bdkim\b", re.IGNORECASE)),
    (ADDRESS_UNKNOWN, re.compile(
        r"user unknown|unknown user|unknown (?:local[- ]part|recipient|address|mailbox)|no such (?:user|mailbox"
        r"|recipient|address|person)|does not exist|doesn.t exist|not exist|invalid (?:recipient|mailbox|address)"
        r"|recipient (?:address )?rejected|address rejected|user not found|recipnotfound|mailbox (?:not found"
        r"|unavailable)|couldn.t be found|could not be found|not a valid|no mailbox|addressee unknown|no longer"
        r"|inconnu|n.existe pas|destinataire invalide|adresse (?:invalide|introuvable|inexistante)"
        r"|introuvable|invalid recipient|unknown or illegal alias|account (?:does not exist|not found)"
        r"|not recogni[sz]ed|doesn.t have an? .{0,40}account",
        re.IGNORECASE)),
)
_REASON_BY_STATUS: Final = {
    "5.1.1": ADDRESS_UNKNOWN, "5.1.0": ADDRESS_UNKNOWN, "5.1.6": ADDRESS_UNKNOWN, "5.1.3": ADDRESS_UNKNOWN,
    "4.2.2": MAILBOX_FULL, "5.2.2": MAILBOX_FULL,
    "5.1.2": DOMAIN_NOT_FOUND, "4.1.2": DOMAIN_NOT_FOUND, "5.4.4": DOMAIN_NOT_FOUND, "4.4.4": DOMAIN_NOT_FOUND,
}


def _read(raw: bytes) -> Bounce | None:
    problems: list[str] = []
    if not isinstance(raw, bytes | bytearray):
        return None
    if len(raw) > MAX_BYTES:
        problems.append(f"message tronqué à {MAX_BYTES} octets pour la lecture ({len(raw)} octets)")
        raw = bytes(raw[:MAX_BYTES])
    raw = _cut_parts(bytes(raw), problems)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(bytes(raw))
    except RecursionError:  # MIME parts nested thousands deep: the headers, then the body as plain text
        problems.append("parties MIME imbriquées trop profondément : corps lu comme du texte")
        msg = BytesParser(policy=policy.default).parsebytes(bytes(raw), headersonly=True)
        msg.set_type("text/plain")
    if msg.defects:
        problems.append("MIME mal formé : " + ", ".join(sorted({type(d).__name__ for d in msg.defects})))
    subject = _header(msg, "subject")
    sender = _header(msg, "from")
    parts = _walk(msg, problems)
    report = next((p for p in parts if p.get_content_type() in (
        "message/delivery-status", "message/global-delivery-status")), None)
    bounce: Bounce | None = None
    if report is not None:
        bounce, read = _from_report(msg, parts, report, problems)
        if bounce is None and read:  # delivered, relayed or expanded only: a success notice, not a bounce
            return None
    if bounce is None:
        if report is None and not _looks_like_bounce(msg, subject, sender):
            return None
        bounce = _from_text(msg, parts, subject, problems, standard_report=report is not None)
    return bounce


def _cut_parts(raw: bytes, problems: list[str]) -> bytes:
    """At most about ``MAX_PARTS`` boundary lines: the stdlib parser is slow on thousands of parts."""
    at, seen = 0, 0
    while (at := raw.find(b"\n--", at) + 1) > 0:
        seen += 1
        if seen > 2 * MAX_PARTS:
            problems.append(f"plus de {MAX_PARTS} parties MIME : les suivantes sont ignorées")
            return raw[:at]
    return raw


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # a header the policy cannot parse (bad encoded words, odd folding)
        try:
            raw = msg.get_all(name, failobj=[])
            return str(raw[0]) if raw else ""
        except Exception:
            return ""


def _walk(msg: Message, problems: list[str]) -> list[Message]:
    parts: list[Message] = []
    try:
        for part in msg.walk():
            parts.append(part)
            if len(parts) >= MAX_PARTS:
                problems.append(f"plus de {MAX_PARTS} parties MIME : les suivantes sont ignorées")
                break
    except Exception as exc:
        problems.append(f"structure MIME illisible : {type(exc).__name__}")
    return parts


def _text_of(part: Message, problems: list[str]) -> str:
    """A part's text, decoded as well as can be (unknown charset: latin-1 never fails)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        charset = "utf-8"
        try:
            charset = part.get_content_charset() or "utf-8"
        except Exception:
            pass
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            try:
                return payload.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"jeu de caractères {charset!r} incorrect : lu en latin-1")
                return payload.decode("latin-1")
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):  # message/* parts: their sub-messages as text
        chunks: list[str] = []
        for sub in raw:
            if isinstance(sub, Message):
                try:
                    chunks.append("".join(f"{k}: {_safe_value(v)}\n" for k, v in sub.items()) + "\n")
                except Exception:
                    continue
        return "".join(chunks)
    return ""


def _safe_value(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return ""


# --- RFC 3464 ----------------------------------------------------------------------------------

def _fields(text: str) -> list[dict[str, str]]:
    """The blocks of a delivery-status body: the per-message block, then one per recipient."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, ""
            continue
        if line[0] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        last = name.strip().lower()
        current[last] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _typed(value: str) -> str:
    """``rfc822; someone@example.org`` → ``someone@example.org``; ``smtp; 550 …`` → ``550 …``."""
    kind, sep, rest = value.partition(";")
    return (rest if sep and " " not in kind.strip() else value).strip()


def _address(value: str) -> str:
    match = _ADDRESS.search(_typed(value))
    return match.group(0).strip(".'`") if match else ""


def _from_report(msg: Message, parts: list[Message], report: Message,
                 problems: list[str]) -> tuple[Bounce | None, bool]:
    """The bounce the report gives, and whether the report named any recipient at all."""
    failed: list[tuple[str, str, str]] = []
    delayed: list[tuple[str, str, str]] = []
    seen = 0
    for block in _fields(_text_of(report, problems))[:MAX_RECIPIENTS]:
        # the address we wrote to (Original-Recipient), before the receiving side forwarded it (Final-Recipient)
        recipient = _address(block.get("original-recipient", "")) or _address(block.get("final-recipient", ""))
        if not recipient:
            continue
        seen += 1
        action = (block.get("action", "").strip().lower().split(" ") or [""])[0]
        action = "failed" if action.startswith("fail") else "delayed" if action.startswith("delay") else action
        status = _status(block.get("status", ""))
        diagnostic = _typed(block.get("diagnostic-code", "")) or ("" if status else block.get("status", ""))
        if not action:
            action = "delayed" if status.startswith("4") and not block.get("diagnostic-code") else "failed"
        if action == "failed":
            failed.append((recipient, status, diagnostic))
        elif action == "delayed":
            delayed.append((recipient, status, diagnostic))
    if not failed and not delayed:
        if not seen:
            problems.append("rapport de remise sans destinataire lisible : lu comme un texte")
        return None, bool(seen)
    chosen = failed or delayed
    final = bool(failed)
    notice = _notice(parts, problems)
    status = next((s for _, s, _ in chosen if s), "") or _first_status(notice)
    diagnostic = next((d for _, _, d in chosen if d), "") or _diagnostic_line(notice)
    permanent = final and _is_permanent(status, diagnostic, notice)
    message_id, ours = _message_ids(msg, parts, problems)
    return Bounce(final=final, permanent=permanent, recipients=tuple(dict.fromkeys(r for r, _, _ in chosen)),
                  status=status, diagnostic=diagnostic, reason=_reason(status, diagnostic or notice),
                  message_id=message_id, our_message_id=ours, standard=True,
                  problems=tuple(dict.fromkeys(problems))), True


def _status(value: str) -> str:
    match = _STATUS.search(value)
    return ".".join(match.groups()) if match else ""


def _first_status(text: str) -> str:
    for match in _STATUS.finditer(text):
        if match.group(1) in "45":
            return ".".join(match.groups())
    return ""


def _is_permanent(status: str, diagnostic: str, notice: str) -> bool:
    if status:
        return status.startswith("5")
    code = _SMTP_CODE.search(diagnostic) or _SMTP_CODE.search(notice)
    if code:
        return code.group(1) == "5"
    if _TRANSIENT_WORDS.search(notice) and not _PERMANENT_WORDS.search(notice):
        return False
    return True  # the message came back and nothing says it might go through later


def _reason(status: str, text: str) -> str:
    for reason, pattern in _REASONS:
        if pattern.search(text):
            return reason
    if status in _REASON_BY_STATUS:
        return _REASON_BY_STATUS[status]
    if status.startswith("5.7"):
        return SPAM
    return OTHER


# --- the non-standard texts --------------------------------------------------------------------

def _looks_like_bounce(msg: Message, subject: str, sender: str) -> bool:
    if _header(msg, "x-failed-recipients"):
        return True
    by_subject = bool(_BOUNCE_SUBJECT.search(subject))
    if _AUTO_REPLY_SUBJECT.search(subject) and not by_subject:
        return False
    return by_subject or bool(_DAEMON.search(sender))


def _notice(parts: list[Message], problems: list[str]) -> str:
    """The human-readable text of the bounce, up to the returned copy of the message."""
    chunks: list[str] = []
    inside_returned = set()
    for part in parts:
        if id(part) in inside_returned:
            continue
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
                     "message/delivery-status", "message/global-delivery-status"):
            if part.is_multipart():
                for sub in part.walk():
                    inside_returned.add(id(sub))
            continue
        broken = part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), str)
        if part.get_content_maintype() != "text" and not broken:  # a multipart without its parts: its text
            continue
        text = _text_of(part, problems)[:MAX_TEXT]
        if ctype == "text/html":
            text = _html_text(text)
        chunks.append(text)
        if sum(len(c) for c in chunks) > MAX_TEXT:
            break
    text = "\n".join(chunks)[:MAX_TEXT]
    marker = _COPY_MARKER.search(text)
    return text[:marker.start()] if marker and marker.start() > 0 else text


def _html_text(html: str) -> str:
    text = _without_blocks(html, "script")
    text = _without_blocks(text, "style")
    text = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>", "\n", text)
    text = re.sub(r"<[^>]{0,2000}>", " ", text)
    return text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _without_blocks(html: str, tag: str) -> str:
    """``html`` without its ``<tag>…</tag>`` blocks (linear: no backtracking regular expression)."""
    lower, kept, at = html.lower(), [], 0
    while (start := lower.find(f"<{tag}", at)) >= 0:
        kept.append(html[at:start])
        end = lower.find(f"</{tag}", start)
        if end < 0:
            return "".join(kept)
        close = lower.find(">", end)
        at = len(html) if close < 0 else close + 1
    kept.append(html[at:])
    return " ".join(kept)


def _from_text(msg: Message, parts: list[Message], subject: str, problems: list[str],
               standard_report: bool) -> Bounce | None:
    notice = _notice(parts, problems)
    if not (_FAILURE_WORDS.search(notice) or _FAILURE_WORDS.search(subject) or _BOUNCE_SUBJECT.search(subject)
            or _header(msg, "x-failed-recipients")):
        return None
    recipients = _failed_recipients(msg, notice)
    if not recipients:
        problems.append("destinataire en échec introuvable dans le texte")
    delayed = bool(_DELAY_WORDS.search(subject) or _DELAY_WORDS.search(notice[:4000])) and not _PERMANENT_WORDS.search(
        notice)
    status = _first_status(notice)
    if delayed and status.startswith("5"):
        delayed = False
    diagnostic = _diagnostic_line(notice)
    permanent = not delayed and _is_permanent(status, diagnostic, notice)
    message_id, ours = _message_ids(msg, parts, problems)
    return Bounce(final=not delayed, permanent=permanent, recipients=tuple(recipients), status=status,
                  diagnostic=diagnostic, reason=_reason(status, diagnostic or notice) if diagnostic else
                  _reason(status, notice), message_id=message_id, our_message_id=ours,
                  standard=standard_report, problems=tuple(dict.fromkeys(problems)))


def _failed_recipients(msg: Message, notice: str) -> list[str]:
    header = _header(msg, "x-failed-recipients")
    if header:
        found = [m.group(0) for m in _ADDRESS.finditer(header)]
        if found:
            return list(dict.fromkeys(found))
    reported = [_address(v) for v in _FINAL_RECIPIENT.findall(notice)]  # a report the MIME parser could not see
    if any(reported):
        return list(dict.fromkeys(a for a in reported if a))
    notice = _QUOTED_HEADER.sub("", notice)
    ignored = {a.lower() for a in _ADDRESS.findall(_header(msg, "to") + " " + _header(msg, "from")
                                                   + " " + _header(msg, "return-path"))}
    mentioned = [m.group(0).strip(".'`") for m in _ADDRESS.finditer(notice)]
    mentioned = list(dict.fromkeys(a for a in mentioned if not re.match(
        r"(?i)(mailer-daemon|postmaster|abuse|noreply|no-reply)@", a)))[:MAX_ADDRESSES]
    # an address alone on its line (qmail's ``<a@b>:``, Exim's indented list, Gmail's) is the failed one
    alone = [a for a in mentioned if re.search(
        rf"(?im)^[ \t>*-]*<?(?:mailto:)?{re.escape(a)}>?(?:<mailto:[^>]*>)?\s*[:;,]?(?:\s+on\s.{{0,60}}|.{{0,24}})$",
        notice)]
    return list(dict.fromkeys(alone or [a for a in mentioned if a.lower() not in ignored][:5]))


def _diagnostic_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if (_STATUS.search(line) or _SMTP_CODE.search(line)) and len(line) > 8 and not re.match(
                r"(?i)(date|received|arrival-date|x-[\w-]+)\s*:", line):
            return line[:500]
    return ""


# --- the returned message ----------------------------------------------------------------------

def _message_ids(msg: Message, parts: list[Message], problems: list[str]) -> tuple[str, str]:
    """The Message-ID of the returned message, and ours wherever the bounce mentions it."""
    returned = ""
    texts: list[str] = []
    for part in parts:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                returned = returned or _bracketed(_header(inner, "message-id"))
                texts.append(" ".join(_header(inner, h) for h in ("message-id", "in-reply-to", "references")))
            else:
                texts.append(_text_of(part, problems))
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers") or part.get_content_maintype() == "text":
            texts.append(_text_of(part, problems)[:MAX_TEXT * 4])
    body = "\n".join(texts)
    if not returned:
        headers = [m.group(1) for m in _MESSAGE_ID_HEADER.finditer(body)]
        own = _bracketed(_header(msg, "message-id"))
        returned = next((h for h in headers if h != own), "")
    for source in (returned, _header(msg, "in-reply-to") + " " + _header(msg, "references"), body):
        ours = our_message_ids(source)
        if ours:
            return returned, ours[0]
    return returned, ""


def _bracketed(value: str) -> str:
    match = re.search(r"<[^<>\s]+>", value)
    return match.group(0) if match else ""


__all__ = ["ADDRESS_UNKNOWN", "DOMAIN_NOT_FOUND", "MAILBOX_FULL", "OTHER", "OUR_MESSAGE_ID", "SPAM", "Bounce",
           "our_message_ids", "read_bounce"]
