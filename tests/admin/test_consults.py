"""Consults: an office shares a ticket with a colleague of another office for
advice. The consultant reads it (internal notes and files too) and writes
private notes; nothing else. The office (or the consultant) ends it, at once;
the timeline records who and whom."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.desk import ANNA
from tests.support.images import PDF_BYTES
from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    EventKind,
    Notification,
    Ticket,
    TicketConsult,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.notifications import email
from wagtail_helpdesk.notifications.tasks import _not_for_recipient
from wagtail_helpdesk.permissions import ticket_policy
from wagtail_helpdesk.services import consults

WORK = ["take_charge", "assign", "transfer", "set_priority", "mark_waiting", "resolve",
        "reply"]


@pytest.fixture
def desk(make_desk):
    """URP (Anna, Bruno; a citizen's request with an internal note and file),
    Tributi (Carla, the expert) and Polizia locale (Dario, a stranger)."""
    desk = make_desk(office={"name": "URP"}, me={"username": "anna", **ANNA},
                     colleague={"username": "bruno"}, other_office={"name": "Tributi"},
                     outsider={"username": "carla", "first_name": "Carla", "last_name": "Neri"},
                     ticket={"description": "Ho ricevuto un avviso."})
    desk.expert, desk.person = desk.outsider, desk.citizen
    desk.stranger = desk.factories.operator(desk.factories.office(name="Polizia locale"),
                                            username="dario")
    services.add_note(desk.ticket, desk.me, "Nota interna per l'ufficio")
    desk.internal = services.add_attachment(
        desk.ticket, desk.me, SimpleUploadedFile("verbale.pdf", PDF_BYTES, "application/pdf"),
        visibility=Visibility.INTERNAL)
    return desk


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def page_url(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def consults_panel(client, ticket):
    """The page's "Consults" panel, which the page fetches once it has rendered."""
    response = client.get(page_url(ticket), {"panel": "consults"})
    assert response.status_code == 200
    return soup(response)


def share(client, ticket, consultant, message=""):
    return client.post(reverse("helpdesk_tickets:consult", args=[ticket.pk]),
                       {"version": fresh(ticket).version, "consultant": consultant.pk,
                        "message": message})


def end(client, ticket, consultant):
    return client.post(reverse("helpdesk_tickets:end_consult", args=[ticket.pk, consultant.pk]))


def download(client, ticket, attachment):
    response = client.get(reverse("helpdesk_tickets:attachment",
                                  args=[ticket.pk, attachment.pk]))
    if response.status_code == 200:
        b"".join(response.streaming_content)
        if response.file_to_stream is not None:
            response.file_to_stream.close()
    return response.status_code


def listed(client, queue):
    page = soup(client.get(reverse("helpdesk_tickets:index"), {"queue": queue}))
    return {a.get_text(strip=True) for a in page.select("td a[href*='/helpdesk/tickets/']")}


def test_granting_lets_the_consultant_read_and_note_and_is_recorded(client, desk):
    client.force_login(desk.expert)
    assert client.get(page_url(desk.ticket)).status_code == 404
    assert download(client, desk.ticket, desk.internal) == 404

    client.force_login(desk.me)
    response = share(client, desk.ticket, desk.expert, "Serve il vostro parere sull'avviso.")
    assert response.status_code == 302
    granted = TicketEvent.objects.get(ticket=desk.ticket, kind=EventKind.CONSULT_GRANTED)
    assert (granted.actor, granted.visibility, granted.data) == (
        desk.me, Visibility.INTERNAL, {"consultant": desk.expert.pk})
    assert granted.body == "Serve il vostro parere sull'avviso."
    # The consultant is notified, through the operators' notifications.
    (sent,) = Notification.objects.filter(event=granted)
    assert (sent.template, sent.recipient_user) == ("operator/consult", desk.expert)

    client.force_login(desk.expert)
    page = client.get(page_url(desk.ticket))
    assert page.status_code == 200
    html = soup(page).get_text(" ")
    assert "Nota interna per l'ufficio" in html  # internal notes: shared for advice
    offered = {f["action"].rstrip("/").rsplit("/", 1)[-1]
               for f in soup(page).select("form.helpdesk-action")}
    assert offered == {"note"}
    assert "End consult" in consults_panel(client, desk.ticket).get_text(" ")
    assert download(client, desk.ticket, desk.internal) == 200
    assert desk.ticket.short_code in " ".join(listed(client, "consults"))
    assert desk.ticket.short_code in " ".join(listed(client, "all"))

    response = client.post(reverse("helpdesk_tickets:action", args=[desk.ticket.pk, "note"]),
                           {"version": fresh(desk.ticket).version,
                            "body": "Secondo noi l'avviso è corretto."})
    assert response.status_code == 302 and response["Location"] == page_url(desk.ticket)
    assert TicketEvent.objects.filter(ticket=desk.ticket, kind=EventKind.NOTE,
                                      actor=desk.expert).exists()


def test_the_consult_notification_renders_and_is_delivered(desk):
    consults.grant(desk.ticket, desk.me, desk.expert, message="Un parere, grazie.")
    (sent,) = Notification.objects.filter(template="operator/consult")
    message = email.build(sent)
    assert message.to == ["carla@comune.example.it"]
    assert desk.ticket.reference in message.subject and "consulenza" in message.subject
    assert "Un parere, grazie." in message.body and desk.ticket.reference in message.body
    # Still the consultant's to read when the worker delivers it...
    assert _not_for_recipient(sent) == ""
    # ...and no more once the consult ended.
    consults.end(desk.ticket, desk.me, desk.expert)
    assert _not_for_recipient(sent) != ""


@pytest.mark.parametrize("action", WORK)
def test_the_consultant_can_do_nothing_else(client, desk, action):
    consults.grant(desk.ticket, desk.me, desk.expert)
    client.force_login(desk.expert)
    before = fresh(desk.ticket)
    response = client.post(reverse("helpdesk_tickets:action", args=[desk.ticket.pk, action]),
                           {"version": before.version, "body": "Risposta", "message": "x",
                            "assignee": desk.expert.pk, "office": desk.office.pk,
                            "priority": 3, "resolution_text": "ok"})
    assert response.status_code == 403
    after = fresh(desk.ticket)
    assert (after.version, after.status, after.assignee_id, after.office_id) == (
        before.version, before.status, before.assignee_id, before.office_id)


def test_the_services_refuse_the_consultant_everything_but_notes(desk, factories):
    consults.grant(desk.ticket, desk.me, desk.expert)
    t, expert = desk.ticket, desk.expert
    refused = [
        lambda: services.reply(t, expert, "Risposta al cittadino"),
        lambda: services.take_charge(t, expert),
        lambda: services.transfer(t, expert, factories.office()),
        lambda: services.mark_waiting(t, expert),
        lambda: services.add_attachment(
            t, expert, SimpleUploadedFile("a.pdf", PDF_BYTES, "application/pdf"),
            visibility=Visibility.PUBLIC),
        lambda: services.mark_read(t, expert),
        lambda: consults.grant(t, expert, desk.stranger),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied):
            call()
    services.take_charge(t, desk.me)
    with pytest.raises(PermissionDenied):
        services.resolve(t, expert, factories.resolution_type(), "Fatto")
    services.add_note(t, expert, "Parere: corretto.")


def test_revoking_is_immediate_and_recorded(client, desk):
    consults.grant(desk.ticket, desk.me, desk.expert)
    client.force_login(desk.expert)
    assert client.get(page_url(desk.ticket)).status_code == 200

    client.force_login(desk.colleague)  # any operator of the office may revoke
    assert end(client, desk.ticket, desk.expert).status_code == 302
    assert not TicketConsult.objects.exists()
    revoked = TicketEvent.objects.get(ticket=desk.ticket, kind=EventKind.CONSULT_REVOKED)
    assert (revoked.actor, revoked.visibility, revoked.data) == (
        desk.colleague, Visibility.INTERNAL,
        {"consultant": desk.expert.pk, "by_consultant": False})

    client.force_login(desk.expert)
    assert client.get(page_url(desk.ticket)).status_code == 404
    assert download(client, desk.ticket, desk.internal) == 404
    assert listed(client, "consults") == set()
    with pytest.raises(PermissionDenied):
        services.add_note(desk.ticket, desk.expert, "Ancora io")
    assert not ticket_policy().user_has_permission_for_instance(desk.expert, "view",
                                                                desk.ticket)


def test_the_consultant_ends_the_consult(client, desk):
    consults.grant(desk.ticket, desk.me, desk.expert)
    client.force_login(desk.expert)
    response = end(client, desk.ticket, desk.expert)
    assert response.status_code == 302 and response["Location"] == reverse(
        "helpdesk_tickets:index")
    ended = TicketEvent.objects.get(ticket=desk.ticket, kind=EventKind.CONSULT_REVOKED)
    assert (ended.actor, ended.data["by_consultant"]) == (desk.expert, True)
    assert client.get(page_url(desk.ticket)).status_code == 404

    client.force_login(desk.me)
    timeline = soup(client.get(page_url(desk.ticket))).get_text(" ", strip=True)
    assert "Shared with Carla Neri for a consult" in timeline
    assert "Carla Neri ended the consult" in timeline


def test_a_third_office_cannot_grant_nor_revoke(client, desk):
    client.force_login(desk.stranger)
    assert share(client, desk.ticket, desk.expert).status_code == 404
    with pytest.raises(PermissionDenied):
        consults.grant(desk.ticket, desk.stranger, desk.expert)
    consults.grant(desk.ticket, desk.me, desk.expert)
    assert end(client, desk.ticket, desk.expert).status_code == 404
    with pytest.raises(PermissionDenied):
        consults.end(desk.ticket, desk.stranger, desk.expert)
    # Nor does the consultant share it further.
    client.force_login(desk.expert)
    assert share(client, desk.ticket, desk.stranger).status_code == 403
    assert list(TicketConsult.objects.values_list("consultant", flat=True)) == [desk.expert.pk]
    assert TicketEvent.objects.filter(kind=EventKind.CONSULT_GRANTED).count() == 1


def test_only_colleagues_who_cannot_see_the_ticket_are_offered(client, desk):
    client.force_login(desk.me)
    page = consults_panel(client, desk.ticket)
    offered = {o.get("value") for o in page.select("#id_consult_consultant option")} - {""}
    assert offered == {str(desk.expert.pk), str(desk.stranger.pk)}
    with pytest.raises(GuardFailed):
        consults.grant(desk.ticket, desk.me, desk.colleague)  # already sees it
    consults.grant(desk.ticket, desk.me, desk.expert)
    with pytest.raises(GuardFailed):
        consults.grant(desk.ticket, desk.me, desk.expert)  # already shared
    # A refused choice is shown next to the field, with the message kept.
    response = share(client, desk.ticket, desk.colleague, "Il mio messaggio")
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#id_consult_message").get_text().strip() == "Il mio messaggio"
    assert TicketEvent.objects.filter(kind=EventKind.CONSULT_GRANTED).count() == 1


def test_the_page_queries_do_not_grow_with_the_consults(client, desk, factories):
    client.force_login(desk.me)

    def count(params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page_url(desk.ticket), params).status_code == 200
        return len(ctx.captured_queries)

    client.get(page_url(desk.ticket))
    consults.grant(desk.ticket, desk.me, desk.expert)
    shapes = ({}, {"panel": "consults"}, {"panels": "all"})  # the page, its panel, both
    one = [count(params) for params in shapes]
    for _ in range(4):
        consults.grant(desk.ticket, desk.me, factories.operator(factories.office()))
    assert [count(params) for params in shapes] == one


def test_the_consultants_list_queries_do_not_grow_with_the_consults(client, desk, factories):
    from django.core.cache import cache

    client.force_login(desk.expert)

    def count(queue):
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("helpdesk_tickets:index"), {"queue": queue}
                              ).status_code == 200
        return len(ctx.captured_queries)

    consults.grant(desk.ticket, desk.me, desk.expert)
    before = {queue: count(queue) for queue in ("consults", "all", "pending")}
    for _ in range(5):
        t = factories.request_ticket(service_=desk.ticket.service, citizen_=desk.person)
        consults.grant(t, desk.me, desk.expert)
    assert {queue: count(queue) for queue in before} == before
    assert len(listed(client, "consults")) == 6
