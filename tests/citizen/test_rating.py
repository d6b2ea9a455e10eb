"""The citizen rates the answer through the signed, single-use link of the
"resolved" e-mail, without logging in; supervisors see the average."""

import re

import pytest

from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Notification
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.services import rating as rating_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(factories, smtp):
    office = factories.office(name="URP")
    person = factories.citizen(language="en")
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office))
    operator = factories.operator(office)
    ticket = services.take_charge(ticket, operator)
    ticket = services.resolve(ticket, operator, factories.resolution_type(), "Fatto.")
    tasks.deliver([Notification.objects.get(template="citizen/resolved").pk])
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/helpdesk/rating/\S+/", text).group(0)
    path = "/" + link.split("/", 3)[3]
    return type("R", (), {"ticket": ticket, "path": path, "office": office, "person": person})


def test_the_page_speaks_the_citizens_language(client, resolved):
    html = client.get(resolved.path).content.decode()
    assert "Rate the answer" in html and 'lang="en"' in html
    resolved.person.language = "it"
    resolved.person.save(update_fields=["language"])
    html = client.get(resolved.path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Valuta la risposta" in html and 'lang="it"' in html


def test_the_resolved_mail_links_to_a_rating_that_works_once(client, resolved):
    page = client.get(resolved.path)
    assert page.status_code == 200 and 'name="score"' in page.content.decode()
    response = client.post(resolved.path, {"score": "4", "comment": "Gentili e veloci."})
    assert response.status_code == 200 and "data-helpdesk-rated" in response.content.decode()
    event = resolved.ticket.events.get(kind=EventKind.RATING)
    assert (event.data["score"], event.body, event.visibility, event.by_citizen) == (
        4, "Gentili e veloci.", "public", True)
    again = client.post(resolved.path, {"score": "1"})
    assert "already been rated" in again.content.decode()
    assert resolved.ticket.events.filter(kind=EventKind.RATING).count() == 1


def test_a_bad_score_is_refused_and_the_comment_kept(client, resolved):
    response = client.post(resolved.path, {"score": "9", "comment": "Non male"})
    html = response.content.decode()
    assert response.status_code == 400 and "from 1 to 5" in html and "Non male" in html
    assert not resolved.ticket.events.filter(kind=EventKind.RATING).exists()


def test_forged_or_expired_links_are_refused(client, resolved, monkeypatch):
    forged = resolved.path.replace("/rating/", "/rating/x")
    assert client.get(forged).status_code == 404
    monkeypatch.setattr(rating_service, "MAX_AGE", -1)
    assert client.get(resolved.path).status_code == 404


def test_a_link_for_another_event_is_refused(client, resolved):
    token = rating_service.rating_token(resolved.ticket.pk, resolved.ticket.events.first().pk)
    response = client.post(f"/helpdesk/rating/{token}/", {"score": "5"})
    assert response.status_code == 400
    assert not resolved.ticket.events.filter(kind=EventKind.RATING).exists()


def test_supervisors_see_the_average(client, resolved, factories):
    client.post(resolved.path, {"score": "4"})
    client.force_login(factories.supervisor(resolved.office))
    html = client.get("/admin/helpdesk/dashboard/").content.decode()
    assert re.search(r'data-figure="satisfaction">\s*4\.0/5', html)
