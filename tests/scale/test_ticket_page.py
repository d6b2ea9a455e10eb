"""The operator's ticket page at scale: the same, pinned number of queries
for an ordinary ticket and for one with a 200-event timeline, of which the
page shows the latest events (the earlier ones on request)."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets.detail import DEFERRED_PANELS, TIMELINE_SHOWN
from wagtail_helpdesk.models import EventKind, Ticket, TicketEvent, Visibility
from wagtail_helpdesk.tickets.timeline import kind_title

#: Queries of the whole request, Wagtail's own included (session, the user
#: with their Wagtail profile, their permissions — one query each with
#: ``wagtail_helpdesk.auth.backends.ModelBackend`` —, the locales, the menu's
#: and search areas' page/collection/site permission checks: seven of them).
#: Measured, then pinned. The similar tickets, the suggested replies, the
#: citizen's other tickets and the consults are not among them: the page
#: fetches them once it has rendered. Nor the choices of the action forms
#: (offices, resolution types, who can be assigned: only their presence is
#: read), the quick replies and the AI assist's switches: cached
#: (:mod:`wagtail_helpdesk.choices_cache`).
PINNED_OPEN = 13
#: The 200-event ticket: + the users and the offices its events name.
PINNED_OPEN_200 = 15
PINNED_RESOLVED = 12
#: The same on PostgreSQL (the full-text ranking went with the deferred panels).
POSTGRES_EXTRA = 0


def pinned(count):
    return count + (POSTGRES_EXTRA if connection.vendor == "postgresql" else 0)


@pytest.fixture
def desk(factories):
    office, other = factories.office(name="URP"), factories.office(name="Tributi")
    op, colleague = factories.operator(office), factories.operator(office)
    service = factories.service(office)
    citizen = factories.citizen()

    class Desk:
        pass

    desk = Desk()
    desk.__dict__.update(office=office, other=other, op=op, colleague=colleague,
                         service=service, citizen=citizen, factories=factories)
    return desk


def open_ticket(desk):
    ticket = desk.factories.request_ticket(service_=desk.service, citizen_=desk.citizen)
    return services.take_charge(ticket, desk.op)


def add_events(ticket, desk, count):
    """``count`` events of every common kind, naming people and offices."""
    kinds = [
        (EventKind.CITIZEN_MESSAGE, Visibility.PUBLIC, {}, True),
        (EventKind.REPLY, Visibility.PUBLIC, {}, False),
        (EventKind.NOTE, Visibility.INTERNAL, {"mentions": [desk.colleague.pk]}, False),
        (EventKind.ASSIGNED, Visibility.INTERNAL,
         {"from": desk.op.pk, "to": desk.colleague.pk}, False),
        (EventKind.TRANSFERRED, Visibility.INTERNAL,
         {"from": desk.office.pk, "to": desk.other.pk}, False),
    ]
    start = timezone.now() - timedelta(days=30)
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=ticket, kind=kind, visibility=visibility, data=data,
                    by_citizen=by_citizen, actor=None if by_citizen else desk.op,
                    body=f"Messaggio numero {i}", created_at=start + timedelta(minutes=i))
        for i, (kind, visibility, data, by_citizen) in
        ((i, kinds[i % len(kinds)]) for i in range(count)))


def page_queries(client, ticket, **params):
    url = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    assert client.get(url, params).status_code == 200  # marks read, warms the menus
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries], response


def test_an_ordinary_and_a_200_event_ticket_make_the_same_pinned_queries(client, desk):
    ordinary, big = open_ticket(desk), open_ticket(desk)
    add_events(big, desk, 200)
    client.force_login(desk.op)
    small_queries, _ = page_queries(client, ordinary)
    big_queries, _ = page_queries(client, big)
    assert len(small_queries) <= pinned(PINNED_OPEN), "\n".join(q[:120] for q in small_queries)
    # The names the big timeline refers to: at most two more queries (users, offices).
    assert len(big_queries) <= len(small_queries) + 2, "\n".join(q[:120] for q in big_queries)
    assert len(big_queries) <= pinned(PINNED_OPEN_200)


def test_the_slow_panels_are_not_computed_with_the_page(client, desk):
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    queries, response = page_queries(client, ticket)
    assert not [q for q in queries if "ticketembedding" in q]  # the similar tickets' lookup
    assert not [q for q in queries if "assistsettings" in q]  # cached (choices_cache)
    assert len([q for q in queries if '"wagtail_helpdesk_label"' in q]) == 1
    soup = BeautifulSoup(response.content, "html.parser")
    for region, name in (("#ticket-similar-body", "helpdesk_tickets:similar_panel"),
                         ("#reply-suggestions-region", "helpdesk_tickets:assist_suggestions")):
        node = soup.select_one(region)
        assert node["aria-live"] == "polite"
        assert node["data-w-swap-src-value"] == reverse(name, args=[ticket.pk])
        assert client.get(node["data-w-swap-src-value"]).status_code == 200


def test_a_resolved_ticket_makes_fewer_queries(client, desk):
    ticket = open_ticket(desk)
    services.resolve(ticket, desk.op, desk.factories.resolution_type(), "Fatto")
    client.force_login(desk.op)
    queries, _ = page_queries(client, ticket)
    assert len(queries) <= pinned(PINNED_RESOLVED), "\n".join(q[:120] for q in queries)


def test_the_timeline_shows_the_latest_events_and_the_earlier_on_request(client, desk):
    big = open_ticket(desk)
    add_events(big, desk, 200)
    total = TicketEvent.objects.filter(ticket=big).count()
    client.force_login(desk.op)
    _, response = page_queries(client, big)
    soup = BeautifulSoup(response.content, "html.parser")
    events = soup.select(".helpdesk-timeline__list > li.helpdesk-event")
    assert len(events) == TIMELINE_SHOWN
    latest = TicketEvent.objects.filter(ticket=big).order_by("-created_at", "-pk")[0]
    assert events[-1]["id"] == f"event-{latest.pk}"  # oldest first, ending with the newest
    link = soup.select_one(".helpdesk-timeline__earlier a")
    assert link is not None and "timeline=all" in link["href"]
    _, whole = page_queries(client, big, timeline="all")
    soup = BeautifulSoup(whole.content, "html.parser")
    assert len(soup.select(".helpdesk-timeline__list > li.helpdesk-event")) == total
    assert soup.select_one(".helpdesk-timeline__earlier") is None


def test_a_short_timeline_has_no_earlier_link(client, desk):
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    _, response = page_queries(client, ticket)
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one(".helpdesk-timeline__earlier") is None
    assert len(soup.select(".helpdesk-timeline__list > li.helpdesk-event")) == (
        TicketEvent.objects.filter(ticket=ticket).count())


def test_the_timeline_names_the_people_and_offices_of_the_events(client, desk):
    big = open_ticket(desk)
    add_events(big, desk, 10)
    client.force_login(desk.op)
    _, response = page_queries(client, big)
    text = BeautifulSoup(response.content, "html.parser").select_one(
        ".helpdesk-timeline").get_text(" ")
    assert "From URP to Tributi" in text
    assert f"Assigned to {desk.colleague.get_full_name() or desk.colleague.username}" in text


def test_the_seldom_used_panels_are_fetched_after_the_page(client, desk):
    """The citizen's other tickets and the consults (with its long choice of
    colleagues) come after the page: a region each, filled from
    ``?panel=<name>``, with a link that shows them without JavaScript."""
    ticket = open_ticket(desk)
    other = desk.factories.request_ticket(service_=desk.service, citizen_=desk.citizen)
    expert = desk.factories.operator(desk.other)  # a colleague to share it with
    client.force_login(desk.op)
    queries, response = page_queries(client, ticket)
    assert not [q for q in queries if q.startswith('SELECT "wagtail_helpdesk_ticketconsult"')]
    assert not [q for q in queries if f"citizen_id\" = {desk.citizen.pk}" in q]
    soup = BeautifulSoup(response.content, "html.parser")
    url = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    filled, anchors = {}, {}
    for region, name in (("#ticket-consults-body", "consults"),
                         ("#ticket-other-tickets", "other-tickets")):
        node = soup.select_one(region)
        assert node["aria-live"] == "polite"
        assert node["data-w-swap-src-value"] == f"{url}?panel={name}"
        link = node.select_one("a")["href"]
        assert link.startswith("?panels=all#")
        anchors[name] = link.partition("#")[2]
        fragment = client.get(node["data-w-swap-src-value"])
        assert fragment.status_code == 200 and "no-store" in fragment["Cache-Control"]
        assert b"<html" not in fragment.content
        filled[name] = BeautifulSoup(fragment.content, "html.parser")
    assert [o["value"] for o in filled["consults"].select("#id_consult_consultant option")] == [
        "", str(expert.pk)]
    assert [a["href"] for a in filled["other-tickets"].select("a")] == [
        reverse("helpdesk_tickets:detail", args=[other.pk])]
    # Without JavaScript: the page with them in place.
    whole = BeautifulSoup(client.get(url, {"panels": "all"}).content, "html.parser")
    assert whole.select_one("#ticket-consults-body #id_consult_consultant")
    assert whole.select_one(".helpdesk-citizen-tickets")
    assert not whole.select("[data-w-swap-src-value*='panel=']")
    assert all(whole.find(id=anchor) for anchor in anchors.values())


def test_a_panel_is_only_for_who_may_see_the_ticket(client, desk):
    ticket = open_ticket(desk)
    stranger = desk.factories.operator(desk.other)
    client.force_login(stranger)
    url = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    for name in DEFERRED_PANELS:
        assert client.get(url, {"panel": name}).status_code == 404
    client.force_login(desk.op)
    assert client.get(url, {"panel": "nothing"}).status_code == 404


def test_fetching_a_panel_does_not_mark_the_messages_read(client, desk):
    ticket = open_ticket(desk)
    Ticket.objects.filter(pk=ticket.pk).update(unread_count=2)
    client.force_login(desk.op)
    url = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    for name in DEFERRED_PANELS:
        assert client.get(url, {"panel": name}).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).unread_count == 2
    client.get(url)
    assert Ticket.objects.get(pk=ticket.pk).unread_count == 0


def test_a_draft_offers_no_consults(client, desk):
    draft = desk.factories.request_ticket(service_=desk.service, citizen_=desk.citizen)
    Ticket.objects.filter(pk=draft.pk).update(status="draft", opened_by_citizen=False,
                                              created_by=desk.op)
    client.force_login(desk.op)
    url = reverse("helpdesk_tickets:detail", args=[draft.pk])
    soup = BeautifulSoup(client.get(url).content, "html.parser")
    assert soup.select_one("#ticket-consults-body") is None
    assert soup.select_one("#ticket-other-tickets") is not None


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_events_are_titled_as_their_kind(language):
    with translation.override(language):
        for kind in EventKind:
            assert kind_title(kind.value) == TicketEvent(kind=kind.value).get_kind_display()
        assert kind_title("gone") == "gone"



@pytest.mark.parametrize("value", ["12", "", None, 'a & <b> "c"\nd'])
def test_the_action_forms_widgets_are_django_s_markup(value):
    """The action forms' widgets, written in Python (not a template each), are
    Django's markup byte for byte, escaping and all."""
    from django import forms
    from django.forms.renderers import get_default_renderer

    from wagtail_helpdesk.admin.tickets.forms import RENDERER

    choices = [("", "---"), ("12", "A & B"), ("2", '<x y="z">'), ("G", [("3", "g1")])]
    attrs = {"id": "id_f", "required": True, "disabled": False, "data-x": 'a"b'}
    for widget in (forms.Select(choices=choices), forms.HiddenInput(),
                   forms.Textarea(attrs={"rows": 3})):
        assert widget.render("f", value, attrs, renderer=RENDERER) == widget.render(
            "f", value, attrs, renderer=get_default_renderer())
