"""The ticket page's timeline: every event, oldest first, with what it changed,
its files and the names it refers to, in a fixed number of queries."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..formats import format_duration, person_name
from ..models import Channel, EventKind, NotificationChannel, Office, Priority, Visibility
from ..notifications.kinds import describe
from ..services.routing import MENTION
from ..workflow import Status
from . import timeline_links, timeline_mail

#: Icons of the timeline's events (Wagtail's icon set).
EVENT_ICONS = {
    EventKind.CREATED: "plus",
    EventKind.DRAFT_UPDATED: "edit",
    EventKind.SUBMITTED: "upload",
    EventKind.TAKEN_CHARGE: "user",
    EventKind.ASSIGNED: "user",
    EventKind.TRANSFERRED: "redirect",
    EventKind.CITIZEN_MESSAGE: "comment",
    EventKind.REPLY: "mail",
    EventKind.NOTE: "lock",
    EventKind.PRIORITY_CHANGED: "order",
    EventKind.STATUS_CHANGED: "time",
    EventKind.RESOLVED: "circle-check",
    EventKind.REOPENED: "rotate",
    EventKind.ATTACHMENT_ADDED: "doc-full",
    EventKind.NOTIFICATION_SENT: "mail",
    EventKind.NOTIFICATION_FAILED: "warning",
    EventKind.RATING: "pick",
    EventKind.SLA_WARNING: "time",
    EventKind.PERSONAL_DATA_ERASED: "bin",
    EventKind.CITIZEN_LINKED: "link",
    EventKind.CONSULT_GRANTED: "group",
    EventKind.CONSULT_REVOKED: "cross",
    EventKind.CHAT_MESSAGE: "comment",
    EventKind.CHAT_JOINED: "login",
    EventKind.CHAT_LEFT: "logout",
    EventKind.CHAT_CLOSED: "circle-check",
    EventKind.CHAT_TO_TICKET: "mail",
    EventKind.CHAT_CALLBACK: "mobile-alt",
    EventKind.CHAT_INVITED: "group",
    EventKind.CHAT_MONITORED: "view",
    EventKind.CHAT_TRANSCRIPT: "mail",
    EventKind.LABELS_CHANGED: "tag",
    **timeline_mail.ICONS,
    **timeline_links.ICONS,
}


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return str(value)


class _Names:
    """The people and offices the events refer to, by id (loaded once for the
    whole timeline); those deleted since have a placeholder name."""

    def __init__(self, users, offices):
        self.users, self.offices = users, offices

    def user(self, pk):
        return person_name(self.users[pk]) if pk in self.users else _("a former operator")

    def office(self, pk):
        return self.offices[pk].name if pk in self.offices else _("a former office")


# What an event changed, by kind: ``details(data, names)`` yields short lines
# (plain text, escaped by the template). Kinds not listed have none.


def _assigned(data, names):
    yield _("Assigned to %(name)s") % {"name": names.user(data.get("to"))}
    if data.get("from"):
        yield _("Previously: %(name)s") % {"name": names.user(data["from"])}


def _transferred(data, names):
    yield _("From %(from)s to %(to)s") % {"from": names.office(data.get("from")),
                                           "to": names.office(data.get("to"))}


def _priority_changed(data, names):
    yield _("From %(from)s to %(to)s") % {"from": _label(Priority, data.get("from")),
                                           "to": _label(Priority, data.get("to"))}


def _status_changed(data, names):
    if data.get("to"):
        yield _("Status: %(status)s") % {"status": _label(Status, data["to"])}


def _resolved(data, names):
    if data.get("resolution_name"):
        yield _("Resolution type: %(name)s") % {"name": data["resolution_name"]}


def _created(data, names):
    if data.get("channel"):
        yield from _opened(data, draft=data.get("draft"))


def _submitted(data, names):
    if data.get("channel"):
        yield from _opened(data, draft=False)


def _opened(data, *, draft):
    """A ticket created or submitted: its channel, identity and code."""
    yield _("Channel: %(channel)s") % {"channel": _label(Channel, data["channel"])}
    if draft:
        yield _("Saved as a draft")
    if data.get("identity") == "verified":
        yield _("Identity verified with SPID/CIE")
    elif data.get("identity") == "declared":
        yield _("Identity declared by the citizen, not verified")
    if data.get("short_code"):
        yield _("Code: %(code)s") % {"code": data["short_code"]}


def _reopened(data, names):
    if data.get("by") == "citizen_message":
        yield _("Reactivated by a message from the citizen")


def _draft_updated(data, names):
    if data.get("fields"):
        yield _("Changed: %(fields)s") % {"fields": ", ".join(map(str, data["fields"]))}


def _personal_data_erased(data, names):
    if data.get("reason"):
        yield _("Reason: %(reason)s") % {"reason": data["reason"]}


def _citizen_linked(data, names):
    yield _("The operator checked the declared identity and linked the ticket to "
            "the registered citizen; what was declared stays with the ticket.")


def _consult_granted(data, names):
    yield _("Shared with %(name)s for a consult: read and private notes only") % {
        "name": names.user(data.get("consultant"))}


def _consult_revoked(data, names):
    if data.get("by_consultant"):
        yield _("%(name)s ended the consult") % {"name": names.user(data.get("consultant"))}
    else:
        yield _("Consult of %(name)s revoked") % {"name": names.user(data.get("consultant"))}


def _rating(data, names):
    if data.get("score"):
        yield _("Rating: %(score)s/5") % {"score": data["score"]}


def _sla_warning(data, names):
    if data.get("due_at"):
        yield _("Deadline reminder sent to the assignee")


def _notification(data, names):
    if data.get("template"):
        yield str(describe(data["template"]))
    if data.get("channel"):
        yield _label(NotificationChannel, data["channel"])
    if data.get("status") == "skipped":
        yield _("Not sent: %(reason)s") % {"reason": data.get("error", "")}
    elif data.get("error"):
        yield _("Error: %(error)s") % {"error": data["error"]}
    yield from timeline_mail.bounce_details(data)


def _chat_joined(data, names):
    role = data.get("role")
    if role == "supervisor":
        yield _("As the queue's supervisor")
    elif role == "consultant":
        yield _("As a consulted colleague, now writing to the citizen")
    else:
        if data.get("automatic"):
            yield _("Handed over automatically by the queue")
        if isinstance(data.get("waited"), int):
            yield _("The citizen waited %(duration)s") % {
                "duration": format_duration(timedelta(seconds=data["waited"]))}


def _chat_left(data, names):
    reason = data.get("reason")
    if reason == "left":
        yield _("The operator left the conversation")
    elif reason == "offline":
        yield _("The operator went offline: the conversation went back to the queue")
    elif reason == "handed_over":
        yield _("Transferred to %(name)s") % {"name": names.user(data.get("colleague"))}
    elif reason == "unanswered":
        yield _("The citizen's message went unanswered too long: the conversation went back "
                "to the queue")


def _chat_invited(data, names):
    yield _("%(name)s invited to consult on the chat") % {
        "name": names.user(data.get("colleague"))}


def _chat_monitored(data, names):
    yield _("A supervisor followed the chat; the operator was told")


def _chat_callback(data, names):
    if data.get("phone"):
        yield _("Call back at %(phone)s") % {"phone": data["phone"]}


def _quoted(names):
    return ", ".join(f"“{name}”" for name in names if isinstance(name, str))


def _labels_changed(data, names):
    """"Labels: added “X”, removed “Y”" (the names as they were then)."""
    changes = []
    if data.get("added"):
        changes.append(_("added %(names)s") % {"names": _quoted(data["added"])})
    if data.get("removed"):
        changes.append(_("removed %(names)s") % {"names": _quoted(data["removed"])})
    if changes:
        yield _("Labels: %(changes)s") % {"changes": ", ".join(changes)}


DETAILS = {
    EventKind.LABELS_CHANGED: _labels_changed,
    EventKind.ASSIGNED: _assigned,
    EventKind.TRANSFERRED: _transferred,
    EventKind.PRIORITY_CHANGED: _priority_changed,
    EventKind.STATUS_CHANGED: _status_changed,
    EventKind.RESOLVED: _resolved,
    EventKind.CREATED: _created,
    EventKind.SUBMITTED: _submitted,
    EventKind.REOPENED: _reopened,
    EventKind.DRAFT_UPDATED: _draft_updated,
    EventKind.PERSONAL_DATA_ERASED: _personal_data_erased,
    EventKind.CITIZEN_LINKED: _citizen_linked,
    EventKind.CONSULT_GRANTED: _consult_granted,
    EventKind.CONSULT_REVOKED: _consult_revoked,
    EventKind.RATING: _rating,
    EventKind.SLA_WARNING: _sla_warning,
    EventKind.NOTIFICATION_SENT: _notification,
    EventKind.NOTIFICATION_FAILED: _notification,
    EventKind.CHAT_JOINED: _chat_joined,
    EventKind.CHAT_LEFT: _chat_left,
    EventKind.CHAT_INVITED: _chat_invited,
    EventKind.CHAT_MONITORED: _chat_monitored,
    EventKind.CHAT_CALLBACK: _chat_callback,
    **timeline_mail.DETAILS,
    **timeline_links.DETAILS,
}


#: The label of each event kind (lazy: translated when shown).
_KIND_LABELS = dict(EventKind.choices)


def kind_title(kind):
    """The label of the event kind ``kind`` (the kind itself if unknown), as
    ``get_kind_display()`` but without hashing every kind's lazy label for
    each event."""
    return str(_KIND_LABELS.get(kind, kind))


class TimelineEntry:
    """One event of the timeline, ready for the template."""

    def __init__(self, event, *, attachments, names, ticket):
        self.event = event
        self.kind = event.kind
        self.title = kind_title(event.kind)
        self.icon = EVENT_ICONS.get(event.kind, "placeholder")
        self.internal = event.visibility != Visibility.PUBLIC
        self.created_at = event.created_at
        self.body = event.body
        self.attachments = attachments
        self.is_new = False
        # ``role``: who acted ("citizen", "operator", "integration", "system");
        # ``actor_role``: its label on screen.
        if event.by_citizen:
            name = ticket.citizen.full_name if ticket.citizen else ""
            self.role, self.actor_role, self.actor = "citizen", _("Citizen"), name
        elif event.actor is not None:
            self.role, self.actor_role = "operator", _("Operator")
            self.actor = person_name(event.actor)
        elif isinstance((event.data or {}).get("client"), dict):
            self.role, self.actor_role = "integration", _("Integration")
            self.actor = event.data["client"].get("name", "")
        else:
            self.role, self.actor_role, self.actor = "system", _("System"), ""
        details = DETAILS.get(event.kind)
        self.details = list(details(event.data or {}, names)) if details else []
        users = names.users
        mentioned = [users[pk] for pk in (event.data or {}).get("mentions", []) if pk in users]
        self.body_html = _with_mentions(event.body, mentioned) if mentioned else None
        # E-mail: "via e-mail"/"PEC" tags, the received message it came from
        # (linked for those who may open it) and a follow-up's other ticket.
        self.tags = timeline_mail.channel_tags(event)
        self.inbound = timeline_mail.inbound_id(event)
        self.related_ticket = (timeline_mail.related_ticket(event)
                               or timeline_links.related_ticket(event))
        # A reply started from a suggested reply (AI Act, art. 50: said so).
        self.assisted = event.kind == EventKind.REPLY and bool((event.data or {}).get("assisted"))


def _with_mentions(text, users):
    """``text`` as paragraphs, escaped, with the ``@username`` of notified
    colleagues highlighted."""
    names = {u.get_username().lower(): person_name(u) for u in users}
    html = linebreaks(text, autoescape=True)

    def mark(match):
        name = match.group(1).lower().rstrip(".")
        if name not in names:
            return match.group(0)
        return format_html('<mark class="helpdesk-mention" title="{}">{}</mark>',
                           names[name], match.group(0))

    return mark_safe(MENTION.sub(mark, html))  # noqa: S308 - escaped above, parts via format_html


def build_timeline(ticket, attachments):
    """Every event of ``ticket``, oldest first, with its files and the names it
    refers to — in at most three queries, whatever the number of events."""
    events = list(ticket.events.select_related("actor").order_by("created_at", "pk"))
    return _entries(ticket, events, attachments)


def build_recent_timeline(ticket, attachments, latest):
    """The ``latest`` events of ``ticket`` (all of them when None), oldest
    first, and whether there are earlier ones: ``(entries, has_earlier)``.
    One query for the events (``latest`` + 1 read, newest first, on the
    ticket's events index), at most two for the names they refer to."""
    if latest is None:
        return build_timeline(ticket, attachments), False
    events = list(ticket.events.select_related("actor")
                  .order_by("-created_at", "-pk")[:latest + 1])
    has_earlier = len(events) > latest
    events = events[:latest]
    events.reverse()
    return _entries(ticket, events, attachments), has_earlier


def _entries(ticket, events, attachments):
    by_event = {}
    for attachment in attachments:
        by_event.setdefault(attachment.event_id, []).append(attachment)
    user_ids, office_ids = set(), set()
    for event in events:
        data = event.data or {}
        ids = user_ids if event.kind == EventKind.ASSIGNED else (
            office_ids if event.kind == EventKind.TRANSFERRED else None)
        if ids is not None:
            ids.update(v for v in (data.get("from"), data.get("to")) if isinstance(v, int))
        user_ids.update(v for v in data.get("mentions", ()) if isinstance(v, int))
        for key in ("consultant", "colleague"):
            if isinstance(data.get(key), int):
                user_ids.add(data[key])
        user_ids.update(timeline_mail.user_ids(event))
    # At most one query each, none when no event names anybody (or any office).
    names = _Names(get_user_model().objects.in_bulk(user_ids) if user_ids else {},
                   Office.objects.in_bulk(office_ids) if office_ids else {})
    return [
        TimelineEntry(event, attachments=by_event.get(event.pk, []), names=names, ticket=ticket)
        for event in events
    ]
