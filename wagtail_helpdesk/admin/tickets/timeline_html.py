"""The ticket page's timeline events, written in Python: the markup the
timeline's template wrote for each event (the same elements, attributes and
text; tested against that template), without a template walk per event.

The page shows the latest 50 events: through the template (about twenty
variable lookups and conditions each) they were 12 ms of a long ticket's
page, here about one. ``ticket_detail_timeline.html`` keeps the section
around them and still gets the entries (``timeline``): a host overriding
that template may render them as it likes. A file's link keeps its template
(``includes/ticket_attachment_link.html``, shared with the files panel).
"""

import html

from django.template.loader import get_template
from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.html import linebreaks
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

ATTACHMENT_LINK = "wagtail_helpdesk/admin/includes/ticket_attachment_link.html"


def _h(value):
    """``{{ value }}`` as a template writes it: anything but text made text
    (lazy text resolved), then Django's ``conditional_escape`` — text with
    ``__html__`` (safe strings) kept, the rest escaped — without its
    lazy-text wrapper on every call."""
    if not isinstance(value, str):
        value = str(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(value)


def _header(entry, visibility, short_datetime):
    parts = [f'<strong class="helpdesk-event__title">{_h(entry.title)}</strong>']
    if entry.is_new:
        parts.append(f'<span class="helpdesk-tag helpdesk-tag--unread">{_h(gettext("New"))}</span>')
    if entry.assisted:
        title = gettext("Written starting from a suggested reply, then checked and sent by the "
                        "operator")
        parts.append(f'<span class="helpdesk-tag helpdesk-tag--assisted" title="{_h(title)}">'
                     f'{_h(gettext("AI-assisted"))}</span>')
    parts.extend(f'<span class="helpdesk-tag helpdesk-tag--channel">{_h(tag)}</span>'
                 for tag in entry.tags)
    actor = f"{_h(entry.actor)} · " if entry.actor else ""
    parts.append(f'<span class="helpdesk-event__actor">{actor}'
                 f'<span class="helpdesk-event__role">{_h(entry.actor_role)}</span></span>')
    when = template_localtime(entry.created_at)
    # ``|date:'c'`` is the ISO format; the short format as the ``date`` filter writes it.
    iso, shown = ((when.isoformat(), dateformat.format(when, short_datetime)) if when
                  else ("", ""))
    parts.append(f'<time class="helpdesk-event__time" datetime="{_h(iso)}">{_h(shown)}</time>')
    parts.append(visibility[bool(entry.internal)])
    return f'<div class="helpdesk-event__header">{"".join(parts)}</div>'


def _links(entry):
    links = []
    if entry.related_ticket:
        url = reverse("helpdesk_tickets:detail", args=[entry.related_ticket.pk])
        links.append(f'<a href="{_h(url)}">{_h(entry.related_ticket.label)}</a>')
    if entry.inbound:
        url = reverse("helpdesk_inbound:detail", args=[entry.inbound])
        links.append(f'<a href="{_h(url)}">{_h(gettext("Original message"))}</a>')
    return f'<p class="helpdesk-event__links">{" ".join(links)}</p>'


def _content(entry, ticket, visibility, short_datetime):
    parts = [_header(entry, visibility, short_datetime)]
    if entry.details:
        lines = "".join(f"<li>{_h(line)}</li>" for line in entry.details)
        parts.append(f'<ul class="helpdesk-event__details">{lines}</ul>')
    if entry.related_ticket or entry.inbound:
        parts.append(_links(entry))
    if entry.body:
        body = (_h(entry.body_html) if entry.body_html
                else linebreaks(entry.body, autoescape=not isinstance(entry.body, SafeData)))
        parts.append(f'<div class="helpdesk-event__body">{body}</div>')
    if entry.attachments:
        link = get_template(ATTACHMENT_LINK)
        files = "".join(f"<li>{link.render({'ticket': ticket, 'attachment': attachment})}</li>"
                        for attachment in entry.attachments)
        parts.append(f'<ul class="helpdesk-event__files">{files}</ul>')
    return "".join(parts)


def _classes(entry):
    classes = ["helpdesk-event", f"helpdesk-event--{entry.kind}",
               "helpdesk-event--internal" if entry.internal else "helpdesk-event--public"]
    if entry.event.by_citizen:
        classes.append("helpdesk-event--citizen")
    return _h(" ".join(classes))


def timeline_items(entries, ticket, icon_html):
    """The ``<li>`` of each entry (:class:`~wagtail_helpdesk.tickets.timeline.TimelineEntry`
    with its ``icon_html`` and ``is_new`` set), as one safe string;
    ``icon_html(name)`` gives an icon's markup."""
    visibility = {
        True: ('<span class="helpdesk-visibility helpdesk-visibility--internal">'
               f'{icon_html("lock")}{_h(gettext("Operators only"))}</span>'),
        False: ('<span class="helpdesk-visibility helpdesk-visibility--public">'
                f'{icon_html("view")}{_h(gettext("Visible to the citizen"))}</span>'),
    }
    short_datetime = get_format("SHORT_DATETIME_FORMAT")
    return mark_safe("".join(  # noqa: S308 — every value escaped by _h
        f'<li id="event-{_h(entry.event.pk)}" class="{_classes(entry)}">'
        f'<span class="helpdesk-event__icon" aria-hidden="true">{_h(entry.icon_html)}</span>'
        f'<div class="helpdesk-event__content">'
        f'{_content(entry, ticket, visibility, short_datetime)}</div></li>'
        for entry in entries))
