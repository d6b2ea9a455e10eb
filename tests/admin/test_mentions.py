"""@mentions in private notes that notify nobody are said, not dropped: the
note is saved and the operator is told which names are unknown and which
colleagues cannot see the ticket (share it with them for a consult)."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Notification, Ticket, TicketEvent
from wagtail_helpdesk.services import consults


@pytest.fixture
def team(factories):
    office = factories.office(name="URP")
    me = factories.operator(office, username="anna", first_name="Anna", last_name="Bianchi")
    colleague = factories.operator(office, username="bruno.verdi")
    outsider = factories.operator(factories.office(name="Tributi"), username="carla",
                                  first_name="Carla", last_name="Neri")
    # A citizen's login (no helpdesk permission): not a colleague.
    resident = factories.user("dario", group=None, first_name="Dario", last_name="Russo")
    ticket = factories.request_ticket(service_=factories.service(office))
    return type("Team", (), {"me": me, "colleague": colleague, "outsider": outsider,
                             "resident": resident, "ticket": ticket})


def note(client, ticket, body):
    version = Ticket.objects.get(pk=ticket.pk).version
    return client.post(reverse("helpdesk_tickets:action", args=[ticket.pk, "note"]),
                       {"version": version, "body": body})


def warnings_of(response):
    return [str(m.message) for m in get_messages(response.wsgi_request)
            if m.level_tag == "warning"]


def test_the_service_says_who_was_not_notified_and_why(team):
    t = services.add_note(team.ticket, team.me,
                          "@bruno.verdi @Carla @nessuno @dario @anna: vedete voi?")
    assert t.mentions.notified == (team.colleague,)
    assert t.mentions.cannot_see == (team.outsider,)
    # Unknown: nobody has it, or a user who is not a colleague (nothing said of them).
    assert t.mentions.unknown == ("dario", "nessuno")
    saved = TicketEvent.objects.get(ticket=team.ticket, kind=EventKind.NOTE)
    assert saved.data == {"mentions": [team.colleague.pk]}
    assert [n.recipient_user for n in Notification.objects.filter(event=saved)] == [
        team.colleague]


def test_saving_a_note_warns_of_unknown_names_and_colleagues_who_cannot_see(client, team):
    client.force_login(team.me)
    response = note(client, team.ticket, "@carla @nessuno @bruno.verdi guardate qui")
    assert response.status_code == 302
    assert TicketEvent.objects.filter(ticket=team.ticket, kind=EventKind.NOTE).count() == 1
    unknown, unseen = warnings_of(response)
    assert "@nessuno" in unknown and "no colleague has this username" in unknown
    assert "@carla (Carla Neri)" in unseen and "cannot see this ticket" in unseen
    assert "share the ticket with them for a consult" in unseen
    assert "bruno" not in unknown + unseen
    # The warnings are shown on the ticket page the operator lands on.
    page = client.get(response["Location"]).content.decode()
    assert "@nessuno" in page


def test_no_warning_when_every_mention_is_notified(client, team):
    client.force_login(team.me)
    response = note(client, team.ticket, "@bruno.verdi puoi verificare? Scrivi a urp@comune.it")
    assert response.status_code == 302
    assert warnings_of(response) == []


def test_a_colleague_the_ticket_is_shared_with_is_notified(client, team):
    consults.grant(team.ticket, team.me, team.outsider)
    client.force_login(team.me)
    response = note(client, team.ticket, "@carla cosa ne pensi?")
    assert warnings_of(response) == []
    saved = TicketEvent.objects.get(ticket=team.ticket, kind=EventKind.NOTE)
    assert saved.data == {"mentions": [team.outsider.pk]}
    assert Notification.objects.filter(event=saved, template="operator/mentioned",
                                       recipient_user=team.outsider).exists()
    # And the page shows the share form no more for her (she already sees it).
    page = BeautifulSoup(client.get(reverse("helpdesk_tickets:detail", args=[team.ticket.pk]))
                         .content, "html.parser")
    options = [o.get("value") for o in page.select("#id_consult_consultant option")]
    assert str(team.outsider.pk) not in options
