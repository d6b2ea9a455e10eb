"""Which ticket changes notify whom: rows in the notification outbox.

Rows are created inside the caller's transaction, so a change that rolls back
notifies nobody. Delivery (e-mail, App IO) is done by background workers from
these rows. Subjects and payloads carry the ticket's reference, never
personal data.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist

from ..conf import get_setting
from ..models import NewTicketMail, Notification, NotificationChannel
from ..notifications import appio, tasks
from ..permissions import ticket_policy


def dedup_key(event, template, channel, address):
    """A fixed-length key for (event, template, channel, recipient), without personal data."""
    return _key(event.pk, template, channel, address)


def _key(what, template, channel, address):
    raw = f"{what}\x1f{template}\x1f{channel}\x1f{address.strip().lower()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _queue(ticket, event, template, *, address, user=None, citizen=None, language="",
           channel=NotificationChannel.EMAIL):
    return _create(
        dedup_key(event, template, channel, address), ticket=ticket, event=event,
        template=template, address=address, user=user, citizen=citizen, language=language,
        channel=channel, when=event.created_at,
        payload={"reference": ticket.reference, "event_id": event.pk, "kind": ticket.kind})


def _create(key, *, ticket, event, template, address, user, citizen, language, channel, when,
            payload):
    if Notification.objects.filter(dedup_key=key).exists():
        return None  # e.g. two mentioned colleagues sharing one address: one message
    notification = Notification.objects.create(
        channel=channel,
        ticket=ticket,
        event=event,
        template=template,
        recipient_user=user,
        recipient_citizen=citizen,
        address=address,
        language=language or get_setting("DEFAULT_LANGUAGE"),
        payload=payload,
        dedup_key=key,
        next_attempt_at=when,
        created_at=when,
    )
    tasks.enqueue([notification.pk])  # on commit: a rolled-back change notifies nobody
    return notification


def citizen(ticket, event, template):
    """Tell the ticket's citizen: by e-mail (when they have an address and
    want it) and on App IO (when they have a fiscal code, want it, and the
    service has an IO key). Returns the e-mail notification, if any."""
    person = ticket.citizen
    if person is None or person.erased_at:
        return None
    queued = None
    if person.email and person.notify_email:
        queued = _queue(ticket, event, f"citizen/{template}", address=person.email,
                        citizen=person, language=person.language)
    if person.fiscal_code and person.notify_app_io and appio.api_key(ticket):
        _queue(ticket, event, f"citizen/{template}", address=person.fiscal_code,
               citizen=person, language=person.language, channel=NotificationChannel.APP_IO)
    return queued


def citizen_asked(ticket, event, template, person, *, language=""):
    """An e-mail ``person`` asked for just now (e.g. their chat's transcript),
    to their own address: sent whatever their preference for notifications,
    never on App IO. Returns it, or None."""
    if person is None or person.erased_at or not person.email:
        return None
    return _queue(ticket, event, f"citizen/{template}", address=person.email, citizen=person,
                  language=language or person.language)


def operator_language(user):
    """The language an operator reads: the one chosen in their Wagtail
    account, when it is one of the site's languages; else the default."""
    try:
        chosen = user.wagtail_userprofile.preferred_language
    except ObjectDoesNotExist:
        chosen = ""
    codes = {code for code, _name in settings.LANGUAGES}
    if chosen and chosen not in codes:
        chosen = chosen.split("-")[0] if chosen.split("-")[0] in codes else ""
    return chosen or get_setting("DEFAULT_LANGUAGE")


def operator(ticket, event, template, user):
    """Tell an operator (when they have an e-mail address), in their language."""
    if user is None or not user.email or not user.is_active:
        return None
    return _queue(ticket, event, f"operator/{template}", address=user.email, user=user,
                  language=operator_language(user))


def office(ticket, event, template):
    """Tell the ticket's office through its own mailbox."""
    if ticket.office is None or not ticket.office.email:
        return None
    return _queue(ticket, event, f"office/{template}", address=ticket.office.email)


def office_members(ticket, event, template):
    """Tell the members of the ticket's office who asked to hear of new
    tickets at once (the others get the daily summary, or nothing)."""
    if ticket.office_id is None:
        return []
    members = (get_user_model().objects
               .filter(helpdesk_memberships__office=ticket.office_id, is_active=True,
                       helpdesk_preferences__new_tickets=NewTicketMail.IMMEDIATE)
               .exclude(email="").select_related("wagtail_userprofile").distinct())
    policy = ticket_policy()
    return [n for n in (operator(ticket, event, template, user) for user in members
                        if policy.user_has_permission_for_instance(user, "view", ticket)) if n]


def daily_digest(user, tickets, total, since, until, now):
    """Queue an operator's summary of the new tickets in their offices
    between ``since`` and ``until`` (``tickets``: the first ids of ``total``)."""
    template = "operator/daily_digest"
    key = _key(f"digest:{user.pk}:{until.isoformat()}", template, NotificationChannel.EMAIL,
               user.email)
    return _create(key, ticket=None, event=None, template=template, address=user.email,
                   user=user, citizen=None, language=operator_language(user),
                   channel=NotificationChannel.EMAIL, when=now,
                   payload={"tickets": list(tickets), "total": total,
                            "since": since.isoformat(), "until": until.isoformat()})


def app_io_fallback(notification):
    """A citizen's e-mail that could not be delivered (a bounce, a failed
    certified delivery) is sent on App IO instead, when the citizen has a
    fiscal code and the service an IO key — even if they had chosen e-mail
    only: the message must reach them. Returns the App IO row, or None
    (also when one was already queued for the same event)."""
    person, ticket, event = notification.recipient_citizen, notification.ticket, notification.event
    if (notification.channel != NotificationChannel.EMAIL or person is None or event is None
            or ticket is None or person.erased_at or not person.fiscal_code
            or not appio.api_key(ticket)):
        return None
    return _queue(ticket, event, notification.template, address=person.fiscal_code,
                  citizen=person, language=person.language, channel=NotificationChannel.APP_IO)
