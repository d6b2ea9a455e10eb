"""Notifications as e-mail messages: text and HTML in the recipient's
language, threaded per ticket, with a Reply-To that leads back to it.

Threading (see docs/notifications.md):

* ``Message-ID: <hd.<ticket>.<notification>.<sig>@<domain>>``, signed so that
  inbound mail (:mod:`wagtail_helpdesk.inbound`) can trust a reply's
  ``In-Reply-To``/``References`` point to that ticket (:func:`read_message_id`);
* ``In-Reply-To`` and ``References``: the ticket's root id
  ``<hd.<ticket>.0.<sig>@<domain>>``, the same for every message of the
  ticket, so mail programs show one conversation;
* ``Reply-To``: ``assistenza+<ticket>.<sig>@<domain>`` (plus-addressing,
  configurable);
* ``Auto-Submitted: auto-generated`` (RFC 3834): auto-responders stay quiet;
  ``auto-replied`` on the acknowledgement of a ticket opened by e-mail;
* the envelope sender ``bounces+<notification>.<sig>@…`` when
  ``NOTIFY_BOUNCE_ADDRESS`` is set (VERP): a bounce names its notification.

Subjects carry the ticket's short code, never personal data.
"""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from ..conf import get_setting
from ..models import Visibility


def _secret():
    return hashlib.sha256(f"wagtail_helpdesk.mail:{settings.SECRET_KEY}".encode()).digest()


def sign(text, length=10):
    return hmac.new(_secret(), text.encode(), hashlib.sha256).hexdigest()[:length]


