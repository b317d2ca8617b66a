"""``relance doctor`` and the checks ``relance run`` makes first: each problem one French line
saying what to fix, a non-zero exit code, and the channels that would go out broken held back
(no SMTP server: emails not claimed; no letterhead: letters not made). Real SMTP servers on
loopback (aiosmtpd, with authentication), the real task queue table, the real data folder."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from relance.cli.main import main
from relance.dunning.models import Reminder
from relance.events.models import Event
from relance.ledger.models import Organisation
from relance.ledger.services.imports import import_file
from relance.operations import doctor, heartbeat
from relance.operations.models import DayRun
from relance.rates.services import add_rate
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write
from tests.smtp_server import RecordingHandler, SMTPServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)

DAY = "2026-11-23"  # the pinned clock's day (S2 2026: its rates are not in the shipped tables)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


class AuthServer:
    """aiosmtpd requiring AUTH (over plain text on loopback) for user « relance » / « secret »."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.logins: list[tuple[str, bool]] = []

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
            assert isinstance(auth_data, LoginPassword)
            ok = (auth_data.login, auth_data.password) == (b"relance", b"secret")
            self.logins.append((auth_data.login.decode(), ok))
            return AuthResult(success=ok, handled=False)  # a refusal answered 535 by the server

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                                     auth_require_tls=False, auth_required=True)

    def __enter__(self) -> AuthServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def use_smtp(settings: Any, port: int, user: str = "", password: str = "") -> None:
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = user, password
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 3


