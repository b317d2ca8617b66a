"""An e-mail backend that writes each message to its own ``.eml`` file (used by the
demo): open them with any mail client to see exactly what a customer would get."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class EmlBackend(BaseEmailBackend):
    def __init__(self, directory: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.directory = Path(directory or settings.RELANCE_EML_DIR)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            mime = message.message()
            ident = re.sub(r"[^A-Za-z0-9._-]", "_", str(mime["Message-ID"] or "message").strip("<>"))
            (self.directory / f"{ident}.eml").write_bytes(mime.as_bytes(linesep="\r\n"))  # type: ignore[call-arg]
        return len(email_messages)
