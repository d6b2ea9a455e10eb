"""Operators' presence (the availability switch, the heartbeat, the status
others see), automatic round-robin assignment, and @mentions in notes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.models import (
    EventKind,
    Notification,
    OfficeMembership,
    OperatorPresence,
    Presence,
    Ticket,
)
from wagtail_helpdesk.services import presence
from wagtail_helpdesk.workflow import Status


def seen(user, minutes_ago=0, chosen=""):
    OperatorPresence.objects.update_or_create(
        user=user, defaults={"last_seen_at": timezone.now() - timedelta(minutes=minutes_ago),
                             "chosen": chosen})


# --- the status others see -------------------------------------------------------------


@pytest.mark.parametrize(("chosen", "minutes_ago", "expected"), [
    ("", 1, Presence.AVAILABLE),
    ("", 10, Presence.AWAY),          # automatic, idle for more than 5 minutes
    ("", 40, Presence.OFFLINE),       # gone for more than 30 minutes
    ("busy", 10, Presence.BUSY),      # a chosen status stays while active
    ("dnd", 1, Presence.DO_NOT_DISTURB),
    ("away", 1, Presence.AWAY),
    ("available", 20, Presence.AVAILABLE),
    ("available", 40, Presence.OFFLINE),  # …but not once gone
    ("offline", 1, Presence.OFFLINE),
])
def test_effective_presence(factories, chosen, minutes_ago, expected):
    user = factories.operator(factories.office())
    seen(user, minutes_ago, chosen)
    now = timezone.now()  # per test: the suite may run long after this module's import
    assert presence.of(user, now) == expected
    # The database filter used by automatic assignment agrees.
    from django.contrib.auth import get_user_model

    in_filter = get_user_model().objects.filter(
        presence.available_q(now=now), pk=user.pk).exists()
    assert in_filter == (expected == Presence.AVAILABLE)


def test_never_seen_is_offline(factories):
    assert presence.of(factories.operator(factories.office())) == Presence.OFFLINE


def test_choosing_a_status_from_the_ticket_list(client, factories):
    me = factories.operator(factories.office())
    client.force_login(me)
    page = client.get("/admin/helpdesk/tickets/").content.decode()
    assert 'id="helpdesk-presence-chosen"' in page
    assert 'data-presence="available"' in page  # logging in counts as activity
    response = client.post(reverse("wagtail_helpdesk_presence"),
                           {"chosen": "dnd", "next": "/admin/helpdesk/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/admin/helpdesk/tickets/"
    assert presence.of(me) == Presence.DO_NOT_DISTURB
    page = client.get("/admin/helpdesk/tickets/").content.decode()
    assert 'data-presence="dnd"' in page and '<option value="dnd" selected>' in page
    # Back to automatic.
    client.post(reverse("wagtail_helpdesk_presence"), {"chosen": ""})
    assert presence.of(me) == Presence.AVAILABLE


def test_bad_choice_and_foreign_redirect_are_refused(client, factories):
    me = factories.operator(factories.office())
    client.force_login(me)
    response = client.post(reverse("wagtail_helpdesk_presence"),
                           {"chosen": "sleeping", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert OperatorPresence.objects.get(user=me).chosen == ""


def test_presence_views_need_a_helpdesk_operator(client, factories):
    editor = factories.user(group=None, is_staff=True)
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    response = client.post(reverse("wagtail_helpdesk_presence"), {"chosen": "busy"})
    assert response.status_code in (302, 403)
    assert not OperatorPresence.objects.filter(user=editor, chosen="busy").exists()
    assert client.get(reverse("wagtail_helpdesk_presence")).status_code == 405


def test_heartbeat_keeps_an_operator_available(client, factories):
    me = factories.operator(factories.office())
    client.force_login(me)
    OperatorPresence.objects.filter(user=me).update(
        last_seen_at=timezone.now() - timedelta(minutes=20))
    assert presence.of(me) == Presence.AWAY
    url = reverse("wagtail_helpdesk_presence_heartbeat")
    assert client.post(url).status_code == 204
    assert presence.of(me) == Presence.AVAILABLE
    assert client.get(url).status_code == 405
    # Every admin page loads the heartbeat script.
    assert url in client.get(reverse("wagtailadmin_home")).content.decode()


def test_dashboard_shows_each_operators_availability(client, factories):
    office = factories.office()
    boss, busy = factories.supervisor(office), factories.operator(office, first_name="Bea")
    seen(busy, 1, "busy")
    client.force_login(boss)
    page = client.get(reverse("wagtail_helpdesk_dashboard")).content.decode()
    row = page[page.index(f'data-operator="{busy.pk}"'):]
    assert 'data-presence="busy"' in row[:800]


# --- automatic assignment ------------------------------------------------------------


@pytest.fixture
def round_robin(factories):
    office = factories.office(name="Anagrafe", auto_assign=True)
    a, b, c = (factories.operator(office, first_name=n) for n in ("Ada", "Bea", "Cloe"))
    service = factories.service(office)
    return office, (a, b, c), service


def test_new_tickets_go_in_turn_to_available_members(factories, round_robin):
    office, (a, b, c), service = round_robin
    seen(a, 1)
    seen(b, 2)
    seen(c, 1, "dnd")  # not disturbed
    got = [factories.request_ticket(service_=service).assignee for _ in range(4)]
    assert got == [a, b, a, b]
    ticket = Ticket.objects.filter(office=office).latest("pk")
    assert ticket.status == Status.IN_PROGRESS
    event = ticket.events.get(kind=EventKind.ASSIGNED)
    assert event.actor is None and event.data["automatic"] is True
    # The assignee is told; the citizen gets only the receipt.
    templates = set(Notification.objects.filter(ticket=ticket).values_list("template", flat=True))
    assert "operator/assigned" in templates and "citizen/taken_in_charge" not in templates
    assert OfficeMembership.objects.get(office=office, user=b).last_auto_assigned_at is not None


def test_nobody_available_leaves_the_ticket_in_the_queue(factories, round_robin):
    office, (a, b, c), service = round_robin
    seen(a, 45)          # gone
    seen(b, 1, "busy")   # busy
    ticket = factories.request_ticket(service_=service)
    assert (ticket.status, ticket.assignee) == (Status.NEW, None)


def test_offices_without_auto_assignment_keep_their_queue(factories):
    office = factories.office()
    op = factories.operator(office)
    seen(op, 1)
    ticket = factories.request_ticket(service_=factories.service(office))
    assert ticket.assignee is None


def test_members_without_ticket_permissions_are_skipped(factories, round_robin):
    office, (a, b, c), service = round_robin
    outsider = factories.user(group=None, offices=[office])
    seen(outsider, 1)
    seen(c, 1)
    assert factories.request_ticket(service_=service).assignee == c


def test_drafts_are_not_assigned_until_submitted(factories, round_robin):
    office, (a, b, c), service = round_robin
    seen(b, 1)
    draft = services.create_ticket(a, kind="request", channel="phone", service=service,
                                   citizen=factories.citizen(), description="x", draft=True)
    assert draft.assignee is None
    assert services.submit_ticket(draft, a).assignee == b


def test_a_transfer_to_an_auto_assign_office_assigns(factories, round_robin):
    office, (a, b, c), service = round_robin
    seen(c, 1)
    other = factories.office()
    sender = factories.operator(other)
    ticket = factories.request_ticket(service_=factories.service(other))
    ticket = services.transfer(ticket, sender, office)
    assert (ticket.office, ticket.assignee, ticket.status) == (office, c, Status.IN_PROGRESS)


# --- @mentions ----------------------------------------------------------------------------


@pytest.fixture
def consult(factories):
    office = factories.office()
    me = factories.operator(office, username="anna")
    colleague = factories.operator(office, username="bruno.verdi")
    outsider = factories.operator(factories.office(), username="carla")
    ticket = factories.request_ticket(service_=factories.service(office))
    return me, colleague, outsider, ticket


def test_a_mention_notifies_the_colleague(factories, consult):
    me, colleague, outsider, ticket = consult
    services.add_note(ticket, me, "@Bruno.Verdi puoi verificare? Anche @carla e @nessuno e @anna.")
    note = ticket.events.get(kind=EventKind.NOTE)
    # Only colleagues who may see the ticket; never the author; unknown names ignored.
    assert note.data == {"mentions": [colleague.pk]}
    sent = Notification.objects.filter(event=note)
    assert [(n.template, n.recipient_user) for n in sent] == [("operator/mentioned", colleague)]


def test_e_mail_addresses_are_not_mentions(factories, consult):
    me, colleague, outsider, ticket = consult
    services.add_note(ticket, me, "Scrivere a ufficio@bruno.verdi per conferma")
    assert not Notification.objects.filter(template="operator/mentioned").exists()


def test_mentions_are_highlighted_in_the_timeline(client, factories, consult):
    me, colleague, outsider, ticket = consult
    services.add_note(ticket, me, "@bruno.verdi <b>guarda</b> qui")
    client.force_login(me)
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    assert '<mark class="helpdesk-mention"' in page and "@bruno.verdi</mark>" in page
    assert "&lt;b&gt;guarda&lt;/b&gt;" in page and "<b>guarda</b>" not in page
