"""The digest under SMTP faults (review of issue #12), through a real SMTP server on loopback
that fails at a chosen phase (tests/smtp_faults.py): cut after its content, it may have left —
« peut-être parti », never resent, said by the next digest; a failure before the content, or
any error while preparing it, is ``digest.failed`` and tried again — never ``digest.sending``
for ever."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from relance.events.models import Event
from relance.ledger.models import Membership
from relance.operations.digest import DigestNotSent, send_digest
from tests.builders import bare_org, make_user
from tests.integration.test_web import DAY
from tests.smtp_faults import FaultySMTPServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.usefixtures("pinned_clock")]


@pytest.fixture
def org(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = bare_org("atelier", "Atelier Dubois SAS")
    org.sender_email, org.sender_name = "compta@atelier-dubois.test", "Atelier Dubois — Comptabilité"
    org.save()
    user = make_user("sophie", org, role=Membership.Role.ADMIN)
    user.email = "sophie@atelier-dubois.test"
    user.save()
    return org


@pytest.fixture
def server(settings, tmp_path) -> Iterator[FaultySMTPServer]:
    smtp = FaultySMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 1
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.MEDIA_ROOT = tmp_path / "media"
    yield smtp
    smtp.stop()


def kinds(org) -> list[str]:
    return list(Event.objects.filter(organisation=org, kind__startswith="digest.").order_by("seq")
                .values_list("kind", flat=True))


@pytest.mark.parametrize("fault", ["drop_after_data", "hang_after_data"])
def test_a_digest_cut_after_its_content_is_never_resent_and_the_next_one_says_so(org, server, fault):
    server.fault = fault
    server.handler.hang_seconds = 3  # longer than the client's 1 s timeout
    result = send_digest(org, DAY)
    assert result.outcome == "uncertain" and "peut-être parti" in result.error
    assert kinds(org) == ["digest.sending", "digest.uncertain"]
    server.fault = None
    assert send_digest(org, DAY).outcome == "uncertain"  # never a second copy
    assert len(server.handler.contents) == 1 and server.handler.accepted == []

    assert send_digest(org, DAY + timedelta(days=1)).outcome == "sent"
    [_, next_day] = server.handler.contents
    body = str(next_day.get_body(("plain",)).get_content())
    assert "bilan peut-être parti, jamais renvoyé : 23 novembre 2026" in body


@pytest.mark.parametrize("fault", ["drop_at_rcpt", "4xx_after_data"])
def test_a_digest_that_failed_before_or_was_refused_is_sent_by_the_next_call(org, server, fault):
    server.fault = fault
    with pytest.raises(DigestNotSent) as failure:
        send_digest(org, DAY)
    assert failure.value.result.outcome == "failed"
    assert kinds(org) == ["digest.sending", "digest.failed"]
    server.fault = None
    assert send_digest(org, DAY).outcome == "sent"
    assert len(server.handler.accepted) == 1


def test_an_error_while_preparing_the_digest_is_recorded_and_tried_again(org, server):
    """An error before anything is transmitted (here a sender name no header can carry) is
    ``digest.failed`` with its reason: the next call sends it once corrected."""
    org.sender_name = "Atelier Dubois\nComptabilité"
    org.save()
    with pytest.raises(DigestNotSent) as failure:
        send_digest(org, DAY)
    assert "erreur avant l’envoi" in failure.value.result.error
    assert kinds(org) == ["digest.sending", "digest.failed"]
    assert server.handler.contents == []
    org.sender_name = "Atelier Dubois — Comptabilité"
    org.save()
    assert send_digest(org, DAY).outcome == "sent"
    assert len(server.handler.accepted) == 1
