"""Erasing a citizen's personal data (GDPR art. 17), for helpdesk administrators.

The citizen record is anonymised in place and their tickets are kept, so that
the office's work and its statistics (counts per office, category, service,
status, resolution type, dates, service levels) remain. What is removed:

* the citizen's name, fiscal code, e-mail, phone, language and user link, and
  those of the declared identities their tickets came with (kept on a ticket
  an operator linked to the citizen);
* everything the citizen wrote: the tickets' subject and description, the
  bodies of the citizen's timeline messages (replaced by a placeholder) —
  except the subject and description of an *open report*: the team still has
  to fix the problem, so those keep the text with the citizen's identifiers
  redacted (as in operators' texts);
* the citizen's identifiers quoted in what operators wrote (replies, notes,
  resolution texts): the text is kept, the identifiers are redacted;
* every attachment of their tickets (files deleted once the transaction is
  committed, rows deleted) and the file names quoted in the timeline;
* the place of an assistance request (it can only be about the person); the
  place of a *report* is kept: it is the public place of the problem;
* the addresses of the notifications to the citizen; unsent ones are skipped.

Each ticket gets an internal ``PERSONAL_DATA_ERASED`` event and the citizen a
Wagtail audit-log entry (``wagtail_helpdesk.erase_personal_data``). Neither
carries personal data: only the administrator, the time, counts and the
reason the administrator typed.
"""

import logging
import re

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed, PermissionDenied
from ..models import (
    Attachment,
    Citizen,
    CitizenLogin,
    EventKind,
    Kind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Ticket,
    TicketEvent,
)
from ..permissions import ticket_policy
from . import core
from .actors import SYSTEM, actor_user, is_operator

logger = logging.getLogger(__name__)

#: The Wagtail audit-log action written for every erasure.
LOG_ACTION = "wagtail_helpdesk.erase_personal_data"

#: What replaces the texts the citizen wrote (stored in the site's language).
PLACEHOLDER = _("[personal data erased]")

#: Longest reason kept (it goes into the timeline and the audit log).
REASON_MAX_LENGTH = 500

_UNSENT = (NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.FAILED)
_NOTIFICATION_EVENTS = (EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED)


def can_erase(user):
    """Whether ``user`` may erase citizens' personal data."""
    return is_operator(user) and ticket_policy().user_has_permission(user, "erase")


def placeholder():
    """The placeholder text, in the site's language (it is stored, not shown)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(PLACEHOLDER)


def audit_title(citizen):
    """The audit-log label of an erased citizen: no personal data."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(_("Citizen #%(id)s") % {"id": citizen.pk})


def _phone_pattern(phone):
    digits = re.sub(r"\D", "", phone or "")
    if phone.strip().startswith(("+39", "0039")):
        digits = digits[4:] if digits.startswith("0039") else digits[2:]
    if len(digits) < 6:
        return None
    # The same digits however they were spaced, with or without the country code.
    return r"(?:(?:\+|00)39[\s./-]*)?" + r"[\s./-]*".join(digits)


#: The citizen's fields ``redactor`` reads (callers loading rows with ``only()``
#: name them so that redacting costs no query per row).
REDACTED_FIELDS = ("given_name", "family_name", "email", "phone", "fiscal_code",
                   "declared_fiscal_code")


def redactor(citizen, replacement=None):
    """A function that replaces ``citizen``'s identifiers in a text with
    ``replacement`` (default: the erasure placeholder), or None when there is
    nothing to look for."""
    patterns = []
    for value in (citizen.fiscal_code, citizen.declared_fiscal_code, citizen.email):
        if value:
            patterns.append(re.escape(value))
    if phone := _phone_pattern(citizen.phone):
        patterns.append(phone)
    for name in (citizen.given_name, citizen.family_name):
        # Each word of each name; over-redacting an erased citizen's ticket is
        # the safe side.
        patterns.extend(rf"\b{re.escape(word)}\b" for word in name.split() if len(word) > 1)
    if not patterns:
        return None
    # Longest first, so that a full e-mail address goes before a name inside it.
    regex = re.compile("|".join(sorted(patterns, key=len, reverse=True)), re.IGNORECASE)
    text = placeholder() if replacement is None else replacement

    def redact(value):
        return regex.sub(text, value) if value else value

    return redact


def chain(redactors):
    """One redactor applying each of ``redactors`` (None when there are none)."""
    redactors = [r for r in redactors if r is not None]
    if not redactors:
        return None

    def redact(value):
        for one in redactors:
            value = one(value)
        return value

    return redact


def _clean_reason(reason):
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        message = _("Write at most %(limit)d characters.") % {"limit": REASON_MAX_LENGTH}
        raise GuardFailed(message, {"reason": message})
    return reason


def erase_citizen(actor, citizen, *, reason=""):
    """Erase ``citizen``'s personal data; keep their tickets, anonymised.

    Only helpdesk administrators (``erase`` permission) may do it; an
    already-erased citizen is refused with :class:`GuardFailed`. Returns the
    erased citizen. Attachment files are deleted after the commit, so a failure
    leaves everything as it was.
    """
    if not can_erase(actor):
        raise PermissionDenied(_("Only helpdesk administrators can erase personal data."))
    return _erase(actor, citizen, _clean_reason(reason))


def erase_for_retention(citizen, years):
    """The retention job's erasure (``RETENTION_YEARS``): the same as an
    administrator's, done by the system and recorded as such."""
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(_("Retention: tickets resolved more than %(years)d years ago")
                     % {"years": int(years)})
    return _erase(SYSTEM, citizen, reason)


