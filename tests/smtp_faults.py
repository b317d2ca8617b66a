"""A real SMTP server on loopback (aiosmtpd) that fails on purpose at a chosen phase of the
conversation: the faults a sending worker meets (issue #12).

Faults (``FaultyHandler.fault``):

* ``None``                    accepts (250)
* ``"drop_at_rcpt"``          closes the connection at RCPT TO: before the hand-over
* ``"hang_at_rcpt"``          never answers RCPT TO (the client times out): before the hand-over
* ``"drop_after_data"``       takes the whole content, then closes the connection before the final reply
* ``"hang_after_data"``       takes the whole content and never answers (the client times out)
* ``"4xx_after_data"``        answers 451 to the content (refused, temporarily)
* ``"5xx_after_data"``        answers 554 to the content (refused, permanently)

``contents`` records every content transmitted (whatever the answer), ``accepted`` those
answered 250: a « drop » or « hang » after DATA is a message the server may well deliver.
``at_rcpt`` is set at RCPT TO, ``after_data`` when a content arrived; ``release`` ends a hang early."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.smtp_server import free_port


@dataclass
class FaultyHandler:
    fault: str | None = None
    hang_seconds: float = 5.0
    delay_accept: float = 0.0  # seconds before a 250 to the content
    contents: list[EmailMessage] = field(default_factory=list)
    accepted: list[EmailMessage] = field(default_factory=list)
    after_data: threading.Event = field(default_factory=threading.Event)
    at_rcpt: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    async def _hang(self) -> None:
        waited = 0.0
        while waited < self.hang_seconds and not self.released.is_set():
            await asyncio.sleep(0.05)
            waited += 0.05

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        self.at_rcpt.set()
        if self.fault == "drop_at_rcpt":
            server.transport.abort()
            return "250 OK"
        if self.fault == "hang_at_rcpt":
            await self._hang()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.contents.append(message)  # type: ignore[arg-type]
        self.after_data.set()
        if self.fault == "drop_after_data":
            server.transport.abort()
            return "250 OK"
        if self.fault == "hang_after_data":
            await self._hang()
            server.transport.abort()
            return "250 OK"
        if self.fault == "4xx_after_data":
            return "451 4.3.0 Temporary failure, try again later"
        if self.fault == "5xx_after_data":
            return "554 5.6.0 Message refused"
        if self.delay_accept:
            await asyncio.sleep(self.delay_accept)
        self.accepted.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class FaultySMTPServer:
    def __init__(self, fault: str | None = None, port: int | None = None):
        self.handler = FaultyHandler(fault)
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> FaultySMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.handler.released.set()
        self.controller.stop()

    @property
    def fault(self) -> str | None:
        return self.handler.fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        self.handler.fault = value
