"""The ticket page's "Similar tickets" panel: what it shows and to whom, the
deliberate "Link as a duplicate" and "Unlink" through the admin, and its
queries (the panel's context and template alone, and on the ticket page)."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.similar import similar_panel
from wagtail_helpdesk.ai.switches import assist_settings
from wagtail_helpdesk.ai.tasks import embed_missing
from wagtail_helpdesk.models import AssistSettings, EventKind, Notification, Ticket, TicketEvent
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.services.duplicates import link_duplicate

M = 1 / 111_195
POTHOLE = ("Buca profonda in via Roma", "Buca profonda davanti al civico 12 di via Roma.")
SAME_POTHOLE = ("Grossa buca in via Roma", "Una buca grossa in via Roma vicino al civico 12.")
THIRD = ("Buca in via Roma al 12", "C'è una buca profonda in via Roma, al civico 12.")
LAMP = ("Lampione spento in via Roma", "Il lampione di via Roma non si accende da giorni.")


@pytest.fixture(autouse=True)
def model(settings):
    """The tests' deterministic model; its cosines are lower than the real one's."""
    from tests.support.ai import FAKE, _use

    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_MIN_COSINE = 0.5
    return _use(settings, FAKE)


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "Lavori pubblici"}, colleague=True,
                     other_office={"name": "Ambiente"}, outsider=True)
    desk.pits = desk.factories.report_category(desk.office, name="Buca stradale")
    desk.resolved_as = desk.factories.resolution_type()
    return desk


def report(desk, text, *, north=0.0, days_ago=0, category=None):
    f = desk.factories
    person = f.citizen()
    subject, description = text
    t = f.report_ticket(CitizenActor(person), category=category or desk.pits, citizen=person,
                        subject=subject, description=description,
                        latitude=f"{45.4642 + north * M:.6f}", longitude="9.190000")
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        Ticket.objects.filter(pk=t.pk).update(created_at=when, submitted_at=when)
    return fresh(t)


def fresh(ticket):
    return Ticket.objects.select_related("report_category", "service", "office").get(
        pk=ticket.pk)


@pytest.fixture
def pair(desk):
    """An older report of a pothole (taken in charge) and a newer one of the same."""
    older = report(desk, POTHOLE, days_ago=2)
    services.take_charge(older, desk.me)
    newer = report(desk, SAME_POTHOLE, north=40)
    report(desk, LAMP, north=10)
    embed_missing()
    return fresh(older), fresh(newer)


def request_of(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def panel(user, ticket):
    return similar_panel(request_of(user), fresh(ticket))


def rendered(user, ticket, *, loaded=False):
    """The panel's HTML (``loaded``: ``ticket`` is already the page's, read)."""
    request = request_of(user)
    ticket = ticket if loaded else fresh(ticket)
    context = similar_panel(request, ticket)
    return BeautifulSoup(render_to_string(
        "wagtail_helpdesk/admin/ai/similar_panel.html",
        {"similar": context, "ticket": ticket}, request=request), "html.parser")


def messages_of(response):
    return [(m.level_tag, str(m.message).strip()) for m in get_messages(response.wsgi_request)]


# --- What the panel shows ----------------------------------------------------------------


def test_the_newer_report_is_offered_as_a_possible_duplicate_of_the_older(desk, pair):
    older, newer = pair
    page = rendered(desk.me, newer)
    heading = page.select_one(".helpdesk-likely-duplicate h3").get_text(" ", strip=True)
    assert heading == f"Possible duplicate of {older.reference}"
    form = page.select_one("form.helpdesk-action--link-duplicate")
    assert form["action"] == reverse("helpdesk_tickets:link_duplicate", args=[newer.pk])
    fields = {i["name"]: i.get("value") for i in form.select("input")}
    assert fields["duplicate"] == str(newer.pk) and fields["primary"] == str(older.pk)
    assert form.select_one("input[name=confirmed]").has_attr("required")
    assert form.select_one("input[name=csrfmiddlewaretoken]") is not None
    # Why it matches, in the page's words.
    reasons = page.select_one(".helpdesk-likely-duplicate .helpdesk-muted").get_text()
    assert "same type of problem" in reasons and "40 m away" in reasons
    # The similar tickets, each with reference link, subject, status and reasons.
    items = page.select(".helpdesk-similar li")
    assert items[0].select_one("a")["href"] == reverse("helpdesk_tickets:detail",
                                                       args=[older.pk])
    assert POTHOLE[0] in items[0].get_text() and "Taken in charge" in items[0].get_text()
    assert any("Lampione" in li.get_text() for li in items)
    # A model is configured: no "words only" note.
    assert page.select_one(".helpdesk-similar__lexical") is None


def test_the_older_report_offers_to_link_the_newer_one_to_it(desk, pair):
    older, newer = pair
    page = rendered(desk.me, older)
    heading = page.select_one(".helpdesk-likely-duplicate h3").get_text(" ", strip=True)
    assert heading == f"{newer.reference} may be a duplicate of this ticket"
    fields = {i["name"]: i.get("value")
              for i in page.select("form.helpdesk-action--link-duplicate input")}
    assert fields["duplicate"] == str(newer.pk) and fields["primary"] == str(older.pk)


def test_the_panel_shows_the_links_and_warns_before_resolving(desk, pair):
    older, newer = pair
    link_duplicate(newer, desk.me, older)
    page = rendered(desk.me, newer)
    assert page.select_one("#duplicate-of-heading").get_text(strip=True) == (
        f"Duplicate of {older.reference}")
    assert page.select_one(".helpdesk-duplicate-of form")["action"] == reverse(
        "helpdesk_tickets:unlink_duplicate", args=[newer.pk])
    assert page.select_one(".helpdesk-likely-duplicate") is None  # already linked
    page = rendered(desk.me, older)
    (item,) = page.select(".helpdesk-duplicates li")
    assert newer.reference in item.get_text()
    assert "resolves its open duplicate" in page.select_one(".helpdesk-duplicates").get_text()


def test_without_a_model_the_panel_says_it_finds_by_words(desk, pair, settings):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = ""
    older, newer = pair
    page = rendered(desk.me, newer)
    assert "found by their words only" in page.select_one(".helpdesk-similar__lexical").get_text()
    assert page.select_one(".helpdesk-likely-duplicate") is not None  # words in common


def test_switched_off_or_unseen_there_is_no_panel(desk, pair,
                                                  django_capture_on_commit_callbacks):
    older, newer = pair
    assert panel(desk.outsider, newer) is None
    assert panel(desk.me, newer) is not None  # the switch is read, and cached
    settings = assist_settings()
    settings.site = desk.factories.default_site()
    settings.similar_enabled = False
    with django_capture_on_commit_callbacks(execute=True):  # committed: shows at once
        settings.save()
    assert panel(desk.me, newer) is None
    assert AssistSettings.objects.count() == 1


def test_a_user_who_may_not_change_the_other_ticket_gets_no_link_button(desk, pair):
    older, newer = pair
    admin = desk.factories.administrator()
    elsewhere = report(desk, THIRD, north=20,
                       category=desk.factories.report_category(desk.other_office,
                                                               name="Buche (Ambiente)"))
    embed_missing()
    assert elsewhere.pk not in [m.ticket.pk for m in panel(desk.me, newer)["similar"]]
    offers = panel(admin, newer)["offers"]
    assert all(o["can_link"] for o in offers)  # the administrator may change both


# --- The actions -------------------------------------------------------------------------


@pytest.fixture
def operator_client(client, desk):
    client.force_login(desk.me)
    return client


def link(client, ticket, duplicate_, primary_, **extra):
    data = {"duplicate": duplicate_.pk, "primary": primary_.pk,
            "version": fresh(ticket).version, "back": ticket.pk, "confirmed": "1", **extra}
    return client.post(reverse("helpdesk_tickets:link_duplicate", args=[ticket.pk]), data)


def test_link_as_a_duplicate_through_the_admin(operator_client, desk, pair):
    older, newer = pair
    response = link(operator_client, newer, newer, older)
    assert response.status_code == 302
    assert response["Location"] == reverse("helpdesk_tickets:detail", args=[newer.pk])
    assert messages_of(response) == [("success", f"{newer.reference} linked as a duplicate of "
                                      f"{older.reference}: it will be resolved with it, and "
                                      "its citizen told.")]
    assert fresh(newer).duplicate_of_id == older.pk
    assert TicketEvent.objects.filter(kind=EventKind.DUPLICATE_LINKED).count() == 2


def test_resolving_the_primary_from_the_admin_tells_both_reporters(operator_client, desk, pair):
    older, newer = pair
    link(operator_client, older, newer, older)  # from the older's page
    response = operator_client.post(
        reverse("helpdesk_tickets:action", args=[older.pk, "resolve"]),
        {"version": fresh(older).version, "resolution_type": desk.resolved_as.pk,
         "resolution_text": "Buca riparata."})
    assert response.status_code == 302
    for t in (older, newer):
        assert fresh(t).status == "resolved"
        assert Notification.objects.filter(ticket=t, template="citizen/resolved",
                                           address=fresh(t).citizen.email).count() == 1


@pytest.mark.parametrize("case", ["unconfirmed", "stale", "unknown", "not this page's"])
def test_a_refused_link_says_why_and_changes_nothing(operator_client, desk, pair, case):
    older, newer = pair
    extra, expected = {}, ""
    if case == "unconfirmed":
        extra, expected = {"confirmed": ""}, "Confirm that the two tickets"
    elif case == "stale":
        extra, expected = {"version": fresh(newer).version - 1}, "Someone else changed"
    elif case == "unknown":
        extra, expected = {"primary": 999999}, "cannot be found"
    elif case == "not this page's":
        third = report(desk, THIRD, north=30)
        extra, expected = {"duplicate": third.pk}, "cannot be found"
    response = link(operator_client, newer, newer, older, **extra)
    assert response.status_code == 302
    ((level, text),) = messages_of(response)
    assert level == "error" and expected in text
    assert fresh(newer).duplicate_of_id is None


def test_a_guard_of_the_service_is_a_message(operator_client, desk, pair):
    older, newer = pair
    response = link(operator_client, newer, newer, newer)
    assert messages_of(response) == [("error", "A ticket cannot be a duplicate of itself.")]


def test_the_actions_need_a_post_and_permission(client, desk, pair):
    older, newer = pair
    client.force_login(desk.me)
    url = reverse("helpdesk_tickets:link_duplicate", args=[newer.pk])
    assert client.get(url).status_code == 405
    client.force_login(desk.outsider)
    assert link(client, newer, newer, older).status_code == 404
    assert fresh(newer).duplicate_of_id is None
    client.logout()
    response = link(client, newer, newer, older)
    assert response.status_code == 302 and "login" in response["Location"]
    assert fresh(newer).duplicate_of_id is None


def test_the_actions_are_protected_against_csrf(desk, pair):
    from django.test import Client

    older, newer = pair
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk.me)
    assert link(client, newer, newer, older).status_code == 403


def test_unlink_through_the_admin_returns_to_the_page_it_came_from(operator_client, desk, pair):
    older, newer = pair
    link_duplicate(newer, desk.me, older)
    url = reverse("helpdesk_tickets:unlink_duplicate", args=[newer.pk])
    response = operator_client.post(url, {"back": older.pk})
    assert response["Location"] == reverse("helpdesk_tickets:detail", args=[older.pk])
    assert messages_of(response) == [
        ("success", f"{newer.reference} is no longer linked as a duplicate of "
                    f"{older.reference}.")]
    assert fresh(newer).duplicate_of_id is None
    response = operator_client.post(url, {"back": newer.pk})
    assert messages_of(response)[-1] == ("error", "This ticket is not linked as a duplicate.")


# --- Queries ------------------------------------------------------------------------------


def test_the_panel_makes_the_same_queries_whatever_the_ticket(desk, pair):
    """Pinned: a report with no link and a primary with links and many
    similar tickets cost the same."""
    older, newer = pair
    lone = report(desk, LAMP, north=5000)
    embed_missing()

    def count(ticket):
        user = type(desk.me).objects.get(pk=desk.me.pk)  # no cached permissions
        ticket = fresh(ticket)
        panel(user, ticket)  # warm the user's caches: the page did that already
        with CaptureQueriesContext(connection) as ctx:
            rendered(user, ticket, loaded=True)
        return len(ctx.captured_queries)

    expected = count(lone)
    for i in range(4):
        dup = report(desk, SAME_POTHOLE, north=10 + i * 10)
        link_duplicate(dup, desk.me, older)
    for i in range(6):
        report(desk, THIRD, north=50 + i * 5)
    embed_missing()
    assert count(older) == expected
    assert count(newer) == expected
    # The lookup (the citizen's messages, the ticket's stored query vector,
    # the candidates, the open reports around it, on PostgreSQL their
    # full-text scores, the matches) and the links; the switch is cached.
    assert expected == (7 if connection.vendor == "postgresql" else 6)


# --- On the ticket page -------------------------------------------------------------------


def similar_section(client, url):
    """The panel as the browser ends up showing it: the page's frame, then
    the content its ``w-swap`` region fetches once the page has rendered."""
    page = BeautifulSoup(client.get(url).content, "html.parser")
    section = page.select_one("#ticket-similar-section")
    if section is None:
        return None
    region = section.select_one("#ticket-similar-body")
    assert region["aria-live"] == "polite"
    assert region["data-controller"].split() == ["w-swap", "w-init"]
    assert region["data-w-swap-target-value"] == "#ticket-similar-body"
    fragment = client.get(region["data-w-swap-src-value"])
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content  # the content only, no page around it
    region.clear()
    region.append(BeautifulSoup(fragment.content, "html.parser"))
    return section


def test_the_ticket_page_shows_the_panel_and_links_from_it(operator_client, desk, pair):
    older, newer = pair
    url = reverse("helpdesk_tickets:detail", args=[newer.pk])
    section = similar_section(operator_client, url)
    assert f"Possible duplicate of {older.reference}" in section.get_text()
    form = section.select_one("form.helpdesk-action--link-duplicate")
    data = {i["name"]: i.get("value") for i in form.select("input[type=hidden]")}
    response = operator_client.post(form["action"], {**data, "confirmed": "1"})
    assert response["Location"] == url
    section = similar_section(operator_client, url)
    assert f"Duplicate of {older.reference}" in section.get_text()
    assert section.select_one("form.helpdesk-action--unlink") is not None


def test_the_page_fetches_the_panel_and_links_to_it_in_place(operator_client, desk, pair):
    older, newer = pair
    url = reverse("helpdesk_tickets:detail", args=[newer.pk])
    page = BeautifulSoup(operator_client.get(url).content, "html.parser")
    region = page.select_one("#ticket-similar-body")
    assert "Possible duplicate" not in region.get_text()  # not computed with the page
    fallback = region.select_one("a")
    assert fallback["href"] == "?panels=all#ticket-similar"
    page = BeautifulSoup(operator_client.get(url, {"panels": "all"}).content, "html.parser")
    region = page.select_one("#ticket-similar-body")
    assert "data-controller" not in region.attrs
    assert f"Possible duplicate of {older.reference}" in region.get_text()


def test_the_panels_fragment_is_checked_like_the_page(client, desk, pair):
    older, newer = pair
    fragment = reverse("helpdesk_tickets:similar_panel", args=[newer.pk])
    client.force_login(desk.outsider)  # an operator of another office
    assert client.get(reverse("helpdesk_tickets:detail", args=[newer.pk])).status_code == 404
    assert client.get(fragment).status_code == 404
    client.logout()
    assert client.get(fragment).status_code == 302  # to the admin's login
    assert client.post(fragment).status_code in (302, 405)


def test_the_ticket_page_without_the_feature_has_no_panel(operator_client, desk, pair):
    older, newer = pair
    settings = assist_settings()
    settings.site = desk.factories.default_site()
    settings.similar_enabled = False
    settings.save()
    url = reverse("helpdesk_tickets:detail", args=[newer.pk])
    page = BeautifulSoup(operator_client.get(url).content, "html.parser")
    assert page.select_one("#ticket-similar-section") is None
    fragment = reverse("helpdesk_tickets:similar_panel", args=[newer.pk])
    assert operator_client.get(fragment).content.strip() == b""


# --- The timelines of linked tickets ----------------------------------------------------


def related_links(client, ticket):
    html = BeautifulSoup(client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk]))
                         .content, "html.parser")
    timeline = html.select_one(".helpdesk-timeline") or html
    return {a.get_text(" ", strip=True): a["href"] for a in timeline.select("a")
            if "/tickets/" in a.get("href", "")}, timeline.get_text(" ", strip=True)


def page_of(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


def test_link_unlink_and_resolution_together_are_told_on_both_sides(operator_client, desk):
    older, newer, third = (report(desk, POTHOLE, days_ago=2), report(desk, SAME_POTHOLE),
                           report(desk, THIRD))
    services.link_duplicate(third, desk.me, newer)
    services.link_duplicate(newer, desk.me, older)  # brings `third` along
    links, _text = related_links(operator_client, newer)
    assert links[f"Duplicate of {older.reference}"] == page_of(older)
    links, text = related_links(operator_client, older)
    assert links[f"{newer.reference} linked as a duplicate of this ticket"] == page_of(newer)
    assert f"With its duplicates: {third.reference}" in text
    links, text = related_links(operator_client, third)
    assert links[f"Duplicate of {older.reference}"] == page_of(older)
    assert f"Moved from {newer.reference}" in text

    services.unlink_duplicate(fresh(third), desk.me)
    links, _text = related_links(operator_client, third)
    assert links[f"No longer a duplicate of {older.reference}"] == page_of(older)
    links, _text = related_links(operator_client, older)
    assert links[f"{third.reference} is no longer a duplicate of this ticket"] == page_of(third)

    services.take_charge(fresh(older), desk.me)
    services.resolve(fresh(older), desk.me, desk.resolved_as, "Buca riparata.")
    links, _text = related_links(operator_client, newer)
    assert links[f"Resolved together with {older.reference}"] == page_of(older)
    assert fresh(third).status == "new"  # unlinked: not resolved with it
