"""The mailbox in the back-office: created and edited by a superuser (the password never shown
back, kept when left empty), « Tester la connexion » against a real Dovecot; replies read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from relance.replies.models import Mailbox
from tests import imap_server as imap_fixtures
from tests.builders import bare_org

dovecot, imap_server = imap_fixtures.dovecot, imap_fixtures.imap_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(settings: Any) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x-very-long-password"))
    return client


def form(org: Any, account: imap_fixtures.ImapAccount, password: str) -> dict[str, Any]:
    return {"organisation": org.pk, "enabled": "on", "host": account.host, "port": account.port, "security": "none",
            "username": account.user, "password": password, "cafile": "", "folder": "INBOX", "processed_folder": "",
            "every_minutes": 10, "automatic": ["promesse", "absence"], "paid_wait_business_days": 5,
            "resend_delay_days": 10, "plan_wait_days": 14}


def test_mailbox_settings_and_connection_test(admin_client: Client, imap_server: imap_fixtures.ImapAccount) -> None:
    org = bare_org()
    page = admin_client.post(reverse("admin:replies_mailbox_add"), form(org, imap_server, imap_server.password))
    assert page.status_code == 302, page.content.decode()[:2000]
    mailbox = Mailbox.objects.get()
    assert mailbox.password == imap_server.password and mailbox.automatic == ["promesse", "absence"]
    change = reverse("admin:replies_mailbox_change", args=[mailbox.pk])
    shown = admin_client.get(change).content.decode()
    assert imap_server.password not in shown
    assert admin_client.post(change, form(org, imap_server, "")).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password == imap_server.password  # left empty: kept
    listing = reverse("admin:replies_mailbox_changelist")
    ok = admin_client.post(listing, {"action": "test_connection", "_selected_action": [mailbox.pk]}, follow=True)
    assert "connexion réussie" in ok.content.decode()
    Mailbox.objects.filter(pk=mailbox.pk).update(password="faux")
    refused = admin_client.post(listing, {"action": "test_connection", "_selected_action": [mailbox.pk]}, follow=True)
    text = refused.content.decode()
    assert "IMAP" in text and "faux" not in text


def test_replies_are_read_only_in_the_back_office(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:replies_reply_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:replies_reply_add")).status_code == 403
