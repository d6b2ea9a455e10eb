"""Erasing a citizen's personal data (GDPR art. 17), for helpdesk administrators.

The citizen record is anonymised in place and their tickets are kept, so that
the office's work and its statistics (counts per office, category, service,
status, resolution type, dates, service levels) remain. What is removed:

* the citizen's name, fiscal code, e-mail, phone, language and user link, and
  those of the declared identities their tickets came with (kept on a ticket
  an operator linked to the citizen);
* everything the citizen wrote: the tickets' subject and description, the
  bodies of the citizen's timeline and chat messages (replaced by a placeholder) —
  except the subject and description of an *open report*: the team still has
  to fix the problem, so those keep the text with the citizen's identifiers
  redacted (as in operators' texts);
* the citizen's identifiers quoted in what operators wrote (replies, notes,
  chat messages, resolution texts): the text is kept, the identifiers are redacted;
* every attachment of their tickets (files deleted once the transaction is
  committed, rows deleted) and the file names quoted in the timeline;
* the place of an assistance request (it can only be about the person); the
  place of a *report* is kept: it is the public place of the problem;
* the addresses of the notifications to the citizen; unsent ones are skipped;
* the e-mails received from the citizen or on their tickets: the originals
  (files deleted once committed) and their sender, subject and ids;
* the embeddings of their tickets' texts (the AI assist's vectors, computed
  again later from the anonymised texts);
* the citizen's chats: the live ones close (the operator's place is freed) and
  every one gets a new token, so the citizen's browser no longer opens them.

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
    AuthorKind,
    Citizen,
    CitizenLogin,
    Conversation,
    ConversationMessage,
    EventKind,
    InboundMessage,
    Kind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Ticket,
    TicketEmbedding,
    TicketEvent,
)
from ..permissions import ticket_policy
from . import core
from .actors import SYSTEM, actor_user, is_operator
from .chatbase import LIVE_STATES, new_token, shut

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
    """The erasure, in one transaction: each step below removes one kind of
    personal data (see the module's docstring)."""
    now = core.now()
    with core.atomic_change():
        person = _lock_citizen(citizen)
        user_id = person.user_id  # the SPID/CIE account, if any
        tickets = _lock_tickets(person)
        ticket_ids = [t.pk for t in tickets]
        declared = _lock_declared(ticket_ids)
        redact = chain([redactor(p) for p in (person, *declared)])

        _erase_timeline(ticket_ids, redact, user_id)
        _close_chats(person, ticket_ids, actor, now)
        _erase_chats(ticket_ids, redact)
        files = _delete_attachments(ticket_ids)
        files += _erase_received_mail(person, declared, ticket_ids)
        skipped = _silence_notifications(person, ticket_ids)
        for ticket in tickets:
            _erase_ticket(ticket, redact, user_id, now)
            core.record(ticket, EventKind.PERSONAL_DATA_ERASED, actor, now=now,
                        data={"reason": reason})
        _erase_people(person, declared, now)
        # The vectors were computed from the citizen's words: gone with them
        # (the sweep computes new ones from what the erasure left).
        TicketEmbedding.objects.filter(ticket_id__in=ticket_ids).delete()
        if user_id is not None:
            _close_account(user_id)

        _audit(person, actor, reason=reason, tickets=len(tickets), files=files,
               notifications=skipped)
    citizen.refresh_from_db()
    return citizen


def _lock_citizen(citizen):
    """``citizen``'s row, locked; refused when already erased."""
    person = Citizen.objects.select_for_update().get(pk=citizen.pk)
    if person.erased_at is not None:
        raise GuardFailed(
            _("The personal data of this citizen were already erased: nothing to do.")
        )
    return person


def _lock_tickets(person):
    """The citizen's tickets, locked (not their services)."""
    return list(
        Ticket.objects.select_for_update(of=("self",)).select_related("service")
        .filter(citizen=person).order_by("pk")
    )


def _lock_declared(ticket_ids):
    """The declared identities these tickets came with (kept once linked):
    their identifiers are redacted and their records erased too."""
    # A subquery, not a join: PostgreSQL refuses FOR UPDATE with DISTINCT.
    return list(Citizen.objects.select_for_update().filter(
        pk__in=Ticket.objects.filter(pk__in=ticket_ids).values("declared_contact_id"),
        erased_at__isnull=True))


def _erase_timeline(ticket_ids, redact, user_id):
    """What the citizen wrote, their identifiers in operators' texts, quoted
    file names and notification addresses, their account as an actor.

    Events are append-only: bulk updates are the one documented exception,
    for erasure.
    """
    text = placeholder()
    events = TicketEvent.objects.filter(ticket_id__in=ticket_ids)
    events.filter(by_citizen=True).exclude(body="").update(body=text)
    if redact is not None:
        for pk, body in events.filter(by_citizen=False).exclude(body="").values_list(
            "pk", "body"
        ):
            redacted = redact(body)
            if redacted != body:
                TicketEvent.objects.filter(pk=pk).update(body=redacted)
    events.filter(kind=EventKind.ATTACHMENT_ADDED).update(data={"name": text})
    for pk, data in events.filter(kind__in=_NOTIFICATION_EVENTS).values_list("pk", "data"):
        channel = (data or {}).get("channel")
        kept = {"channel": channel} if channel in NotificationChannel.values else {}
        if kept != data:
            TicketEvent.objects.filter(pk=pk).update(data=kept)
    if user_id is not None:
        events.filter(actor_id=user_id).update(actor=None)


def _close_chats(person, ticket_ids, actor, now):
    """The citizen's conversations (of their tickets, or started by them),
    locked after the tickets: the live ones close, and every one gets a new
    token hash, so the erased citizen's browser can open none of them."""
    # A chat they started whose ticket is no longer theirs (an operator linked
    # it to another citizen): its ticket is locked first too, as every chat
    # change does (ticket, then conversation).
    others = (Conversation.objects.filter(citizen=person).exclude(ticket_id__in=ticket_ids)
              .values_list("ticket_id", flat=True))
    list(Ticket.objects.select_for_update().filter(pk__in=list(others)).order_by("pk")
         .values_list("pk", flat=True))
    chats = (Conversation.objects.select_for_update(of=("self",)).select_related("ticket")
             .filter(Q(ticket_id__in=ticket_ids) | Q(citizen=person)).order_by("pk"))
    for c in chats:
        if c.state in LIVE_STATES:
            shut(c, actor, now, reason="erased")
        c.token_hash = new_token()[1]
        c.save(update_fields=["token_hash"])


def _erase_chats(ticket_ids, redact):
    """The chats' transcripts: what the citizen wrote, their identifiers in
    the operators' messages."""
    Conversation.objects.filter(ticket_id__in=ticket_ids).update(callback_phone="", device="")
    TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.CHAT_CALLBACK).update(
        body=placeholder(), data={})
    TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.CHAT_TRANSCRIPT).update(
        data={})
    messages = ConversationMessage.objects.filter(conversation__ticket_id__in=ticket_ids)
    messages.filter(author_kind=AuthorKind.CITIZEN).update(body=placeholder(), data={})
    # A file's name may say who sent it (the file itself goes with the ticket's).
    messages.filter(attachment__isnull=False).update(body=placeholder())
    if redact is not None:
        for pk, body in messages.exclude(author_kind=AuthorKind.CITIZEN).exclude(
            body=""
        ).values_list("pk", "body"):
            redacted = redact(body)
            if redacted != body:
                ConversationMessage.objects.filter(pk=pk).update(body=redacted)


