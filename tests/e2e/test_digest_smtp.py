"""The daily digest through a real SMTP server (aiosmtpd on loopback): once per organisation and
day, to the administrators and collectors with an address, with what left, what did not and
why, what awaits them, and the event log's head hash — which ``relance verify-events --head``
then checks against the database."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from relance.cli.main import main
from relance.dunning.models import CallTask, Reminder
from relance.events.models import Event
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Membership
from relance.operations.digest import DigestNotSent, send_digest
from tests.builders import bare_org, make_user
from tests.integration.test_list_pages import _reminders
from tests.integration.test_web import DAY
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.usefixtures("pinned_clock")]
S = Reminder.Status
SENT_AT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


@pytest.fixture
def org(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = bare_org("atelier", "Atelier Dubois SAS")
    org.sender_email, org.sender_name = "compta@atelier-dubois.test", "Atelier Dubois — Comptabilité"
    org.save()
    for name, role, email in (("sophie", Membership.Role.ADMIN, "sophie@atelier-dubois.test"),
                              ("marc", Membership.Role.COLLECTOR, "marc@atelier-dubois.test"),
                              ("lea", Membership.Role.READ_ONLY, "lea@atelier-dubois.test"),
                              ("sans", Membership.Role.COLLECTOR, "")):
        user = make_user(name, org, role=role)
        user.email, user.first_name = email, name.capitalize()
        user.save()
    _reminders(org, 3, None, S.SENT, attempts=1, sent_at=SENT_AT)
    _reminders(org, 2, None, S.SENT, start=10, attempts=1, sent_at=SENT_AT, channel="registered_letter")
    _reminders(org, 4, None, S.PLANNED, start=20, attempts=2, next_attempt_at=SENT_AT.replace(hour=13),
               last_error="serveur SMTP injoignable : [Errno 111] Connection refused")
    _reminders(org, 1, None, S.FAILED, start=30, attempts=1, last_error="destinataire refusé : 550 No such user")
    _reminders(org, 1, None, S.UNCERTAIN, start=40, attempts=1, last_error="envoi interrompu : vérifier s’il est parti")
    [awaiting] = _reminders(org, 1, None, S.AWAITING_APPROVAL, start=50)
    CallTask.objects.create(organisation=org, customer=awaiting.customer, due_on=DAY)
    record_many(org, [NewEvent("test.activity", data={"n": i}) for i in range(3)])
    return org


def body_of(server: SMTPServer, index: int = 0) -> str:
    return str(server.received[index].message.get_content()).replace("\r\n", "\n")


def test_the_digest_leaves_once_with_the_days_figures_and_the_head(org, smtp, capsys):
    head = Event.objects.filter(organisation=org).order_by("-seq").first()
    assert head is not None

    result = send_digest(org, DAY)

    assert result.outcome == "sent"
    [received] = smtp.received
    assert sorted(received.rcpt_tos) == ["marc@atelier-dubois.test", "sophie@atelier-dubois.test"]  # not read-only
    message = received.message
    assert str(message["Subject"]).strip() == "Relances du 23 novembre 2026 — Atelier Dubois SAS : 5 envois, 6 non partis"
    assert str(message["Message-ID"]).strip() == result.message_id and "atelier-dubois.test" in result.message_id
    body = body_of(smtp)
    assert "Voici le bilan des relances d’Atelier Dubois SAS pour la journée du 23 novembre 2026." in body
    assert "  • 3 e-mails\n" in body
    assert "  • 2 courriers, dont 2 en recommandé avec avis de réception\n" in body
    assert "  • 4 relances en attente d’un nouvel essai automatique — serveur SMTP injoignable (4)\n" in body
    assert "  • 1 relance en échec — destinataire refusé (1)\n" in body
    assert "  • 1 envoi à vérifier — envoi interrompu (1)\n" in body
    assert "  • 1 relance à valider (page « À valider »)\n" in body
    assert "  • 1 appel à passer\n" in body
    assert "  • 2 courriers à imprimer et à poster, dont 2 en recommandé : notez le numéro de suivi\n" in body
    assert f"le dernier événement est le n° {head.seq} ; son empreinte :\n  {head.hash}\n" in body
    assert f"relance verify-events --org atelier --head {head.hash}" in body

    kinds = list(Event.objects.filter(organisation=org, seq__gt=head.seq).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["digest.sending", "digest.sent"]
    sent = Event.objects.get(organisation=org, kind="digest.sent")
    assert sent.data["head"]["hash"] == head.hash and sent.data["day"] == "2026-11-23"

    # never twice for the same organisation and day, whoever asks (the scheduler, the command)
    assert send_digest(org, DAY).outcome == "already_sent"
    assert main(["digest", "--org", "atelier", "--date", "2026-11-23", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["digests"][0]["outcome"] == "already_sent" and data["digests"][0]["head"]["hash"] == head.hash
    assert len(smtp.received) == 1

    # the hash of the mailbox checks the log: still there, with the digest's own events after it
    anchor = re.search(r"--head ([0-9a-f]{64})", body)
    assert anchor is not None
    assert main(["verify-events", "--org", "atelier", "--head", anchor.group(1), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["anchor"]["events_after"] == 2
    Event.objects.filter(organisation=org, seq__gte=head.seq).delete()  # the last events removed
    assert main(["verify-events", "--org", "atelier", "--head", anchor.group(1)]) == 5
    assert f"l’empreinte {head.hash} n’est plus dans le journal" in capsys.readouterr().err


def test_a_digest_that_could_not_leave_is_sent_by_the_next_call(org, settings):
    server = SMTPServer()  # not started: nothing listens on its port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 3
    with pytest.raises(DigestNotSent) as failure:
        send_digest(org, DAY)
    assert failure.value.result.outcome == "failed" and "serveur SMTP injoignable" in failure.value.message
    assert Event.objects.filter(organisation=org, kind="digest.failed").count() == 1

    server.start()
    try:
        assert send_digest(org, DAY).outcome == "sent"
        assert send_digest(org, DAY).outcome == "already_sent"
    finally:
        server.stop()
    assert len(server.received) == 1


def test_an_interrupted_digest_is_not_sent_again_automatically(org, smtp, capsys):
    record_many(org, [NewEvent("digest.sending", data={"day": DAY.isoformat()})])  # a process died mid-send
    assert send_digest(org, DAY).outcome == "uncertain"
    assert main(["digest", "--org", "atelier", "--date", DAY.isoformat()]) == 0
    assert "il est peut-être parti" in capsys.readouterr().out
    assert smtp.received == []


def test_no_recipient_no_message(org, smtp):
    from django.contrib.auth.models import User

    User.objects.update(email="")
    result = send_digest(org, DAY)
    assert result.outcome == "no_recipient" and smtp.received == []
    assert not Event.objects.filter(organisation=org, kind__startswith="digest.").exists()


def test_the_digest_names_the_replies_to_read_and_the_bounces_of_the_day(org, smtp):
    from relance.replies.models import Reply

    [bounced] = _reminders(org, 1, None, S.UNDELIVERED, start=60, attempts=1, sent_at=SENT_AT,
                           bounced_at=SENT_AT.replace(hour=10), bounce_reason="adresse inconnue (5.1.1)")
    for n, state in enumerate(("a_traiter", "a_rattacher", "traitee")):
        Reply.objects.create(organisation=org, message_key=f"<r{n}@x>", state=state, sha256="0" * 64,
                             received_at=SENT_AT, received_on=DAY, customer=bounced.customer)
    assert send_digest(org, DAY).outcome == "sent"
    body = body_of(smtp)
    assert ("  • 2 réponses de clients à lire (page « Réponses ») : leurs relances attendent votre décision\n"
            in body)
    assert ("  • 1 relance revenue non distribuée : l’adresse est signalée, la suite part par courrier ; corrigez "
            "l’adresse si vous la connaissez\n" in body)
