"""``relance doctor`` and ``relance run`` as real processes on their own data folder (the
installed console script, as in test_cli.py): exit codes 9 and 11, the French lines, and the
emails left planned when the SMTP server does not answer."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_cli import (  # noqa: F401  (fixtures)
    RELANCE,
    cli_env,
    loaded,
    loaded_template,
    ok,
    rows,
    template,
)
from tests.smtp_server import free_port

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
                                reason="the CLI tests use their own SQLite folder: they run in the SQLite pass")


def smtp_cli(data_dir: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``relance --dir D …`` configured for an SMTP server on loopback ``port``."""
    env = {**cli_env(), "RELANCE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
           "RELANCE_EMAIL_HOST": "127.0.0.1", "RELANCE_EMAIL_PORT": str(port), "RELANCE_EMAIL_TIMEOUT": "3"}
    return subprocess.run([str(RELANCE), "--dir", str(data_dir), *args], cwd=data_dir.parent, env=env,
                          capture_output=True, encoding="utf-8", timeout=120, check=False)


def test_doctor_and_run_without_an_smtp_server(loaded):  # noqa: F811
    port = free_port()  # nothing listens there
    doctor = ok(smtp_cli(loaded, port, "doctor"), 9)
    assert f"PROBLÈME · le serveur SMTP 127.0.0.1:{port} ne répond pas" in doctor.stdout
    assert "problème" in doctor.stderr and "Traceback" not in doctor.stderr

    run = ok(smtp_cli(loaded, port, "run", "--date", "2026-11-23", "--no-queue", "--json"), 11)
    data = json.loads(run.stdout)
    assert data["held"]["email"]["count"] == 1
    assert "ne sont pas parties" in run.stderr
    assert sorted(rows(loaded, "SELECT channel, status, attempts FROM dunning_reminder")) == [
        ("email", "planned", 0), ("letter", "sent", 1)]  # the email never claimed; the letter made
