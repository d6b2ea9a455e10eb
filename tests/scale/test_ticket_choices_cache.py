"""The ticket page's cached choices (:mod:`wagtail_helpdesk.choices_cache`):
the offices to transfer to, the resolution types, who can be assigned, the
quick replies and the AI assist's switches are read once; a committed change
shows at once (the test cache is shared by the whole process, as Redis is by
the servers), and a stale menu lets nobody do what they may not."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from tests.scale import test_ticket_page as ticket_page
from wagtail_helpdesk.ai.switches import assist_settings
from wagtail_helpdesk.models import OfficeMembership, QuickReply, ResolutionType, Ticket

open_ticket, page_queries = ticket_page.open_ticket, ticket_page.page_queries


@pytest.fixture
def desk(factories):
    return ticket_page.desk.__wrapped__(factories)


def offered(client, ticket, select):
    response = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    soup = BeautifulSoup(response.content, "html.parser")
    return {o.get_text(strip=True): o["value"] for o in soup.select(f"{select} option")
            if o["value"]}


def post(client, ticket, action, **data):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return client.post(reverse("helpdesk_tickets:action", args=[ticket.pk, action]),
                       {"version": ticket.version, **data})


def test_the_choices_are_read_once(client, desk):
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    queries, _ = page_queries(client, ticket)  # the second view of the page
    for table in ("office", "resolutiontype", "quickreply", "assistsettings"):
        assert not [q for q in queries if q.startswith(f'SELECT "wagtail_helpdesk_{table}"')]
    # Who can be assigned comes from the cache, their presence is live.
    assert not [q for q in queries if q.startswith('SELECT DISTINCT "auth_user"')]
    assert len([q for q in queries if "operatorpresence" in q]) == 1


def test_a_committed_change_shows_at_once(client, desk, django_capture_on_commit_callbacks):
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    assert set(offered(client, ticket, "#id_transfer_office")) == {"Tributi"}
    types = set(offered(client, ticket, "#id_resolve_resolution_type"))
    assert "Archiviata" not in types
    assert not [v for v in offered(client, ticket, "#id_assign_assignee") if "Nuova" in v]
    with django_capture_on_commit_callbacks(execute=True):
        desk.factories.office(name="Anagrafe")
        ResolutionType.objects.create(name="Archiviata", slug="archiviata")
        newcomer = desk.factories.operator(desk.office, first_name="Nuova", last_name="Collega")
        QuickReply.objects.create(title="Orari", body="Siamo aperti", office=desk.office)
    assert set(offered(client, ticket, "#id_transfer_office")) == {"Tributi", "Anagrafe"}
    assert set(offered(client, ticket, "#id_resolve_resolution_type")) == types | {"Archiviata"}
    assert str(newcomer.pk) in offered(client, ticket, "#id_assign_assignee").values()
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    assert "Orari" in page


def test_the_assist_switch_shows_at_once(client, desk, django_capture_on_commit_callbacks):
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    url = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    assert b"ticket-similar-body" in client.get(url).content
    settings = assist_settings()
    settings.site = desk.factories.default_site()
    settings.similar_enabled = False
    with django_capture_on_commit_callbacks(execute=True):
        settings.save()
    assert b"ticket-similar-body" not in client.get(url).content


def test_a_stale_menu_lets_nobody_do_what_they_may_not(client, desk):
    """Changed in a way this process's cache has not heard of (another
    process's cache, before its TTL): the menus still offer the old choices,
    the forms refuse them."""
    ticket = open_ticket(desk)
    kind = desk.factories.resolution_type()
    client.force_login(desk.op)
    assert "Tributi" in offered(client, ticket, "#id_transfer_office")
    assignees = offered(client, ticket, "#id_assign_assignee")
    assert str(desk.colleague.pk) in assignees.values()
    # No commit callbacks run: the cache is not told.
    type(desk.other).objects.filter(pk=desk.other.pk).update(active=False)
    ResolutionType.objects.filter(pk=kind.pk).update(active=False)
    OfficeMembership.objects.filter(user=desk.colleague).delete()
    assert "Tributi" in offered(client, ticket, "#id_transfer_office")  # stale
    for action, data in (("transfer", {"office": desk.other.pk}),
                         ("resolve", {"resolution_type": kind.pk, "resolution_text": "Fatto"}),
                         ("assign", {"assignee": desk.colleague.pk})):
        response = post(client, ticket, action, **data)
        assert response.status_code == 200, action  # the page again, with the error
        assert b"The action could not be completed" in response.content, action
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.office_id, ticket.status, ticket.assignee_id) == (
        desk.office.pk, "in_progress", desk.op.pk)


@pytest.mark.parametrize("action", ["transfer", "resolve", "assign"])
def test_a_refused_form_shows_the_live_choices(client, desk, action):
    ticket = open_ticket(desk)
    desk.factories.resolution_type()
    client.force_login(desk.op)
    response = post(client, ticket, action)  # nothing chosen
    soup = BeautifulSoup(response.content, "html.parser")
    field = {"transfer": "office", "resolve": "resolution_type", "assign": "assignee"}[action]
    assert len(soup.select(f"#id_{action}_{field} option")) > 1


def test_the_ticket_s_office_and_service_are_shown_from_the_cache_and_renamed_at_once(
        client, desk, django_capture_on_commit_callbacks):
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    queries, response = page_queries(client, ticket)
    assert not [q for q in queries if q.startswith('SELECT "wagtail_helpdesk_service"')]
    ticket_query = next(q for q in queries if q.startswith('SELECT "wagtail_helpdesk_ticket"'))
    assert "wagtail_helpdesk_service" not in ticket_query  # not joined in
    summary = BeautifulSoup(response.content, "html.parser").select_one(".helpdesk-ticket")
    assert desk.service.name in summary.get_text(" ")
    with django_capture_on_commit_callbacks(execute=True):
        desk.service.name = "Carta d'identità elettronica"
        desk.service.save()
        desk.office.name = "Ufficio Relazioni"
        desk.office.save()
    text = BeautifulSoup(client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content,
                         "html.parser").get_text(" ")
    assert "Carta d'identità elettronica" in text and "Ufficio Relazioni" in text


def test_a_service_s_app_io_key_never_goes_into_the_cache(client, desk):
    """The cache may be a shared Redis: a service's App IO key (written once,
    never shown again) is left out of the row the ticket page keeps there."""
    import pickle

    from django.core.cache import cache

    from wagtail_helpdesk import choices_cache
    from wagtail_helpdesk.models import Service

    Service.objects.filter(pk=desk.service.pk).update(io_api_key="segreto-app-io-0123456789")
    cache.clear()
    ticket = open_ticket(desk)
    client.force_login(desk.op)
    assert client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).status_code == 200
    row = choices_cache.catalogue_row(Service, desk.service.pk)
    assert row.name == desk.service.name
    assert "io_api_key" not in row.__dict__  # deferred: never read, never pickled
    assert b"segreto-app-io" not in pickle.dumps(row)
