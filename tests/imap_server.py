"""A real Dovecot IMAP server on loopback for the tests (Debian package dovecot-imapd).

One server for the session, from a configuration generated in a temporary folder: plain IMAP on a
free port (Dovecot offers STARTTLS on it), implicit TLS on another, with a self-signed certificate
for 127.0.0.1 made by ``openssl req``; Maildir storage, users in a passwd-file (PLAIN scheme), the
log in ``dovecot.log``. Run as root, the services drop to Debian’s ``dovecot``/``dovenull`` users
and the mail to ``nobody``; run as another user, everything runs as that user (no chroot).

Use in a test module::

    from tests import imap_server as imap_fixtures

    dovecot, imap_server = imap_fixtures.dovecot, imap_fixtures.imap_server  # the fixtures

    def test_x(imap_server):
        uid = imap_server.append(b"Subject: x\\r\\n\\r\\nbody\\r\\n")
        with open_mailbox(imap_server.settings()) as box: ...

``imap_server`` is a fresh user with an empty INBOX for every test; ``dovecot`` the server itself
(``dovecot.add_user()`` for a second mailbox, ``dovecot.log()`` to read what the server said).
"""

from __future__ import annotations

import atexit
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relance.replies.imap import ImapSettings, encode_mailbox_name

DOVECOT = Path("/usr/sbin/dovecot")
HOST = "127.0.0.1"
PASSWORD = 'mot de "passe" \\ 7'  # a space, a quote and a backslash: LOGIN must quote it
START_TIMEOUT = 20.0
POOL = 2000  # users written at start: a fresh mailbox per test without rewriting the passwd-file


def missing() -> str | None:
    """Why the server cannot run here, or None."""
    if not DOVECOT.exists():
        return f"Dovecot is not installed ({DOVECOT}): apt-get install dovecot-imapd"
    if shutil.which("openssl") is None:
        return "openssl is not installed (needed for the test certificate): apt-get install openssl"
    return None


def require_dovecot() -> None:
    """Skip without Dovecot; in CI (CI=true) fail instead, since CI installs it (.ci/run)."""
    problem = missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _mail_owner() -> tuple[int, int]:
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")  # Dovecot refuses to give mail access as root
    return nobody.pw_uid, nobody.pw_gid


