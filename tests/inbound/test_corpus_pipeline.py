"""Every message of the corpus through the whole pipeline, against a real
ticket whose receipt went out by e-mail: the outcome expected.json gives,
and for replies the text that lands on the timeline."""

import pytest

from tests.inbound import corpus
from tests.inbound.conftest import OUR_ADDRESS, receive
from wagtail_helpdesk.models import EventKind, Mailbox, Ticket
from wagtail_helpdesk.notifications import email as mail

pytestmark = pytest.mark.django_db

EXPECTED = corpus.expected()


@pytest.fixture
def boxes(factories):
    office = factories.office(name="URP")
    factories.service(office, name="Informazioni")
    return {
        False: Mailbox.objects.create(name="Assistenza", address=OUR_ADDRESS,
                                      protocol="lmtp", office=office),
        True: Mailbox.objects.create(name="PEC", address="protocollo@pec.comune.example.it",
                                     protocol="imap", certified=True, office=office),
    }


def placeholders(sent):
    return {"REPLY_TO": mail.reply_to(sent.ticket.pk),
            "OUR_MESSAGE_ID": sent.message["Message-ID"].strip("<>"),
            "SHORT_CODE": sent.ticket.short_code, "CITIZEN_EMAIL": sent.person.email,
            "OUR_ADDRESS": OUR_ADDRESS, "OUR_DOMAIN": "comune.example.it"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_gets_its_outcome(name, sent, boxes):
    expected = EXPECTED[name]
    raw = corpus.load(name, **placeholders(sent))
    row = receive(raw, boxes[name.startswith("pec_")])
    assert row.outcome == expected["outcome"], row.detail
    if row.outcome == "threaded":
        assert row.ticket_id == sent.ticket.pk
        event = Ticket.objects.get(pk=sent.ticket.pk).events.get(kind=EventKind.CITIZEN_MESSAGE)
        for text in expected.get("reply_text_contains", ()):
            assert text in event.body
        for text in expected.get("reply_text_excludes", ()):
            assert text not in event.body
    if row.outcome in ("auto_reply", "bounce", "pec_receipt", "dropped"):
        assert Ticket.objects.get(pk=sent.ticket.pk).unread_count == 0
        assert Ticket.objects.count() == 1  # no noise


def test_a_20_mb_attachment_is_refused_but_the_message_is_not_lost(sent, boxes):
    raw = corpus.big_attachment_message(**placeholders(sent))
    row = receive(raw, boxes[False])
    assert row.outcome == "threaded" or row.outcome == "new_ticket", row.detail
    event = row.event
    assert "planimetria" in event.ticket.description or "planimetria" in event.body
    created = row.ticket.events.filter(data__rejected_attachments__isnull=False).first()
    assert created is not None
    assert created.data["rejected_attachments"][0]["name"] == "planimetria.pdf"
    assert not row.ticket.attachments.exists()