def _erase(actor, citizen, reason):
    now = core.now()
    text = placeholder()
    with core.atomic_change():
        person = Citizen.objects.select_for_update().get(pk=citizen.pk)
        if person.erased_at is not None:
            raise GuardFailed(
                _("The personal data of this citizen were already erased: nothing to do.")
            )
        user_id = person.user_id
        tickets = list(
            Ticket.objects.select_for_update(of=("self",)).select_related("service")
            .filter(citizen=person).order_by("pk")
        )
        ticket_ids = [t.pk for t in tickets]
        # The declared identities these tickets came with (kept once linked):
        # their identifiers are redacted and their records erased too.
        # (A subquery, not a join: PostgreSQL refuses FOR UPDATE with DISTINCT.)
        declared = list(Citizen.objects.select_for_update().filter(
            pk__in=Ticket.objects.filter(pk__in=ticket_ids).values("declared_contact_id"),
            erased_at__isnull=True))
        redact = chain([redactor(p) for p in (person, *declared)])
        events = TicketEvent.objects.filter(ticket_id__in=ticket_ids)

        # What the citizen wrote. Events are append-only: bulk updates are the
        # one documented exception, for erasure.
        events.filter(by_citizen=True).exclude(body="").update(body=text)
        if redact is not None:
            for pk, body in events.filter(by_citizen=False).exclude(body="").values_list(
                "pk", "body"
            ):
                redacted = redact(body)
                if redacted != body:
                    TicketEvent.objects.filter(pk=pk).update(body=redacted)
        # File names quoted in the timeline; notification details may quote addresses.
        events.filter(kind=EventKind.ATTACHMENT_ADDED).update(data={"name": text})
        for pk, data in events.filter(kind__in=_NOTIFICATION_EVENTS).values_list("pk", "data"):
            channel = (data or {}).get("channel")
            kept = {"channel": channel} if channel in NotificationChannel.values else {}
            if kept != data:
                TicketEvent.objects.filter(pk=pk).update(data=kept)
        if user_id is not None:
            events.filter(actor_id=user_id).update(actor=None)

        # Attachments: the rows go now, the files once the deletion is committed.
        attachments = list(
            Attachment.objects.filter(ticket_id__in=ticket_ids).values_list("pk", "file")
        )
        storage = Attachment._meta.get_field("file").storage
        names = [name for _pk, name in attachments if name]
        Attachment.objects.filter(pk__in=[pk for pk, _name in attachments]).delete()
        if names:
            transaction.on_commit(lambda: _delete_files(storage, names), robust=True)

        # Notifications: nothing more is sent to the citizen, no address is kept.
        to_citizen = Notification.objects.filter(
            Q(recipient_citizen=person)
            | Q(ticket_id__in=ticket_ids, template__startswith="citizen/")
        )
        skipped = to_citizen.filter(status__in=_UNSENT).update(
            status=NotificationStatus.SKIPPED, address="", last_error=""
        )
        to_citizen.update(address="", last_error="")

        for t in tickets:
            if _keeps_problem(t):
                # An open report: what the problem is stays for the team that
                # fixes it, without the citizen's identifiers.
                if redact is not None:
                    # The placeholder may be longer than what it replaces.
                    t.subject = redact(t.subject)[:Ticket._meta.get_field("subject").max_length]
                    t.description = redact(t.description)
            else:
                # A request's default subject is its service's name: nothing personal.
                if t.subject and not (t.service and t.subject == t.service.name[:200]):
                    t.subject = text
                t.description = text if t.description else ""
            if t.resolution_text and redact is not None:
                t.resolution_text = redact(t.resolution_text)
            if t.kind != Kind.REPORT:
                t.address, t.latitude, t.longitude = "", None, None
            if user_id is not None and t.created_by_id == user_id:
                t.created_by = None
            # Not core.save(): the erasure is not an interaction with the
            # citizen, so "last interaction" (lists, statistics) stays as it was.
            t.version += 1
            t.updated_at = now
            t.save(update_fields=["subject", "description", "resolution_text", "address",
                                  "latitude", "longitude", "created_by", "version",
                                  "updated_at"])
            core.record(t, EventKind.PERSONAL_DATA_ERASED, actor, now=now,
                        data={"reason": reason})

        _blank(person, now)
        person.user = None
        person.save()
        for contact in declared:
            _blank(contact, now)
            contact.save()
        if user_id is not None:  # the SPID/CIE account: its identities and names go too
            from django.contrib.auth import get_user_model

            CitizenLogin.objects.filter(user_id=user_id).delete()
            get_user_model().objects.filter(pk=user_id, is_staff=False).update(
                first_name="", last_name="", email="", is_active=False)

        _audit(person, actor, reason=reason, tickets=len(tickets), files=len(attachments),
               notifications=skipped)
    citizen.refresh_from_db()
    return citizen


def _keeps_problem(ticket):
    """Whether erasure keeps ``ticket``'s subject and description (redacted):
    an open report, whose problem on the territory is still to be fixed."""
    return ticket.kind == Kind.REPORT and ticket.is_open


def _blank(person, now):
    person.given_name = person.family_name = person.declared_fiscal_code = ""
    person.fiscal_code = None
    person.email = person.phone = person.language = ""
    person.erased_at = now


def _audit(person, actor, **data):
    """A Wagtail audit-log entry for the erasure; older entries' labels (which
    may hold the citizen's name) are replaced too."""
    from wagtail.log_actions import log, registry

    title = audit_title(person)
    registry.get_log_model_for_instance(person).objects.for_instance(person).update(label=title)
    log(instance=person, action=LOG_ACTION, user=actor_user(actor), title=title, data=data)


def _delete_files(storage, names):
    """Delete the files; one that cannot be deleted does not stop the others."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete the erased attachment file %s", name)
