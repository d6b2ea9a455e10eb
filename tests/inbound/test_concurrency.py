"""Workers racing over the same mailbox's messages (PostgreSQL): every
message processed exactly once, nothing threaded or opened twice."""

import pytest
from django.db import connection

from tests.inbound.conftest import OUR_ADDRESS, answer, new_mail
from tests.support.concurrency import race
from wagtail_helpdesk.inbound import pipeline, store
from wagtail_helpdesk.models import EventKind, InboundMessage, Mailbox, Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True,
                                                         serialized_rollback=True)]


def test_four_workers_process_each_message_once(sent, factories):
    assert connection.vendor == "postgresql"
    office = factories.office(name="URP")
    factories.service(office, name="Informazioni")
    box = Mailbox.objects.create(name="Assistenza", address=OUR_ADDRESS, protocol="lmtp",
                                 office=office)
    for n in range(12):
        store.store(answer(sent.message, f"Risposta {n}"), mailbox=box, enqueue=False)
        store.store(new_mail(f"Richiesta {n}", sender=f"persona{n}@example.org"),
                    mailbox=box, enqueue=False)
    results, _refused = race([pipeline.process_pending for _ in range(4)])
    assert sum(results) == 24
    assert set(InboundMessage.objects.values_list("outcome", flat=True)) == {
        "threaded", "new_ticket"}
    ticket = Ticket.objects.get(pk=sent.ticket.pk)
    assert ticket.events.filter(kind=EventKind.CITIZEN_MESSAGE).count() == 12
    assert ticket.unread_count == 12
    assert Ticket.objects.filter(channel="email").count() == 12