@pytest.fixture
def folders(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RELANCE_HEARTBEAT_DIR = tmp_path / "workers"
    settings.RELANCE_EML_DIR = str(tmp_path / "emails")
    settings.RELANCE_LETTER_DIR = str(tmp_path / "letters")
    return tmp_path


def add_semester_rates() -> None:
    add_rate("2026-S2", individual="6.67", other="2.76", ecb="2.15", source="arrêté du 19 juin 2026 (test)")


def run(capsys: Any, *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    out = captured.out
    return code, json.loads(out) if out.strip().startswith("{") else out, captured.err


def checks_by_key(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for c in data["checks"]:
        found.setdefault(c["key"], []).append(c)
    return found


# --------------------------------------------------------------------------- the checks one by one


def test_smtp_check_connects_authenticates_and_sends_nothing(settings, folders):
    with AuthServer() as server:
        use_smtp(settings, server.port, "relance", "secret")
        check = doctor.check_email()
        assert check.ok, check.message
        assert f"127.0.0.1:{server.port}" in check.message and "authentifié comme « relance »" in check.message
        assert server.logins == [("relance", True)] and server.handler.received == []

        use_smtp(settings, server.port, "relance", "mauvais")
        check = doctor.check_email()
        assert not check.ok and check.holds == ("email",)
        assert "refuse l’identifiant « relance » (535)" in check.message
        assert "RELANCE_EMAIL_USER et RELANCE_EMAIL_PASSWORD" in check.message
        assert server.handler.received == []


def test_starttls_without_auth_blames_the_missing_auth_not_starttls(settings, folders, tmp_path, monkeypatch):
    """EMAIL_USE_TLS on, the server offers STARTTLS (a real TLS handshake, a self-signed certificate trusted
    through SSL_CERT_FILE) but no AUTH: the message says AUTH is missing, not STARTTLS."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(RecordingHandler(), hostname="127.0.0.1", port=port, tls_context=context,
                            auth_exclude_mechanism=["LOGIN", "PLAIN"])  # no AUTH offered
    controller.start()
    try:
        use_smtp(settings, port, "relance", "secret")
        settings.EMAIL_USE_TLS = True
        check = doctor.check_email()
    finally:
        controller.stop()
    assert not check.ok and check.holds == ("email",)
    assert "ne propose pas d’authentification (AUTH) après STARTTLS" in check.message
    assert "ne propose pas STARTTLS" not in check.message


def test_smtp_down_is_a_problem_that_holds_the_emails(settings, folders):
    use_smtp(settings, free_port())  # nothing listens there
    check = doctor.check_email(timeout=2)
    assert not check.ok and check.holds == ("email",)
    assert "ne répond pas" in check.message and "RELANCE_EMAIL_HOST" in check.message
    assert "relance.channels.eml_backend.EmlBackend" in check.message  # the deliberate alternative


def test_the_eml_backend_chosen_on_purpose_is_said(settings, folders):
    settings.EMAIL_BACKEND = "relance.channels.eml_backend.EmlBackend"
    check = doctor.check_email()
    assert check.ok
    assert check.message.startswith(f"e-mails écrits en fichiers .eml dans {folders / 'emails'}, aucun ne part")


def test_organisation_without_letterhead_iban_or_sender(folders):
    org = make_org(address1="", signature_name="", iban="", sender_email="", reply_to_email="")
    checks = {c.key: c for c in doctor.check_organisation(org)}
    letterhead = checks["organisation.letterhead"]
    assert not letterhead.ok and letterhead.holds == ("letter", "registered_letter")
    assert "d’adresse postale complète" in letterhead.message and "de signataire" in letterhead.message
    assert f"/admin/ledger/organisation/{org.pk}/change/" in letterhead.message
    assert not checks["organisation.iban"].ok and "pas d’IBAN" in checks["organisation.iban"].message
    assert not checks["organisation.sender"].ok and checks["organisation.sender"].holds == ("email",)
    assert checks["organisation.sender"].message.startswith("pas d’adresse e-mail d’expédition (les e-mails ne partent")

    complete = make_org("complete")
    assert all(c.ok for c in doctor.check_organisation(complete))


def test_the_schedulers_last_day_failed_interrupted_or_missed(folders):
    org = make_org()
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert doctor.check_schedule(org, now).ok
    run_ = DayRun.objects.create(organisation=org, day=date(2026, 12, 7), status=DayRun.Status.FAILED,
                                 started_at=now, lease_until=now, error="base verrouillée")
    failed = doctor.check_schedule(org, now)
    assert not failed.ok and "la journée du 7 décembre 2026 a échoué (base verrouillée)" in failed.message
    run_.status, run_.lease_until, run_.worker = DayRun.Status.RUNNING, now - timedelta(minutes=1), "w1"
    run_.save()
    assert "interrompue (worker w1 arrêté)" in doctor.check_schedule(org, now).message
    run_.status, run_.missed_days = DayRun.Status.DONE, ["2026-12-03", "2026-12-04"]
    run_.save()
    done = doctor.check_schedule(org, now)
    assert done.ok and "7 décembre 2026, terminée ; 2 journée(s) manquée(s)" in done.message
    assert "3 décembre 2026, 4 décembre 2026" in done.message


def test_rates_of_the_current_semester(folders, pinned_clock):
    org = make_org()
    check = doctor.check_rates(org)
    assert not check.ok
    assert "2026-S2" in check.message and "relance rates add --semestre 2026-S2" in check.message
    assert "--bce" in check.message  # both tables are named
    assert "les mises en demeure et les intérêts en ont besoin" in check.message
    from tests.builders import make_customer
    from tests.integration.test_web import make_reminder

    make_reminder(make_customer(org, "C9", "Client 9"), [], status=Reminder.Status.FAILED,
                  last_error="taux manquant : Taux manquant pour le semestre 2026-S2")
    assert "(1 relance(s) en échec l’attendent et repartiront dès qu’il sera ajouté)" in doctor.check_rates(org).message
    add_semester_rates()
    check = doctor.check_rates(org)
    assert check.ok and "2026-S2" in check.message


def test_workers_alive_by_their_heartbeat_and_a_queue_nobody_takes(settings, folders, pinned_clock):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    check = doctor.check_workers(now)
    assert not check.ok and "aucun worker en vie" in check.message and "relance worker" in check.message

    heartbeat.beat("w1", now - timedelta(minutes=1))
    check = doctor.check_workers(now)
    assert check.ok and "1 worker(s) en vie (w1)" in check.message
    assert not doctor.check_workers(now + heartbeat.LIVE_WITHIN + timedelta(minutes=1)).ok  # it stopped beating

    from django_tasks_db.models import DBTaskResult, get_date_max

    DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="relance.dunning.tasks.x",
                                backend_name="default", run_after=get_date_max())
    later = now + timedelta(minutes=30)
    heartbeat.beat("w1", later)
    check = doctor.check_workers(later)
    assert not check.ok and "1 envoi(s) attendent dans la file depuis plus de 10 minutes" in check.message


def test_low_disk_space_is_a_problem(folders):
    [check] = doctor.check_disk([folders], minimum=2**62)
    assert not check.ok and "libres pour" in check.message and "libérez de la place" in check.message
    assert all(c.ok for c in doctor.check_disk([folders], minimum=1))


def test_heartbeat_is_a_file_replaced_atomically_and_forgotten_after_a_week(folders):
    at = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    path = heartbeat.beat("hôte/1", at)
    assert path is not None and path.parent == folders / "workers" and "/" not in path.name
    heartbeat.beat("hôte/1", at + timedelta(seconds=30))
    assert [b.at for b in heartbeat.beats(at + timedelta(minutes=1))] == [at + timedelta(seconds=30)]
    assert heartbeat.beats(at + timedelta(days=8)) == [] and not path.exists()


# --------------------------------------------------------------------------- relance doctor


def test_doctor_lists_each_problem_in_french_and_exits_9(settings, folders, capsys, pinned_clock):
    make_org(address1="", postal_code="", city="")
    use_smtp(settings, free_port())
    code, data, err = run(capsys, "doctor", "--json")
    assert code == 9
    assert data["ok"] is False
    keys = checks_by_key(data)
    assert [c["ok"] for c in keys["database"]] == [True]
    assert [c["ok"] for c in keys["email"]] == [False]
    assert [c["ok"] for c in keys["organisation.letterhead"]] == [False]
    assert [c["ok"] for c in keys["rates"]] == [False]
    assert any("ne répond pas" in p for p in data["problems"])
    assert any(p.startswith("[atelier] l’organisation n’a pas d’adresse postale complète") for p in data["problems"])
    assert "problèmes à corriger" in err

    code, text, _ = run(capsys, "doctor")
    assert code == 9
    assert "PROBLÈME · [atelier] l’organisation n’a pas d’adresse postale complète" in text


def test_doctor_exits_0_when_everything_is_ready(settings, folders, capsys, pinned_clock):
    make_org()
    add_semester_rates()
    settings.EMAIL_BACKEND = "relance.channels.eml_backend.EmlBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    heartbeat.beat("w1")
    code, text, _ = run(capsys, "doctor", "--org", "atelier")
    assert code == 0, text
    assert "PROBLÈME" not in text and text.strip().endswith("Tout est prêt.")


# --------------------------------------------------------------------------- relance run


@pytest.fixture
def day_of_two(folders: Path) -> Organisation:
    """C001 is chased by email, C003 (no address) by letter, both due on the pinned day."""
    org = make_org()
    import_file(org, write(folders, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(folders, "factures.csv", invoices_csv([
        ("F-1", "C001", "2026-10-01", "2026-10-31", "900"),
        ("F-3", "C003", "2026-10-01", "2026-10-31", "300"),
    ])))
    add_semester_rates()
    return org


def test_run_without_smtp_claims_no_email_says_so_and_exits_11(settings, day_of_two, capsys, pinned_clock):
    use_smtp(settings, free_port())
    code, data, err = run(capsys, "run", "--date", DAY, "--no-queue", "--json")
    assert code == 11
    email = Reminder.objects.get(channel="email")
    assert (email.status, email.attempts, email.last_error) == (Reminder.Status.PLANNED, 0, "")  # never claimed
    assert data["held"]["email"]["count"] == 1 and "ne répond pas" in data["held"]["email"]["reason"]
    assert data["dispatch"]["sent"] == Reminder.objects.filter(status=Reminder.Status.SENT).count()
    assert "ne sont pas parties" in err

    code, text, _ = run(capsys, "run", "--date", DAY, "--no-queue")
    assert code == 11
    assert "Retenus (email) : 1" in text and "ne répond pas" in text


def test_run_of_an_organisation_without_address_makes_no_letter(settings, day_of_two, capsys, pinned_clock):
    Organisation.objects.filter(pk=day_of_two.pk).update(address1="")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    code, data, _ = run(capsys, "run", "--date", DAY, "--no-queue", "--json")
    assert code == 11
    letter = Reminder.objects.get(channel="letter")
    assert (letter.status, letter.attempts, letter.document.name) == (Reminder.Status.PLANNED, 0, "")
    assert "d’adresse postale complète" in data["held"]["letter"]["reason"]
    assert Reminder.objects.get(channel="email").status == Reminder.Status.SENT

    # fixed: the next run makes the letter, and says everything left
    Organisation.objects.filter(pk=day_of_two.pk).update(address1="5 place Bellecour")
    code, data, _ = run(capsys, "run", "--date", DAY, "--no-queue", "--json")
    assert code == 0, data
    letter.refresh_from_db()
    assert letter.status == Reminder.Status.SENT and letter.document.name
    assert data["held"] == {}


def test_run_exits_11_with_the_reason_when_emails_wait_for_a_retry(settings, day_of_two, capsys, pinned_clock):
    server = SMTPServer().start()
    server.handler.refuse_with = "451 4.3.0 Mailbox busy, try again later"
    use_smtp(settings, server.port)
    try:
        code, data, err = run(capsys, "run", "--date", DAY, "--no-queue", "--json")
    finally:
        server.stop()
    assert code == 11
    assert data["dispatch"]["retrying"] == 1
    reasons = data["not_delivered"]["retrying"]["reasons"]
    assert reasons == [{"reason": "destinataire refusé temporairement", "count": 1}]
    assert "1 relance(s) ne sont pas parties" in err


# --------------------------------------------------------------------------- verify-events --head


def test_verify_events_head_still_in_the_chain_then_last_events_removed(day_of_two, capsys, pinned_clock):
    events = list(Event.objects.filter(organisation=day_of_two).order_by("seq"))
    anchor = events[-3]
    code, data, _ = run(capsys, "verify-events", "--head", anchor.hash, "--json")
    assert code == 0
    assert data["anchor"] == {"hash": anchor.hash, "found": True, "seq": anchor.seq, "events_after": 2}

    Event.objects.filter(organisation=day_of_two, seq__gte=anchor.seq).delete()  # the chain alone stays valid
    code, text, _ = run(capsys, "verify-events")
    assert code == 0 and "Journal intègre" in text
    code, data, err = run(capsys, "verify-events", "--head", anchor.hash.upper())
    assert code == 5
    assert f"l’empreinte {anchor.hash} n’est plus dans le journal" in err
    assert f"dernier événement aujourd’hui : n° {anchor.seq - 1}" in err

    code, _, err = run(capsys, "verify-events", "--head", "abc")
    assert code == 2 and "64 caractères hexadécimaux" in err
