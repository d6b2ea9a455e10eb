"""The ticket page's timeline written in Python (issue 20): each event has
the markup the timeline's template wrote for it — every branch (new,
AI-assisted, channel tags, actor or none, details, linked ticket, original
e-mail, mentions, plain body, files, operators only or public, by the
citizen), with text that needs escaping — in English and Italian; and the
page shows it."""

from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from tests.support.desk import ANNA, BRUNO
from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets.detail import icon_html
from wagtail_helpdesk.admin.tickets.timeline_html import timeline_items
from wagtail_helpdesk.tickets.timeline import build_timeline

pytestmark = pytest.mark.django_db

#: The loop the timeline's template had, one ``<li>`` per event: the
#: reference the Python markup is held to.
REFERENCE = """{% load i18n wagtailadmin_tags %}
{% fragment as internal_icon %}{% icon name="lock" %}{% endfragment %}
{% fragment as public_icon %}{% icon name="view" %}{% endfragment %}
{% translate "Operators only" as internal_label %}
{% translate "Visible to the citizen" as public_label %}
<ol>
{% for entry in timeline %}
<li id="event-{{ entry.event.pk }}" class="helpdesk-event helpdesk-event--{{ entry.kind }} {% if entry.internal %}helpdesk-event--internal{% else %}helpdesk-event--public{% endif %}{% if entry.event.by_citizen %} helpdesk-event--citizen{% endif %}">
    <span class="helpdesk-event__icon" aria-hidden="true">{{ entry.icon_html }}</span>
    <div class="helpdesk-event__content">
        <div class="helpdesk-event__header">
            <strong class="helpdesk-event__title">{{ entry.title }}</strong>
            {% if entry.is_new %}<span class="helpdesk-tag helpdesk-tag--unread">{% translate "New" %}</span>{% endif %}
            {% if entry.assisted %}<span class="helpdesk-tag helpdesk-tag--assisted" title="{% translate 'Written starting from a suggested reply, then checked and sent by the operator' %}">{% translate "AI-assisted" %}</span>{% endif %}
            {% for tag in entry.tags %}<span class="helpdesk-tag helpdesk-tag--channel">{{ tag }}</span>{% endfor %}
            <span class="helpdesk-event__actor">
                {% if entry.actor %}{{ entry.actor }} · {% endif %}<span class="helpdesk-event__role">{{ entry.actor_role }}</span>
            </span>
            <time class="helpdesk-event__time" datetime="{{ entry.created_at|date:'c' }}">{{ entry.created_at|date:"SHORT_DATETIME_FORMAT" }}</time>
            {% if entry.internal %}
                <span class="helpdesk-visibility helpdesk-visibility--internal">{{ internal_icon }}{{ internal_label }}</span>
            {% else %}
                <span class="helpdesk-visibility helpdesk-visibility--public">{{ public_icon }}{{ public_label }}</span>
            {% endif %}
        </div>
        {% if entry.details %}
            <ul class="helpdesk-event__details">
                {% for line in entry.details %}<li>{{ line }}</li>{% endfor %}
            </ul>
        {% endif %}
        {% if entry.related_ticket or entry.inbound %}
            <p class="helpdesk-event__links">
                {% if entry.related_ticket %}
                    <a href="{% url 'helpdesk_tickets:detail' entry.related_ticket.pk %}">{{ entry.related_ticket.label }}</a>
                {% endif %}
                {% if entry.inbound %}
                    <a href="{% url 'helpdesk_inbound:detail' entry.inbound %}">{% translate "Original message" %}</a>
                {% endif %}
            </p>
        {% endif %}
        {% if entry.body %}
            <div class="helpdesk-event__body">{% if entry.body_html %}{{ entry.body_html }}{% else %}{{ entry.body|linebreaks }}{% endif %}</div>
        {% endif %}
        {% if entry.attachments %}
            <ul class="helpdesk-event__files">
                {% for attachment in entry.attachments %}
                    <li>{% include "wagtail_helpdesk/admin/includes/ticket_attachment_link.html" %}</li>
                {% endfor %}
            </ul>
        {% endif %}
    </div>
</li>
{% endfor %}
</ol>"""


