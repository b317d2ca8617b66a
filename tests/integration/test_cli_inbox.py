"""``relance replies mailbox|fetch|receive|list|show|confirm|attach|dismiss|undo|accuracy`` from a
data folder, against a real Dovecot; ``relance doctor`` says when the mailbox cannot be read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import imap_server as imap_fixtures
from tests.integration.test_cli import (
    CSV,
    ok,
    own,
    pytestmark,  # noqa: F401  (SQLite pass only)
    relance,
)

dovecot, imap_server = imap_fixtures.dovecot, imap_fixtures.imap_server

REPLY = (
    "From: Claire Lemoine <compta@boulangerie-lemoine.example>\r\nTo: recouvrement@atelier-dubois.test\r\n"
    "Subject: RE: votre relance\r\nDate: Mon, 07 Dec 2026 10:00:00 +0100\r\nMessage-ID: <{n}@boulangerie.test>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n")


def message(n: int, body: str) -> bytes:
    return REPLY.format(n=n, body=body).encode()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    ok(relance("--dir", folder, "migrate", "--verbosity", "0", cwd=tmp_path))
    ok(relance("--dir", folder, "shell", "-c", "from tests.builders import make_org; make_org()", cwd=tmp_path))
    for name in ("clients.csv", "factures.csv"):
        ok(own(folder, "import", CSV / name))
    return folder


def js(*args: str | Path, data: Path, code: int = 0, env: dict[str, str] | None = None) -> object:
    if env:
        os.environ.update(env)
    try:
        return json.loads(ok(own(data, "replies", *args, "--json"), code).stdout)
    finally:
        for key in env or {}:
            os.environ.pop(key, None)


def test_configure_fetch_and_handle_replies(data_dir: Path, imap_server: imap_fixtures.ImapAccount) -> None:
    shown = js("mailbox", "--host", imap_server.host, "--port", str(imap_server.port), "--security", "none",
               "--user", imap_server.user, "--password-env", "TEST_IMAP_PASSWORD", "--test", data=data_dir,
               env={"TEST_IMAP_PASSWORD": imap_server.password})
    assert shown["test"]["messages"] == 0 and imap_server.password not in json.dumps(shown)
    imap_server.append(message(1, "Bonjour, je vous règle le 18 décembre."))
    imap_server.append(message(2, "Le montant ne correspond pas au devis, merci de corriger."))
    report = js("fetch", data=data_dir)
    assert (report["stored"], report["applied"], report["to_review"], report["error"]) == (2, 1, 1, "")
    assert js("fetch", data=data_dir)["stored"] == 0
    listing = js("list", data=data_dir)
    assert [r["state"] for r in listing] == ["a_traiter", "traitee"]  # what waits for a person first
    waiting = listing[0]
    assert waiting["category"] == "litige" and waiting["customer"] == "C001"
    # no invoice named: confirming the dispute needs « all invoices »
    refused = own(data_dir, "replies", "confirm", str(waiting["id"]))
    assert refused.returncode != 0 and "aucune facture" in refused.stderr
    done = js("confirm", str(waiting["id"]), "--category", "non_recu", data=data_dir)
    assert (done["state"], done["predicted"], done["category"]) == ("traitee", "litige", "non_recu")
    undone = js("undo", str(waiting["id"]), data=data_dir)
    assert undone["state"] == "a_traiter" and undone["effect"] == {}
    dismissed = js("dismiss", str(waiting["id"]), data=data_dir)
    assert dismissed["state"] == "classee"
    accuracy = js("accuracy", data=data_dir)
    assert accuracy["reviewed"] == 1 and accuracy["corrections"] == [
        {"predicted": "litige", "kept": "non_recu", "count": 1}]
    shown = js("show", str(listing[1]["id"]), data=data_dir)
    assert shown["promised_date"] == "2026-12-18" and shown["evidence"]


def test_a_file_received_by_hand_and_attached(data_dir: Path, tmp_path: Path) -> None:
    eml = tmp_path / "transfere.eml"
    eml.write_bytes(message(3, "Bien reçu, merci.").replace(b"compta@boulangerie-lemoine.example",
                                                            b"inconnu@ailleurs.test"))
    [received] = js("receive", eml, data=data_dir)
    assert received["created"] and received["state"] == "a_rattacher" and received["customer"] is None
    [again] = js("receive", eml, data=data_dir)
    assert not again["created"] and again["id"] == received["id"]
    attached = js("attach", str(received["id"]), "C002", data=data_dir)
    assert (attached["state"], attached["customer"], attached["attached_by"]) == ("a_traiter", "C002", "person")


def test_a_mailbox_that_refuses_the_password_is_a_doctor_problem(data_dir: Path,
                                                                imap_server: imap_fixtures.ImapAccount) -> None:
    js("mailbox", "--host", imap_server.host, "--port", str(imap_server.port), "--security", "none",
       "--user", imap_server.user, "--password-env", "TEST_IMAP_PASSWORD", data=data_dir,
       env={"TEST_IMAP_PASSWORD": "mauvais"})
    failed = js("fetch", data=data_dir, code=1)
    assert "mot de passe" in failed["error"] or "identifiant" in failed["error"]
    doctor = json.loads(own(data_dir, "doctor", "--json").stdout)
    [check] = [c for c in doctor["checks"] if c["key"] == "mailbox"]
    assert not check["ok"] and "mauvais" not in check["message"]
