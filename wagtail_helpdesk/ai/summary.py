"""A summary of a long ticket or chat, for the operator who opens it.

Deterministic, from the ticket's own data: a few sentences in the site's
language (who, channel, topic, place, status and since when, what was done,
what is awaited and from whom) and the 1–3 most informative sentences the
citizen wrote, chosen extractively (:mod:`.extract`).

The facts are rebuilt at every view from what the page already loaded (no
query); the chosen sentences, the costly part, are cached per ticket version
(or per chat message sequence), so a change of the timeline recomputes them.
"""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..conf import get_setting
from ..formats import format_date, format_duration, person_name
from ..models import EventKind, Kind
from ..workflow import Status
from .extract import key_sentences

#: How a ticket came in, in a sentence ("… reported … by phone").
CHANNEL_PHRASES = {
    "web": gettext_lazy("through the website"),
    "phone": gettext_lazy("by phone"),
    "desk": gettext_lazy("at the front desk"),
    "email": gettext_lazy("by e-mail"),
    "api": gettext_lazy("through an integration"),
    "open311": gettext_lazy("through Open311"),
    "chat": gettext_lazy("in the chat"),
}

CACHE_SECONDS = 24 * 3600


@dataclass
class Summary:
    """``facts``: sentences; ``quotes``: the citizen's own sentences;
    ``long``: whether the ticket is long enough for the page to show it."""

    facts: list = field(default_factory=list)
    quotes: list = field(default_factory=list)
    long: bool = False

    @property
    def text(self):
        """The whole summary as plain text (copied, or rewritten by a model)."""
        lines = list(self.facts)
        if self.quotes:
            lines.append(_("In the citizen's words:"))
            lines += [f"“{quote}”" for quote in self.quotes]
        return "\n".join(lines)


def _event(item):
    """An event, from an event or a timeline entry."""
    return getattr(item, "event", item)


#: "5 dicembre 2026": the day without a leading zero, the month in words.
DAY = "j F Y"


def _date(value):
    return format_date(value, DAY) if value else ""


def who(citizen, *, declared=None, anonymous_report=False):
    """The citizen as the summary names them."""
    if citizen is None:
        return _("An anonymous citizen") if anonymous_report else _("A citizen")
    name = "" if getattr(citizen, "erased_at", None) else citizen.full_name
    if not name:
        return _("A citizen")
    if citizen.declared if declared is None else declared:
        return _("%(name)s (identity declared, not verified)") % {"name": name}
    return name


def _status_since(ticket, events):
    """When the ticket entered its current status (None when unclear)."""
    status, since = None, None
    for event in events:
        kind, data = event.kind, event.data or {}
        new = status
        if kind == EventKind.SUBMITTED or (kind == EventKind.CREATED and not data.get("draft")):
            new = Status.NEW
        elif kind in (EventKind.TAKEN_CHARGE, EventKind.ASSIGNED, EventKind.REPLY):
            new = Status.IN_PROGRESS if status in (None, Status.NEW) else status
        elif kind == EventKind.STATUS_CHANGED and data.get("to"):
            new = data["to"]
        elif kind == EventKind.CITIZEN_MESSAGE and status == Status.WAITING:
            new = Status.IN_PROGRESS
        elif kind == EventKind.RESOLVED:
            new = Status.RESOLVED
        elif kind == EventKind.REOPENED:
            new = Status.IN_PROGRESS
        if new != status:
            status, since = new, event.created_at
    if ticket.status == Status.RESOLVED and ticket.resolved_at:
        return ticket.resolved_at
    return since if status == ticket.status else None


def _counts(events):
    counted = dict.fromkeys((EventKind.CITIZEN_MESSAGE, EventKind.REPLY,
                             EventKind.TRANSFERRED, EventKind.NOTE), 0)
    waiting = 0
    for event in events:
        if event.kind in counted:
            counted[event.kind] += 1
        elif event.kind == EventKind.STATUS_CHANGED and (event.data or {}).get("to") == Status.WAITING:
            waiting += 1
            if event.body:  # the question put to the citizen is a message to them
                counted[EventKind.REPLY] += 1
    return counted, waiting


def _office_wrote(event):
    """Whether ``event`` is a message of the office to the citizen: a reply,
    the question of "waiting for the citizen", a resolution."""
    if event.kind in (EventKind.REPLY, EventKind.RESOLVED):
        return True
    return (event.kind == EventKind.STATUS_CHANGED and bool(event.body)
            and (event.data or {}).get("to") == Status.WAITING)


