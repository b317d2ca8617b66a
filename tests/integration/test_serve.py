"""``relance serve`` as a real process on a migrated data folder: gunicorn serves the login page and
the static files (whitenoise); ``--dev`` keeps Django's development server (the demo)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.test_cli import RELANCE, cli_env

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
                                reason="the server runs on its own SQLite folder: in the SQLite pass")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped (code {process.returncode})")
        try:
            get(url)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise AssertionError(f"no answer from {url} in {seconds} s")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve") / "donnees"
    done = subprocess.run([str(RELANCE), "--dir", str(folder), "migrate", "-v0"], env=cli_env(), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.mark.parametrize("mode", ["gunicorn", "dev"])
def test_serve_answers_the_login_page_and_static_files(data_dir: Path, mode: str) -> None:
    port = free_port()
    env = cli_env() | {"RELANCE_SECRET_KEY": "a-test-only-secret-key-" + "x" * 40}
    args = [str(RELANCE), "--dir", str(data_dir), "serve", "--port", str(port)]
    args += ["--dev"] if mode == "dev" else ["--workers", "2"]
    log = data_dir / f"serve-{mode}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/accounts/login/", server)
        status, kind, body = get(f"{base}/accounts/login/")
        assert status == 200 and kind.startswith("text/html")
        assert b'name="password"' in body and b"relance/relance.css" in body
        status, kind, css = get(f"{base}/static/relance/relance.css")
        source = Path(__file__).resolve().parents[2] / "src/relance/web/static/relance/relance.css"
        assert status == 200 and kind.startswith("text/css") and css == source.read_bytes()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    text = log.read_text(encoding="utf-8", errors="replace")
    if mode == "gunicorn":
        assert "gunicorn" in text and "Booting worker" in text
    else:
        assert "serveur de développement" in text
