from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp_server import SMTPServer


@pytest.fixture
def smtp(settings, tmp_path) -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.MEDIA_ROOT = tmp_path / "media"
    yield server
    server.stop()
