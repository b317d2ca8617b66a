"""``relance writing check FILE|- [--lang fr|en] [--org ORG] [--html] --json``: a report that exits 0
even when it finds problems, 2 on bad input (a missing file, bytes that are not UTF-8), naming the file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.test_cli import (
    cli_env,
    ok,
    own,
    pytestmark,  # noqa: F401  (SQLite pass only)
    relance,
)

LETTER = ("Madame Lefèvre,\n\nVos factures F-2026-0042 et FA2026/001 restent impayé : merci de régler "
          "1\u202f234,56\u00a0€ sur l’IBAN FR76 3000 6000 0112 3456 7890 189 (article L441-10).\n\nCordialemment,\n")


def check(tmp_path: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    if stdin is None:
        return own(tmp_path / "d", "writing", "check", *args)
    import sys

    command = [str(Path(sys.executable).parent / "relance"), "--dir", str(tmp_path / "d"), "writing", "check", *args]
    done = subprocess.run(command, input=stdin, cwd=tmp_path, env=cli_env(), capture_output=True, timeout=120,
                          check=False)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def test_problems_are_reported_with_exit_0(tmp_path: Path):
    letter = tmp_path / "lettre.txt"
    letter.write_text(LETTER, encoding="utf-8")
    data = json.loads(ok(check(tmp_path, str(letter), "--json")).stdout)
    found = {(p["kind"], p["text"]) for p in data["problems"]}
    assert ("orthographe", "Cordialemment") in found
    assert ("orthographe", "Lefèvre") in found  # no organisation given: the name is unknown
    assert ("grammaire", "impayé") in found
    assert ("typographie", " :") in found
    assert len(found) == 4, data  # nothing on the invoice numbers, the amount, the IBAN, L441-10
    first = data["problems"][0]
    assert set(first) >= {"text", "offset", "kind", "message", "suggestions"}
    assert LETTER[first["offset"]:first["offset"] + len(first["text"])] == first["text"]
    spelling = next(p for p in data["problems"] if p["text"] == "Cordialemment")
    assert spelling["suggestions"][0] == "Cordialement"


def test_standard_input_english_and_a_readable_summary(tmp_path: Path):
    text = "Dear Ms Smith, your invoice INV-2026-0042 is overdue ; please pay £1,200.00 by 23 November 2026.\n"
    data = json.loads(ok(check(tmp_path, "-", "--lang", "en", "--json", stdin=text.encode())).stdout)
    assert [(p["kind"], p["text"]) for p in data["problems"]] == [("typographie", " ;")]
    clean = ok(check(tmp_path, "-", stdin="La facture F-2026-0042 est réglée.\n".encode()))
    assert clean.stdout.strip() == "Aucun problème trouvé."


def test_bad_input_exits_2_with_a_french_message_naming_the_file(tmp_path: Path):
    missing = ok(check(tmp_path, str(tmp_path / "absent.txt"), "--json"), 2)
    assert "absent.txt : fichier introuvable" in missing.stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Échéance dépassée".encode("latin-1"))
    bad = ok(check(tmp_path, str(latin1)), 2)
    assert "latin1.txt" in bad.stderr and "UTF-8" in bad.stderr
    assert ok(check(tmp_path, "-", stdin=b"\xff\xfe\x00"), 2).stderr.startswith("relance : entrée standard")


def test_the_organisation_knows_its_customers_names_and_words(tmp_path: Path):
    base = tmp_path
    data_dir = base / "d"
    ok(relance("--dir", data_dir, "migrate", "--verbosity", "0", cwd=base))
    setup = ("from tests.builders import make_org, make_customer; from relance.ledger.models import Contact; "
             "org = make_org(accepted_words='Vitrolux\\nbrossage'); c = make_customer(org, 'C1', 'Garage Kowalczyk'); "
             "Contact.objects.create(organisation=org, customer=c, last_name='Lefèvre', first_name='Élodie')")
    ok(relance("--dir", data_dir, "shell", "-c", setup, cwd=base))
    letter = tmp_path / "lettre.txt"
    letter.write_text("Madame Lefèvre, le brossage Vitrolux du Garage Kowalczyk reste à régler.\n", encoding="utf-8")
    assert json.loads(ok(check(tmp_path, str(letter), "--org", "atelier", "--json")).stdout) == {"problems": []}
    without = json.loads(ok(check(tmp_path, str(letter), "--json")).stdout)["problems"]
    assert {"Lefèvre", "Vitrolux", "Kowalczyk"} <= {p["text"] for p in without}
    assert ok(check(tmp_path, str(letter), "--org", "inconnue"), 3).stderr.startswith("relance : organisation")