class Markup(str):
    """Safe text of another library (a ``str`` with ``__html__``, not
    Django's SafeData): kept as it is, as a template keeps it."""

    def __html__(self):
        return str(self)


class Html:
    """Not text, with ``__html__``: a template writes its ``str()``, escaped."""

    def __html__(self):
        return "<i>not used</i>"

    def __str__(self):
        return "<i>testo</i>"


@pytest.fixture
def entries(make_desk):
    """A ticket's real timeline entries, then every branch the template had
    set on some of them (as the page and the mail/link helpers set them)."""
    desk = make_desk(me=ANNA, colleague=BRUNO, service=True,
                     ticket={"description": "Scadenza <documento>\n\nSecondo paragrafo & altro"})
    ticket = services.take_charge(desk.ticket, desk.me)
    ticket = services.resolve(ticket, desk.me, desk.factories.resolution_type(), "Fatto <subito>.")
    timeline = build_timeline(ticket, [])
    assert len(timeline) >= 3
    for entry in timeline:
        entry.icon_html = icon_html(entry.icon)
    first, second, last = timeline[0], timeline[1], timeline[-1]
    first.is_new = True
    first.event.by_citizen = True
    first.actor = "Maria <Rossi> & figli"
    first.body, first.body_html = "Scadenza <documento>\n\nSecondo paragrafo & altro", None
    first.attachments = [
        SimpleNamespace(pk=7, content_type="application/pdf", original_name="atto <1>.pdf",
                        size=123_456, visibility="public"),
        SimpleNamespace(pk=8, content_type="image/png", original_name="foto.png", size=999,
                        visibility="internal"),
    ]
    second.assisted = True
    second.tags = ["via e-mail", "PEC <certificata>", gettext_lazy("Citizen"), Markup("<b>già sicuro</b>"),
                   Html()]
    second.inbound = 42
    second.related_ticket = SimpleNamespace(pk=ticket.pk, label="URP-2026-7 <altro>")
    second.details = ["Da: <nessuno>", mark_safe("<em>Bruno</em>")]
    second.internal = True
    last.actor = ""
    last.body = "Riga uno\nriga <due>"
    last.body_html = mark_safe('<p>Vedi <mark class="helpdesk-mention">@bruno</mark></p>')
    return ticket, timeline


@pytest.mark.parametrize("language", ["en", "it"])
def test_each_event_is_the_templates_markup(entries, language):
    ticket, timeline = entries
    with translation.override(language):
        expected = Template(REFERENCE).render(Context({"timeline": timeline, "ticket": ticket}))
        written = f"<ol>{timeline_items(timeline, ticket, icon_html)}</ol>"
    assert parse_html(written) == parse_html(expected)
    # What needs escaping is escaped; the safe parts (mentions, an icon) are not.
    assert "Maria &lt;Rossi&gt; &amp; figli" in written
    assert "<p>Scadenza &lt;documento&gt;</p>" in written
    assert "PEC &lt;certificata&gt;" in written and "URP-2026-7 &lt;altro&gt;" in written
    assert "<em>Bruno</em>" in written and "Da: &lt;nessuno&gt;" in written
    assert '<mark class="helpdesk-mention">@bruno</mark>' in written
    assert "atto &lt;1&gt;.pdf" in written
    assert "<b>già sicuro</b>" in written  # safe text kept
    assert "&lt;i&gt;testo&lt;/i&gt;" in written and "not used" not in written
    assert ("Cittadino" if language == "it" else "Citizen") in written  # lazy text resolved
    assert "</a> <a" in written  # the linked ticket and the original message apart
    assert ("Solo operatori" if language == "it" else "Operators only") in written


def test_the_page_shows_the_events_and_an_empty_timeline_says_so(entries, client):
    ticket, timeline = entries
    client.force_login(ticket.assignee)
    html = client.get(f"/admin/helpdesk/tickets/{ticket.pk}/").content.decode()
    for entry in timeline:
        assert f'id="event-{entry.event.pk}"' in html
    assert "Fatto &lt;subito&gt;." in html  # the resolution's note, escaped
    empty = render_to_string("wagtail_helpdesk/admin/ticket_detail_timeline.html",
                             {"timeline": [], "timeline_items": ""})
    assert "Nothing has happened on this ticket yet." in empty
    assert "helpdesk-event" not in empty
