"""End to end, with the real parts: a citizen submits on the website, the
worker's delivery task sends the receipt to the SMTP server on loopback,
the citizen's reply to that exact message is delivered into a real IMAP
server (Dovecot), the worker's scheduled job reads and threads it, and the
operator's ticket list shows one unread message."""


import pytest
from bs4 import BeautifulSoup

from tests.inbound.conftest import OUR_ADDRESS, answer, deliver_all, new_mail
from tests.inbound.test_feedback import dsn
from tests.support.citizen import send_request
from wagtail_helpdesk import services
from wagtail_helpdesk.admin.attention import attention_count
from wagtail_helpdesk.inbound import tasks
from wagtail_helpdesk.models import (
    EventKind,
    InboundMessage,
    Mailbox,
    Notification,
    Ticket,
)
from wagtail_helpdesk.workflow import Status

pytestmark = [pytest.mark.django_db, pytest.mark.imap]


@pytest.fixture
def desk(dovecot, pages, smtp, mail_settings, factories):
    login, password = dovecot.user(f"assistenza{factories.office().pk}")
    box = Mailbox.objects.create(
        name="Assistenza", address=OUR_ADDRESS, protocol="imap", host=dovecot.host,
        port=dovecot.port, security="none", username=login, password=password,
        office=pages.office)
    operator = factories.operator(pages.office)
    return type("Desk", (), {"box": box, "login": login, "operator": operator,
                             "dovecot": dovecot, "pages": pages, "smtp": smtp})


def citizen_submits(client, desk):
    response = send_request(client, desk.pages)
    assert response.status_code in (200, 302)
    ticket = Ticket.objects.get()
    assert deliver_all() >= 1
    receipt = next(m for m in desk.smtp.messages if m["To"] == "giovanna@example.it")
    return ticket, receipt


def unread_in_list(client, operator, ticket):
    """The ticket's "Unread" cell (the list's last column) as the operator sees it."""
    client.force_login(operator)
    page = BeautifulSoup(client.get("/admin/helpdesk/tickets/").content, "html.parser")
    (row,) = [tr for tr in page.select("tbody tr") if ticket.short_code in tr.get_text()]
    return row.find_all("td")[-1].get_text(strip=True)


def test_a_reply_by_e_mail_lands_in_its_ticket(client, desk):
    ticket, receipt = citizen_submits(client, desk)
    reply = answer(receipt, "Allego il documento che mancava.", sender="giovanna@example.it")
    desk.dovecot.append(desk.login, reply)

    result = tasks.poll()  # the worker's scheduled job

    assert result == {"taken": 1, "processed": 1}
    ticket.refresh_from_db()
    assert ticket.unread_count == 1
    event = ticket.events.get(kind=EventKind.CITIZEN_MESSAGE)
    assert event.body == "Allego il documento che mancava." and event.data["channel"] == "email"
    row = InboundMessage.objects.get()
    assert (row.outcome, row.reason, row.mailbox_id) == ("threaded", "token", desk.box.pk)
    # Moved out of the inbox, never deleted; read again, nothing happens twice.
    assert desk.dovecot.uids(desk.login, "INBOX") == []
    assert len(desk.dovecot.uids(desk.login, desk.box.processed_folder)) == 1
    assert tasks.poll() == {"taken": 0, "processed": 0}
    assert ticket.events.filter(kind=EventKind.CITIZEN_MESSAGE).count() == 1
    # The operator sees it: the unread figure in the list and in the menu's badge.
    assert unread_in_list(client, desk.operator, ticket) == "1"
    assert attention_count(desk.operator) == 1  # the pending ticket (nobody took it yet)


def test_a_resolved_ticket_reopens_by_mail_and_a_bounce_shows_undelivered(client, desk,
                                                                         factories):
    ticket, receipt = citizen_submits(client, desk)
    services.take_charge(ticket, desk.operator)
    services.resolve(ticket, desk.operator, factories.resolution_type(), "Fatto.")
    deliver_all()
    resolved = next(m for m in desk.smtp.messages
                    if m["To"] == "giovanna@example.it" and m is not receipt
                    and "risolta" in m["Subject"].lower())
    desk.dovecot.append(desk.login, answer(resolved, "Non ho ancora ricevuto nulla."))
    bounce = dsn(receipt, to=OUR_ADDRESS, status="5.2.2")
    desk.dovecot.append(desk.login, bounce)

    assert tasks.poll() == {"taken": 2, "processed": 2}

    ticket.refresh_from_db()
    assert ticket.status != Status.RESOLVED
    assert ticket.events.filter(kind=EventKind.REOPENED).count() == 1
    failed = Notification.objects.get(status="failed")
    assert failed.template == "citizen/ticket_received" and failed.receipt == "bounce"
    client.force_login(factories.administrator())
    listing = client.get("/admin/helpdesk/notifications/").content.decode()
    assert ticket.short_code in listing


def test_two_auto_responders_stop_by_themselves(client, desk):
    """A vacation responder that answers everything as new mail and ignores
    RFC 3834, against the help desk, through the real servers."""
    desk.dovecot.append(desk.login, new_mail("Sono in ferie fino a lunedì.",
                                             sender="ferie@example.org"))
    sent_to_it = 0
    for _round in range(6):
        tasks.poll()
        desk.smtp.messages.clear()
        deliver_all()
        ours = [m for m in desk.smtp.messages if m["To"] == "ferie@example.org"]
        if not ours:
            break
        sent_to_it += len(ours)
        for message in ours:
            assert message["Auto-Submitted"] == "auto-replied"
            desk.dovecot.append(desk.login, new_mail(
                "Sono in ferie fino a lunedì.", sender="ferie@example.org",
                subject=f"Re: {message['Subject']}"))
    assert sent_to_it == 1
    assert InboundMessage.objects.count() == 2

