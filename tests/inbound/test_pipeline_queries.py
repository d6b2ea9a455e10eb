"""Queries one message costs the worker, pinned: a reply and a new ticket
(the pipeline's throughput is measured by bench/inbound_mail.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.inbound.conftest import OUR_ADDRESS, answer, new_mail
from wagtail_helpdesk.inbound import pipeline, store
from wagtail_helpdesk.models import Mailbox

pytestmark = pytest.mark.django_db

#: Statements (savepoints included) of one message, on SQLite.
REPLY, NEW_TICKET = 23, 45


@pytest.fixture
def box(factories):
    office = factories.office(name="URP")
    factories.service(office, name="Informazioni")
    return Mailbox.objects.create(name="Assistenza", address=OUR_ADDRESS, protocol="lmtp",
                                  office=office)


def queries(raw, box):
    row, _created = store.store(raw, mailbox=box, enqueue=False)
    with CaptureQueriesContext(connection) as captured:
        assert pipeline.process_one(row.pk)
    return [q["sql"] for q in captured.captured_queries]


def test_a_reply(sent, box):
    queries(answer(sent.message, "Prima."), box)  # warm caches (settings, site)
    done = queries(answer(sent.message, "Seconda."), box)
    assert len(done) <= REPLY, "\n".join(done)


def test_a_new_ticket(box, mail_settings):
    queries(new_mail("Prima", sender="a@example.org"), box)
    done = queries(new_mail("Seconda", sender="b@example.org"), box)
    assert len(done) <= NEW_TICKET, "\n".join(done)
