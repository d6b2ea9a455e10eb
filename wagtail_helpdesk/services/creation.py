"""Creating tickets (any channel, as draft or submitted), editing and
submitting drafts, deleting drafts; "Crea ticket"'s save as one step."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .. import workflow
from ..errors import GuardFailed
from ..models import Channel, EventKind, Kind, Office, Priority, ShortCodeMode, Ticket, Visibility
from ..permissions import office_ids_for, ticket_policy
from ..sla import add_working_days
from ..workflow import Action, Status
from . import core, notify, routing
from .actions import add_attachment, add_note
from .actors import (
    SYSTEM,
    CitizenActor,
    ClientActor,
    actor_user,
    authorise,
    is_operator,
    owns,
)
from .attachments import check_uploads, store_attachments
from .citizens import register_citizen
from .identities import is_declared
from .shortcodes import assign_short_code, sequential_code

#: Fields of a draft that may be edited (by operators).
DRAFT_FIELDS = (
    "service", "report_category", "office", "subject", "description", "latitude",
    "longitude", "address", "priority", "citizen", "channel",
)
#: What a citizen may edit in their own draft: not its office, priority or channel.
CITIZEN_DRAFT_FIELDS = (
    "service", "report_category", "subject", "description", "latitude", "longitude", "address",
)


def _check_catalogue(kind, service, report_category):
    if kind not in Kind.values:
        raise GuardFailed(_("Unknown ticket kind."), {"kind": _("Choose a valid kind.")})
    if kind == Kind.REQUEST and report_category is not None:
        raise GuardFailed(
            _("An assistance request refers to a service, not to a problem type."),
            {"report_category": _("Not used for assistance requests.")},
        )
    if kind == Kind.REPORT and service is not None:
        raise GuardFailed(
            _("A report refers to a problem type, not to a service."),
            {"service": _("Not used for reports.")},
        )
    if service is not None and not service.active:
        raise GuardFailed(
            _("This service no longer accepts requests."), {"service": _("Choose another service.")}
        )
    if report_category is not None and not report_category.active:
        raise GuardFailed(
            _("This problem type is no longer in use."),
            {"report_category": _("Choose another problem type.")},
        )


def _check_office_and_priority(ticket):
    if ticket.priority not in Priority.values:
        raise GuardFailed(_("Unknown priority."), {"priority": _("Choose a valid priority.")})
    if ticket.office_id is not None and not Office.objects.filter(
        pk=ticket.office_id, active=True
    ).exists():
        raise GuardFailed(_("This office is not active."), {"office": _("Choose another office.")})


def _derive_office(ticket):
    if ticket.service_id and ticket.office_id is None:
        ticket.office_id = ticket.service.office_id
    if ticket.report_category_id and ticket.office_id is None:
        ticket.office_id = ticket.report_category.office_id


def _check_creator(actor, ticket):
    """Operators create tickets only for their own offices (unless they see all)."""
    if actor is SYSTEM or isinstance(actor, ClientActor):  # a client: checked by its key
        return
    if isinstance(actor, CitizenActor):
        if not owns(actor, ticket):
            raise core_permission_denied()
        return
    policy = ticket_policy()
    if not policy.user_has_permission(actor, "add"):
        raise core_permission_denied()
    if ticket.office_id is not None and not policy.sees_all_offices(actor):
        if ticket.office_id not in office_ids_for(actor):
            raise core_permission_denied(_("You can only create tickets for your own offices."))


def core_permission_denied(message=None):
    return PermissionDenied(message or _("You cannot create tickets."))


def _on_submit(ticket, actor, now, site, acknowledge=True):
    """What submission does: timestamp, short code, deadline, receipts."""
    settings_ = core.helpdesk_settings(site)
    ticket.status = Status.NEW
    ticket.submitted_at = now
    ticket.updated_at = now
    ticket.last_activity_at = now
    sla = None
    if ticket.service_id:
        sla = ticket.service.sla_days
    elif ticket.report_category_id:
        sla = ticket.report_category.sla_days
    ticket.due_at = add_working_days(now, sla) if sla else None
    if isinstance(actor, CitizenActor):
        ticket.last_citizen_activity_at = now
    fields = ["status", "submitted_at", "updated_at", "last_activity_at", "due_at",
              "last_citizen_activity_at", "version"]
    if not ticket.short_code and settings_.short_code_mode == ShortCodeMode.SEQUENTIAL:
        # Saved with the submission (one UPDATE); a random code is tried after
        # it, retrying on the rare clash with another ticket's.
        ticket.short_code = sequential_code(ticket, settings_)
        fields.append("short_code")
    ticket.save(update_fields=fields)
    assign_short_code(ticket, settings_)
    event = core.record(
        ticket, EventKind.SUBMITTED, actor, now=now, visibility=Visibility.PUBLIC,
        data={"channel": ticket.channel, "short_code": ticket.short_code},
    )
    if acknowledge:
        notify.citizen(ticket, event, "ticket_received")
    notify.office(ticket, event, "new_ticket")
    notify.office_members(ticket, event, "new_ticket")
    routing.auto_assign(ticket, now)
    return event


def create_ticket(
    actor,
    *,
    kind,
    channel,
    citizen=None,
    service=None,
    report_category=None,
    office=None,
    subject="",
    description="",
    latitude=None,
    longitude=None,
    address="",
    priority=Priority.NORMAL,
    draft=False,
    note="",
    attachments=(),
    site=None,
    idempotency_key=None,
    identity=None,
    acknowledge=True,
    checked=None,
    data=None,
):
    """Create a ticket from any channel, as a draft or submitted.

    ``actor`` is the operator creating it on a citizen's behalf, a
    :class:`CitizenActor` (web forms), a :class:`ClientActor` (Open311) or
    ``SYSTEM``. Submitted tickets get
    their short code and deadline and queue the citizen's receipt.

    ``idempotency_key``: a creation replayed with the same key (a double
    click, a resent request) returns the ticket the first one created.
    ``identity`` ("verified" by SPID/CIE, or "declared") is recorded on the
    creation event for operators. ``acknowledge=False``: no receipt to the
    citizen (inbound e-mail acknowledges one message per sender per day).
    ``checked``: attachments already checked (instead of ``attachments``);
    ``data``: more details for the creation event (how it came).
    """
    if idempotency_key:
        existing = Ticket.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if channel not in Channel.values:
        raise GuardFailed(_("Unknown channel."), {"channel": _("Choose a valid channel.")})
    by_citizen = isinstance(actor, CitizenActor)
    if by_citizen:
        # Citizens do not choose where their ticket goes or how urgent it is.
        office, priority, channel = None, Priority.NORMAL, Channel.WEB
    _check_catalogue(kind, service, report_category)
    checked = check_uploads(attachments) if checked is None else checked
    now = core.now()
    ticket = Ticket(
        kind=kind, channel=channel, citizen=citizen, service=service,
        report_category=report_category, office=office, subject=(subject or "").strip(),
        description=(description or "").strip(), latitude=latitude, longitude=longitude,
        address=(address or "").strip(), priority=priority, created_by=actor_user(actor),
        opened_by_citizen=by_citizen, status=Status.DRAFT, created_at=now, updated_at=now,
        last_activity_at=now, idempotency_key=idempotency_key or None,
    )
    if kind == Kind.REQUEST and not ticket.subject and service is not None:
        ticket.subject = service.name[:200]
    _derive_office(ticket)
    _check_office_and_priority(ticket)
    _check_creator(actor, ticket)
    if not draft:
        workflow.check(ticket, Action.SUBMIT)
    try:
        _create(ticket, actor, now=now, channel=channel, draft=draft, note=note,
                checked=checked, site=site, identity=identity, acknowledge=acknowledge,
                data=data)
    except IntegrityError:
        if idempotency_key:
            # The same submission arrived twice at once: the other one won.
            existing = Ticket.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return ticket


def save_operator_ticket(actor, *, draft=None, kind=None, citizen=None, new_citizen=None,
                         note="", attachments=(), submit=False, expected_version=None,
                         **fields):
    """Crea ticket: an operator's ticket on a citizen's behalf, new (``draft``
    None, of ``kind``) or their ``draft`` completed (at ``expected_version``),
    saved as a draft or, ``submit``, submitted. All or nothing: a refusal at
    any step leaves no citizen, ticket, note or file behind.

    The citizen is ``citizen`` (a registered one, chosen), else the one
    ``new_citizen``'s details register, else — a draft that came with a
    declared identity (an integration's) — the draft's own. ``fields`` are
    the ticket's (:data:`DRAFT_FIELDS` but ``office`` and ``citizen``);
    ``note`` is a private note and ``attachments`` are uploaded files.
    """
    with core.atomic_change() as written:
        if citizen is None and new_citizen:
            citizen = register_citizen(actor, **new_citizen)
        if citizen is None and draft is not None and is_declared(draft.citizen):
            citizen = draft.citizen
        fields["citizen"] = citizen
        if draft is None:
            return create_ticket(actor, kind=kind, draft=not submit, note=note,
                                 attachments=attachments, **fields)
        ticket = update_draft(draft, actor, expected_version=expected_version, **fields)
        if note.strip():
            ticket = add_note(ticket, actor, note)
        for uploaded in attachments:
            stored = add_attachment(ticket, actor, uploaded)
            # Committed with the rest or not at all: a later refusal removes it.
            written.append((stored.file.storage, stored.file.name))
        if submit:
            ticket = submit_ticket(ticket, actor)
        return ticket


def _create(ticket, actor, *, now, channel, draft, note, checked, site, identity,
            acknowledge=True, data=None):
    with core.atomic_change() as written:
        ticket.save()
        data = {**(data or {}), "channel": channel, "draft": bool(draft)}
        if identity:
            data["identity"] = identity
        created = core.record(ticket, EventKind.CREATED, actor, now=now, data=data)
        if note and note.strip():
            if not is_operator(actor):
                raise GuardFailed(_("Only operators can write private notes."))
            core.record(ticket, EventKind.NOTE, actor, now=now, body=note.strip())
        store_attachments(ticket, created, actor, checked, written, now=now)
        if not draft:
            _on_submit(ticket, actor, now, site, acknowledge=acknowledge)


def update_draft(ticket, actor, *, expected_version=None, **changes):
    """Change fields of a draft. Unknown fields are refused."""
    allowed = CITIZEN_DRAFT_FIELDS if isinstance(actor, CitizenActor) else DRAFT_FIELDS
    unknown = set(changes) - set(allowed)
    if unknown:
        raise GuardFailed(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.EDIT_DRAFT, t)
        workflow.check(t, Action.EDIT_DRAFT)
        for name, value in changes.items():
            setattr(t, name, value.strip() if isinstance(value, str) else value)
        _check_catalogue(t.kind, t.service, t.report_category)
        if "service" in changes or "report_category" in changes:
            if "office" not in changes:
                t.office = None
            _derive_office(t)
        _check_office_and_priority(t)
        _check_creator(actor, t)
        core.save(t, [*changes, "office"], now)
        core.record(t, EventKind.DRAFT_UPDATED, actor, now=now, data={"fields": sorted(changes)})
    return t


def submit_ticket(ticket, actor, *, expected_version=None, site=None):
    """Submit a draft: it enters its office's queue (status "new")."""
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.SUBMIT, t)
        workflow.check(t, Action.SUBMIT)
        _check_catalogue(t.kind, t.service, t.report_category)
        _check_office_and_priority(t)
        _check_creator(actor, t)
        t.version += 1
        _on_submit(t, actor, now, site)
    return t


def delete_draft(ticket, actor, *, expected_version=None):
    """Delete a draft and its files. Submitted tickets are never deleted.

    Files are removed only once the deletion is committed.
    """
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        authorise(actor, Action.DELETE_DRAFT, t)
        workflow.check(t, Action.DELETE_DRAFT)
        for attachment in t.attachments.all():
            storage, name = attachment.file.storage, attachment.file.name
            transaction.on_commit(lambda s=storage, n=name: s.delete(n))
        t.delete()
