"""Segnalazioni raggruppate through the admin: who may see it, which
offices, what each group shows, "link all", and its pinned queries."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk.admin.clusters import URL_NAME, clusters_menu_item
from wagtail_helpdesk.ai.switches import assist_settings
from wagtail_helpdesk.ai.tasks import embed_missing
from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.services import CitizenActor

M = 1 / 111_195
POTHOLE = [("Buca profonda in via Roma", "Buca profonda davanti al civico 12 di via Roma."),
           ("Grossa buca in via Roma", "Una buca grossa in via Roma vicino al civico 12."),
           ("Buca in via Roma", "C'è una buca in via Roma, profonda, all'altezza del 12.")]
BIN = [("Cassonetto rotto in via Po", "Il coperchio del cassonetto della carta è rotto."),
       ("Cassonetto della carta rotto", "In via Po il cassonetto della carta ha il coperchio rotto.")]


@pytest.fixture(autouse=True)
def model(settings):
    from tests.support.ai import FAKE, _use

    settings.WAGTAIL_HELPDESK_AI_CLUSTER_MIN_COSINE = 0.5  # the fake model's scale
    return _use(settings, FAKE)


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "Lavori pubblici"}, supervisor=True,
                     other_office={"name": "Ambiente"}, outsider=True)
    f = desk.factories
    desk.pits = f.report_category(desk.office, name="Buca stradale")
    desk.bins = f.report_category(desk.other_office, name="Rifiuti")
    desk.pothole = [report(desk, text, desk.pits, north=i * 40, days_ago=5 - i)
                    for i, text in enumerate(POTHOLE)]
    desk.bin = [report(desk, text, desk.bins, north=3000 + i * 20) for i, text in enumerate(BIN)]
    embed_missing()
    return desk


def report(desk, text, category, *, north=0.0, days_ago=0):
    f = desk.factories
    person = f.citizen()
    subject, description = text
    t = f.report_ticket(CitizenActor(person), category=category, citizen=person,
                        subject=subject, description=description,
                        latitude=f"{45.4642 + north * M:.6f}", longitude="9.190000")
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        Ticket.objects.filter(pk=t.pk).update(created_at=when, submitted_at=when)
    return t


def page(client, user, **params):
    client.force_login(user)
    response = client.get(reverse(URL_NAME), params)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def rows(soup):
    return [(tr.select_one("td").get_text(strip=True),
             int(tr.select_one("[data-figure=size]").get_text()),
             [a.get_text() for a in tr.select("li a")])
            for tr in soup.select("tr.helpdesk-cluster")]


def test_only_supervisors_and_administrators_see_it(client, desk):
    client.force_login(desk.me)  # an operator: Wagtail's "permission denied"
    response = client.get(reverse(URL_NAME))
    assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))
    client.logout()
    response = client.get(reverse(URL_NAME))
    assert response.status_code == 302 and "login" in response["Location"]
    request = type("R", (), {"user": desk.me})()
    assert not clusters_menu_item().is_shown(request)
    request.user = desk.supervisor
    assert clusters_menu_item().is_shown(request)


def test_a_supervisor_sees_the_groups_of_their_offices(client, desk):
    soup = page(client, desk.supervisor)
    refs = [t.reference for t in desk.pothole]
    assert rows(soup) == [("Buca stradale", 3, refs)]
    (row,) = soup.select("tr.helpdesk-cluster")
    area = row.select("td")[2].select_one("a")
    lat = f"{round(45.4642 + 40 * M, 3)}"
    assert area.get_text(strip=True) == f"Around {lat}, 9.19"
    assert f"mlat={lat}&mlon=9.19" in area["href"]
    links = [a["href"] for a in row.select("li a")]
    assert links == [reverse("helpdesk_tickets:detail", args=[t.pk]) for t in desk.pothole]
    assert POTHOLE[0][0] in row.get_text()
    newest = Ticket.objects.get(pk=desk.pothole[-1].pk)
    # The site's day (Europe/Rome), not UTC's: they differ late in the evening.
    day = timezone.localtime(newest.submitted_at)
    assert row.select("td")[3].get_text(strip=True) == day.strftime("%m/%d/%Y")


def test_an_administrator_sees_every_office_and_may_narrow_it(client, desk):
    admin = desk.factories.administrator()
    assert [r[:2] for r in rows(page(client, admin))] == [("Buca stradale", 3), ("Rifiuti", 2)]
    only = rows(page(client, admin, office=desk.other_office.pk))
    assert only == [("Rifiuti", 2, [t.reference for t in desk.bin])]


def test_switched_off_it_says_so(client, desk):
    settings = assist_settings()
    settings.site = desk.factories.default_site()
    settings.similar_enabled = False
    settings.save()
    soup = page(client, desk.supervisor)
    assert rows(soup) == []
    assert "switched off" in soup.select_one("main").get_text()


def test_nothing_grouped_says_so(client, desk):
    soup = page(client, desk.supervisor, office=desk.office.pk)
    assert rows(soup)
    for t in desk.pothole[1:]:
        Ticket.objects.filter(pk=t.pk).update(report_category=desk.factories.report_category(
            desk.office))
    soup = page(client, desk.supervisor)
    assert rows(soup) == []
    assert "No open reports seem to be about the same problem." in soup.get_text()


def test_the_page_queries_do_not_grow_with_the_reports(client, desk):
    """Pinned: the same number of queries for 5 reports and for 25."""
    admin = desk.factories.administrator()
    client.force_login(admin)

    def count():
        client.get(reverse(URL_NAME))  # the session, the permissions: not measured
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(URL_NAME)).status_code == 200
        return len(ctx.captured_queries)

    expected = count()
    for i in range(20):
        report(desk, POTHOLE[i % 3], desk.pits, north=500 + i * 30)
    embed_missing()
    assert count() == expected
    assert len(rows(page(client, admin))) == 3
    # The session, the user and their permissions (3), the switch, the
    # reports (one query), the admin's chrome (5) and the offices' filter.
    assert expected <= 12


# --- Link all as duplicates of the oldest ------------------------------------------------


def link_all(client, soup, *, confirmed=True):
    form = soup.select_one("form.helpdesk-action--link-cluster")
    data = {"primary": form.select_one("input[name=primary]")["value"],
            "tickets": [i["value"] for i in form.select("input[name=tickets]")],
            "confirmed": "1" if confirmed else ""}
    return client.post(form["action"], data)


def messages_of(response):
    from django.contrib.messages import get_messages

    return [(m.level_tag, str(m.message).strip()) for m in get_messages(response.wsgi_request)]


def test_a_supervisor_links_a_group_to_its_oldest_report(client, desk):
    soup = page(client, desk.supervisor)
    oldest, *others = desk.pothole
    response = link_all(client, soup, confirmed=False)
    assert messages_of(response)[-1][0] == "error"
    assert not Ticket.objects.filter(duplicate_of__isnull=False).exists()
    response = link_all(client, soup)
    assert response.status_code == 302 and response["Location"] == reverse(URL_NAME)
    assert messages_of(response)[-1] == (
        "success", f"2 reports linked as duplicates of {oldest.reference}.")
    assert set(Ticket.objects.filter(duplicate_of=oldest).values_list("pk", flat=True)) == {
        t.pk for t in others}
    # Linked, the group stays (linked duplicates belong to it) and offers nothing more.
    soup = page(client, desk.supervisor)
    assert rows(soup)[0][1] == 3
    assert soup.select_one("form.helpdesk-action--link-cluster") is None
    assert len(soup.select(".helpdesk-cluster li")) == 3


def test_no_link_all_where_the_user_may_not_change_every_report(client, desk):
    admin = desk.factories.administrator()
    assert len(page(client, admin).select("form.helpdesk-action--link-cluster")) == 2
    # An operator of the office who may not see the dashboard cannot post it.
    client.force_login(desk.me)
    response = client.post(reverse("wagtail_helpdesk_clusters_link"),
                           {"primary": desk.pothole[0].pk,
                            "tickets": [desk.pothole[1].pk], "confirmed": "1"})
    assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))
    assert not Ticket.objects.filter(duplicate_of__isnull=False).exists()
    # A supervisor cannot link another office's reports by forging the form.
    client.force_login(desk.supervisor)
    response = client.post(reverse("wagtail_helpdesk_clusters_link"),
                           {"primary": desk.bin[0].pk, "tickets": [desk.bin[1].pk],
                            "confirmed": "1"})
    assert messages_of(response)[-1][0] == "error"
    assert not Ticket.objects.filter(duplicate_of__isnull=False).exists()
