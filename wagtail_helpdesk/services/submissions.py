"""Tickets citizens send from the website's forms (channel ``web``).

The citizen is the one logged in with SPID/CIE when there is one (identity
"verified"); otherwise the person the form describes (identity "declared"),
kept as the ticket's own record and never attached to anybody else's (see
:mod:`.identities`).
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed
from ..models import Channel, Citizen, Ticket
from ..workflow import Status
from .actors import CitizenActor
from .creation import create_ticket, delete_draft
from .identities import DECLARED, VERIFIED, declared_citizen

__all__ = ["DECLARED", "VERIFIED", "declared_citizen", "submit_web_ticket", "verified_citizen",
           "citizen_drafts", "discard_web_draft"]


def verified_citizen(user):
    """The citizen record of a user logged in with SPID/CIE, or None.

    This is the hook the SPID/CIE login fills: it links the user to a
    :class:`~wagtail_helpdesk.models.Citizen` (``user.helpdesk_citizen``).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        citizen = user.helpdesk_citizen
    except Citizen.DoesNotExist:
        return None
    return None if citizen.erased_at else citizen


def submit_web_ticket(*, user=None, person=None, kind, attachments=(), idempotency_key=None,
                      site=None, draft=False, replaces_draft=None, **fields):
    """Create (or, with ``draft``, save) a ticket from the website.

    ``person`` holds the declared personal data (ignored when ``user`` is a
    verified citizen); ``fields`` are the ticket's (service or
    report_category, subject, description, latitude, longitude, address).
    ``replaces_draft``: the id of the citizen's saved draft this ticket (or
    newer draft) takes the place of; it is deleted in the same transaction.
    """
    with transaction.atomic():
        ticket = _web_ticket(user, person, kind, attachments, idempotency_key, site, draft,
                             fields)
        if replaces_draft and ticket.pk != replaces_draft:
            discard_web_draft(user=user, draft_id=replaces_draft)
    return ticket


def _own_drafts(citizen):
    """The drafts ``citizen`` saved from the website."""
    return Ticket.objects.filter(citizen=citizen, status=Status.DRAFT, channel=Channel.WEB,
                                 opened_by_citizen=True)


def citizen_drafts(user, kind):
    """The drafts a verified citizen saved from the website, newest first."""
    citizen = verified_citizen(user)
    if citizen is None:
        return Ticket.objects.none()
    return (_own_drafts(citizen).filter(kind=kind)
            .select_related("service", "report_category").order_by("-updated_at"))


def discard_web_draft(*, user, draft_id):
    """Delete one of the verified citizen's own drafts; nothing when it is
    already gone (two saves at once: the other one deleted it)."""
    citizen = verified_citizen(user)
    if citizen is None:
        return
    with transaction.atomic():
        draft = _own_drafts(citizen).select_for_update().filter(pk=draft_id).first()
        if draft is not None:
            delete_draft(draft, CitizenActor(citizen, user))


def _web_ticket(user, person, kind, attachments, idempotency_key, site, draft, fields):
    if idempotency_key and (sent := Ticket.objects.filter(
            idempotency_key=idempotency_key).first()) is not None:
        return sent  # a replay: no second declared record
    citizen = verified_citizen(user)
    identity = VERIFIED
    if citizen is None:
        if draft:
            raise GuardFailed(_("Log in with SPID or CIE to save a draft."))
        citizen, identity = declared_citizen(**(person or {})), DECLARED
    actor = CitizenActor(citizen, user if identity == VERIFIED else None)
    return create_ticket(
        actor, kind=kind, channel=Channel.WEB, citizen=citizen, attachments=attachments,
        idempotency_key=idempotency_key, site=site, draft=draft, identity=identity, **fields,
    )
