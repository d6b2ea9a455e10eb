"""The chat widget as the page renders it (block and template tag), and the
transcript's text."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from wagtail_helpdesk.conversations.transcript import as_text
from wagtail_helpdesk.models import Citizen
from wagtail_helpdesk.services import conversations

pytestmark = pytest.mark.django_db


def with_chat(page, **value):
    page = page.specific
    page.body.append(("chat", {"inactivity_minutes": 5, **value}))
    page.save_revision().publish()
    return page


def test_the_block_renders_the_launcher_and_the_steps(client, pages, django_assert_max_num_queries):
    page = with_chat(pages.request, heading="Parla con noi")
    with django_assert_max_num_queries(40):
        html = client.get(page.url, HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert 'data-helpdesk-chat' in html and 'aria-expanded="false"' in html
    assert re.search(r'role="log"[^>]*aria-live="polite"[^>]*aria-relevant="additions"', html)
    assert 'aria-atomic' not in html.split("data-helpdesk-chat", 1)[1]
    assert 'data-inactivity-seconds="300"' in html
    assert "Carta d&#x27;identità" in html or "Carta d'identità" in html
    assert 'name="privacy"' in html and "informativa" in html  # the notice, before starting
    assert 'name="csrfmiddlewaretoken"' in html
    assert "/helpdesk/chat/start/" in html and "X-Helpdesk" not in html
    assert 'name="given_name"' in html and 'name="email"' in html
    assert 'data-key="queue_wait_unknown"' in html  # the script's words, from the page
    assert "no-cache" in client.get(page.url)["Cache-Control"]  # a CSRF token: not cached


def test_a_verified_citizen_sees_their_identity_not_fields(client, pages):
    user = pages.factories.user(group=None, username="spid-anna")
    Citizen.objects.create(given_name="Anna", family_name="Verdi", email="anna@example.it",
                           fiscal_code="VRDGPP80C12F205H", user=user)
    client.force_login(user)
    html = client.get(with_chat(pages.request).url).content.decode()
    assert "data-chat-verified" in html and "Anna Verdi" in html
    assert 'name="given_name"' not in html and 'name="email"' not in html


def test_no_privacy_notice_no_chat_for_visitors(client, pages):
    page = with_chat(pages.request)
    from wagtail_helpdesk.models import HelpdeskSettings

    for obj in HelpdeskSettings.objects.all():
        obj.privacy_page = None
        obj.save()
    page.body = [(b.block_type, b.value) for b in page.body if b.block_type == "chat"]
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert "data-helpdesk-chat" not in html


def render_tag(inactivity=3):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = {}
    return Template("{% load helpdesk_citizen %}{% helpdesk_chat inactivity="
                    f"{inactivity} %}}").render(Context({"request": request}))


def test_the_template_tag_renders_the_same_widget(pages):
    html = render_tag(3)
    assert 'id="helpdesk-chat"' in html and 'data-inactivity-seconds="180"' in html
    assert "data-chat-launcher" in html and "data-chat-log" in html
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{20,}"', html)  # the start posts


def test_the_widget_costs_the_same_queries_however_many_topics(pages):
    render_tag()  # warm the settings' caches
    with CaptureQueriesContext(connection) as few:
        html = render_tag()
    for n in range(6):
        pages.factories.service(pages.factories.office(), name=f"Tema {n}")
    with CaptureQueriesContext(connection) as many:
        more = render_tag()
    assert more.count("<option value=") == html.count("<option value=") + 6
    assert len(many) == len(few) <= 6, [q["sql"] for q in many]


def test_the_transcript_text(pages):
    operator = pages.factories.operator(pages.office, first_name="Luca")
    c = conversations.start(service=pages.service, body="Quando scade?",
                            person={"given_name": "Maria", "family_name": "Rossi",
                                    "email": "m@example.org", "phone": ""})
    conversations.accept(c, operator)
    conversations.send(c, operator, "Tra un anno.", "op-1")
    conversations.send(c, operator, "solo colleghi", "op-2", private=True)
    text = as_text(c, language="it")
    lines = text.splitlines()
    assert any(line.endswith("Quando scade?") for line in lines)
    assert any("Luca: Tra un anno." in line for line in lines)
    assert "solo colleghi" not in text
    assert c.ticket.reference in text