def _delete_attachments(ticket_ids):
    """Delete the tickets' attachments: the rows now, the files once the
    deletion is committed. Returns how many."""
    attachments = list(
        Attachment.objects.filter(ticket_id__in=ticket_ids).values_list("pk", "file")
    )
    storage = Attachment._meta.get_field("file").storage
    names = [name for _pk, name in attachments if name]
    Attachment.objects.filter(pk__in=[pk for pk, _name in attachments]).delete()
    if names:
        transaction.on_commit(lambda: _delete_files(storage, names), robust=True)
    return len(attachments)


def _erase_received_mail(person, declared, ticket_ids):
    """The e-mails received from the citizen or on their tickets: the
    original messages deleted (files once committed), the rows kept for the
    record without sender, subject, ids or certification. Returns how many
    originals."""
    addresses = {p.email.strip().lower() for p in (person, *declared) if p.email}
    received = InboundMessage.objects.filter(
        Q(ticket_id__in=ticket_ids) | Q(sender__in=addresses)).exclude(raw="")
    rows = list(received.values_list("pk", "raw"))
    storage = InboundMessage._meta.get_field("raw").storage
    names = [name for _pk, name in rows if name]
    InboundMessage.objects.filter(pk__in=[pk for pk, _name in rows]).update(
        raw="", sender="", subject="", message_id="", envelope_from="", envelope_to=[],
        certification={}, detail="")
    if names:
        transaction.on_commit(lambda: _delete_files(storage, names), robust=True)
    return len(rows)


def _silence_notifications(person, ticket_ids):
    """Nothing more is sent to the citizen, no address is kept. Returns how
    many unsent notifications were skipped."""
    to_citizen = Notification.objects.filter(
        Q(recipient_citizen=person)
        | Q(ticket_id__in=ticket_ids, template__startswith="citizen/")
    )
    skipped = to_citizen.filter(status__in=_UNSENT).update(
        status=NotificationStatus.SKIPPED, address="", last_error=""
    )
    to_citizen.update(address="", last_error="")
    return skipped


def _erase_ticket(ticket, redact, user_id, now):
    """The ticket's texts, place and author."""
    if _keeps_problem(ticket):
        # An open report: what the problem is stays for the team that fixes
        # it, without the citizen's identifiers.
        if redact is not None:
            # The placeholder may be longer than what it replaces.
            limit = Ticket._meta.get_field("subject").max_length
            ticket.subject = redact(ticket.subject)[:limit]
            ticket.description = redact(ticket.description)
    else:
        text = placeholder()
        # A request's default subject is its service's name: nothing personal.
        if ticket.subject and not (
                ticket.service and ticket.subject == ticket.service.name[:200]):
            ticket.subject = text
        ticket.description = text if ticket.description else ""
    if ticket.resolution_text and redact is not None:
        ticket.resolution_text = redact(ticket.resolution_text)
    if ticket.kind != Kind.REPORT:
        ticket.address, ticket.latitude, ticket.longitude = "", None, None
    if user_id is not None and ticket.created_by_id == user_id:
        ticket.created_by = None
    # Not core.save(): the erasure is not an interaction with the citizen, so
    # "last interaction" (lists, statistics) stays as it was.
    ticket.version += 1
    ticket.updated_at = now
    ticket.save(update_fields=["subject", "description", "resolution_text", "address",
                               "latitude", "longitude", "created_by", "version",
                               "updated_at"])


def _erase_people(person, declared, now):
    """The citizen's record and their declared identities' records."""
    _blank(person, now)
    person.user = None
    person.save()
    for contact in declared:
        _blank(contact, now)
        contact.save()


def _close_account(user_id):
    """The citizen's SPID/CIE account: its identities and names go, it can no
    longer log in (staff accounts are left alone)."""
    from django.contrib.auth import get_user_model

    CitizenLogin.objects.filter(user_id=user_id).delete()
    get_user_model().objects.filter(pk=user_id, is_staff=False).update(
        first_name="", last_name="", email="", is_active=False)


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
