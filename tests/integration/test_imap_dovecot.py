"""``relance.replies.imap`` against a real Dovecot (tests/imap_server.py): incremental reading by
UID, the mailbox left untouched (no \\Seen, EXAMINE), UIDVALIDITY, oversized messages, moving to
« Traité » with MOVE or without it, and every way a connection fails, in French."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from relance.replies.imap import Fetched, ImapSettings, MailboxUnavailable, check, open_mailbox
from tests import imap_server as imap_fixtures
from tests.imap_server import DovecotServer, ImapAccount, free_port, require_dovecot

dovecot, imap_server = imap_fixtures.dovecot, imap_fixtures.imap_server  # the fixtures

pytestmark = pytest.mark.e2e


def message(n: int, body: bytes = b"") -> bytes:
    return (f"From: Client {n} <client{n}@example.fr>\r\nTo: relances@example.fr\r\n"
            f"Subject: =?utf-8?q?R=C3=A9ponse_{n}?=\r\nMessage-ID: <{n}@example.fr>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\r\n").encode() + (body or f"Je paierai vendredi ({n}).\r\n".encode())


def read(settings: ImapSettings, after_uid: int = 0, **options: int) -> list[Fetched]:
    with open_mailbox(settings) as box:
        return list(box.new_messages(after_uid, **options))


def test_only_the_messages_after_the_last_uid_read(imap_server: ImapAccount):
    first = [imap_server.append(message(n)) for n in (1, 2, 3)]
    fetched = read(imap_server.settings())
    assert [f.uid for f in fetched] == first
    assert [f.raw for f in fetched] == [message(n) for n in (1, 2, 3)]
    assert all(f.size == len(f.raw) and not f.truncated and f.problem == "" for f in fetched)

    later = [imap_server.append(message(n)) for n in (4, 5)]
    fetched = read(imap_server.settings(), after_uid=first[-1])
    assert [f.uid for f in fetched] == later
    assert [f.raw for f in fetched] == [message(4), message(5)]


def test_nothing_new_although_the_server_answers_the_last_message(imap_server: ImapAccount):
    uids = [imap_server.append(message(n)) for n in (1, 2)]
    with imap_server.session() as conn:  # the quirk itself: « UID n:* » includes the highest UID even below n
        conn.select("INBOX", readonly=True)
        assert conn.uid("SEARCH", f"UID {uids[-1] + 1}:*")[1] == [str(uids[-1]).encode()]
    assert read(imap_server.settings(), after_uid=uids[-1]) == []
    assert read(imap_server.settings(), after_uid=uids[-1] + 100) == []
    assert [f.uid for f in read(imap_server.settings(), after_uid=uids[0])] == uids[1:]


def test_an_empty_folder_gives_nothing(imap_server: ImapAccount):
    assert read(imap_server.settings()) == []


def test_limit_and_increasing_order(imap_server: ImapAccount):
    uids = [imap_server.append(message(n)) for n in range(1, 8)]
    assert [f.uid for f in read(imap_server.settings(), limit=3)] == uids[:3]
    assert [f.uid for f in read(imap_server.settings(), after_uid=uids[2], limit=3)] == uids[3:6]
    assert [f.uid for f in read(imap_server.settings(), after_uid=uids[5], limit=3)] == uids[6:]
    assert read(imap_server.settings(), limit=0) == []


def test_reading_leaves_messages_unseen(imap_server: ImapAccount):
    unseen = imap_server.append(message(1))
    seen = imap_server.append(message(2), flags="\\Seen")
    assert len(read(imap_server.settings())) == 2
    assert "\\Seen" not in imap_server.flags("INBOX", unseen)
    assert "\\Seen" in imap_server.flags("INBOX", seen)
    assert check(imap_server.settings())["messages"] == 2
    assert "\\Seen" not in imap_server.flags("INBOX", unseen)


def test_the_folder_is_opened_read_only(imap_server: ImapAccount):
    uid = imap_server.append(message(1))
    with open_mailbox(imap_server.settings()) as box:
        box._conn.uid("STORE", str(uid), "+FLAGS", "(\\Flagged)")  # EXAMINE: the server ignores it
    assert "\\Flagged" not in imap_server.flags("INBOX", uid)


def test_uidvalidity_is_reported_and_changes_when_the_folder_is_rebuilt(imap_server: ImapAccount):
    imap_server.append(message(1))
    imap_server.append(message(2))
    with open_mailbox(imap_server.settings()) as box:
        before = box.uidvalidity
        assert box.messages == 2
    assert before == imap_server.uidvalidity() == check(imap_server.settings())["uidvalidity"]

    imap_server.recreate_folder("INBOX")
    with open_mailbox(imap_server.settings()) as box:
        assert box.uidvalidity != before
        assert [f.raw for f in box.new_messages(0)] == [message(1), message(2)]


def test_an_oversized_message_is_read_as_its_header(imap_server: ImapAccount):
    limit = 1024 * 1024
    small = imap_server.append(message(1))
    big = imap_server.append(message(2, (b"A" * 998 + b"\r\n") * 1600))
    after = imap_server.append(message(3))
    fetched = {f.uid: f for f in read(imap_server.settings(), max_bytes=limit)}
    assert sorted(fetched) == [small, big, after]
    oversized = fetched[big]
    assert oversized.truncated and oversized.size > limit
    assert oversized.raw == message(2).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert oversized.problem == "message de 1,5 Mo, au-delà de la limite de 1 Mo : seul son en-tête est lu"
    assert not fetched[small].truncated and fetched[after].raw == message(3)
    assert "\\Seen" not in imap_server.flags("INBOX", big)


def test_processed_messages_move_to_an_accented_folder_created_on_demand(imap_server: ImapAccount):
    uids = [imap_server.append(message(n)) for n in (1, 2, 3, 4)]
    assert "Traité" not in imap_server.folders()
    settings = imap_server.settings(processed_folder="Traité")
    with open_mailbox(settings) as box:
        assert "MOVE" in box.capabilities
        done = [f.uid for f in box.new_messages(0) if f.uid in (uids[0], uids[2])]
        box.move_processed(done)
        box.move_processed([])  # nothing to do
    assert "Traité" in imap_server.folders()  # stored as « Trait&AOk- » (modified UTF-7)
    assert imap_server.folder_uids("INBOX") == [uids[1], uids[3]]
    assert len(imap_server.folder_uids("Traité")) == 2

    with open_mailbox(settings) as box:  # the folder exists now: moved into as it is
        box.move_processed([uids[1]])
    assert imap_server.folder_uids("INBOX") == [uids[3]]
    assert len(imap_server.folder_uids("Traité")) == 3


def test_without_move_only_the_given_messages_are_expunged(imap_server: ImapAccount):
    """COPY, \\Deleted, UID EXPUNGE (UIDPLUS): a message the user marked deleted stays there."""
    done = imap_server.append(message(1))
    kept = imap_server.append(message(2))
    marked_by_user = imap_server.append(message(3), flags="\\Deleted")
    with open_mailbox(imap_server.settings(processed_folder="Traité")) as box:
        box.capabilities = box.capabilities - {"MOVE"}
        box.move_processed([done])
    assert imap_server.folder_uids("INBOX") == [kept, marked_by_user]
    assert len(imap_server.folder_uids("Traité")) == 1


def test_without_move_nor_uidplus_the_originals_stay_marked_deleted(imap_server: ImapAccount):
    done = imap_server.append(message(1))
    kept = imap_server.append(message(2))
    with open_mailbox(imap_server.settings(processed_folder="Traité")) as box:
        box.capabilities = box.capabilities - {"MOVE", "UIDPLUS"}
        box.move_processed([done])
    assert imap_server.folder_uids("INBOX") == [done, kept]  # no EXPUNGE at all
    assert "\\Deleted" in imap_server.flags("INBOX", done)
    assert "\\Deleted" not in imap_server.flags("INBOX", kept)
    assert len(imap_server.folder_uids("Traité")) == 1


def test_nothing_moves_without_a_processed_folder(imap_server: ImapAccount):
    uid = imap_server.append(message(1))
    with open_mailbox(imap_server.settings()) as box:
        box.move_processed([uid])
    assert imap_server.folder_uids("INBOX") == [uid]
    assert imap_server.folders() == {"INBOX"}


def test_nested_processed_folder_uses_the_server_delimiter(imap_server: ImapAccount):
    uid = imap_server.append(message(1))
    with open_mailbox(imap_server.settings(processed_folder="Archives/Réglé")) as box:
        box.move_processed([uid])
    assert "Archives.Réglé" in imap_server.folders()  # Dovecot’s Maildir++ delimiter is « . »
    assert imap_server.folder_uids("INBOX") == []


def test_an_accented_folder_is_read(imap_server: ImapAccount):
    uid = imap_server.append(message(1), folder="Réponses & relances")
    assert "Réponses & relances" in imap_server.folders()
    fetched = read(imap_server.settings(folder="Réponses & relances"))
    assert [(f.uid, f.raw) for f in fetched] == [(uid, message(1))]


def test_a_missing_folder(imap_server: ImapAccount):
    with pytest.raises(MailboxUnavailable) as caught:
        check(imap_server.settings(folder="Réponses"))
    assert caught.value.reason == "folder"
    assert f"{imap_server.host}:{imap_server.port}" in str(caught.value)
    assert "dossier « Réponses » introuvable" in str(caught.value)


def test_check_reports_the_folder(imap_server: ImapAccount):
    imap_server.append(message(1))
    result = check(imap_server.settings())
    assert result["messages"] == 1 and result["uidvalidity"] > 0
    assert {"IMAP4REV1", "MOVE", "UIDPLUS"} <= set(result["capabilities"])


def test_a_wrong_password_is_said_in_french_without_the_password(imap_server: ImapAccount):
    wrong = "Faux-Mot-De-Passe-42"
    with pytest.raises(MailboxUnavailable) as caught:
        check(imap_server.settings(password=wrong))
    text = str(caught.value)
    assert caught.value.reason == "auth"
    assert text.startswith(f"boîte aux lettres IMAP {imap_server.host}:{imap_server.port} : "
                           "identifiant ou mot de passe refusé")
    assert wrong not in text and imap_server.password not in text
    assert wrong not in repr(imap_server.settings(password=wrong))


def test_a_non_ascii_password_logs_in_with_sasl_plain(dovecot: DovecotServer):
    account = dovecot.add_user(password="mot-de-passe-réglé")
    assert check(account.settings())["messages"] == 0


def test_a_refused_connection():
    port = free_port()
    settings = ImapSettings(host="127.0.0.1", port=port, security="none", username="u", password="p", timeout=5)
    with pytest.raises(MailboxUnavailable) as caught:
        check(settings)
    assert caught.value.reason == "refused"
    assert str(caught.value) == (f"boîte aux lettres IMAP 127.0.0.1:{port} : "
                                 "connexion refusée (aucun serveur IMAP n’écoute sur ce port)")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        yield server.getsockname()[1]


def test_a_server_that_never_answers(silent_port: int):
    settings = ImapSettings(host="127.0.0.1", port=silent_port, security="none", username="u", password="p",
                            timeout=0.5)
    with pytest.raises(MailboxUnavailable) as caught:
        check(settings)
    assert caught.value.reason == "timeout"
    assert "délai dépassé (0.5 s sans réponse)" in str(caught.value)


def test_implicit_tls_with_the_servers_certificate(imap_server: ImapAccount):
    imap_server.append(message(1))
    settings = imap_server.settings(security="ssl", port=imap_server.tls_port, cafile=imap_server.cafile)
    assert check(settings)["messages"] == 1
    assert [f.raw for f in read(settings)] == [message(1)]


def test_implicit_tls_refuses_an_unknown_certificate(imap_server: ImapAccount):
    with pytest.raises(MailboxUnavailable) as caught:
        check(imap_server.settings(security="ssl", port=imap_server.tls_port))
    assert caught.value.reason == "certificate"
    assert "certificat du serveur auto-signé et non reconnu" in str(caught.value)


def test_starttls(imap_server: ImapAccount):
    imap_server.append(message(1))
    settings = imap_server.settings(security="starttls", cafile=imap_server.cafile)
    assert [f.raw for f in read(settings)] == [message(1)]
    with pytest.raises(MailboxUnavailable) as caught:
        check(imap_server.settings(security="starttls"))
    assert caught.value.reason == "certificate"


def test_tls_against_the_plain_port(imap_server: ImapAccount):
    with pytest.raises(MailboxUnavailable) as caught:
        check(imap_server.settings(security="ssl", cafile=imap_server.cafile))
    assert caught.value.reason == "tls"
    assert "échec TLS" in str(caught.value)


def test_an_unreadable_cafile(imap_server: ImapAccount, tmp_path):
    with pytest.raises(MailboxUnavailable) as caught:
        check(imap_server.settings(security="ssl", port=imap_server.tls_port, cafile=str(tmp_path / "absent.pem")))
    assert caught.value.reason == "certificate"
    assert "absent.pem" in str(caught.value)


def test_a_connection_cut_while_reading(imap_server: ImapAccount):
    """The server goes away mid-session: MailboxUnavailable, not an imaplib or socket error."""
    imap_server.append(message(1))
    imap_server.append(message(2))
    with pytest.raises(MailboxUnavailable) as caught, open_mailbox(imap_server.settings()) as box:
        messages = box.new_messages(0)
        next(messages)
        box._conn.sock.shutdown(socket.SHUT_RDWR)
        next(messages)
    assert caught.value.reason in ("network", "protocol")


def test_settings_are_checked():
    with pytest.raises(ValueError, match="sécurité IMAP « tls » inconnue"):
        ImapSettings(host="h", port=993, security="tls", username="u", password="p")
    with pytest.raises(ValueError, match="« folder » invalide"):
        ImapSettings(host="h", port=993, security="ssl", username="u", password="p", folder="INBOX\r\nDELETE x")


def living_processes_of_group(group: int) -> list[int]:
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            alive.append(int(stat.parent.name))
    return alive


def test_a_stopped_server_leaves_no_process():
    """Stopped with a client still connected, Dovecot leaves no process of its group behind."""
    require_dovecot()
    server = DovecotServer().start()
    assert server.process is not None
    group = server.process.pid
    assert living_processes_of_group(group)
    account = server.add_user()
    with account.session() as conn:
        conn.select("INBOX", readonly=True)
        assert len(living_processes_of_group(group)) > 1
        server.stop()
    assert living_processes_of_group(group) == []
    assert not server.root.exists()
