"""Actions on an existing ticket: the operators' daily work and the citizen's
messages. Each is one transaction: lock the ticket, check permission and
workflow, write the fields, append events, queue notifications."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .. import workflow
from ..errors import GuardFailed
from ..models import EventKind, Office, Priority, ResolutionType, Ticket, Visibility
from ..permissions import forget_offices, ticket_policy
from ..workflow import Action, Status
from . import consults, core, notify, routing
from .actors import actor_user, authorise, is_operator
from .attachments import check_uploads, store_attachments
from .chatbase import follow_ticket


def _require_text(text, field="body"):
    text = (text or "").strip()
    if not text:
        raise GuardFailed(_("Write a message first."), {field: _("This field is required.")})
    return text


def _claim(t, actor, now):
    """Make ``actor`` the assignee (status per the workflow) and record it."""
    t.assignee = actor
    return core.record(t, EventKind.TAKEN_CHARGE, actor, now=now, visibility=Visibility.PUBLIC)


def take_charge(ticket, actor, *, expected_version=None):
    """Prendi in carico / Assegna a me: the acting operator becomes the assignee."""
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.TAKE_CHARGE, t)
        first_time = t.status == Status.NEW
        t.status = workflow.check(t, Action.TAKE_CHARGE, actor_id=actor.pk)
        previous = t.assignee_id
        event = _claim(t, actor, now)
        core.save(t, ["status", "assignee"], now)
        if previous and previous != actor.pk:
            core.record(t, EventKind.ASSIGNED, actor, now=now,
                        data={"from": previous, "to": actor.pk})
        if first_time:
            notify.citizen(t, event, "taken_in_charge")
    return t


def assign(ticket, actor, assignee, *, expected_version=None):
    """Assign the ticket to an operator of its office."""
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.ASSIGN, t)
        first_time = t.status == Status.NEW
        new_status = workflow.check(
            t, Action.ASSIGN, assignee_id=getattr(assignee, "pk", None)
        )
        forget_offices(assignee)
        if not ticket_policy().user_has_permission_for_instance(assignee, "change", t):
            raise GuardFailed(
                _("%(name)s does not work on this office's tickets.")
                % {"name": assignee.get_full_name() or assignee.get_username()},
                {"assignee": _("Choose an operator of the ticket's office.")},
            )
        previous = t.assignee_id
        t.assignee = assignee
        t.status = new_status
        core.save(t, ["status", "assignee"], now)
        event = core.record(t, EventKind.ASSIGNED, actor, now=now,
                            data={"from": previous, "to": assignee.pk})
        if actor_user(actor) != assignee:
            notify.operator(t, event, "assigned", assignee)
        if first_time:
            notify.citizen(t, event, "taken_in_charge")
    return t


def transfer(ticket, actor, office, *, note="", expected_version=None):
    """Trasferisci: move the ticket to another office's queue, unassigned."""
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.TRANSFER, t)
        t.status = workflow.check(t, Action.TRANSFER, office_id=getattr(office, "pk", None))
        if not Office.objects.filter(pk=office.pk, active=True).exists():
            raise GuardFailed(_("This office is not active."), {"office": _("Choose another office.")})
        previous = t.office_id
        t.office = office
        t.assignee = None
        core.save(t, ["status", "office", "assignee"], now)
        event = core.record(t, EventKind.TRANSFERRED, actor, now=now,
                            body=(note or "").strip(), data={"from": previous, "to": office.pk})
        follow_ticket(t, now, actor)  # a live chat moves to the new queue with it
        notify.office(t, event, "transferred_in")
        routing.auto_assign(t, now)
    return t


def reply(ticket, actor, body, *, attachments=(), expected_version=None, assisted=None):
    """Reply to the citizen (public); replying to a pending ticket takes it in charge.

    ``assisted``: where the reply started from when the operator inserted a
    suggestion (``{"source": "quick_reply" | "ticket" | "rewrite", "ref": …}``):
    the timeline marks the reply as AI-assisted (AI Act, art. 50).
    """
    body = _require_text(body)
    data = {"assisted": _assisted(assisted)} if assisted else None
    checked = check_uploads(attachments)
    now = core.now()
    with core.atomic_change() as written:
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.REPLY, t)
        new_status = workflow.check(t, Action.REPLY)
        fields = ["status"]
        if t.status == Status.NEW and is_operator(actor):
            _claim(t, actor, now)
            fields.append("assignee")
        t.status = new_status
        if t.first_response_at is None:
            t.first_response_at = now
            fields.append("first_response_at")
        core.save(t, fields, now)
        event = core.record(t, EventKind.REPLY, actor, now=now, visibility=Visibility.PUBLIC,
                            body=body, data=data)
        store_attachments(t, event, actor, checked, written, now=now)
        notify.citizen(t, event, "reply")
    return t