def from_address():
    return get_setting("NOTIFY_FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL


def domain():
    configured = get_setting("NOTIFY_MESSAGE_ID_DOMAIN")
    if configured:
        return configured
    address = from_address()
    return address.rsplit("@", 1)[-1].strip(">").strip() or "localhost"


def message_id(ticket_id, notification_id):
    core = f"hd.{ticket_id}.{notification_id}"
    return f"<{core}.{sign(core)}@{domain()}>"


def reply_token(ticket_id):
    return f"{ticket_id}.{sign(f'reply.{ticket_id}')}"


def bounce_token(notification_id):
    return f"{notification_id}.{sign(f'bounce.{notification_id}')}"


_OUR_ID = re.compile(r"^hd\.(\d+)\.(\d+)\.([0-9a-f]{10})@", re.IGNORECASE)
_TOKEN = re.compile(r"\+(\d+)\.([0-9a-f]{10})@", re.IGNORECASE)


def read_message_id(value):
    """``(ticket_id, notification_id)`` of a Message-ID we made (bare or in
    ``<>``; the signature checked, whatever the domain), else None. The
    thread's root has notification id 0; a notification without a ticket,
    ticket id 0."""
    match = _OUR_ID.match((value or "").strip().strip("<>").strip())
    if not match:
        return None
    ticket_id, notification_id, signature = match.groups()
    if not hmac.compare_digest(sign(f"hd.{ticket_id}.{notification_id}"), signature.lower()):
        return None
    return int(ticket_id), int(notification_id)


def _read_token(address, purpose):
    match = _TOKEN.search(address or "")
    if not match:
        return None
    number, signature = match.groups()
    if not hmac.compare_digest(sign(f"{purpose}.{number}"), signature.lower()):
        return None
    return int(number)


def read_reply_token(address):
    """The ticket id of a signed reply address (``assistenza+<id>.<sig>@…``), else None."""
    return _read_token(address, "reply")


def read_bounce_token(address):
    """The notification id of a signed bounce address (VERP), else None."""
    return _read_token(address, "bounce")


def bounce_address(notification_id):
    """The envelope sender of a notification: its VERP address, or None."""
    pattern = get_setting("NOTIFY_BOUNCE_ADDRESS")
    return pattern.replace("{token}", bounce_token(notification_id)) if pattern else None


def reply_to(ticket_id):
    """The address a reply should go to, or None when not configured."""
    pattern = get_setting("NOTIFY_REPLY_TO")
    return pattern.replace("{token}", reply_token(ticket_id)) if pattern else None


def _absolute(path, *, admin):
    base = (getattr(settings, "WAGTAILADMIN_BASE_URL", "") if admin
            else get_setting("SITE_URL") or getattr(settings, "WAGTAILADMIN_BASE_URL", ""))
    return f"{base.rstrip('/')}{path}" if path else ""


def ticket_link(notification):
    """Where the recipient follows the ticket: the admin page for operators;
    for citizens, their personal area or the ticket's signed link."""
    if notification.template.startswith(("operator/", "office/")):
        return _admin_link("helpdesk_tickets:detail", notification.ticket_id)
    from ..citizen.links import ticket_path

    ticket = notification.ticket
    if (notification.recipient_citizen_id is not None
            and notification.recipient_citizen_id != ticket.citizen_id):
        # Queued to a declared identity before an operator linked the ticket to
        # a registered citizen: no link into that citizen's ticket.
        return ""
    try:
        return _absolute(ticket_path(notification.ticket), admin=False)
    except NoReverseMatch:  # the site did not include the app's URLs
        return ""


def context(notification):
    ticket, event = notification.ticket, notification.event
    # A ticket opened by e-mail has no service yet: its subject says what it is about.
    what = str(ticket.topic or ticket.subject or "") if ticket is not None else ""
    return {
        "notification": notification, "ticket": ticket, "event": event,
        "reference": ticket.reference if ticket else notification.payload.get("reference", ""),
        "what": what, "message": event.body if event is not None else "",
        "link": ticket_link(notification) if ticket is not None else "",
        "site_name": getattr(settings, "WAGTAIL_SITE_NAME", ""),
        "is_report": ticket is not None and ticket.kind == "report",
        "rating_link": _rating_link(notification),
        **_digest(notification),
    }


def digest_tickets(notification):
    """The tickets of an operator's daily summary the recipient may still
    see (they may have left the office since the summary was queued); read
    once per notification (the delivery checks them, then renders them)."""
    from ..tickets.queries import visible_tickets

    if not hasattr(notification, "_digest_tickets"):
        ids = notification.payload.get("tickets", [])
        visible = visible_tickets(notification.recipient_user)
        notification._digest_tickets = {
            t.pk: t for t in visible.filter(pk__in=ids)
            .select_related("service", "report_category", "office")}
    return notification._digest_tickets


def _digest(notification):
    """An operator's daily summary: the tickets it lists, with their links."""
    if notification.template != "operator/daily_digest":
        return {}
    ids = notification.payload.get("tickets", [])
    tickets = digest_tickets(notification)
    items = []
    for pk in ids:
        ticket = tickets.get(pk)
        if ticket is None:
            continue
        items.append({
            "reference": ticket.reference, "office": ticket.office.name if ticket.office else "",
            "what": str(ticket.topic or ""),
            "status": ticket.get_status_display(), "assigned": ticket.assignee_id is not None,
            "link": _admin_link("helpdesk_tickets:detail", pk),
        })
    total = max(notification.payload.get("total", 0) - (len(ids) - len(items)), len(items))
    return {"tickets": items, "total": total, "more": max(total - len(items), 0),
            "list_link": _admin_link("helpdesk_tickets:index")}


def _admin_link(name, *args):
    try:
        return _absolute(reverse(name, args=args), admin=True)
    except NoReverseMatch:
        return ""


def _rating_link(notification):
    """The signed, single-use rating link of a "resolved" e-mail."""
    if notification.template != "citizen/resolved" or not notification.event_id:
        return ""
    from ..services.rating import rating_token

    token = rating_token(notification.ticket_id, notification.event_id)
    return _absolute(reverse("wagtail_helpdesk_rating", args=[token]), admin=False)


def language(notification):
    return notification.language or get_setting("DEFAULT_LANGUAGE")


def render(notification):
    """(context, subject, text) of ``notification``'s templates in its
    language: the e-mail's and App IO's content alike."""
    name = f"wagtail_helpdesk/email/{notification.template}"
    with translation.override(language(notification)):
        ctx = context(notification)
        subject = " ".join(render_to_string(f"{name}.subject.txt", ctx).split())
        text = render_to_string(f"{name}.txt", ctx).strip()
    return ctx, subject, text


def auto_submitted(notification):
    """RFC 3834: ``auto-replied`` for the acknowledgement of mail that opened
    a ticket (it answers a message), ``auto-generated`` for every other
    notification."""
    ticket = notification.ticket
    if (notification.template == "citizen/ticket_received" and ticket is not None
            and ticket.channel == "email"):
        return "auto-replied"
    return "auto-generated"


def build(notification):
    """The e-mail for ``notification`` (ticket, service, category and event
    loaded), rendered in its language."""
    ctx, subject, text = render(notification)
    text += "\n"
    with translation.override(language(notification)):
        html = render_to_string("wagtail_helpdesk/email/base.html", {**ctx, "text": text,
                                                                        "subject": subject})
    headers = {"Message-ID": message_id(notification.ticket_id or 0, notification.pk),
               "Auto-Submitted": auto_submitted(notification),
               "X-Auto-Response-Suppress": "All"}
    # The thread and the reply address are the citizen's: a colleague answering
    # an office's or an operator's notification must not write into the ticket
    # as the citizen (inbound mail threads by both).
    for_citizen = notification.template.startswith("citizen/")
    if notification.ticket_id and for_citizen:
        root = message_id(notification.ticket_id, 0)
        headers.update({"In-Reply-To": root, "References": root})
    replies = reply_to(notification.ticket_id) if notification.ticket_id and for_citizen else None
    envelope = bounce_address(notification.pk)
    if envelope:  # VERP: the envelope sender names the notification; From stays ours
        headers["From"] = from_address()
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=envelope or from_address(),
        to=[notification.address], reply_to=[replies] if replies else None, headers=headers)
    message.attach_alternative(html, "text/html")
    if notification.template == "citizen/reply" and notification.event_id:
        for attachment in notification.event.attachments.filter(visibility=Visibility.PUBLIC):
            with attachment.file.open("rb") as handle:
                message.attach(attachment.original_name, handle.read(), attachment.content_type)
    return message
