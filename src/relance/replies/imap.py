"""Customers’ replies read from an IMAP mailbox: the protocol side only, standard library only
(``imaplib``, ``ssl``), no Django.

Read-only by construction. The folder is opened with EXAMINE (RFC 3501 §6.3.2, RFC 9051 §6.3.3), so
the server itself refuses any change, and bodies are fetched with ``BODY.PEEK[]``, which unlike
``BODY[]`` does not set ``\\Seen``: the mailbox looks untouched in the user’s mail client. Only
``Mailbox.move_processed``, called when ``processed_folder`` is set, re-opens the folder read-write
(SELECT).

Where to resume. A message is named by its UID, which only grows within a folder as long as the
folder’s UIDVALIDITY stays the same (RFC 3501 §2.3.1.1, RFC 9051 §2.3.1.1): the caller stores
(UIDVALIDITY, last UID read) and asks for ``new_messages(after_uid=last)``. When UIDVALIDITY
changes (folder deleted and recreated, server migrated or its index rebuilt), the stored UIDs name
nothing any more: the caller must start again from 0 and recognise what it already has by another
key (Message-ID, digest of the raw message).

Bounded memory. ``UID SEARCH`` lists the UIDs (at most ``limit`` kept), their sizes come in batches
of ``BATCH`` with ``RFC822.SIZE``, then each message comes in a command of its own: one message in
memory at a time, and a message above ``max_bytes`` is read as its header only
(``BODY.PEEK[HEADER]``, itself capped at ``HEADER_MAX_BYTES``).

Mailbox names travel in IMAP’s modified UTF-7 (RFC 3501 §5.1.3): « Traité » is ``Trait&AOk-``.
A « / » in a configured name separates levels (« Archives/Traité ») and becomes the server’s own
delimiter (« . » on Dovecot’s Maildir++, « / » on Gmail or Exchange).
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_LIMIT = 500
HEADER_MAX_BYTES = 1024 * 1024  # the header of an oversized message, read at most up to here
BATCH = 200  # UIDs per RFC822.SIZE, MOVE or COPY command: short command lines, bounded answers
MAX_LINE = 8 * 1024 * 1024  # one response line (UID SEARCH lists every new UID on one line)
MAX_UID = 2**32 - 1  # UIDs are 32-bit unsigned (RFC 3501 §2.3.1.1)
SECURITIES = ("ssl", "starttls", "none")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # RFC 3501 date
# The capabilities worth showing on « tester la connexion ».
SHOWN_CAPABILITIES = frozenset({"IMAP4REV1", "IMAP4REV2", "MOVE", "UIDPLUS", "IDLE", "CONDSTORE", "QRESYNC",
                                "ESEARCH", "SPECIAL-USE", "UTF8=ACCEPT", "STARTTLS", "LITERAL+", "LITERAL-"})


@dataclass(frozen=True)
class ImapSettings:
    """Where and how to read. ``security``: « ssl » (implicit TLS, port 993), « starttls » (port 143,
    TLS required before logging in) or « none » (no encryption: only for a server on the same
    machine). ``processed_folder`` blank: nothing is ever moved. ``cafile``: a CA certificate (PEM)
    trusted on top of the system’s, for a server whose certificate is self-signed."""

    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    processed_folder: str = ""
    cafile: str = ""
    timeout: float = 30

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"sécurité IMAP « {self.security} » inconnue : « ssl », « starttls » ou « none »")
        for name in ("host", "username", "password", "folder", "processed_folder", "cafile"):
            if any(c in getattr(self, name) for c in "\r\n\0"):
                raise ValueError(f"paramètre IMAP « {name} » invalide : retour à la ligne ou caractère nul")
        if not self.folder.strip():
            raise ValueError("dossier IMAP à lire non renseigné")


class MailboxUnavailable(Exception):
    """The mailbox could not be read. ``reason`` is a short code for the program (« refused »,
    « timeout », « dns », « network », « tls », « certificate », « auth », « folder », « protocol »),
    the message a French sentence for the user naming host:port and the cause, never the password."""

    def __init__(self, host: str, port: int, cause: str, reason: str = "protocol"):
        self.host, self.port, self.cause, self.reason = host, port, cause, reason
        super().__init__(f"boîte aux lettres IMAP {host}:{port} : {cause}")


@dataclass(frozen=True)
class Fetched:
    """One message: ``raw`` is the whole message, or only its header block when ``truncated`` (the
    message is larger than ``max_bytes``), ``problem`` then says so in French."""

    uid: int
    size: int
    raw: bytes
    truncated: bool = False
    problem: str = ""


def encode_mailbox_name(name: str) -> str:
    """IMAP’s modified UTF-7 (RFC 3501 §5.1.3): printable ASCII stands for itself, « & » is « &- »,
    any other run of characters is « & », its UTF-16BE in base64 with « , » for « / » and no
    padding, then « - »."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_mailbox_name(name: str) -> str:
    """The reverse of ``encode_mailbox_name``."""

    def run(match: re.Match[str]) -> str:
        chunk = match.group(1)
        if not chunk:
            return "&"
        chunk = chunk.replace(",", "/")
        return base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-16-be")

    return re.sub(r"&([^-]*)-", run, name)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sequence_set(uids: Sequence[int]) -> str:
    """« 1:3,5,7:9 » for [1, 2, 3, 5, 7, 8, 9]."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = previous = ordered[0]
    for uid in [*ordered[1:], -1]:
        if uid != previous + 1:
            parts.append(str(start) if start == previous else f"{start}:{previous}")
            start = uid
        previous = uid
    return ",".join(parts)


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def size_text(size: int) -> str:
    """« 31,2 Mo », « 25 Mo », « 480 Ko », « 12 octets »."""
    for unit, scale in (("Mo", 1024 * 1024), ("Ko", 1024)):
        if size >= scale:
            value = size / scale
            return (f"{value:.0f}" if value == int(value) or value >= 100 else f"{value:.1f}").replace(".", ",") + f" {unit}"
    return f"{size} octet{'s' if size > 1 else ''}"


def _text(data: Any) -> str:
    """The server’s words in a response, for an error message."""
    if isinstance(data, list | tuple):
        return " ".join(_text(d) for d in data if d is not None)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


def _masked(text: str, settings: ImapSettings) -> str:
    """The text with the password masked, should a server or a library ever echo it (a password
    of one to three characters is left: masking it would garble the sentence)."""
    return text.replace(settings.password, "•••") if len(settings.password) >= 4 else text


def _said(error: BaseException) -> str:
    """An imaplib error’s text: imaplib puts the server’s bytes in it as they came."""
    return _text(error.args[0]) if len(error.args) == 1 else str(error)


class _LongLinesMixin:
    """imaplib refuses any response line above 1 MB; a UID SEARCH over 150,000 new messages is
    longer. The bound is raised to ``MAX_LINE``, still a bound."""

    file: Any

    def readline(self) -> bytes:
        line: bytes = self.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise imaplib.IMAP4.error(f"response line above {MAX_LINE} bytes")
        return line


class _IMAP4(_LongLinesMixin, imaplib.IMAP4):
    pass


class _IMAP4_SSL(_LongLinesMixin, imaplib.IMAP4_SSL):
    pass


_CERTIFICATE_CAUSES = {
    9: "certificat du serveur pas encore valide (horloge du serveur ou de cette machine ?)",
    10: "certificat du serveur expiré",
    18: "certificat du serveur auto-signé et non reconnu : ajoutez-le comme autorité de confiance (cafile)",
    19: "certificat du serveur émis par une autorité non reconnue : ajoutez-la comme autorité de confiance (cafile)",
    20: "certificat du serveur émis par une autorité non reconnue : ajoutez-la comme autorité de confiance (cafile)",
    62: "le certificat du serveur ne correspond pas à son nom",
    64: "le certificat du serveur ne correspond pas à son adresse IP",
}


def _translate(settings: ImapSettings, error: BaseException, doing: str) -> MailboxUnavailable:
    """A French MailboxUnavailable for a low-level error, the password masked should the server or
    the library ever echo it."""
    if isinstance(error, MailboxUnavailable):
        return error
    if isinstance(error, ssl.SSLCertVerificationError):
        cause = _CERTIFICATE_CAUSES.get(error.verify_code,
                                        f"certificat du serveur refusé ({error.verify_message or error.reason})")
        reason = "certificate"
    elif isinstance(error, ssl.SSLError):
        cause, reason = f"échec TLS ({error.reason or error}) : le port et le mode de sécurité correspondent-ils ?", "tls"
    elif isinstance(error, ConnectionRefusedError):
        cause, reason = "connexion refusée (aucun serveur IMAP n’écoute sur ce port)", "refused"
    elif isinstance(error, TimeoutError):
        cause, reason = f"délai dépassé ({settings.timeout:g} s sans réponse) pendant {doing}", "timeout"
    elif isinstance(error, socket.gaierror):
        cause, reason = "serveur introuvable (nom inconnu)", "dns"
    elif isinstance(error, imaplib.IMAP4.abort | EOFError | ConnectionError):
        cause, reason = f"connexion interrompue par le serveur pendant {doing} ({_said(error)})", "network"
    elif isinstance(error, imaplib.IMAP4.error):
        cause, reason = f"le serveur a refusé {doing} ({_said(error)})", "protocol"
    elif isinstance(error, OSError):
        cause, reason = f"erreur réseau pendant {doing} ({error.strerror or error})", "network"
    else:
        cause, reason = f"erreur pendant {doing} ({error})", "protocol"
    return MailboxUnavailable(settings.host, settings.port, _masked(cause, settings), reason)


_BROKEN = frozenset({"timeout", "network", "tls"})  # reasons after which the connection is not worth a LOGOUT
_NETWORK_ERRORS = (OSError, EOFError, imaplib.IMAP4.error)  # ssl.SSLError and socket errors are OSErrors


def _tls_context(settings: ImapSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.cafile:
        try:
            context.load_verify_locations(cafile=settings.cafile)
        except (OSError, ValueError) as error:
            raise MailboxUnavailable(settings.host, settings.port,
                                     f"certificat d’autorité « {settings.cafile} » illisible ({error})",
                                     "certificate") from None
    return context


def _capabilities(conn: imaplib.IMAP4) -> frozenset[str]:
    _typ, data = conn.capability()
    return frozenset(word.upper() for item in data if isinstance(item, bytes)
                     for word in item.decode("ascii", "replace").split())


def _connect(settings: ImapSettings) -> tuple[imaplib.IMAP4, frozenset[str]]:
    """Connected, TLS as asked, logged in; the capabilities are asked again after LOGIN, since
    servers announce MOVE or UIDPLUS only to an authenticated client."""
    context = _tls_context(settings) if settings.security != "none" else None
    doing = "la connexion"
    conn: imaplib.IMAP4 | None = None
    try:
        if settings.security == "ssl":
            conn = _IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=settings.timeout)
        else:
            conn = _IMAP4(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            if "STARTTLS" not in conn.capabilities:
                raise MailboxUnavailable(settings.host, settings.port,
                                         "le serveur ne propose pas STARTTLS : choisissez « ssl » (port 993)", "tls")
            doing = "la négociation TLS (STARTTLS)"
            conn.starttls(ssl_context=context)
        if "LOGINDISABLED" in conn.capabilities and "AUTH=PLAIN" not in conn.capabilities:
            raise MailboxUnavailable(settings.host, settings.port,
                                     "le serveur refuse l’identification sur une connexion non chiffrée : "
                                     "choisissez « ssl » ou « starttls »", "auth")
        doing = "l’identification"
        try:
            if settings.username.isascii() and settings.password.isascii() and "LOGINDISABLED" not in conn.capabilities:
                conn.login(_quoted(settings.username), settings.password)  # imaplib quotes the password itself
            else:  # SASL PLAIN carries UTF-8 (RFC 4616), LOGIN only ASCII
                credentials = f"\0{settings.username}\0{settings.password}".encode()
                conn.authenticate("PLAIN", lambda _challenge: credentials)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as error:
            said = _masked(_said(error), settings)
            raise MailboxUnavailable(settings.host, settings.port,
                                     f"identifiant ou mot de passe refusé (réponse du serveur : {said})", "auth") from None
        doing = "la lecture des capacités du serveur"
        return conn, _capabilities(conn)
    except BaseException as error:
        if conn is not None:
            _close(conn, polite=False)
        if isinstance(error, (*_NETWORK_ERRORS, MailboxUnavailable)):
            raise _translate(settings, error, doing) from None
        raise


def _close(conn: imaplib.IMAP4, *, polite: bool) -> None:
    """LOGOUT when the connection is sound; otherwise the socket is just closed, without waiting
    ``timeout`` once more for a server that no longer answers."""
    try:
        if polite:
            conn.logout()
        else:
            conn.shutdown()
    except (OSError, EOFError, imaplib.IMAP4.error):
        try:
            conn.shutdown()
        except (OSError, EOFError, imaplib.IMAP4.error):
            pass


_RESPONSE_START = re.compile(rb"^\d+ \(")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_QUOTED_BODY = re.compile(rb'\bBODY\[[^\]]*\](?:<\d+>)? (?:"((?:[^"\\]|\\.)*)"|NIL)', re.DOTALL)
_LIST_DELIMITER = re.compile(rb'^\([^)]*\) (?:"((?:[^"\\]|\\.)*)"|NIL)')


def _fetch_responses(data: list[Any]) -> list[tuple[bytes, bytes | None]]:
    """imaplib’s FETCH answer regrouped per message: (the response’s text without its literal, the
    literal if any). imaplib gives a literal as (text before it, literal) followed by the rest of the
    line as bytes (« ) » or « UID 5) » when the server puts UID last); a server may also send the
    body as a quoted string, inside the text."""
    responses: list[list[Any]] = []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            head, literal = bytes(item[0]), bytes(item[1])
            if responses and not _RESPONSE_START.match(head):
                responses[-1][0] += head
                if responses[-1][1] is None:
                    responses[-1][1] = literal
            else:
                responses.append([head, literal])
        elif isinstance(item, bytes):
            if _RESPONSE_START.match(item) or not responses:
                responses.append([item, None])
            else:
                responses[-1][0] += item
    return [(text, literal) for text, literal in responses]


def _body_of(text: bytes, literal: bytes | None) -> tuple[bytes | None, bytes]:
    """The body of one FETCH response and the text left to look for UID in."""
    if literal is not None:
        return literal, text
    match = _QUOTED_BODY.search(text)
    if match is None:
        return None, text
    body = re.sub(rb"\\(.)", rb"\1", match.group(1) or b"", flags=re.DOTALL)
    return body, text[:match.start()] + text[match.end():]


class Mailbox:
    """An open folder, read-only until ``move_processed``. ``uidvalidity`` and ``messages`` are
    those of the folder when it was opened, ``capabilities`` the server’s after login."""

    def __init__(self, conn: imaplib.IMAP4, settings: ImapSettings, capabilities: frozenset[str]):
        self.settings = settings
        self.capabilities = capabilities
        self._conn = conn
        self._delimiter: str | None = None
        self.broken = False
        self.uidvalidity, self.messages = self._open(read_only=True)

    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        try:
            yield
        except MailboxUnavailable:
            raise
        except _NETWORK_ERRORS as error:
            translated = _translate(self.settings, error, doing)
            if translated.reason in _BROKEN:
                self.broken = True
            raise translated from None

    def _unavailable(self, cause: str, reason: str = "protocol") -> MailboxUnavailable:
        return MailboxUnavailable(self.settings.host, self.settings.port, cause, reason)

    def _name(self, folder: str) -> str:
        """The quoted, encoded name of a folder, « / » turned into the server’s delimiter."""
        if "/" in folder and folder.upper() != "INBOX":
            if self._delimiter is None:
                typ, data = self._conn.list('""', '""')
                match = _LIST_DELIMITER.match(data[0]) if typ == "OK" and data and isinstance(data[0], bytes) else None
                self._delimiter = match.group(1).decode("ascii", "replace") if match and match.group(1) else "/"
            folder = folder.replace("/", self._delimiter)
        return _quoted(encode_mailbox_name(folder))

    def _open(self, *, read_only: bool) -> tuple[int, int]:
        folder = self.settings.folder
        with self._talking(f"l’ouverture du dossier « {folder} »"):
            typ, data = self._conn.select(self._name(folder), readonly=read_only)
            if typ != "OK":
                raise self._unavailable(f"dossier « {folder} » introuvable ou inaccessible ({_text(data)})", "folder")
            messages = int(data[0]) if data and data[0] else 0
            uidvalidity: Any = self._conn.untagged_responses.pop("UIDVALIDITY", [None])[-1]
            if uidvalidity is None:  # not in the SELECT answer: ask STATUS (RFC 3501 §6.3.10)
                typ, status = self._conn.status(self._name(folder), "(UIDVALIDITY)")
                found = re.search(rb"UIDVALIDITY (\d+)", b" ".join(s for s in status if isinstance(s, bytes)))
                uidvalidity = found.group(1) if typ == "OK" and found else None
            if not uidvalidity:
                raise self._unavailable(f"le serveur ne donne pas l’UIDVALIDITY du dossier « {folder} »")
            return int(uidvalidity), messages

    def new_messages(self, after_uid: int, *, max_bytes: int = DEFAULT_MAX_BYTES,
                     limit: int = DEFAULT_LIMIT) -> Iterator[Fetched]:
        """The messages whose UID is above ``after_uid``, in increasing UID order, at most ``limit``
        of them. ``UID SEARCH UID n:*`` answers the folder’s last message even when its UID is below
        n (« * » is the highest UID in use and a range works both ways, RFC 3501 §6.4.8): UIDs not
        above ``after_uid`` are dropped. A message gone between SEARCH and FETCH (expunged by another
        client) is skipped."""
        if limit <= 0 or after_uid >= MAX_UID:
            return
        with self._talking("la recherche des nouveaux messages"):
            typ, data = self._conn.uid("SEARCH", f"UID {max(after_uid, 0) + 1}:*")
            if typ != "OK":
                raise self._unavailable(f"recherche des nouveaux messages refusée ({_text(data)})")
            uids = sorted({int(word) for item in data if isinstance(item, bytes)
                           for word in item.split() if word.isdigit() and int(word) > after_uid})[:limit]
        for batch in _batches(uids, BATCH):
            with self._talking("la lecture des tailles des messages"):
                sizes = self._sizes(batch)
            for uid in batch:
                if uid not in sizes:
                    continue
                size = sizes[uid]
                truncated = size > max_bytes
                item = f"BODY.PEEK[HEADER]<0.{HEADER_MAX_BYTES}>" if truncated else "BODY.PEEK[]"
                with self._talking(f"la lecture du message {uid}"):
                    raw = self._fetch(uid, item)
                if raw is None:
                    continue
                problem = (f"message de {size_text(size)}, au-delà de la limite de {size_text(max_bytes)} : "
                           "seul son en-tête est lu") if truncated else ""
                yield Fetched(uid=uid, size=size, raw=raw, truncated=truncated, problem=problem)

    def last_uid_before(self, day: date) -> int:
        """The highest UID of the messages the server dates before ``day`` (its internal date,
        RFC 3501 §6.4.4 ``BEFORE``), 0 when there are none: where a first reading starts, so that
        years of old mail are not read as new replies."""
        with self._talking("la recherche des messages anciens"):
            typ, data = self._conn.uid("SEARCH", f"BEFORE {day.day}-{_MONTHS[day.month - 1]}-{day.year}")
            if typ != "OK":
                raise self._unavailable(f"recherche des messages anciens refusée ({_text(data)})")
        return max((int(word) for item in data if isinstance(item, bytes) for word in item.split()
                    if word.isdigit()), default=0)

    def _sizes(self, uids: Sequence[int]) -> dict[int, int]:
        typ, data = self._conn.uid("FETCH", _sequence_set(uids), "(UID RFC822.SIZE)")
        if typ != "OK":
            raise self._unavailable(f"lecture des tailles refusée ({_text(data)})")
        sizes: dict[int, int] = {}
        for text, _literal in _fetch_responses(data):
            uid, size = _UID.search(text), _SIZE.search(text)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def _fetch(self, uid: int, item: str) -> bytes | None:
        typ, data = self._conn.uid("FETCH", str(uid), f"({item})")
        if typ != "OK":
            raise self._unavailable(f"lecture du message {uid} refusée ({_text(data)})")
        for text, literal in _fetch_responses(data):
            body, rest = _body_of(text, literal)
            found = _UID.search(rest)
            if body is not None and found and int(found.group(1)) == uid:
                return body
        return None

    def move_processed(self, uids: Sequence[int]) -> None:
        """Moves these messages to ``processed_folder`` (created, and subscribed to, if missing);
        nothing when it is blank. The folder is re-opened read-write (SELECT), after checking its
        UIDVALIDITY has not changed, since the UIDs would then name other messages. UID MOVE
        (RFC 6851) when the server has MOVE: atomic. Otherwise UID COPY, then \\Deleted on these
        UIDs and UID EXPUNGE (RFC 4315 UIDPLUS), which expunges only them; never a plain EXPUNGE,
        which would also remove the messages the user marked deleted in their mail client. Without
        UIDPLUS either, the originals stay flagged \\Deleted until the next EXPUNGE of a mail
        client."""
        target = self.settings.processed_folder.strip()
        wanted = sorted({uid for uid in uids if 0 < uid <= MAX_UID})
        if not target or not wanted or target == self.settings.folder:
            return
        uidvalidity, self.messages = self._open(read_only=False)
        if uidvalidity != self.uidvalidity:
            raise self._unavailable(f"l’UIDVALIDITY du dossier « {self.settings.folder} » a changé "
                                    f"({self.uidvalidity} puis {uidvalidity}) : rien n’est déplacé", "folder")
        with self._talking(f"le déplacement vers « {target} »"):
            destination = self._name(target)
            self._create_if_missing(target, destination)
            for batch in _batches(wanted, BATCH):
                numbers = _sequence_set(batch)
                if "MOVE" in self.capabilities:
                    self._check(self._conn.uid("MOVE", numbers, destination), f"déplacement vers « {target} »")
                    continue
                self._check(self._conn.uid("COPY", numbers, destination), f"copie vers « {target} »")
                self._check(self._conn.uid("STORE", numbers, "+FLAGS.SILENT", r"(\Deleted)"), "marquage \\Deleted")
                if "UIDPLUS" in self.capabilities:
                    self._check(self._conn.uid("EXPUNGE", numbers), "suppression des originaux (UID EXPUNGE)")
            self._conn.untagged_responses.pop("EXPUNGE", None)

    def _check(self, answer: tuple[str, list[Any]], what: str) -> None:
        typ, data = answer
        if typ != "OK":
            raise self._unavailable(f"{what} refusé ({_text(data)})")

    def _create_if_missing(self, folder: str, name: str) -> None:
        typ, data = self._conn.list('""', name)
        if typ == "OK" and any(item is not None for item in data):
            return
        typ, data = self._conn.create(name)
        if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(d for d in data if isinstance(d, bytes)):
            raise self._unavailable(f"impossible de créer le dossier « {folder} » ({_text(data)})", "folder")
        self._conn.subscribe(name)  # so that mail clients show it; a refusal changes nothing here


@contextmanager
def open_mailbox(settings: ImapSettings) -> Iterator[Mailbox]:
    """Connects, logs in and EXAMINEs ``settings.folder``; logs out on leaving. Every failure of the
    server or the network is a MailboxUnavailable."""
    conn, capabilities = _connect(settings)
    try:
        box = Mailbox(conn, settings, capabilities)
    except MailboxUnavailable as error:
        _close(conn, polite=error.reason not in _BROKEN)
        raise
    try:
        yield box
    finally:
        _close(conn, polite=not box.broken)


def check(settings: ImapSettings) -> dict[str, Any]:
    """« Tester la connexion »: logs in, examines the folder, reads nothing.
    {"uidvalidity": int, "messages": int, "capabilities": the notable ones, sorted}."""
    with open_mailbox(settings) as box:
        return {"uidvalidity": box.uidvalidity, "messages": box.messages,
                "capabilities": sorted(box.capabilities & SHOWN_CAPABILITIES)}