def _service_users() -> tuple[str, str, str]:
    """(default_internal_user, its group, default_login_user)."""
    if os.getuid() != 0:
        me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
        return me, group, me

    def exists(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    internal = "dovecot" if exists("dovecot") else "nobody"
    return internal, grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name, "dovenull" if exists("dovenull") else "nobody"


CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
import_environment = {environment}
shutdown_clients = yes
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
disable_plaintext_auth = no
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
mail_location = maildir:~/Maildir
mailbox_list_index = no
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service anvil {{
  chroot =
  # No growing delay after failed logins from one IP (auth penalty): the tests fail logins on purpose.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
"""


@contextmanager
def _session(host: str, port: int, user: str, password: str) -> Iterator[imaplib.IMAP4]:
    """A plain connection for the helpers, logged in with SASL PLAIN (any password, even non-ASCII)."""
    conn = imaplib.IMAP4(host, port, timeout=10)
    try:
        typ, data = conn.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        assert typ == "OK", data
        yield conn
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            conn.shutdown()


def _name(folder: str) -> str:
    return '"' + encode_mailbox_name(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class ImapAccount:
    """One user of the server, with its helpers (each opens its own short session)."""

    server: DovecotServer
    user: str
    password: str
    home: Path

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def tls_port(self) -> int:
        return self.server.tls_port

    @property
    def cafile(self) -> str:
        return self.server.cafile

    def settings(self, **overrides: Any) -> ImapSettings:
        """Settings for the plain port (security « none »), overridable."""
        values: dict[str, Any] = {"host": self.host, "port": self.port, "security": "none",
                                  "username": self.user, "password": self.password, "timeout": 10}
        return ImapSettings(**(values | overrides))

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        with _session(self.host, self.port, self.user, self.password) as conn:
            yield conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Stores a message (the folder created if needed); its UID."""
        with self.session() as conn:
            typ, data = conn.append(_name(folder), flags or None, None, raw)
            if typ != "OK" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)):
                conn.create(_name(folder))
                typ, data = conn.append(_name(folder), flags or None, None, raw)
            assert typ == "OK", data
            code = conn.untagged_responses.get("APPENDUID", [b""])[-1]
            return int(bytes(code).split()[1])

    def _examine(self, conn: imaplib.IMAP4, folder: str) -> None:
        typ, data = conn.select(_name(folder), readonly=True)
        if typ != "OK":
            raise LookupError(f"folder {folder!r}: {data}")

    def folder_uids(self, folder: str = "INBOX") -> list[int]:
        """The UIDs in the folder (LookupError if it does not exist)."""
        with self.session() as conn:
            self._examine(conn, folder)
            _typ, data = conn.uid("SEARCH", "ALL")
            return sorted(int(w) for item in data if isinstance(item, bytes) for w in item.split())

    def flags(self, folder: str, uid: int) -> set[str]:
        """The flags of one message, read through EXAMINE (which changes none)."""
        with self.session() as conn:
            self._examine(conn, folder)
            _typ, data = conn.uid("FETCH", str(uid), "(FLAGS)")
            text = b" ".join(d for d in data if isinstance(d, bytes))
            found = re.search(rb"FLAGS \(([^)]*)\)", text)
            assert found, data
            return set(found.group(1).decode().split())

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.session() as conn:
            typ, data = conn.status(_name(folder), "(UIDVALIDITY)")
            found = re.search(rb"UIDVALIDITY (\d+)", b" ".join(d for d in data if isinstance(d, bytes)))
            assert typ == "OK" and found, data
            return int(found.group(1))

    def folders(self) -> set[str]:
        """The folder names, decoded (« Traité », not « Trait&AOk- »)."""
        from relance.replies.imap import decode_mailbox_name

        with self.session() as conn:
            _typ, data = conn.list('""', '"*"')
            names = set()
            for item in data:
                if isinstance(item, bytes):
                    found = re.match(rb'\([^)]*\) (?:"[^"]*"|NIL) "?(.*?)"?$', item)
                    if found:
                        names.add(decode_mailbox_name(found.group(1).decode()))
            return names

    def recreate_folder(self, folder: str = "INBOX") -> None:
        """Gives the folder a new UIDVALIDITY and its messages new UIDs, as a server does after
        its index is rebuilt or the folder deleted and restored: Dovecot’s UID list and indexes of
        the folder are removed, Dovecot builds them again at the next session. No session of this
        user may be open meanwhile."""
        before = self.uidvalidity(folder)
        maildir = self.home / "Maildir"
        if folder.upper() != "INBOX":
            maildir = maildir / ("." + encode_mailbox_name(folder).replace("/", "."))
        assert maildir.is_dir(), maildir
        for path in maildir.iterdir():
            if path.is_file() and (path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index")):
                path.unlink()
        for _ in range(50):  # UIDVALIDITY is a clock reading: it may need the next second
            if self.uidvalidity(folder) != before:
                return
            time.sleep(0.1)
            for path in maildir.iterdir():
                if path.is_file() and (path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index")):
                    path.unlink()
        raise AssertionError(f"UIDVALIDITY of {folder!r} unchanged")


class DovecotServer:
    """Dovecot in the foreground (``dovecot -F -c``), in its own process group so that nothing of
    it outlives ``stop()``."""

    def __init__(self) -> None:
        self.host = HOST
        self.root = Path(tempfile.mkdtemp(prefix="relance-dovecot-", dir="/tmp" if Path("/tmp").is_dir() else None))
        self.root.chmod(0o755)  # the mail user (nobody, when run as root) must reach its home
        self.cafile = str(self.root / "cert.pem")
        self.port = self.tls_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._users = 0

    def start(self) -> DovecotServer:
        try:
            for folder in ("run", "state", "home"):
                (self.root / folder).mkdir()
            if os.getuid() == 0:
                os.chown(self.root / "home", *_mail_owner())
            users = "".join(self._user_line(f"client{n}", PASSWORD) for n in range(1, POOL + 1))
            (self.root / "users").write_text(users)
            (self.root / "users").chmod(0o644)
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", str(self.root / "key.pem"), "-out", self.cafile, "-days", "3650",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           check=True, capture_output=True, timeout=60)
            for attempt in range(3):  # a free port may be taken between choosing it and Dovecot binding it
                self.port = free_port()
                while (tls_port := free_port()) == self.port:
                    pass
                self.tls_port = tls_port
                try:
                    self._launch()
                    return self
                except RuntimeError:
                    self.stop(remove=False)
                    if attempt == 2:
                        raise
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self) -> None:
        internal_user, internal_group, login_user = _service_users()
        environment = " ".join(["TZ", *sorted(n for n in os.environ if n == "LD_PRELOAD" or n.startswith("FAKETIME"))])
        config = self.root / "dovecot.conf"
        config.write_text(CONFIG.format(host=self.host, root=self.root, port=self.port, tls_port=self.tls_port,
                                        internal_user=internal_user, internal_group=internal_group,
                                        login_user=login_user, environment=environment))
        self.process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                raise RuntimeError(f"Dovecot exited ({self.process.returncode}): {output}\n{self.log()}")
            if self._answers(self.port, b"* OK") and self._answers(self.tls_port, b""):
                return
            time.sleep(0.05)
        raise RuntimeError(f"Dovecot did not answer on {self.host}:{self.port} within {START_TIMEOUT} s\n{self.log()}")

    def _answers(self, port: int, greeting: bytes) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=2) as s:
                return not greeting or s.recv(100).startswith(greeting)
        except OSError:
            return False

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, *, remove: bool = True) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()  # the master stops its services and their clients (shutdown_clients)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever of its group is left
            process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def _user_line(self, user: str, password: str) -> str:
        uid, gid = _mail_owner()
        return f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{self.root / 'home' / user}\n"

    def add_user(self, password: str = PASSWORD) -> ImapAccount:
        """A new user with an empty mailbox (Dovecot creates its home at the first login). With
        the usual password, one of the users written at start; with another, a line added to the
        passwd-file, which Dovecot reads again at most once a second: the first login is awaited."""
        assert ":" not in password and "\n" not in password
        self._users += 1
        if password == PASSWORD and self._users <= POOL:
            user = f"client{self._users}"
        else:
            user = f"custom{self._users}"
            users = self.root / "users"
            fresh = users.with_suffix(".new")
            fresh.write_text(users.read_text() + self._user_line(user, password))
            fresh.chmod(0o644)
            fresh.replace(users)
        account = ImapAccount(server=self, user=user, password=password, home=self.root / "home" / user)
        if user.startswith("custom"):
            time.sleep(1.05 - time.time() % 1)  # into the next second, when Dovecot may look at the file again
            deadline = time.monotonic() + 10
            while True:
                try:
                    with account.session():
                        break
                except imaplib.IMAP4.error:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        return account


_shared: DovecotServer | None = None
_holders = 0


def _release() -> None:
    global _shared, _holders
    _holders -= 1
    if _holders <= 0 and _shared is not None:
        server, _shared = _shared, None
        server.stop()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """The session’s Dovecot, shared by every module that imports this fixture."""
    global _shared, _holders
    require_dovecot()
    if _shared is None:
        _shared = DovecotServer().start()
        atexit.register(lambda: _shared.stop() if _shared is not None else None)
    _holders += 1
    try:
        yield _shared
    finally:
        _release()


@pytest.fixture
def imap_server(dovecot: DovecotServer) -> ImapAccount:
    """A fresh user, empty INBOX, password ``PASSWORD``."""
    return dovecot.add_user()