def _so_far(counted, waiting):
    parts = []
    n = counted[EventKind.CITIZEN_MESSAGE]
    if n:
        parts.append(ngettext("%(count)d message from the citizen",
                              "%(count)d messages from the citizen", n) % {"count": n})
    n = counted[EventKind.REPLY]
    parts.append(ngettext("%(count)d reply to the citizen", "%(count)d replies to the citizen",
                          n) % {"count": n})
    n = counted[EventKind.TRANSFERRED]
    if n:
        parts.append(ngettext("transferred %(count)d time", "transferred %(count)d times",
                              n) % {"count": n})
    if waiting:
        parts.append(ngettext("put on hold for the citizen %(count)d time",
                              "put on hold for the citizen %(count)d times",
                              waiting) % {"count": waiting})
    n = counted[EventKind.NOTE]
    if n:
        parts.append(ngettext("%(count)d private note", "%(count)d private notes", n)
                     % {"count": n})
    return _("So far: %(parts)s.") % {"parts": ", ".join(parts)}


def _awaited(ticket, events, now):
    """What is awaited, and from whom."""
    if ticket.status == Status.RESOLVED:
        return None
    if ticket.status == Status.WAITING:
        since = next((e.created_at for e in reversed(events)
                      if e.kind == EventKind.STATUS_CHANGED), None)
        return _("The office has been waiting for the citizen's answer since %(date)s.") % {
            "date": _date(since or ticket.updated_at)}
    last_reply = next((e for e in reversed(events) if _office_wrote(e)), None)
    if last_reply is None:
        since = ticket.submitted_at or ticket.created_at
        return _("The citizen has had no reply yet: waiting for the office since %(date)s "
                 "(%(duration)s).") % {"date": _date(since),
                                       "duration": format_duration(now - since)}
    # The citizen's first message the office has not answered yet.
    unanswered = next((e for e in events if e.kind == EventKind.CITIZEN_MESSAGE
                       and e.created_at >= last_reply.created_at), None)
    if unanswered is not None:
        return _("The citizen wrote last, on %(date)s: a reply from the office is awaited "
                 "(%(duration)s).") % {"date": _date(unanswered.created_at),
                                       "duration": format_duration(now - unanswered.created_at)}
    return _("The office replied last, on %(date)s; the ticket is still open.") % {
        "date": _date(last_reply.created_at)}


def _citizen_texts(ticket, events):
    texts = [ticket.description] if ticket.description else []
    texts += [e.body for e in events if e.kind == EventKind.CITIZEN_MESSAGE and e.body]
    return texts


def is_long(message_count, citizen_chars):
    """Whether a ticket or chat is long enough for a summary on its page."""
    return (message_count >= get_setting("AI_SUMMARY_MIN_MESSAGES")
            or citizen_chars >= get_setting("AI_SUMMARY_MIN_CHARS"))


def _cached_quotes(texts, about="", *, long=True):
    """The chosen sentences of ``texts`` (none for a short ticket or chat:
    its summary is not shown). The choice is cached by a digest of the
    candidate sentences and the text model: as positions, so the cache holds
    no personal data, and an erasure or a new message changes the key."""
    import hashlib

    from .embedder import get_embedder
    from .extract import candidate_sentences

    if not long:
        return []
    candidates = candidate_sentences(texts)
    if not candidates:
        return []
    embedder = get_embedder()
    digest = hashlib.sha256("\n".join([about, *candidates]).encode()).hexdigest()
    key = f"wagtail_helpdesk:ai:quotes:{digest}:{embedder.name if embedder else 'words'}"
    chosen = cache.get(key)
    if chosen is None:
        quotes = key_sentences(texts, limit=get_setting("AI_SUMMARY_SENTENCES"), about=about)
        chosen = [candidates.index(q) for q in quotes if q in candidates]
        cache.set(key, chosen, CACHE_SECONDS)
    return [candidates[i] for i in chosen if i < len(candidates)]