#: Where an AI-assisted reply may have started from.
ASSIST_SOURCES = ("quick_reply", "ticket", "rewrite")


def _assisted(assisted):
    """What the timeline keeps of a suggestion: its source and reference."""
    source = str(assisted.get("source", ""))
    if source not in ASSIST_SOURCES:
        raise ValueError(f"unknown suggestion source {source!r}")
    return {"source": source, "ref": str(assisted.get("ref", ""))[:40]}


def add_citizen_message(ticket, actor, body, *, attachments=(), site=None, data=None,
                        checked=None, reopen_window_days=None):
    """A message from the citizen (web, personal area, e-mail reply).

    Brings a waiting ticket back to the operator; reopens a resolved one within
    the reopen window, refuses it after. ``data`` goes on the event (how the
    message came: e-mail, certified); ``checked``: files already checked.
    """
    body = _require_text(body)
    checked = check_uploads(attachments) if checked is None else checked
    now = core.now()
    window = (core.helpdesk_settings(site).reopen_window_days if reopen_window_days is None
              else reopen_window_days)
    with core.atomic_change() as written:
        t = core.lock(ticket)
        authorise(actor, Action.CITIZEN_MESSAGE, t)
        was = t.status
        t.status = workflow.check(t, Action.CITIZEN_MESSAGE, now=now, reopen_window_days=window)
        t.unread_count += 1
        t.last_citizen_activity_at = now
        fields = ["status", "unread_count", "last_citizen_activity_at"]
        if was == Status.RESOLVED:
            fields += _clear_resolution(t)
        core.save(t, fields, now)
        event = core.record(t, EventKind.CITIZEN_MESSAGE, actor, now=now,
                            visibility=Visibility.PUBLIC, body=body, by_citizen=True,
                            data=data)
        store_attachments(t, event, actor, checked, written, now=now)
        if was == Status.RESOLVED:
            core.record(t, EventKind.REOPENED, actor, now=now, visibility=Visibility.PUBLIC,
                        data={"by": "citizen_message"}, by_citizen=True)
        if t.assignee_id:
            notify.operator(t, event, "citizen_message", t.assignee)
        else:
            notify.office(t, event, "citizen_message")  # nobody has it yet: tell the office
    return t


@dataclass(frozen=True)
class Mentions:
    """What the ``@username`` of a note came to: who was notified, the names
    no active user has (``unknown``), the colleagues who may not see the
    ticket (``cannot_see``: share it with them for a consult first)."""

    notified: tuple = ()
    unknown: tuple = ()
    cannot_see: tuple = ()


def _mentions(ticket, body, author):
    names = sorted({m.lower().rstrip(".") for m in routing.MENTION.findall(body or "")})
    names = [n for n in names if n][:routing.MAX_MENTIONS]
    if not names:
        return Mentions()
    User = get_user_model()
    field = User.USERNAME_FIELD
    query = Q()
    for name in names:
        query |= Q(**{f"{field}__iexact": name})
    policy = ticket_policy()
    # Colleagues only: a user without the helpdesk's "view" permission (a
    # citizen's login) is an unknown name, whatever their account.
    found = [u for u in User.objects.filter(query, is_active=True).order_by("pk")
             if policy.user_has_permission(u, "view")]
    known = {u.get_username().lower() for u in found}
    notified, cannot_see = [], []
    for user in found:
        if user.pk == getattr(author, "pk", None):
            continue
        seeing = policy.user_has_permission_for_instance(user, "view", ticket)
        (notified if seeing else cannot_see).append(user)
    return Mentions(notified=tuple(notified), unknown=tuple(n for n in names if n not in known),
                    cannot_see=tuple(cannot_see))


def add_note(ticket, actor, body, *, expected_version=None):
    """A private note, visible to operators (and to colleagues the ticket is
    shared with for a consult, who may write notes too). Colleagues named with
    ``@username`` who may see the ticket are notified.

    The returned ticket's ``mentions`` (:class:`Mentions`) says who was
    notified and which names were not: the note is saved either way.
    """
    body = _require_text(body)
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        consults.authorise_note(actor, t)
        workflow.check(t, Action.NOTE)
        core.save(t, [], now)
        mentions = _mentions(t, body, actor_user(actor))
        colleagues = mentions.notified
        event = core.record(t, EventKind.NOTE, actor, now=now, body=body,
                            data={"mentions": [u.pk for u in colleagues]} if colleagues else None)
        for colleague in colleagues:
            notify.operator(t, event, "mentioned", colleague)
    t.mentions = mentions
    return t


