"""Hostile input at the door (issue #11, docs/security.md): login throttling and lockout, the public
secret key refused by the web server, Secure cookies and HSTS over HTTPS, the Content-Security-Policy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from relance.datadir import DEMO_MARKER
from relance.errors import InvalidInput
from relance.security import check_secret_key
from relance.web.csp import POLICY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_user() -> User:
    return User.objects.create_superuser("demo", "demo@example.test", "demo")


def _post(client: Client, username: str, password: str, addr: str = "203.0.113.7") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=addr)


def test_demo_login_works(client: Client, demo_user: User) -> None:
    response = _post(client, "demo", "demo")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(demo_user.pk)


def test_forty_wrong_passwords_in_a_minute_are_refused_after_the_limit(
        client: Client, demo_user: User, settings: Any, pinned_clock: time_machine.Traveller) -> None:
    statuses = []
    for _ in range(40):  # 40 attempts within one minute (1.5 s apart on the pinned clock)
        statuses.append(_post(client, "demo", "mauvais").status_code)
        pinned_clock.shift(timedelta(seconds=1.5))
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, « identifiant ou mot de passe incorrect »
    assert set(statuses[limit:]) == {429}
    locked = _post(client, "demo", "demo")  # the right password during the lockout: refused too
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Trop de tentatives de connexion échouées" in text and "15 minutes" in text
    assert "_auth_user_id" not in client.session
    # another address is not locked out (the lock is per username and address)
    assert _post(Client(), "demo", "demo", addr="198.51.100.9").status_code == 302
    # after the cool-off the right password works again
    pinned_clock.shift(settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
    assert _post(client, "demo", "demo").status_code == 302


def test_lockout_page_in_english(client: Client, demo_user: User, settings: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post(client, "demo", "mauvais")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = _post(client, "demo", "demo")
    assert response.status_code == 429 and "Too many failed login attempts" in response.content.decode()


# --------------------------------------------------------------------------- production defaults


def test_public_secret_key_refused_outside_the_demo(settings: Any, tmp_path: Path) -> None:
    settings.SECRET_KEY = settings.DEMO_SECRET_KEY
    settings.DEBUG = False
    settings.DATA_DIR = tmp_path
    with pytest.raises(InvalidInput, match="RELANCE_SECRET_KEY"):
        check_secret_key()
    (tmp_path / DEMO_MARKER).write_text("demo")
    check_secret_key()  # the demo folder may use it


def test_public_secret_key_accepted_in_debug_and_own_key_accepted(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    settings.SECRET_KEY = settings.DEMO_SECRET_KEY
    settings.DEBUG = True
    check_secret_key()
    settings.DEBUG = False
    settings.SECRET_KEY = "une-vraie-clé-secrète-de-production-" + "x" * 30
    check_secret_key()


def test_relance_serve_refuses_the_public_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str], settings: Any) -> None:
    from relance.cli import commands

    settings.SECRET_KEY = settings.DEMO_SECRET_KEY
    settings.DEBUG = False
    settings.DATA_DIR = tmp_path
    started: list[str] = []
    monkeypatch.setattr("django.core.management.call_command", lambda *a, **k: started.append(a[0]))
    with pytest.raises(InvalidInput):
        commands.cmd_serve(type("Args", (), {"host": "127.0.0.1", "port": 8000})())
    assert started == []


def test_demo_command_marks_its_folder(tmp_path: Path) -> None:
    from relance.cli.demo_setup import prepare_demo_dir

    prepare_demo_dir(tmp_path / "demo-output")
    assert (tmp_path / "demo-output" / DEMO_MARKER).exists()


def test_content_security_policy_on_pages(client: Client, demo_user: User) -> None:
    response = client.get(LOGIN)
    assert response["Content-Security-Policy"] == POLICY
    assert "script-src 'self'" in POLICY and "'unsafe-eval'" not in POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.content.decode()


def test_no_inline_script_in_any_template() -> None:
    """script-src 'self': an inline <script> or on…= handler would be blocked by the browser."""
    import re

    root = Path(__file__).resolve().parents[2] / "src" / "relance"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html")
                 if re.search(r"<script(?![^>]*\bsrc=)|\son(click|change|submit|load|input)=", p.read_text("utf-8"))]
    assert offenders == []


def test_https_settings_secure_cookies_and_hsts(tmp_path: Path) -> None:
    """RELANCE_HTTPS=1: the settings module, loaded afresh, turns on Secure cookies, HSTS and the redirect."""
    import subprocess
    import sys

    code = ("import relance.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)")
    env = {"RELANCE_HTTPS": "1", "RELANCE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[:4] == ["True", "True", "31536000", "True"]
    env.pop("RELANCE_HTTPS")
    out = subprocess.run([sys.executable, "-c", "import relance.settings as s; print(hasattr(s, 'SECURE_HSTS_SECONDS'))"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hsts_header_and_secure_cookie_over_https(client: Client, demo_user: User, settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.post(LOGIN, {"username": "demo", "password": "demo"}, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 302
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True


# --------------------------------------------------------------------------- customer-list filters


@pytest.mark.parametrize("query", [
    "min=NaN", "min=nan", "min=sNaN", "min=inf", "min=-Infinity", "min=1e999999", "min=99999999999999999999",
    "min=-1e30", "retard=99999999999999999999999", "retard=10000000", "profil=99999999999999999999999",
    "min=NaN&retard=1e9&tri=du",
])
def test_customer_filters_with_nan_or_huge_numbers_answer_400(client: Client, query: str) -> None:
    from tests.builders import bare_org, make_user

    org = bare_org("alpha", "Alpha Conseil")
    client.force_login(make_user("alice", org))
    for ordering in ("nom", "du", "retard"):
        response = client.get(f"/clients/?{query}&tri={ordering}")
        assert response.status_code == 400, query
        assert "le filtre est ignoré" in response.content.decode() or "n’existe pas" in response.content.decode()


def test_customer_filters_in_bounds_still_work(client: Client) -> None:
    from tests.builders import bare_org, make_user

    org = bare_org("alpha", "Alpha Conseil")
    client.force_login(make_user("alice", org))
    for query in ("min=1000000000000", "min=-5", "retard=36600", "min=1%20000,50&retard=30", "profil=12", "min=abc"):
        assert client.get(f"/clients/?{query}").status_code == 200, query


def test_behind_the_https_proxy_the_lockout_counts_the_forwarded_address(
        client: Client, demo_user: User, settings: Any) -> None:
    settings.HTTPS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxy = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}
    for _ in range(settings.AXES_FAILURE_LIMIT):  # an attacker, whatever X-Forwarded-For it sends itself
        client.post(LOGIN, {"username": "demo", "password": "x"}, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.66",
                    **proxy)
    assert client.post(LOGIN, {"username": "demo", "password": "demo"}, HTTP_X_FORWARDED_FOR="203.0.113.66",
                       **proxy).status_code == 429
    other = Client()  # the real user, from another address through the same proxy, is not locked out
    assert other.post(LOGIN, {"username": "demo", "password": "demo"}, HTTP_X_FORWARDED_FOR="198.51.100.20",
                      **proxy).status_code == 302
