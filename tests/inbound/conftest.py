"""Fixtures of the inbound mail tests: a ticket whose receipt really went
out through the SMTP server on loopback, and helpers that answer it the
way a mail program does."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.utils import timezone

from tests.support.smtp import smtp  # noqa: F401 (fixture)
from wagtail_helpdesk.inbound import pipeline, store
from wagtail_helpdesk.models import InboundMessage, Notification
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor

OUR_ADDRESS = "assistenza@comune.example.it"


@pytest.fixture
def mail_settings(settings):
    settings.WAGTAIL_HELPDESK_NOTIFY_REPLY_TO = "assistenza+{token}@comune.example.it"
    settings.DEFAULT_FROM_EMAIL = f"Comune di Esempio <{OUR_ADDRESS}>"
    return settings


def deliver_all():
    ids = list(Notification.objects.filter(status="pending").values_list("pk", flat=True))
    return tasks.deliver(ids) if ids else 0


@pytest.fixture
def sent(factories, smtp, mail_settings, django_capture_on_commit_callbacks):  # noqa: F811
    """A citizen's web request; its receipt delivered by e-mail."""
    office = factories.office(name="Anagrafe", email="anagrafe@comune.example.it")
    person = factories.citizen(given_name="Giulia", family_name="Bianchi",
                               email="giulia@example.org", language="it")
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office, name="Residenza"))
    deliver_all()  # (a transactional test's worker may have delivered it on commit)
    receipt = next(m for m in smtp.messages if m["To"] == "giulia@example.org")
    return type("Sent", (), {"ticket": ticket, "person": person, "office": office,
                             "message": receipt})


def answer(original, text, *, sender="giulia@example.org", to=None, headers=None,
           subject=None, quote=True):
    """A reply to ``original`` as Thunderbird writes it (bytes)."""
    reply = EmailMessage()
    reply["From"] = f"Giulia Bianchi <{sender}>"
    reply["To"] = to or original["Reply-To"] or original["From"]
    reply["Subject"] = subject if subject is not None else f"Re: {original['Subject']}"
    reply["Date"] = format_datetime(timezone.now())
    reply["Message-ID"] = make_msgid(domain="example.org")
    if original["Message-ID"]:
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = f"{original['References'] or ''} {original['Message-ID']}".strip()
    for name, value in (headers or {}).items():
        del reply[name]
        if value is not None:
            reply[name] = value
    body = text
    if quote:
        quoted = "\n".join(f"> {line}" for line in original.get_body(("plain",))
                           .get_content().splitlines())
        body += f"\n\nIl giorno 05/12/2026 10:00, Comune di Esempio ha scritto:\n{quoted}\n"
    reply.set_content(body)
    return bytes(reply)


def new_mail(text, *, sender="mario.verdi@example.org", name="Mario Verdi",
             subject="Informazioni sulla TARI", headers=None, to=OUR_ADDRESS):
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(text)
    return bytes(message)


def receive(raw, mailbox=None, **kwargs):
    """Store ``raw`` as a receiver does and process it as the worker does."""
    row, _created = store.store(raw, mailbox=mailbox, enqueue=False, **kwargs)
    pipeline.process_one(row.pk)
    return InboundMessage.objects.get(pk=row.pk)


@pytest.fixture
def queued(monkeypatch):
    """The ids handed to the processing queue (when the pipeline is not under test)."""
    ids = []
    monkeypatch.setattr("wagtail_helpdesk.inbound.tasks.enqueue", lambda pks: ids.extend(pks))
    return ids
