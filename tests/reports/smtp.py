"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port), collecting what
it receives. Django talks to it through its ordinary SMTP backend, as in production.

Use the `smtp_server` fixture (import `smtp_server_fixture` into the test module), or
`running_smtp_server()` where the server must outlive Django's settings fixture, e.g. for a
worker in another process.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """The aiosmtpd handler: stores every accepted message; can refuse on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.envelopes: list = []
        self.refused = 0
        self._refuse_next = 0
        self.port = 0

    # aiosmtpd calls this from its event-loop thread once the whole message is in.
    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            if self._refuse_next:
                self._refuse_next -= 1
                self.refused += 1
                return "550 5.7.1 Mailbox unavailable (refused by the test)"
            self.envelopes.append(envelope)
        return "250 2.0.0 OK queued"

    def refuse(self, times: int) -> None:
        """Answer the next `times` messages with a permanent 550 error."""
        with self._lock:
            self._refuse_next = times

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            envelopes = list(self.envelopes)
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)
            for e in envelopes
        ]

    @property
    def recipients(self) -> list[list[str]]:
        with self._lock:
            return [list(e.rcpt_tos) for e in self.envelopes]

    def __len__(self) -> int:
        with self._lock:
            return len(self.envelopes)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    # aiosmtpd 1.4 connects to its own port to check that it started, so it cannot be
    # given port 0; a port that was free a moment ago is good enough on a test machine.
    for attempt in range(5):
        mailbox.port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
    try:
        yield mailbox
    finally:
        controller.stop()


def point_django_at(settings, mailbox: Mailbox) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = mailbox.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


@pytest.fixture(name="smtp_server")
def smtp_server_fixture(settings) -> Iterator[Mailbox]:
    """A live SMTP server that Django's mail goes to for the duration of the test."""
    with running_smtp_server() as mailbox:
        point_django_at(settings, mailbox)
        yield mailbox