def set_priority(ticket, actor, priority, *, expected_version=None):
    if priority not in Priority.values:
        raise GuardFailed(_("Unknown priority."), {"priority": _("Choose a valid priority.")})
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.SET_PRIORITY, t)
        workflow.check(t, Action.SET_PRIORITY)
        if t.priority == priority:
            raise GuardFailed(_("The ticket already has this priority."))
        previous, t.priority = t.priority, priority
        core.save(t, ["priority"], now)
        core.record(t, EventKind.PRIORITY_CHANGED, actor, now=now,
                    data={"from": previous, "to": priority})
    return t


def mark_waiting(ticket, actor, *, message="", expected_version=None):
    """In attesa del cittadino, optionally with the question for the citizen."""
    message = (message or "").strip()
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.MARK_WAITING, t)
        t.status = workflow.check(t, Action.MARK_WAITING)
        fields = ["status"]
        if message and t.first_response_at is None:
            t.first_response_at = now
            fields.append("first_response_at")
        core.save(t, fields, now)
        event = core.record(t, EventKind.STATUS_CHANGED, actor, now=now,
                            visibility=Visibility.PUBLIC, body=message,
                            data={"to": Status.WAITING})
        notify.citizen(t, event, "waiting")
    return t


def resolve(ticket, actor, resolution_type, resolution_text, *, expected_version=None):
    """Risolvi: needs a resolution type, a resolution text and every mandatory field.

    The ticket's open duplicates are resolved with it, with the same
    resolution, and each of their citizens told (:mod:`.duplicates`).
    """
    from . import duplicates

    now = core.now()
    with core.atomic_change():
        duplicates.lock_linked(ticket)  # with its duplicates, in ascending order
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.RESOLVE, t)
        if resolution_type is not None and not ResolutionType.objects.filter(
            pk=resolution_type.pk, active=True
        ).exists():
            raise GuardFailed(
                _("This resolution type is no longer in use."),
                {"resolution_type": _("Choose another resolution type.")},
            )
        t.resolution_type = resolution_type
        t.resolution_text = (resolution_text or "").strip()
        t.status = workflow.check(t, Action.RESOLVE)
        event = core.write_resolution(t, actor, now, ["status", "resolution_type",
                                                      "resolution_text"], resolution_type)
        notify.citizen(t, event, "resolved")
        duplicates.resolve_linked(t, actor, now, resolution_type, t.resolution_text)
    return t


def _clear_resolution(t):
    t.resolution_type = None
    t.resolution_text = ""
    t.resolved_at = None
    return ["resolution_type", "resolution_text", "resolved_at"]


def reopen(ticket, actor, *, reason="", expected_version=None):
    """Riattiva: a resolved ticket goes back to work."""
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.REOPEN, t)
        t.status = workflow.check(t, Action.REOPEN)
        fields = ["status", *_clear_resolution(t)]
        core.save(t, fields, now)
        event = core.record(t, EventKind.REOPENED, actor, now=now, visibility=Visibility.PUBLIC,
                            body=(reason or "").strip())
        notify.citizen(t, event, "reopened")
    return t


def add_attachment(ticket, actor, uploaded, *, visibility=Visibility.PUBLIC, expected_version=None):
    """Attach a file (checked, re-encoded, stored privately)."""
    if visibility not in Visibility.values:
        raise GuardFailed(_("Unknown visibility."), {"visibility": _("Choose a valid visibility.")})
    checked = check_uploads([uploaded])
    now = core.now()
    with core.atomic_change() as written:
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.ADD_ATTACHMENT, t)
        workflow.check(t, Action.ADD_ATTACHMENT)
        if not is_operator(actor):
            visibility = Visibility.PUBLIC  # citizens' files are always theirs to see
        core.save(t, [], now)
        event = core.record(t, EventKind.ATTACHMENT_ADDED, actor, now=now, visibility=visibility,
                            data={"name": checked[0].original_name})
        (attachment,) = store_attachments(t, event, actor, checked, written, now=now,
                                    visibility=visibility)
    return attachment


def mark_read(ticket, actor):
    """Opening the ticket: the citizen's messages count as read. No version bump.

    Whoever may write a private note on the ticket (an operator of its office)
    may mark it read. Permission is checked on the ticket as it is now, not on
    the caller's copy (it may have been transferred meanwhile).
    """
    current = Ticket.objects.only(
        "office_id", "status", "opened_by_citizen", "created_by_id", "citizen_id"
    ).get(pk=ticket.pk)
    authorise(actor, Action.NOTE, current)
    Ticket.objects.filter(pk=ticket.pk, unread_count__gt=0).update(unread_count=0)
    ticket.unread_count = 0
    return ticket
