"""``relance replies classify``: real .eml files as mail clients write them (quoted-printable
Latin-1, base64 UTF-8, HTML only, multipart with a PDF, malformed), text on stdin, exit codes."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import time_machine

from relance.cli.main import main
from tests.integration.test_cli import (
    RELANCE,
    cli_env,
    own,
    pytestmark,  # noqa: F401  (SQLite pass only)
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"


def classify(tmp_path: Path, *args: str):
    return own(tmp_path / "d", "replies", "classify", *args)


def test_eml_files_of_every_encoding(tmp_path):
    expected = {
        "promesse_qp_latin1.eml": ("promesse", "2026-12-11", None),
        "deja_paye_base64_utf8.eml": ("deja_paye", None, None),
        "absence_html_only.eml": ("absence", None, "2026-12-14"),
        "litige_multipart_pdf.eml": ("litige", None, None),
    }
    for name, (category, promised, returned) in expected.items():
        result = classify(tmp_path, str(FIXTURES / name), "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert set(data) == {"category", "promised_date", "return_date", "confidence", "evidence"}
        assert (data["category"], data["promised_date"], data["return_date"]) == (category, promised, returned), name
        assert data["evidence"] and 0 <= data["confidence"] <= 1


def test_the_date_option_overrides_the_date_header(tmp_path):
    # received on Saturday 12 December: « vendredi 11 décembre » is past, so no promised date
    data = json.loads(classify(tmp_path, str(FIXTURES / "promesse_qp_latin1.eml"), "--date", "2026-12-12",
                               "--json").stdout)
    assert data["promised_date"] is None


def test_a_french_sentence_without_json(tmp_path):
    result = classify(tmp_path, str(FIXTURES / "promesse_qp_latin1.eml"))
    assert result.returncode == 0
    assert result.stdout.startswith("Réponse classée « promesse de paiement »")
    assert "Date promise : 11 décembre 2026." in result.stdout
    assert "« Je vous règle la facture F-2026-104 vendredi 11 décembre »" in result.stdout


def test_a_plain_text_body_on_stdin_and_autre_exits_0(tmp_path):
    (tmp_path / "d").mkdir()
    run = subprocess.run([str(RELANCE), "--dir", str(tmp_path / "d"), "replies", "classify", "-", "--date",
                          "2026-12-07", "--json"], input="Je vous paierai d’ici la fin du mois.".encode(),
                         env=cli_env(), capture_output=True, check=False, cwd=tmp_path)
    assert run.returncode == 0
    assert json.loads(run.stdout)["promised_date"] == "2026-12-31"
    other = classify(tmp_path, str(FIXTURES / "body_only.txt"), "--date", "2026-12-07", "--json")
    assert json.loads(other.stdout)["promised_date"] == "2026-12-08"
    (tmp_path / "thanks.txt").write_text("Merci, bonne journée.", encoding="utf-8")
    thanks = classify(tmp_path, str(tmp_path / "thanks.txt"), "--date", "2026-12-07", "--json")
    assert thanks.returncode == 0 and json.loads(thanks.stdout)["category"] == "autre"


def test_malformed_mime_missing_file_and_bad_date_exit_2(tmp_path):
    malformed = classify(tmp_path, str(FIXTURES / "malformed_mime.eml"))
    assert malformed.returncode == 2
    assert "malformed_mime.eml" in malformed.stderr and "structure MIME invalide" in malformed.stderr
    assert "Traceback" not in malformed.stderr
    missing = classify(tmp_path, str(tmp_path / "absent.eml"))
    assert missing.returncode == 2 and "absent.eml" in missing.stderr
    bad_date = classify(tmp_path, str(FIXTURES / "body_only.txt"), "--date", "07/12/2026")
    assert bad_date.returncode == 2 and "date invalide" in bad_date.stderr


def test_without_date_header_the_day_is_today(tmp_path, capsys):
    with time_machine.travel(datetime(2026, 12, 14, 9, 0, tzinfo=UTC), tick=False):
        (tmp_path / "friday.txt").write_text("Je vous règle vendredi.", encoding="utf-8")
        assert main(["replies", "classify", str(tmp_path / "friday.txt"), "--json"]) == 0  # no --dir: no env set
    assert json.loads(capsys.readouterr().out)["promised_date"] == "2026-12-18"