def ticket_summary(ticket, events, *, now=None):
    """The :class:`Summary` of ``ticket`` from its ``events`` (or the page's
    timeline entries), oldest first. Reads only what the ticket page joins in
    (citizen, office, assignee, topic, resolution type, declared contact)."""
    now = now or timezone.now()
    events = [_event(item) for item in events]
    facts = []
    topic = ticket.topic
    citizen = ticket.citizen if ticket.citizen_id else None
    person = who(citizen, anonymous_report=ticket.kind == Kind.REPORT)
    values = {"who": person, "topic": topic.name if topic else "",
              "channel": CHANNEL_PHRASES.get(ticket.channel, ""),
              "date": _date(ticket.submitted_at or ticket.created_at)}
    if ticket.kind == Kind.REPORT:
        facts.append((_("%(who)s reported “%(topic)s” %(channel)s on %(date)s.") if topic
                      else _("%(who)s sent a report %(channel)s on %(date)s.")) % values)
    else:
        facts.append((_("%(who)s opened a request about “%(topic)s” %(channel)s on %(date)s.")
                      if topic else _("%(who)s opened a request %(channel)s on %(date)s."))
                     % values)
    if ticket.address:
        facts.append(_("Place: %(address)s.") % {"address": ticket.address})
    elif ticket.has_location:
        facts.append(_("The place is marked on the map."))

    status = ticket.get_status_display()
    since = _status_since(ticket, events)
    if since:
        facts.append(_("Status: “%(status)s” since %(date)s (%(duration)s).") % {
            "status": status, "date": _date(since), "duration": format_duration(now - since)})
    else:
        facts.append(_("Status: “%(status)s”.") % {"status": status})
    taken = next((e for e in events if e.kind == EventKind.TAKEN_CHARGE and e.actor_id), None)
    office = ticket.office.name if ticket.office_id else ""
    if taken is not None:
        facts.append(_("Taken in charge by %(name)s on %(date)s.") % {
            "name": person_name(taken.actor), "date": _date(taken.created_at)})
    if ticket.assignee_id and (taken is None or taken.actor_id != ticket.assignee_id):
        facts.append(_("Now assigned to %(name)s (%(office)s).") % {
            "name": person_name(ticket.assignee), "office": office} if office
            else _("Now assigned to %(name)s.") % {"name": person_name(ticket.assignee)})
    elif not ticket.assignee_id and office and ticket.is_open:
        facts.append(_("Not yet taken in charge by %(office)s.") % {"office": office})
    counted, waiting = _counts(events)
    facts.append(_so_far(counted, waiting))
    awaited = _awaited(ticket, events, now)
    if awaited:
        facts.append(awaited)
    if ticket.status == Status.RESOLVED:
        name = ticket.resolution_type.name if ticket.resolution_type_id else ""
        facts.append(_("Resolved on %(date)s: %(type)s.") % {
            "date": _date(ticket.resolved_at), "type": name} if name
            else _("Resolved on %(date)s.") % {"date": _date(ticket.resolved_at)})
    elif ticket.due_at:
        facts.append((_("The deadline (%(date)s) has passed.") if ticket.due_at < now
                      else _("Deadline: %(date)s.")) % {"date": _date(ticket.due_at)})

    texts = _citizen_texts(ticket, events)
    messages = counted[EventKind.CITIZEN_MESSAGE] + counted[EventKind.REPLY] + (
        1 if ticket.description else 0)
    long = is_long(messages, sum(len(t) for t in texts))
    quotes = _cached_quotes(texts, " ".join(filter(None, [ticket.subject, values["topic"]])),
                            long=long)
    return Summary(facts=facts, quotes=quotes, long=long)


def conversation_summary(conversation, messages, *, now=None):
    """The :class:`Summary` of a live chat from its ``messages`` (in order).
    Reads the conversation's citizen, office (queue) and operator."""
    from ..models import AuthorKind

    now = now or timezone.now()
    public = [m for m in messages if m.visibility == "public" and m.author_kind != AuthorKind.SYSTEM]
    from_citizen = [m for m in public if m.author_kind == AuthorKind.CITIZEN]
    from_operator = [m for m in public if m.author_kind == AuthorKind.OPERATOR]
    facts = [_("%(who)s started a chat with %(office)s on %(date)s.") % {
        "who": who(conversation.citizen, declared=conversation.identity == "declared"),
        "office": conversation.office.name, "date": format_date(conversation.created_at,
                                                                "DATETIME_FORMAT")}]
    if conversation.accepted_at and conversation.operator_id:
        facts.append(_("%(name)s answered after %(duration)s.") % {
            "name": person_name(conversation.operator),
            "duration": format_duration(conversation.accepted_at - conversation.queued_at)})
    elif not conversation.is_ended:
        facts.append(_("Waiting in the queue for %(duration)s.") % {
            "duration": format_duration(now - conversation.queued_at)})
    facts.append(_("State: “%(state)s”.") % {"state": conversation.get_state_display()})
    facts.append(
        ngettext("%(count)d message from the citizen", "%(count)d messages from the citizen",
                 len(from_citizen)) % {"count": len(from_citizen)} + ", "
        + ngettext("%(count)d reply to the citizen", "%(count)d replies to the citizen",
                   len(from_operator)) % {"count": len(from_operator)} + ".")
    if conversation.callback_phone:
        facts.append(_("The citizen asked to be called back."))
    if public and not conversation.is_ended and public[-1].author_kind == AuthorKind.CITIZEN:
        facts.append(_("The citizen wrote last: a reply is awaited (%(duration)s).") % {
            "duration": format_duration(now - public[-1].created_at)})
    texts = [m.body for m in from_citizen if m.body]
    long = is_long(len(public), sum(len(t) for t in texts))
    return Summary(facts=facts, quotes=_cached_quotes(texts, long=long), long=long)
