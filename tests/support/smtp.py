"""A real SMTP server on loopback (aiosmtpd) for the notification tests: it
records every message it accepts, and can be told to refuse or to stop."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self):
        self.messages = []
        self.refuse = False  # answer 451 (temporary failure) to every message
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        self.record(envelope)
        return "250 OK"

    def record(self, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        """Shut the server down (connections are then refused) until start()."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """Start the server and point Django's SMTP backend at it."""
    recorder = Recorder()
    recorder.port = free_port()
    recorder.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", recorder.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield recorder
    recorder.stop()
